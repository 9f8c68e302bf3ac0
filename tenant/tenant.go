// Package tenant lets one webhook handler serve the bots of many customers
// (tenants): an agency's or a SaaS product's bots behind one URL, one
// consumer pool and one store.
//
// A handler built for tenants (onetalk.NewTenantHandler) names the tenant
// of every request with a Resolver before it verifies the request, looks
// up that tenant's credentials through a function the bot provides (so they
// can live in a database or a secret manager, cached by the bot), and
// verifies the request against them. An unknown tenant, or one tenant's
// credential on another tenant's request, gets the same 401 as a wrong
// credential. The tenant is then part of everything that follows: the
// callback's context (FromContext), the deduplication keys and the queue's
// messages.
package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// ErrUnknown is what a lookup function returns (or wraps) for a tenant it
// does not know: the handler answers 401, as for a wrong credential. Any
// other error is the lookup's failure (a database down): the handler
// answers 503, so the platform delivers again later.
var ErrUnknown = errors.New("tenant: unknown tenant")

// A Resolver names the tenant of a webhook request before the request is
// authenticated, from the request (a path value, a header) or from its
// body (a field the platform sends). Build one with PathValue, Header,
// JSONField, Func or BodyFunc. An empty name is an unknown tenant (401).
//
// What it returns is not trusted: it only says whose credentials to check
// the request against.
type Resolver struct {
	fn   func(r *http.Request, body []byte) string
	body bool
}

// NeedsBody reports whether the resolver reads the body, so the handler
// reads it (within its size limit) before resolving.
func (res Resolver) NeedsBody() bool { return res.body }

// IsZero reports whether res is the zero Resolver (none chosen).
func (res Resolver) IsZero() bool { return res.fn == nil }

// Resolve names the tenant of r; body is r's body when NeedsBody, else nil.
func (res Resolver) Resolve(r *http.Request, body []byte) string {
	if res.fn == nil {
		return ""
	}
	return res.fn(r, body)
}

// PathValue resolves the tenant from the wildcard name of the route the
// handler is served on, as in mux.Handle("POST /onetalk/{tenant}", h) with
// PathValue("tenant").
func PathValue(name string) Resolver {
	return Func(func(r *http.Request) string { return r.PathValue(name) })
}

// Header resolves the tenant from a request header.
func Header(name string) Resolver {
	return Func(func(r *http.Request) string { return r.Header.Get(name) })
}

// JSONField resolves the tenant from a top-level string field of the JSON
// body, such as the botId Ultimate and Botcopy send. A body that is not a
// JSON object, or a field that is absent or not a string, is an unknown
// tenant.
func JSONField(name string) Resolver {
	return BodyFunc(func(_ *http.Request, body []byte) string {
		var fields map[string]json.RawMessage
		if json.Unmarshal(body, &fields) != nil {
			return ""
		}
		var s string
		if json.Unmarshal(fields[name], &s) != nil {
			return ""
		}
		return s
	})
}

// Func resolves the tenant with fn, from the request alone.
func Func(fn func(r *http.Request) string) Resolver {
	return Resolver{fn: func(r *http.Request, _ []byte) string { return fn(r) }}
}

// BodyFunc resolves the tenant with fn, which also gets the body.
func BodyFunc(fn func(r *http.Request, body []byte) string) Resolver {
	return Resolver{fn: fn, body: true}
}

type key struct{}

// NewContext returns ctx carrying the tenant id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the tenant of the delivery whose callback ctx is
// (also for a message run later from a queue); ok is false outside a
// tenant handler's callback.
func FromContext(ctx context.Context) (id string, ok bool) {
	id, ok = ctx.Value(key{}).(string)
	return id, ok
}
