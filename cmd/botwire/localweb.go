package main

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The command's local web servers (emulate's page, and later the admin
// page) hold credentials and deliver authenticated webhooks, and a browser
// lets any site it visits send requests to 127.0.0.1. localWeb guards such
// a server against the two ways in: DNS rebinding (a hostile name that
// resolves to 127.0.0.1, so its pages read ours as same-origin) and
// cross-site request forgery (a hostile page posting to ours).

// localWeb wraps h, served on the listen address addr ("host:port"), with
// both guards. It is what the command serves, so tests use it too.
func localWeb(h http.Handler, addr string) http.Handler {
	return localOnly(sameOriginWrites(h), addr)
}

// localOnly answers 421 Misdirected Request, before next sees anything,
// unless the request's Host is addr, localhost or a loopback IP, on addr's
// port. A rebinding page's requests carry its own name as Host, so they
// never reach next; checking the port keeps out the other local servers'
// names too.
func localOnly(next http.Handler, addr string) http.Handler {
	listenHost, port, _ := net.SplitHostPort(addr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, p, err := net.SplitHostPort(r.Host)
		if err != nil { // no port: the default one, which addr is not
			host, p = strings.Trim(r.Host, "[]"), "80"
		}
		if p != port || !localHost(host, listenHost) {
			http.Error(w, "botwire: this page answers only at http://localhost:"+port+" or a loopback address", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localHost reports whether host names this machine: "localhost", a
// loopback IP, or the host of the listen address.
func localHost(host, listenHost string) bool {
	if strings.EqualFold(host, "localhost") || host == listenHost {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// sameOriginWrites refuses every request but GET and HEAD unless its body
// is declared JSON and the browser does not say it comes from another
// origin. A cross-origin page can send without a CORS preflight only
// text/plain, form and multipart bodies, and its preflight for a JSON one
// fails here, so requiring application/json alone stops it; the Origin
// and Sec-Fetch-Site checks are a second line, should a browser ever skip
// the preflight. Requests without those headers are not from a browser
// (curl, tests) and pass.
//
// http.CrossOriginProtection is close but allows Sec-Fetch-Site "none" and
// skips the Origin check when Sec-Fetch-Site is present; this is stricter.
func sameOriginWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "this API takes only Content-Type application/json"})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused (Origin " + o + ")"})
			return
		}
		if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused (Sec-Fetch-Site " + s + ")"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
