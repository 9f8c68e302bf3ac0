package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

func TestLocalOnly(t *testing.T) {
	for _, c := range []struct {
		listen, host string
		want         int
	}{
		{"127.0.0.1:8910", "127.0.0.1:8910", http.StatusOK},
		{"127.0.0.1:8910", "localhost:8910", http.StatusOK},
		{"127.0.0.1:8910", "LOCALHOST:8910", http.StatusOK},
		{"127.0.0.1:8910", "127.0.0.2:8910", http.StatusOK},
		{"127.0.0.1:8910", "[::1]:8910", http.StatusOK},
		{"127.0.0.1:8910", "[::ffff:127.0.0.1]:8910", http.StatusOK},
		{"192.168.1.5:8910", "192.168.1.5:8910", http.StatusOK}, // --ui on a LAN address
		{"127.0.0.1:80", "localhost", http.StatusOK},
		{"127.0.0.1:80", "[::1]", http.StatusOK},
		{"127.0.0.1:8910", "evil.example:8910", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "evil.example", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "localhost.evil.example:8910", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "127.0.0.1.nip.io:8910", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "localhost:8911", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "localhost", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "192.168.1.5:8910", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "0.0.0.0:8910", http.StatusMisdirectedRequest},
		{"127.0.0.1:8910", "", http.StatusMisdirectedRequest},
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/history", nil)
		r.Host = c.host
		w := httptest.NewRecorder()
		localOnly(okHandler, c.listen).ServeHTTP(w, r)
		assert.Equal(t, c.want, w.Code, "Host %q on %s", c.host, c.listen)
		if c.want != http.StatusOK {
			assert.Contains(t, w.Header().Get("Content-Type"), "text/plain")
			assert.Contains(t, w.Body.String(), "localhost:"+strings.Split(c.listen, ":")[1])
		}
	}
}

func TestSameOriginWrites(t *testing.T) {
	const host = "127.0.0.1:8910"
	for _, c := range []struct {
		name                       string
		method, ctype, origin, sfs string
		want                       int
	}{
		{"the page's fetch", "POST", "application/json", "http://" + host, "same-origin", http.StatusOK},
		{"with a charset", "POST", "application/json; charset=utf-8", "", "", http.StatusOK},
		{"curl", "POST", "application/json", "", "", http.StatusOK},
		{"GET cross-site", "GET", "", "http://evil.example", "cross-site", http.StatusOK},
		{"HEAD", "HEAD", "", "", "", http.StatusOK},
		{"text/plain", "POST", "text/plain", "", "", http.StatusUnsupportedMediaType},
		{"form", "POST", "application/x-www-form-urlencoded", "", "", http.StatusUnsupportedMediaType},
		{"multipart", "POST", "multipart/form-data; boundary=x", "", "", http.StatusUnsupportedMediaType},
		{"no type", "POST", "", "", "", http.StatusUnsupportedMediaType},
		{"JSON in a parameter", "POST", "text/plain; x=application/json", "", "", http.StatusUnsupportedMediaType},
		{"PUT text", "PUT", "text/plain", "", "", http.StatusUnsupportedMediaType},
		{"DELETE", "DELETE", "", "", "", http.StatusUnsupportedMediaType},
		{"OPTIONS preflight", "OPTIONS", "", "http://evil.example", "cross-site", http.StatusUnsupportedMediaType},
		{"foreign Origin", "POST", "application/json", "http://evil.example", "", http.StatusForbidden},
		{"null Origin", "POST", "application/json", "null", "", http.StatusForbidden},
		{"https Origin", "POST", "application/json", "https://" + host, "", http.StatusForbidden},
		{"other port", "POST", "application/json", "http://127.0.0.1:8911", "", http.StatusForbidden},
		{"cross-site", "POST", "application/json", "", "cross-site", http.StatusForbidden},
		{"same-site", "POST", "application/json", "http://" + host, "same-site", http.StatusForbidden},
		{"none", "POST", "application/json", "", "none", http.StatusForbidden},
	} {
		r := httptest.NewRequest(c.method, "/api/say", strings.NewReader(`{"text":"x"}`))
		r.Host = host
		for k, v := range map[string]string{"Content-Type": c.ctype, "Origin": c.origin, "Sec-Fetch-Site": c.sfs} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		sameOriginWrites(okHandler).ServeHTTP(w, r)
		assert.Equal(t, c.want, w.Code, c.name)
		if c.want != http.StatusOK {
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"), c.name)
			assert.Contains(t, w.Body.String(), `"error"`, c.name)
		}
	}
}
