package inbound

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/botwire/botwire/tenant"
)

// Secrets is a credential and the previous ones still accepted during a
// rotation: index 0 is the current one, 1.. the previous ones in the order
// given. Like Secret, it never shows a secret.
type Secrets struct {
	list []Secret
}

// NewSecrets prepares current and previous for comparison; empty previous
// values are skipped (an empty current one gives a Secrets that matches
// nothing, as NewSecret("") does).
func NewSecrets(current string, previous ...string) Secrets {
	s := Secrets{list: []Secret{NewSecret(current)}}
	for _, p := range previous {
		if p != "" {
			s.list = append(s.list, NewSecret(p))
		}
	}
	return s
}

// Len is the number of credentials, the current one included.
func (s Secrets) Len() int { return len(s.list) }

// IsZero reports whether there is no current credential.
func (s Secrets) IsZero() bool { return len(s.list) == 0 || s.list[0].IsZero() }

// Match reports which credential got is (0 the current one, i the i-th
// previous one). It compares got with every credential, whatever matches
// first, so the time it takes does not tell which one matched or whether
// an earlier one failed.
func (s Secrets) Match(got string) (index int, ok bool) {
	if got == "" {
		return 0, false
	}
	sum := digest(got)
	index = -1
	for i, c := range s.list {
		if c.sum == nil {
			continue
		}
		eq := subtle.ConstantTimeCompare(c.sum[:], sum[:])
		// Keep the first match without a branch on the secret's value.
		first := subtle.ConstantTimeEq(int32(index), -1) & eq
		index = subtle.ConstantTimeSelect(first, i, index)
	}
	return max(index, 0), index >= 0
}

// String redacts the secrets.
func (s Secrets) String() string { return "[REDACTED]" }

// GoString redacts the secrets.
func (s Secrets) GoString() string { return "[REDACTED]" }

type credentialKey struct{}

// WithCredential records in ctx which credential authenticated the
// delivery (0 the current one, i the i-th previous one).
func WithCredential(ctx context.Context, index int) context.Context {
	return context.WithValue(ctx, credentialKey{}, index)
}

// Credential returns what WithCredential recorded.
func Credential(ctx context.Context) (index int, ok bool) {
	index, ok = ctx.Value(credentialKey{}).(int)
	return index, ok
}

// Authenticated returns r with the matched credential in its context, and
// logs at debug when it was a previous one, so an operator sees when the
// old credential is no longer used.
func Authenticated(r *http.Request, index int, debug func(ctx context.Context, msg string, args ...any), vendor string) *http.Request {
	if index > 0 && debug != nil {
		debug(r.Context(), vendor+": authenticated with a previous credential (rotation in progress)", "credential", index)
	}
	return r.WithContext(WithCredential(r.Context(), index))
}

// MatchStrings is Secrets.Match for credentials not prepared in advance (a
// tenant's, looked up per request), without allocating: got is compared
// with current and every previous value, whichever matches first, in
// constant time. Empty values never match.
func MatchStrings(got, current string, previous []string) (index int, ok bool) {
	if got == "" {
		return 0, false
	}
	sum := digest(got)
	index = -1
	for i := -1; i < len(previous); i++ {
		c := current
		if i >= 0 {
			c = previous[i]
		}
		if c == "" {
			continue
		}
		cs := digest(c)
		eq := subtle.ConstantTimeCompare(cs[:], sum[:])
		first := subtle.ConstantTimeEq(int32(index), -1) & eq
		index = subtle.ConstantTimeSelect(first, i+1, index)
	}
	return max(index, 0), index >= 0
}

// LogArgs returns args with the tenant of ctx (tenant.FromContext), if
// any, added as the "tenant" attribute of a log line.
func LogArgs(ctx context.Context, args ...any) []any {
	if id, ok := tenant.FromContext(ctx); ok {
		return append(args, "tenant", id)
	}
	return args
}

// LookupTenant resolves r's tenant (body is r's body when the resolver
// needs it) and looks up its credentials. found is false for a request
// that names no tenant and for a tenant the lookup does not know
// (tenant.ErrUnknown): the caller then compares the request with a
// credential nothing matches, so the answer costs what a wrong
// credential's does. err is any other failure of the lookup.
func LookupTenant[C any](r *http.Request, body []byte, resolve tenant.Resolver, lookup func(context.Context, string) (C, error)) (c C, id string, found bool, err error) {
	if id = resolve.Resolve(r, body); id == "" {
		return c, "", false, nil
	}
	c, err = lookup(r.Context(), id)
	switch {
	case errors.Is(err, tenant.ErrUnknown):
		var zero C
		return zero, id, false, nil
	case err != nil:
		var zero C
		return zero, id, false, err
	}
	return c, id, true, nil
}
