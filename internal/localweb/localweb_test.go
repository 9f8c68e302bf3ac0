package localweb

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckWrite(t *testing.T) {
	for _, c := range []struct {
		name, ctype, origin, site string
		tls                       bool
		want                      int
	}{
		{"curl", "application/json", "", "", false, 0},
		{"charset", "application/json; charset=utf-8", "http://ops.example:8080", "same-origin", false, 0},
		{"text", "text/plain", "", "", false, 415},
		{"form", "application/x-www-form-urlencoded", "http://ops.example:8080", "", false, 415},
		{"other origin", "application/json", "http://evil.example", "", false, 403},
		{"null origin", "application/json", "null", "", false, 403},
		{"other port", "application/json", "http://ops.example:9090", "", false, 403},
		{"http origin over tls", "application/json", "http://ops.example:8080", "", true, 403},
		{"cross-site", "application/json", "", "cross-site", false, 403},
		{"none", "application/json", "", "none", false, 403},
	} {
		r := httptest.NewRequest(http.MethodPost, "http://ops.example:8080/api/x", nil)
		r.Header.Set("Content-Type", c.ctype)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got, why := CheckWrite(r); got != c.want {
			t.Errorf("%s: %d (%s), want %d", c.name, got, why, c.want)
		}
	}
}

func TestLocalHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "::1": true,
		"127.3.4.5": true, "::ffff:127.0.0.1": true, "evil.example": false, "10.0.0.1": false, "": false} {
		if got := LocalHost(host, ""); got != want {
			t.Errorf("LocalHost(%q) = %v", host, got)
		}
	}
	if !LocalHost("box", "box") {
		t.Error("the listen host is refused")
	}
	if h, p := SplitHost("[::1]:80", false); h != "::1" || p != "80" {
		t.Errorf("SplitHost: %q %q", h, p)
	}
	if h, p := SplitHost("example.com", true); h != "example.com" || p != "443" {
		t.Errorf("SplitHost: %q %q", h, p)
	}
	if !LoopbackRemote("127.0.0.1:5555") || !LoopbackRemote("[::1]:1") || LoopbackRemote("10.1.1.1:1") || LoopbackRemote("junk") {
		t.Error("LoopbackRemote")
	}
}
