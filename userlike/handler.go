package userlike

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/tenant"
)

// HandlerFunc handles one webhook event. It answers by adding actions to
// reply (and optionally a new context); an error makes the webhook answer
// 500.
type HandlerFunc func(ctx context.Context, e *Event, reply *Reply) error

// ErrNoAuthentication is returned by NewHandler without WithWebhookHeader
// or an explicit WithoutAuthentication.
var ErrNoAuthentication = errors.New("userlike: NewHandler needs WithWebhookHeader (or WithoutAuthentication)")

// Handler is the http.Handler Userlike calls (the bot's "Webhook URL"). It
// answers, in order:
//
//   - 405 with Allow: POST for any other method;
//   - 401 when a configured webhook header is missing or wrong (neither
//     its WithWebhookHeader value nor a WithPreviousWebhookHeader one);
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 400 for a body that is not one event or a list of events;
//   - for an event this package does not model, nothing (unless
//     WithOnUnknown is set);
//   - 500 when the callback fails or adds an invalid action; the error goes
//     to the logger;
//   - 200 with the list of triggered events (each with info.cid and the
//     context), or 200 with an empty body when there are none.
//
// A body holding a list of events runs the callback once per event, in
// order, and answers with all their actions.
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout longer than the callback takes. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type Handler struct {
	auth      inbound.Auth
	tenants   *Tenants // NewTenantHandler, else nil
	fn        HandlerFunc
	onUnknown HandlerFunc
	maxBody   int64
	logger    *slog.Logger
	dedup     *inbound.Dedup
	probe     inbound.Probe
	// noAuth: WithoutAuthentication, so no delivery carries a credential
	// index.
	noAuth bool
}

// NewHandler returns a Handler that passes every webhook event to fn.
// Userlike's webhook headers are chosen in its dashboard, so authentication
// is WithWebhookHeader(name, value); NewHandler refuses to build a handler
// without it unless WithoutAuthentication is given.
func NewHandler(fn HandlerFunc, opts ...Option) (*Handler, error) {
	if fn == nil {
		return nil, errors.New("userlike: NewHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	a, err := inbound.NewAuth(cfg.Auth)
	switch {
	case errors.Is(err, inbound.ErrNoAuth):
		return nil, ErrNoAuthentication
	case err != nil:
		return nil, fmt.Errorf("userlike: %w", err)
	}
	return newHandler(cfg, fn, &Handler{auth: a, noAuth: cfg.Auth.None}, inbound.AuthBot("userlike", cfg.Auth))
}

// Credentials are a tenant's Userlike webhook credentials, as a Tenants
// lookup returns them: the header its Userlike dashboard sends, as for
// WithWebhookHeader.
type Credentials struct {
	// Header and Value are the webhook header and its current value. A
	// tenant without them never authenticates.
	Header, Value string
	// Previous are values still accepted during a rotation, as
	// WithPreviousWebhookHeader; CredentialIndex counts them from 1.
	Previous []string
}

// Tenants is how NewTenantHandler finds a request's tenant and its
// credentials.
type Tenants struct {
	// Resolve names the request's tenant before it is verified, such as
	// tenant.PathValue("tenant") for mux.Handle("POST /userlike/{tenant}", h).
	Resolve tenant.Resolver
	// Lookup returns the tenant's credentials, or an error wrapping
	// tenant.ErrUnknown for a tenant it does not know (401, as a wrong
	// header); any other error answers 503. It runs on every delivery:
	// cache what it reads.
	Lookup func(ctx context.Context, tenant string) (Credentials, error)
}

// NewTenantHandler returns a Handler that serves many tenants' Userlike
// chatbots: for every request it resolves the tenant (t.Resolve), looks up
// its webhook header (t.Lookup) and checks the request against it, then
// passes the events to fn with the tenant in their context
// (tenant.FromContext). An unknown tenant, or another tenant's value, gets
// the 401 of a wrong value after the same comparison. Deduplication keys
// carry the tenant, and the store of WithDeduplication serves this
// handler's tenants and no single-tenant handler. The authentication
// options (WithWebhookHeader, WithPreviousWebhookHeader,
// WithoutAuthentication) do not apply: a tenant's credentials come from
// Lookup. A Client per tenant is cheap: clients built without
// WithHTTPClient share one connection pool; give each tenant's client
// WithRateLimiter on a store shared by the replicas, and the tenant's own
// API token, so Userlike's limit of 20 messages a minute is counted per
// tenant and conversation.
func NewTenantHandler(t Tenants, fn HandlerFunc, opts ...Option) (*Handler, error) {
	switch {
	case t.Resolve.IsZero():
		return nil, errors.New("userlike: NewTenantHandler needs Tenants.Resolve (tenant.PathValue, tenant.Header, ...)")
	case t.Lookup == nil:
		return nil, errors.New("userlike: NewTenantHandler needs Tenants.Lookup")
	case fn == nil:
		return nil, errors.New("userlike: NewTenantHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	if c := cfg.Auth; len(c.Headers)+len(c.PreviousHeaders) > 0 || c.Basic || c.None {
		return nil, errors.New("userlike: the authentication options do not apply to NewTenantHandler: a tenant's webhook header comes from Tenants.Lookup")
	}
	return newHandler(cfg, fn, &Handler{tenants: &t}, inbound.TenantsBot("userlike"))
}

func newHandler(cfg *config, fn HandlerFunc, h *Handler, bot inbound.Bot) (*Handler, error) {
	h.fn, h.onUnknown, h.maxBody, h.logger = fn, cfg.onUnknown, cfg.MaxBody, cfg.Logger
	h.probe = inbound.Probe{Observer: cfg.Observer, Platform: observe.Userlike, Endpoint: "webhook", Tap: cfg.Tap, CredentialHeaders: cfg.Auth.HeaderNames(), TapUnauthenticated: cfg.Auth.None}
	if h.maxBody <= 0 {
		h.maxBody = inbound.DefaultMaxBody
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if d := cfg.Dedup; d != nil {
		if err := bot.Bind("WithDeduplication", d.Store); err != nil {
			return nil, err
		}
		d.Logger, d.Vendor, d.Probe = h.logger, "userlike", &h.probe
		h.dedup = d
	}
	return h, nil
}

// CredentialIndex tells a callback which webhook header value authenticated
// the delivery it runs for: 0 the current ones (WithWebhookHeader), i the
// i-th WithPreviousWebhookHeader value, in the order given (with several
// headers, the highest index any of them matched). ok is false when ctx is
// not the context of an authenticated delivery: a handler built with
// WithoutAuthentication, or a context the callback made itself. It is set
// for every event of a list body and on the WithDeduplication path alike.
// Watch it (or the debug log line written for each delivery with a
// previous value) to know when the previous value can be removed.
func CredentialIndex(ctx context.Context) (index int, ok bool) {
	return inbound.Credential(ctx)
}

// String describes the handler without its header values.
func (h Handler) String() string {
	if h.tenants != nil {
		return fmt.Sprintf("userlike.Handler{auth: per tenant, maxBody: %d}", h.maxBody)
	}
	return fmt.Sprintf("userlike.Handler{auth: %s, maxBody: %d}", h.auth.String(), h.maxBody)
}

// GoString describes the handler without its header values (for %#v).
func (h Handler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h Handler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.handle)
}

func (h *Handler) handle(w http.ResponseWriter, r *http.Request) {
	if !inbound.AllowPost(w, r) {
		return
	}
	var body []byte
	if h.tenants != nil && h.tenants.Resolve.NeedsBody() {
		var ok bool
		if body, ok = inbound.Read(w, r, h.maxBody); !ok {
			return
		}
	}
	index, id, ok, err := h.authenticate(r, body)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "userlike: tenant lookup failed; answered 503", "tenant", id, "error", err)
		h.probe.Tenant(r.Context(), id)
		h.probe.Busy(r.Context(), observe.ReasonTenantLookup, err)
		inbound.Unavailable(w, 1)
		return
	}
	if !ok {
		inbound.Unauthorized(w)
		return
	}
	if !h.noAuth {
		r = inbound.Authenticated(r, index, h.logger.DebugContext, "userlike")
	}
	if h.tenants != nil {
		r = r.WithContext(tenant.NewContext(r.Context(), id))
	}
	if !h.noAuth {
		h.probe.Authenticated(r.Context(), index)
	}
	if body == nil {
		if body, ok = inbound.Read(w, r, h.maxBody); !ok {
			return
		}
	}
	if h.dedup != nil {
		// Userlike's events carry no id of their own: the body is the key.
		key := inbound.BodyKey(body)
		if h.tenants != nil {
			key = inbound.Key("tenant", id, "delivery", key)
		}
		h.dedup.Serve(w, r, key, func(w http.ResponseWriter) { h.serve(w, r, body) })
		return
	}
	h.serve(w, r, body)
}

// noTenant is the value an unknown tenant's request is compared with, so
// the answer costs what a wrong value's does.
const noTenant = "botwire: no such tenant"

// authenticate checks r with the handler's webhook headers, or with those
// of r's tenant (whose id it returns); err is a tenant lookup's failure.
func (h *Handler) authenticate(r *http.Request, body []byte) (index int, id string, ok bool, err error) {
	if h.tenants == nil {
		index, ok = h.auth.Match(r)
		return index, "", ok, nil
	}
	c, id, found, err := inbound.LookupTenant(r, body, h.tenants.Resolve, h.tenants.Lookup)
	if err != nil {
		return 0, id, false, err
	}
	if !found || c.Header == "" || c.Value == "" {
		c = Credentials{Header: "X-Botwire-No-Tenant", Value: noTenant}
	}
	index, ok = inbound.MatchStrings(r.Header.Get(c.Header), c.Value, c.Previous)
	return index, id, ok && c.Value != noTenant, nil
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	events, err := decodeEvents(body)
	switch {
	case errors.Is(err, errNoCID):
		inbound.BadRequest(w, "info.cid is missing")
		return
	case err != nil:
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	if len(events) > 0 {
		h.probe.Note(r.Context(), events[0].Info.CID, "", events[0].Packet.Name)
	}
	var out []OutboundEvent
	ran := 0 // callbacks run
	for i := range events {
		e := &events[i]
		if c := e.Info.Contact; c != nil && len(c.mistyped) > 0 {
			h.logger.DebugContext(r.Context(), "userlike: info.contact fields of an unexpected type were left empty",
				"fields", c.mistyped, "cid", e.Info.CID)
		}
		if len(e.mistyped) > 0 {
			h.logger.DebugContext(r.Context(), "userlike: packet.payload fields of an unexpected type were left empty",
				"event", e.Packet.Name, "fields", e.mistyped, "cid", e.Info.CID)
		}
		fn := h.fn
		if !e.Known() {
			h.probe.Unknown(r.Context(), e.Packet.Name, false)
			if h.onUnknown == nil {
				h.logger.DebugContext(r.Context(), "userlike: ignored unknown event", "event", e.Packet.Name, "cid", e.Info.CID)
				continue
			}
			fn = h.onUnknown
		}
		ran++
		reply := NewReply(e.Info.CID)
		if err := h.call(r.Context(), fn, e, reply); err != nil {
			h.logger.ErrorContext(r.Context(), "userlike: callback failed", inbound.LogArgs(r.Context(), "event", e.Packet.Name, "cid", e.Info.CID, "error", err)...)
			h.probe.Failed(r.Context(), err)
			inbound.CallbackFailed(w)
			return
		}
		if err := reply.Validate(); err != nil {
			h.logger.ErrorContext(r.Context(), "userlike: invalid reply", "event", e.Packet.Name, "cid", e.Info.CID, "error", err)
			h.probe.Failed(r.Context(), err)
			inbound.CallbackFailed(w)
			return
		}
		h.warn(r.Context(), reply)
		out = append(out, reply.Events()...)
	}
	if ran == 0 && h.onUnknown == nil && len(events) > 0 {
		h.probe.Outcome(r.Context(), observe.OutcomeIgnored, observe.ReasonUnknownType)
	}
	if len(out) == 0 {
		inbound.OK(w)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "userlike: encode reply", "error", err)
		inbound.CallbackFailed(w)
		return
	}
	inbound.JSONBytes(w, http.StatusOK, b)
}

func (h *Handler) warn(ctx context.Context, reply *Reply) {
	if len(reply.context) > 0 && len(reply.actions) == 0 {
		h.logger.WarnContext(ctx, "userlike: context set without an action to carry it; it is lost", "cid", reply.cid)
	}
	for _, a := range reply.actions {
		for _, w := range a.Warnings() {
			h.logger.WarnContext(ctx, "userlike: "+w.String(), "cid", reply.cid)
		}
	}
}

func (h *Handler) call(ctx context.Context, fn HandlerFunc, e *Event, reply *Reply) error {
	cb := h.probe.NewCallback(ctx)
	if cb != nil {
		cb.Conversation, cb.Type = e.Info.CID, e.Packet.Name
	}
	return h.probe.Callback(ctx, cb, func(ctx context.Context) error { return fn(ctx, e, reply) })
}
