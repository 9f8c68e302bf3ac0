package main

import (
	"net"
	"net/http"

	"github.com/botwire/botwire/internal/localweb"
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
		host, p := localweb.SplitHost(r.Host, false)
		if p != port || !localweb.LocalHost(host, listenHost) {
			http.Error(w, "botwire: this page answers only at http://localhost:"+port+" or a loopback address", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOriginWrites refuses every request but GET and HEAD that
// localweb.CheckWrite refuses (a body not declared JSON, or one a browser
// says comes from another origin) or whose Origin is not this plain-HTTP
// server's: unlike the admin page, the command's pages sit behind no TLS
// proxy, so an https Origin is another origin.
func sameOriginWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			status, why := localweb.CheckWrite(r)
			if o := r.Header.Get("Origin"); status == 0 && o != "" && o != "http://"+r.Host {
				status, why = http.StatusForbidden, "cross-origin request refused (Origin "+o+")"
			}
			if status != 0 {
				writeJSON(w, status, map[string]string{"error": why})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
