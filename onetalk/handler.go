package onetalk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/tenant"
)

// HandlerFunc handles one inbound message. To answer, use a Client: OneTalk
// does not read the webhook's response body.
type HandlerFunc func(ctx context.Context, req *InboundRequest) error

// Handler is the http.Handler OneTalk calls with inbound messages (the bot's
// "API URL"). It answers, in order:
//
//   - 405 with Allow: POST for any other method;
//   - 401 when X-Secret-Key is missing or wrong: neither the secret nor one
//     of WithPreviousSecrets (the callback is not called);
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 400 for a body that is not a OneTalk request. OneTalk redelivers
//     after any answer other than 200, a 400 included ("OneTalk will try to
//     send the API request for a limited number of attempts before dropping
//     request for that message"), so a 400 does not prevent redelivery: it
//     ends the retries of a poison message quickly, since each attempt is
//     refused at once without running the callback;
//   - 200 for a message type this package does not model, without calling
//     the callback (unless WithOnUnknown is set);
//   - 500 when the callback returns an error, so OneTalk redelivers; the
//     error goes to the logger;
//   - 200 with an empty body on success.
//
// With WithAsync the handler answers 200 once the message is queued, and 503
// when the queue is full or the handler is shutting down.
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout longer than the callback takes. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type Handler struct {
	secrets   inbound.Secrets // the current secret, then WithPreviousSecrets
	tenants   *Tenants        // NewTenantHandler, else nil
	fn        HandlerFunc
	onUnknown HandlerFunc
	maxBody   int64
	logger    *slog.Logger
	dedup     *inbound.Dedup
	pool      *pool    // WithAsync, else nil
	durable   *durable // WithQueue, else nil
	probe     inbound.Probe
}

// NewHandler returns a Handler that verifies X-Secret-Key against secret (and
// during a rotation the keys of WithPreviousSecrets) and passes every valid
// message to fn. An empty secret is an error (ErrNoSecret): the handler never
// runs unauthenticated.
func NewHandler(secret string, fn HandlerFunc, opts ...Option) (*Handler, error) {
	if secret == "" {
		return nil, ErrNoSecret
	}
	if fn == nil {
		return nil, errors.New("onetalk: NewHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	for i, p := range cfg.previous {
		if p == "" {
			return nil, fmt.Errorf("onetalk: WithPreviousSecrets: previous secret %d is empty: %w", i+1, ErrNoSecret)
		}
	}
	// A store serves one bot, known by its current secret only: a rotation
	// does not change which bot it is.
	return newHandler(cfg, fn, inbound.NewSecrets(secret, cfg.previous...), nil, inbound.NewBot("onetalk", secret))
}

// Credentials are a tenant's OneTalk credentials, as a Tenants lookup
// returns them.
type Credentials struct {
	// Secret is the tenant's current secret key (X-Secret-Key). A tenant
	// without one never authenticates.
	Secret string
	// Previous are secret keys still accepted during a rotation, as
	// WithPreviousSecrets; CredentialIndex counts them from 1.
	Previous []string
}

// Tenants is how NewTenantHandler finds a request's tenant and its
// credentials.
type Tenants struct {
	// Resolve names the request's tenant before it is verified, such as
	// tenant.PathValue("tenant") for mux.Handle("POST /onetalk/{tenant}", h).
	Resolve tenant.Resolver
	// Lookup returns the tenant's credentials, or an error wrapping
	// tenant.ErrUnknown for a tenant it does not know (401, the same answer
	// as a wrong secret); any other error answers 503, so OneTalk delivers
	// again. It runs on every delivery: cache what it reads.
	Lookup func(ctx context.Context, tenant string) (Credentials, error)
}

// NewTenantHandler returns a Handler that serves many tenants' bots: for
// every request it resolves the tenant (t.Resolve), looks up its
// credentials (t.Lookup) and verifies X-Secret-Key against them, then
// passes the message to fn with the tenant in its context
// (tenant.FromContext). An unknown tenant, or a tenant's secret on another
// tenant's request, gets the 401 of a wrong secret, after the same
// comparison, so the answer says nothing of which tenants exist.
//
// The tenant is part of what follows: deduplication keys (two tenants'
// deliveries with the same case and message ids are two deliveries) and
// queued messages (WithQueue: one consumer pool serves every tenant, in
// order per tenant and case; the callback's context carries the tenant).
// The stores of WithDeduplication and WithQueue serve this handler's
// tenants and no single-tenant handler. Every option of NewHandler
// applies, except WithPreviousSecrets (a tenant's previous secrets are in
// its Credentials).
func NewTenantHandler(t Tenants, fn HandlerFunc, opts ...Option) (*Handler, error) {
	switch {
	case t.Resolve.IsZero():
		return nil, errors.New("onetalk: NewTenantHandler needs Tenants.Resolve (tenant.PathValue, tenant.Header, ...)")
	case t.Lookup == nil:
		return nil, errors.New("onetalk: NewTenantHandler needs Tenants.Lookup")
	case fn == nil:
		return nil, errors.New("onetalk: NewTenantHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.previous) > 0 {
		return nil, errors.New("onetalk: WithPreviousSecrets does not apply to NewTenantHandler: put a tenant's previous secrets in its Credentials")
	}
	return newHandler(cfg, fn, inbound.Secrets{}, &t, inbound.TenantsBot("onetalk"))
}

func newHandler(cfg *config, fn HandlerFunc, secrets inbound.Secrets, t *Tenants, bot inbound.Bot) (*Handler, error) {
	h := &Handler{
		secrets:   secrets,
		tenants:   t,
		fn:        fn,
		onUnknown: cfg.onUnknown,
		maxBody:   cfg.MaxBody,
		logger:    cfg.Logger,
		probe:     inbound.Probe{Observer: cfg.Observer, Platform: observe.OneTalk, Endpoint: "webhook", Tap: cfg.Tap},
	}
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
		d.Logger, d.Vendor, d.Probe = h.logger, "onetalk", &h.probe
		h.dedup = d
	}
	switch {
	case cfg.durable != nil && cfg.workers > 0:
		return nil, errors.New("onetalk: WithQueue and WithAsync exclude each other")
	case cfg.durable != nil:
		if err := bot.Bind("WithQueue", cfg.durable); err != nil {
			return nil, err
		}
		h.durable = newDurable(h, cfg.durable, max(cfg.consumers, 1))
	case cfg.workers > 0:
		h.pool = newPool(h, cfg.workers, cfg.queue, cfg.asyncTimeout)
	}
	return h, nil
}

// String describes the handler without its secrets, current or previous.
func (h Handler) String() string {
	mode := "sync"
	switch {
	case h.pool != nil:
		mode = fmt.Sprintf("async(%d workers, queue %d)", h.pool.workers, h.pool.queue)
	case h.durable != nil:
		mode = fmt.Sprintf("queue(%d consumers)", h.durable.consumers)
	}
	if h.tenants != nil {
		return fmt.Sprintf("onetalk.Handler{tenants, maxBody: %d, mode: %s}", h.maxBody, mode)
	}
	previous := ""
	if n := h.secrets.Len() - 1; n > 0 {
		previous = fmt.Sprintf(", previous secrets: %d [REDACTED]", n)
	}
	return fmt.Sprintf("onetalk.Handler{secret: [REDACTED]%s, maxBody: %d, mode: %s}", previous, h.maxBody, mode)
}

// GoString describes the handler without its secret (for %#v).
func (h Handler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h Handler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

// CredentialIndex reports, in a callback's context, which secret
// authenticated the delivery: 0 the current one (NewHandler's secret), i
// the i-th previous one of WithPreviousSecrets. ok is false when ctx is not
// an authenticated delivery's, as in the callback of a message run from
// WithQueue (the queue keeps the message, not the delivery). With WithAsync
// the index is the one of the delivery that queued the message.
func CredentialIndex(ctx context.Context) (index int, ok bool) {
	return inbound.Credential(ctx)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if !inbound.AllowPost(w, r) {
		return
	}
	// The secret is a header, so check it before reading any body (unless
	// the tenant is named in the body). Every accepted secret is compared,
	// and any failure gets the same 401.
	var body []byte
	if h.tenants != nil && h.tenants.Resolve.NeedsBody() {
		var ok bool
		if body, ok = inbound.Read(w, r, h.maxBody); !ok {
			return
		}
	}
	index, id, ok, err := h.authenticate(r, body)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "onetalk: tenant lookup failed; answered 503", "tenant", id, "error", err)
		h.probe.Tenant(r.Context(), id)
		h.probe.Busy(r.Context(), observe.ReasonTenantLookup, err)
		inbound.Unavailable(w, 1)
		return
	}
	if !ok {
		inbound.Unauthorized(w)
		return
	}
	// The callback's context says which secret it was (CredentialIndex),
	// and whose (tenant.FromContext), in sync and async mode and through
	// deduplication alike.
	r = inbound.Authenticated(r, index, h.logger.DebugContext, "onetalk")
	if h.tenants != nil {
		r = r.WithContext(tenant.NewContext(r.Context(), id))
	}
	h.probe.Authenticated(r.Context(), index)
	if body == nil {
		if body, ok = inbound.Read(w, r, h.maxBody); !ok {
			return
		}
	}

	req, err := decodeInbound(body)
	switch {
	case errors.Is(err, errNoCaseID):
		inbound.BadRequest(w, "caseID is missing")
		return
	case err != nil:
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	h.probe.Note(r.Context(), req.CaseID, req.Message.ID, req.Message.Type)
	fn := h.fn
	if !req.Message.Known() {
		h.probe.Unknown(r.Context(), req.Message.Type, h.onUnknown == nil)
		if h.onUnknown == nil {
			h.logger.DebugContext(r.Context(), "onetalk: ignored message of unknown type",
				"caseID", req.CaseID, "type", req.Message.Type)
			inbound.OK(w)
			return
		}
		fn = h.onUnknown
	}
	if h.dedup != nil {
		key := deliveryKey(req)
		if h.tenants != nil {
			key = inbound.Key("tenant", id, "delivery", key)
		}
		h.dedup.Serve(w, r, key, func(w http.ResponseWriter) { h.dispatch(w, r, req, fn) })
		return
	}
	h.dispatch(w, r, req, fn)
}

// noTenant is compared with the secret of a request whose tenant is
// unknown, so the answer takes the time of a wrong secret's.
const noTenant = "botwire: no such tenant"

// authenticate checks r's secret against the handler's, or those of r's
// tenant (whose id it returns). An unknown tenant is compared with a secret
// nothing matches; err is the lookup's failure.
func (h *Handler) authenticate(r *http.Request, body []byte) (index int, id string, ok bool, err error) {
	got := r.Header.Get(SecretHeader)
	if h.tenants == nil {
		index, ok = h.secrets.Match(got)
		return index, "", ok, nil
	}
	c, id, found, err := inbound.LookupTenant(r, body, h.tenants.Resolve, h.tenants.Lookup)
	if err != nil {
		return 0, id, false, err
	}
	if !found || c.Secret == "" {
		c = Credentials{Secret: noTenant}
	}
	index, ok = inbound.MatchStrings(got, c.Secret, c.Previous)
	if c.Secret == noTenant {
		ok = false
	}
	return index, id, ok, nil
}

// deliveryKey identifies a delivery for WithDeduplication: the case and
// the message id OneTalk gives every message, or the hash of the body when
// the id is absent. inbound.Key escapes and bounds the ids, so case
// "A:message:B" with message "C" is not case "A" with message "B:message:C".
func deliveryKey(req *InboundRequest) string {
	if req.Message.ID != "" {
		return inbound.Key("case", req.CaseID, "message", req.Message.ID)
	}
	return inbound.BodyKey(req.Raw)
}

// dispatch runs the callback on a decoded message, or queues it.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, req *InboundRequest, fn HandlerFunc) {
	if h.durable != nil {
		if err := h.durable.enqueue(r.Context(), req); err != nil {
			h.logger.ErrorContext(r.Context(), "onetalk: queue failed; answered 503", inbound.LogArgs(r.Context(), "caseID", req.CaseID, "error", err)...)
			if errors.Is(err, errShutDown) {
				h.probe.Busy(r.Context(), observe.ReasonShuttingDown, err)
			} else {
				h.probe.StoreError(r.Context(), observe.StoreQueue, "enqueue", err)
				h.probe.Busy(r.Context(), observe.ReasonStoreUnavailable, err)
			}
			inbound.Unavailable(w, 1)
			return
		}
		h.probe.Outcome(r.Context(), observe.OutcomeQueued, "")
		inbound.OK(w)
		return
	}
	if h.pool != nil {
		if ok, closed := h.pool.enqueue(r.Context(), req, fn); !ok {
			reason := observe.ReasonQueueFull
			if closed {
				reason = observe.ReasonShuttingDown
			}
			h.probe.Busy(r.Context(), reason, nil)
			inbound.Unavailable(w, 1)
			return
		}
		h.probe.Outcome(r.Context(), observe.OutcomeQueued, "")
		inbound.OK(w)
		return
	}
	if err := h.call(r.Context(), h.probe.NewCallback(r.Context()), req, fn); err != nil {
		h.logger.ErrorContext(r.Context(), "onetalk: callback failed", inbound.LogArgs(r.Context(), "caseID", req.CaseID, "error", err)...)
		h.probe.Failed(r.Context(), err)
		inbound.CallbackFailed(w)
		return
	}
	inbound.OK(w)
}

// call runs fn as c, turning a panic into an error so one bad message
// cannot take the bot down.
func (h *Handler) call(ctx context.Context, c *observe.Callback, req *InboundRequest, fn HandlerFunc) error {
	return h.probe.Callback(ctx, c, func(ctx context.Context) error { return fn(ctx, req) })
}

// Shutdown stops an async handler from accepting messages (it answers 503,
// and OneTalk redelivers) and waits for the queued ones to be processed. If
// ctx ends first, the callbacks still running see their context cancelled,
// messages still queued are dropped (and logged), and ctx's error is
// returned. In sync mode Shutdown returns nil at once; use
// http.Server.Shutdown for in-flight requests.
//
// With WithQueue, Shutdown stops the consumers taking messages and waits
// for the callbacks running; queued messages stay in the queue for the next
// consumer, and a callback cut off by ctx is retried from the queue.
func (h *Handler) Shutdown(ctx context.Context) error {
	switch {
	case h.durable != nil:
		return h.durable.shutdown(ctx)
	case h.pool != nil:
		return h.pool.shutdown(ctx)
	}
	return nil
}
