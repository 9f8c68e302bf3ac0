package inbound

import (
	"errors"
	"net/http"
	"strings"
)

// Header is a webhook header a handler requires, as configured by the user.
type Header struct{ Name, Value string }

// Auth checks webhook calls of platforms that leave authentication to the
// user (Userlike's dashboard headers, Ultimate's undocumented webhooks):
// required headers and optional basic authentication, compared in constant
// time. Its String never shows a secret.
type Auth struct {
	headers []headerSecret
	user    Secret
	pass    Secret
	basic   bool
}

type headerSecret struct {
	name   string
	secret Secret
}

// AuthConfig is what the user chose.
type AuthConfig struct {
	Headers        []Header
	Basic          bool
	User, Password string
	// None says the user explicitly wants no authentication.
	None bool
}

// ErrNoAuth is returned by NewAuth when nothing was chosen: handlers fail
// closed.
var ErrNoAuth = errors.New("no webhook authentication chosen")

// NewAuth validates the choice: at least one check, or an explicit None,
// never both; no empty names or values.
func NewAuth(c AuthConfig) (Auth, error) {
	var a Auth
	switch {
	case len(c.Headers) == 0 && !c.Basic && !c.None:
		return a, ErrNoAuth
	case c.None && (len(c.Headers) > 0 || c.Basic):
		return a, errors.New("WithoutAuthentication excludes the other authentication options")
	}
	for _, h := range c.Headers {
		if h.Name == "" || h.Value == "" {
			return a, errors.New("WithWebhookHeader needs a header name and a value")
		}
		a.headers = append(a.headers, headerSecret{h.Name, NewSecret(h.Value)})
	}
	if c.Basic {
		if c.User == "" || c.Password == "" {
			return a, errors.New("WithBasicAuth needs a user and a password")
		}
		a.basic, a.user, a.pass = true, NewSecret(c.User), NewSecret(c.Password)
	}
	return a, nil
}

// OK reports whether r passes every configured check.
func (a *Auth) OK(r *http.Request) bool {
	for _, h := range a.headers {
		if !h.secret.Equal(r.Header.Get(h.name)) {
			return false
		}
	}
	if a.basic {
		u, p, ok := r.BasicAuth()
		// Both comparisons always run, so timing does not tell which failed.
		userOK, passOK := a.user.Equal(u), a.pass.Equal(p)
		if !ok || !userOK || !passOK {
			return false
		}
	}
	return true
}

// String describes the checks without their secrets.
func (a *Auth) String() string {
	var parts []string
	for _, h := range a.headers {
		parts = append(parts, h.name+": [REDACTED]")
	}
	if a.basic {
		parts = append(parts, "basic auth [REDACTED]")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
