package ultimate

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/tenant"
)

// Credentials are a tenant's webhook credentials, as a Tenants lookup
// returns them: a header, basic authentication, or both, as for
// WithWebhookHeader and WithBasicAuth. A tenant with neither never
// authenticates, nor does one with half of a credential (a header without
// its value, a user without a password).
type Credentials struct {
	// Header and Value are the webhook header and its current value, as
	// WithWebhookHeader.
	Header, Value string
	// Previous are header values still accepted during a rotation, as
	// WithPreviousWebhookHeader; CredentialIndex counts them from 1.
	Previous []string
	// User and Password are the basic authentication, as WithBasicAuth.
	User, Password string
	// PreviousPasswords are basic-auth passwords still accepted during a
	// rotation, as WithPreviousBasicAuthPasswords; CredentialIndex counts
	// them from 1.
	PreviousPasswords []string
}

// Tenants is how NewTenantChatHandler and NewTenantActionHandler find a
// call's tenant and its credentials.
type Tenants struct {
	// Resolve names the call's tenant before it is verified:
	// tenant.JSONField("botId") for the bot id Ultimate sends in every
	// body, or tenant.PathValue("tenant") for a webhook URL per tenant, as
	// in mux.Handle("POST /ultimate/{tenant}/chat", h).
	Resolve tenant.Resolver
	// Lookup returns the tenant's credentials, or an error wrapping
	// tenant.ErrUnknown for a tenant it does not know (401, as a wrong
	// credential); any other error answers 503, so Ultimate may call again.
	// It runs on every call: cache what it reads.
	Lookup func(ctx context.Context, tenant string) (Credentials, error)
}

// NewTenantChatHandler returns a ChatHandler that serves many tenants' bots
// on one chat webhook: for every call it resolves the tenant (t.Resolve),
// looks up its credentials (t.Lookup) and checks the call against them,
// then runs cb with the tenant in the context (tenant.FromContext) and the
// matched credential's index (CredentialIndex). An unknown tenant, a call
// that names no tenant, or another tenant's credential gets the 401 of a
// wrong credential after the same comparison, so the answer says nothing
// of which tenants exist; a failed lookup gets 503. When the tenant is
// named in the body (tenant.JSONField), the body is read first, so a body
// over the limit gets its 413 before the 401.
//
// Deduplication keys carry the tenant (two tenants' deliveries with the
// same message id are two deliveries), and the store of WithDeduplication
// serves this handler's tenants and no single-tenant handler; the chat and
// action handlers of the same tenants may share it. The authentication
// options (WithWebhookHeader, WithPreviousWebhookHeader, WithBasicAuth,
// WithPreviousBasicAuthPasswords, WithoutAuthentication) do not apply: a
// tenant's credentials come from Tenants.Lookup. Every other option of
// NewChatHandler applies.
func NewTenantChatHandler(t Tenants, cb ChatCallbacks, opts ...Option) (*ChatHandler, error) {
	b, err := newTenantBase(t, "NewTenantChatHandler", opts)
	if err != nil {
		return nil, err
	}
	b.probe.Endpoint = "chat"
	return &ChatHandler{base: b, cb: cb}, nil
}

// NewTenantActionHandler returns an ActionHandler that serves many
// tenants' bots on one actions webhook, as NewTenantChatHandler does for
// the chat webhook: every call is checked with its tenant's credentials
// and fn runs with the tenant in its context.
func NewTenantActionHandler(t Tenants, fn ActionFunc, opts ...Option) (*ActionHandler, error) {
	if fn == nil {
		return nil, errors.New("ultimate: NewTenantActionHandler needs a callback")
	}
	b, err := newTenantBase(t, "NewTenantActionHandler", opts)
	if err != nil {
		return nil, err
	}
	b.probe.Endpoint = "action"
	return &ActionHandler{base: b, fn: fn}, nil
}

func newTenantBase(t Tenants, ctor string, opts []Option) (base, error) {
	switch {
	case t.Resolve.IsZero():
		return base{}, fmt.Errorf("ultimate: %s needs Tenants.Resolve (tenant.JSONField(\"botId\"), tenant.PathValue, ...)", ctor)
	case t.Lookup == nil:
		return base{}, fmt.Errorf("ultimate: %s needs Tenants.Lookup", ctor)
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return base{}, err
	}
	if c := cfg.Auth; len(c.Headers)+len(c.PreviousHeaders)+len(c.PreviousPasswords) > 0 || c.Basic || c.None {
		return base{}, fmt.Errorf("ultimate: the authentication options (WithWebhookHeader, WithPreviousWebhookHeader, WithBasicAuth, "+
			"WithPreviousBasicAuthPasswords, WithoutAuthentication) do not apply to %s: a tenant's credentials come from Tenants.Lookup", ctor)
	}
	none, err := inbound.NewAuth(noTenantAuth)
	if err != nil {
		return base{}, fmt.Errorf("ultimate: %w", err) // never: noTenantAuth is complete
	}
	return finishBase(cfg, base{tenants: &t, none: none}, inbound.TenantsBot("ultimate"))
}

// noTenant is the credential a call is compared with when its tenant is
// unknown or has no credentials, so the answer costs what a wrong
// credential's does; nothing matches it (see authenticate).
const noTenant = "botwire: no such tenant"

var noTenantAuth = inbound.AuthConfig{
	Headers: []inbound.Header{{Name: "X-Botwire-No-Tenant", Value: noTenant}},
	Basic:   true, User: noTenant, Password: noTenant,
}

// errLookup marks a tenant lookup's failure (503, not 401).
var errLookup = errors.New("ultimate: tenant lookup failed")

// authenticate checks r with the handler's credentials, or with those of
// r's tenant (whose id it returns); err wraps errLookup when the tenant
// lookup failed.
func (b *base) authenticate(r *http.Request, body []byte) (index int, id string, ok bool, err error) {
	if b.tenants == nil {
		index, ok = b.auth.Match(r)
		return index, "", ok, nil
	}
	c, id, found, err := inbound.LookupTenant(r, body, b.tenants.Resolve, b.tenants.Lookup)
	if err != nil {
		return 0, id, false, fmt.Errorf("%w: %w", errLookup, err)
	}
	a := &b.none
	if found {
		ta, err := tenantAuth(c)
		switch {
		case err == nil:
			a = &ta
		case !errors.Is(err, inbound.ErrNoAuth):
			b.logger.WarnContext(r.Context(), "ultimate: tenant credentials are incomplete; answered 401", "tenant", id, "error", err)
			found = false
		default:
			found = false
		}
	}
	index, ok = a.Match(r)
	return index, id, ok && found, nil
}

// tenantAuth prepares a tenant's credentials for Match. A header or a
// basic authentication given in part is an error (the tenant never
// authenticates); neither is inbound.ErrNoAuth.
func tenantAuth(c Credentials) (inbound.Auth, error) {
	var cfg inbound.AuthConfig
	if c.Header != "" || c.Value != "" {
		cfg.Headers = []inbound.Header{{Name: c.Header, Value: c.Value}}
		for _, v := range c.Previous {
			if v != "" {
				cfg.PreviousHeaders = append(cfg.PreviousHeaders, inbound.Header{Name: c.Header, Value: v})
			}
		}
	}
	if c.User != "" || c.Password != "" {
		cfg.Basic, cfg.User, cfg.Password, cfg.PreviousPasswords = true, c.User, c.Password, c.PreviousPasswords
	}
	return inbound.NewAuth(cfg)
}

// key is the deduplication key of a delivery: the tenant's, for a tenant
// handler, so two tenants' deliveries with the same ids stay apart.
func (b *base) key(r *http.Request, key string) string {
	if b.tenants == nil {
		return key
	}
	id, _ := tenant.FromContext(r.Context())
	return inbound.Key("tenant", id, "delivery", key)
}

// describe is what String shows of the handler's authentication.
func (b *base) describe() string {
	if b.tenants != nil {
		return "tenants"
	}
	return "auth: " + b.auth.String()
}
