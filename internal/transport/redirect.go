package transport

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is net/http's default limit, kept when the caller's client
// has no CheckRedirect of its own.
const maxRedirects = 10

// GuardRedirects returns a copy of hc (a fresh client when hc is nil) that
// never sends the headers named in credentials to an origin other than the
// request's first one. net/http strips Authorization and Cookie on a
// redirect to another domain, but copies every other header: a platform's
// Secret-Key or Security-Token would follow a 307 to any host, and a
// redirect from https to http on the same host would send it in the clear.
// Here an origin is the scheme, host and port, compared exactly (a
// subdomain is another origin). The redirect itself is still followed, so a
// moved endpoint answers what it answers without the credential (usually
// 401), and the caller's own CheckRedirect, if any, runs after the guard.
// hc is never modified.
func GuardRedirects(hc *http.Client, credentials ...string) *http.Client {
	c := &http.Client{}
	if hc != nil {
		copied := *hc
		c = &copied
	}
	next := c.CheckRedirect
	names := append([]string(nil), credentials...)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !sameOrigin(req.URL, via[0].URL) {
			for _, name := range names {
				req.Header.Del(name)
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return c
}

// HeaderNames returns the names of h, for GuardRedirects.
func HeaderNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	return names
}

// sameOrigin reports whether a and b have one scheme, host and port (the
// scheme's default port when none is written).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
