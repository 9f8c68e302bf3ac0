package check

import (
	"strconv"
	"strings"
)

// HTTPURL records field when value is set and is not an absolute http or
// https URL with a host. The platforms fetch media and documents from the
// URLs a bot sends (OneTalk's "file URL", Easy Dialog's "HTTP URL for the
// media file", Userlike's link that "must stay reachable from our
// servers"), which a path ("/img/a.jpg"), a scheme-less host
// ("example.com/a.jpg", "//cdn.example.com/a.jpg") or another scheme
// (data:, file:, ftp:) is not. Presence is Required's job. The value is
// never quoted back: a URL may carry a token or a password. It does not
// allocate for a good URL, since handlers validate every reply.
func (c *Collector) HTTPURL(field, value string) {
	if value == "" {
		return
	}
	if problem := httpURLProblem(value); problem != "" {
		c.Add(field, "%s", problem)
	}
}

// httpURLProblem says why s is not an absolute http(s) URL with a host, or
// returns "".
func httpURLProblem(s string) string {
	const want = "must be an absolute http(s) URL, got "
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return want + "a space or control character"
		}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !isScheme(scheme) {
		return want + "a relative reference"
	}
	if !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return want + "scheme " + strconv.Quote(strings.ToLower(scheme))
	}
	host, ok := strings.CutPrefix(rest, "//")
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:] // userinfo
	}
	if !ok || host == "" || host[0] == ':' {
		return want + "no host"
	}
	return ""
}

// isScheme reports whether s is a URI scheme (RFC 3986: a letter, then
// letters, digits, "+", "-" or ".").
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
