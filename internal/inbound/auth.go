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
	pass    Secrets
	basic   bool
}

type headerSecret struct {
	name   string // as configured, for String
	key    string // its canonical form, the key of http.Header
	secret Secrets
}

// AuthConfig is what the user chose.
type AuthConfig struct {
	Headers        []Header
	Basic          bool
	User, Password string
	// None says the user explicitly wants no authentication.
	None bool
	// PreviousHeaders are values still accepted during a rotation, each
	// for a header of Headers (by name, case-insensitive).
	PreviousHeaders []Header
	// PreviousPasswords are basic-auth passwords still accepted during a
	// rotation.
	PreviousPasswords []string
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
		var prev []string
		for _, p := range c.PreviousHeaders {
			if http.CanonicalHeaderKey(p.Name) == http.CanonicalHeaderKey(h.Name) {
				prev = append(prev, p.Value)
			}
		}
		a.headers = append(a.headers, headerSecret{h.Name, http.CanonicalHeaderKey(h.Name), NewSecrets(h.Value, prev...)})
	}
	for _, p := range c.PreviousHeaders {
		found := false
		for _, h := range c.Headers {
			found = found || http.CanonicalHeaderKey(p.Name) == http.CanonicalHeaderKey(h.Name)
		}
		if !found || p.Value == "" {
			return a, errors.New("WithPreviousWebhookHeader needs the name of a WithWebhookHeader header and a value")
		}
	}
	if len(c.PreviousPasswords) > 0 && !c.Basic {
		return a, errors.New("WithPreviousBasicAuthPasswords needs WithBasicAuth")
	}
	if c.Basic {
		if c.User == "" || c.Password == "" {
			return a, errors.New("WithBasicAuth needs a user and a password")
		}
		a.basic, a.user, a.pass = true, NewSecret(c.User), NewSecrets(c.Password, c.PreviousPasswords...)
	}
	return a, nil
}

// OK reports whether r passes every configured check.
func (a *Auth) OK(r *http.Request) bool {
	_, ok := a.Match(r)
	return ok
}

// Match reports whether r passes every configured check, and with which
// credential: 0 when every check matched its current value, else the
// highest index of a previous value that matched (the first previous one
// is 1). Every check runs whatever fails first, so timing does not tell
// which one failed.
func (a *Auth) Match(r *http.Request) (index int, ok bool) {
	ok = true
	for _, h := range a.headers {
		// r.Header.Get(h.name), without canonicalising the name again
		// (an allocation for a name such as API-SECURITY-TOKEN).
		var got string
		if v := r.Header[h.key]; len(v) > 0 {
			got = v[0]
		}
		i, hok := h.secret.Match(got)
		ok = ok && hok
		index = max(index, i)
	}
	if a.basic {
		u, p, bok := r.BasicAuth()
		userOK := a.user.Equal(u)
		i, passOK := a.pass.Match(p)
		ok = ok && bok && userOK && passOK
		index = max(index, i)
	}
	if !ok {
		return 0, false
	}
	return index, true
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
