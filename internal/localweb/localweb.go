// Package localweb holds the guards of botwire's browser pages (the admin
// handler, and the command's emulator): a browser
// lets any site it visits send requests to a page's server, so a page that
// acts must refuse DNS rebinding (a hostile name resolving to this
// machine, whose pages then read ours as same-origin) and cross-site
// request forgery (a hostile page posting to ours).
package localweb

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// SplitHost splits a request's Host into its name (without brackets) and
// port; a Host without a port has the scheme's default one, "80" (or
// "443" when tls is set).
func SplitHost(hostport string, tls bool) (host, port string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "80"
		if tls {
			port = "443"
		}
	}
	return host, port
}

// LocalHost reports whether host (a name or IP, no port) names this
// machine: "localhost", a loopback IP, or listenHost (the host of the
// listen address, "" for none).
func LocalHost(host, listenHost string) bool {
	if strings.EqualFold(host, "localhost") || (listenHost != "" && host == listenHost) {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// LoopbackRemote reports whether a request's RemoteAddr ("ip:port") is a
// loopback address.
func LoopbackRemote(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// CheckWrite decides whether r, a request other than GET or HEAD, may go
// on: it returns 0 and "" if so, else the status to answer (415 or 403)
// and why. The body must be declared JSON, and the browser must not say
// the request comes from another origin: a cross-origin page can send
// without a CORS preflight only text/plain, form and multipart bodies, and
// its preflight for a JSON one gets no CORS answer, so requiring
// application/json alone stops it; the Origin (its host must be r.Host,
// its scheme https when r came over TLS) and Sec-Fetch-Site (same-origin)
// checks are a second line, should a browser ever skip the preflight.
// Requests without those headers are not from a browser (curl, tests) and
// pass.
//
// http.CrossOriginProtection is close but allows Sec-Fetch-Site "none" and
// skips the Origin check when Sec-Fetch-Site is present; this is stricter.
func CheckWrite(r *http.Request) (status int, reason string) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusUnsupportedMediaType, "this API takes only Content-Type application/json"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) ||
			(u.Scheme != "http" && u.Scheme != "https") || (r.TLS != nil && u.Scheme != "https") {
			return http.StatusForbidden, "cross-origin request refused (Origin " + o + ")"
		}
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return http.StatusForbidden, "cross-origin request refused (Sec-Fetch-Site " + s + ")"
	}
	return 0, ""
}
