package easydialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/jsonx"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tap"
	"github.com/botwire/botwire/tenant"
)

// HandlerFunc answers one inbound message. The returned response (nil means
// no messages) is sent to the customer; an error makes the webhook answer
// 500.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Option configures a Handler.
type Option func(*config)

type config struct {
	observer  observe.Observer
	tap       *tap.Tap
	previous  []string
	dedup     *inbound.Dedup
	maxBody   int64
	maxAge    time.Duration // 0: DefaultMaxAge; negative: no check
	logger    *slog.Logger
	onUnknown HandlerFunc
}

// WithPreviousKeys accepts requests signed with keys, besides the current
// signature key, while the adapter's key is rolled: deploy the bot with the
// new key as NewHandler's key and the old one in WithPreviousKeys, switch
// the key in Easy Dialog's custom adapter, and once no delivery signed with
// the old key arrives any more (deliveries already sent or redelivered
// still carry it), deploy again without WithPreviousKeys.
//
// Every request's MAC is computed under the current key and every previous
// one, and compared with the signature in constant time, whichever matches
// first; a request that matches none gets the same 401, byte for byte,
// whatever key it came close to. The callback learns which key signed its
// delivery from CredentialIndex (0 the current key, i the i-th key given
// here, in order), and the handler logs at debug level, without any key,
// every delivery a previous key signed, so the logs show when the old key
// is no longer used. Each previous key costs one HMAC-SHA512 over the body
// per request.
//
// An empty key is an error at NewHandler (ErrNoKey), as an empty current
// key is. Repeated options add up. The store of WithDeduplication is bound
// to the current key only: handlers with the same current key share it
// whatever their previous keys, and one whose current key is another (the
// bot before the rotation, in the same process) is another bot to it, as
// for any change of key.
func WithPreviousKeys(keys ...string) Option {
	return func(c *config) { c.previous = append(c.previous, keys...) }
}

// CredentialIndex reports, in a callback's context, which key signed the
// delivery: 0 the current signature key, i the i-th key given to
// WithPreviousKeys. ok is false in a context that is not an authenticated
// delivery's (one the callback did not get from the Handler). A redelivery
// answered from the deduplication store (WithDeduplication) does not run
// the callback, so the index seen is that of the delivery that ran.
func CredentialIndex(ctx context.Context) (index int, ok bool) {
	return inbound.Credential(ctx)
}

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithObserver reports to o what the handler does (observe.Observer; the
// otel module implements it with OpenTelemetry): every delivery, its
// rejection reason, the callback and deduplication. With none (the
// default) the cost is a nil check.
func WithObserver(o observe.Observer) Option { return func(c *config) { c.observer = o } }

// WithTap writes each authenticated delivery to t (package tap: one JSON
// line with the headers, the signature masked, the body, the answer's
// status and latency), for botwire replay to re-sign it with a local key
// and reproduce it. With none (the default) the cost is a nil check.
func WithTap(t *tap.Tap) Option { return func(c *config) { c.tap = t } }

// WithLogger sends callback errors and panics to l (default slog.Default()).
// Nothing logged contains the key, the signature or a whole body.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithDeduplication makes the handler run the callback once per delivery:
// a redelivery of a delivery that completed gets the stored answer again,
// byte for byte, without the callback running. The key is the dialog and
// the channel's message id (dialogUuid and providerMsgID), or the SHA-256
// of the body when either is absent. d is shared by every replica
// (store/redisstore) or store.NewMemoryDeduplicator() for one process;
// keys are kept for ttl (0: 24 h). A callback that fails releases its key,
// so the redelivery runs again; when the store fails the handler answers
// 503.
//
// opts set the claim's lease and the answer budget (store.DedupOptions;
// the zero value takes the defaults): a delivery's claim lives 5 s and is
// renewed while the callback runs, so a replica that dies mid-callback
// holds its message for at most the lease; a redelivery that finds another
// delivery of its message running waits for its answer at most the budget
// (4 s), and every store call runs within it; past it the handler answers
// 503 and the platform redelivers.
//
// d serves one bot: NewHandler refuses (store.ErrSharedStore) a d that
// already serves another bot in this process, one with another credential
// or of another platform, whose replays it could answer; handlers of one
// bot (replicas, with the same signature key) share it. Give each bot its
// own store: its own redisstore.Options.Prefix, or its own
// store.NewMemoryDeduplicator(). Only a store that implements store.Binder
// is checked (redisstore.Store and store.MemoryDeduplicator do); stores in
// other processes are not, so on a shared Redis the Prefix is what keeps
// two bots apart.
func WithDeduplication(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) Option {
	return func(c *config) { c.dedup = inbound.NewDedup(d, ttl, opts...) }
}

// DefaultMaxAge is how old a signed delivery may be (its message.timestamp)
// before the handler refuses it; see WithMaxAge.
//
// Easy Dialog documents no redelivery: its doc says nothing of timeouts or
// retries, and the reply is synchronous, the answer to a customer waiting
// in the chat, so a retry is useful within seconds or minutes. An hour is
// far past any plausible retry of that call and of a delivery queued while
// the bot was briefly down, and well inside the deduplication ttl
// (inbound.DefaultDedupTTL, 24 h): every delivery the handler accepts is
// still remembered when a replay of it comes, so a replay within the hour
// gets the stored answer (with WithDeduplication) and a later one is
// refused.
const DefaultMaxAge = time.Hour

// MaxClockSkew is how far ahead of the bot's clock a message.timestamp may
// be: the clocks of Easy Dialog and of the bot's host differ a little.
const MaxClockSkew = 5 * time.Minute

// Errors of VerifyTimestamp.
var (
	ErrStale       = errors.New("easydialog: message.timestamp is older than the maximum age")
	ErrFuture      = errors.New("easydialog: message.timestamp is ahead of the clock by more than MaxClockSkew")
	ErrNoTimestamp = errors.New("easydialog: message.timestamp is absent or unreadable")
)

// VerifyTimestamp checks a signed delivery's message.timestamp against now:
// ErrStale when it is more than maxAge old, ErrFuture when it is more than
// MaxClockSkew ahead, ErrNoTimestamp (wrapping the reason) when it is
// absent or unreadable, nil otherwise. The signature covers the
// timestamp, so after VerifySignature it bounds how long a captured
// request can be replayed. A maxAge of 0 or less checks only the future.
func VerifyTimestamp(ts Timestamp, now time.Time, maxAge time.Duration) error {
	t, err := ts.Time()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoTimestamp, err)
	}
	switch age := now.Sub(t); {
	case maxAge > 0 && age > maxAge:
		return fmt.Errorf("%w (%s old, at most %s)", ErrStale, age.Round(time.Second), maxAge)
	case -age > MaxClockSkew:
		return fmt.Errorf("%w (%s ahead)", ErrFuture, (-age).Round(time.Second))
	}
	return nil
}

// WithMaxAge refuses a signed delivery whose message.timestamp is more
// than d old (default DefaultMaxAge, 1 h) or more than MaxClockSkew (5 min)
// ahead of the clock, so a captured request cannot be replayed for ever:
// the signature proves who sent the bytes, not when. The check runs after
// the signature and before deduplication or the callback; the answer is
// 400, not 401 (the request is authentic; a 401 would send whoever
// debugs it after the key), and a 4xx so that a platform does not retry a
// delivery that can never succeed. The refusal is logged at warn level,
// without the body.
//
// A delivery without a timestamp, or with one this package cannot read (a
// zone abbreviation it does not know, the schema's placeholder "string"),
// is accepted and logged at warn level. The doc lists timestamp among the
// message's fields and every example has one, but does not say it is
// always sent; the signature covers it, so such a delivery cannot be made
// from a captured timestamped one, and refusing it could lose a real
// message.
//
// d of 0 keeps the default; a negative d turns the check off (for tools
// replaying recorded deliveries). With WithDeduplication, d may not be
// longer than the deduplication ttl (NewHandler fails), since a replay
// older than the ttl and younger than d would run again; the default is
// lowered to a shorter ttl.
func WithMaxAge(d time.Duration) Option { return func(c *config) { c.maxAge = d } }

// WithOnUnknown routes messages whose body holds no message type this
// package knows to fn. Without it they are answered {"messages": []}
// without calling the callback.
func WithOnUnknown(fn HandlerFunc) Option { return func(c *config) { c.onUnknown = fn } }

// Handler is the http.Handler Easy Dialog calls (the custom adapter's
// "Webhook URL"). The bot's reply is the response body. It answers, in
// order:
//
//   - 405 with Allow: POST for any other method;
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 401 when X-BM-Signature is missing or does not match the raw body
//     under the signature key or any previous key (WithPreviousKeys);
//   - 400 for a body that is not Easy Dialog's JSON;
//   - 400 for a message.timestamp older than the maximum age or in the
//     future (WithMaxAge), without calling the callback or touching the
//     deduplication store;
//   - 200 {"messages": []} for a body with no known message type, without
//     calling the callback (unless WithOnUnknown is set);
//   - 500 when the callback fails or its reply is invalid (Validate); the
//     error goes to the logger;
//   - 200 with the reply as JSON.
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout longer than the callback takes. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type Handler struct {
	keys      *keyring
	tenants   *Tenants // NewTenantHandler, else nil
	fn        HandlerFunc
	onUnknown HandlerFunc
	maxBody   int64
	logger    *slog.Logger
	probe     inbound.Probe
	dedup     *inbound.Dedup
	maxAge    time.Duration // 0: no check
	now       func() time.Time
}

// NewHandler returns a Handler that checks every request's X-BM-Signature
// with signatureKey (and the keys of WithPreviousKeys) and answers with
// fn's reply. An empty key, current or previous, is an error (ErrNoKey):
// the handler never runs unauthenticated.
func NewHandler(signatureKey string, fn HandlerFunc, opts ...Option) (*Handler, error) {
	if signatureKey == "" {
		return nil, ErrNoKey
	}
	if fn == nil {
		return nil, errors.New("easydialog: NewHandler needs a callback")
	}
	cfg := config{maxBody: inbound.DefaultMaxBody, logger: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := checkKeys(signatureKey, cfg.previous, "WithPreviousKeys, key"); err != nil {
		return nil, err
	}
	return newHandler(&cfg, fn, newKeyring(signatureKey, cfg.previous), nil, inbound.NewBot("easydialog", signatureKey))
}

// Credentials are a tenant's Easy Dialog credentials, as a Tenants lookup
// returns them.
type Credentials struct {
	// Key is the tenant's current signature key. A tenant without one
	// never authenticates.
	Key string
	// Previous are keys still accepted during a rotation, as
	// WithPreviousKeys; CredentialIndex counts them from 1.
	Previous []string
}

// Tenants is how NewTenantHandler finds a request's tenant and its
// credentials.
type Tenants struct {
	// Resolve names the request's tenant before it is verified, such as
	// tenant.PathValue("tenant") for mux.Handle("POST /easydialog/{tenant}", h).
	Resolve tenant.Resolver
	// Lookup returns the tenant's credentials, or an error wrapping
	// tenant.ErrUnknown for a tenant it does not know (401, as a wrong
	// signature); any other error answers 503. It runs on every delivery:
	// cache what it reads.
	Lookup func(ctx context.Context, tenant string) (Credentials, error)
}

// NewTenantHandler returns a Handler that serves many tenants' adapters:
// for every request it resolves the tenant (t.Resolve), looks up its keys
// (t.Lookup) and checks X-BM-Signature against them, then calls fn with the
// tenant in its context (tenant.FromContext). An unknown tenant, or a
// signature by another tenant's key, gets the 401 of a wrong signature,
// after one HMAC as for a known tenant. Deduplication keys carry the
// tenant, and the store of WithDeduplication serves this handler's tenants
// and no single-tenant handler. Every option of NewHandler applies except
// WithPreviousKeys (a tenant's previous keys are in its Credentials).
func NewTenantHandler(t Tenants, fn HandlerFunc, opts ...Option) (*Handler, error) {
	switch {
	case t.Resolve.IsZero():
		return nil, errors.New("easydialog: NewTenantHandler needs Tenants.Resolve (tenant.PathValue, tenant.Header, ...)")
	case t.Lookup == nil:
		return nil, errors.New("easydialog: NewTenantHandler needs Tenants.Lookup")
	case fn == nil:
		return nil, errors.New("easydialog: NewTenantHandler needs a callback")
	}
	cfg := config{maxBody: inbound.DefaultMaxBody, logger: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if len(cfg.previous) > 0 {
		return nil, errors.New("easydialog: WithPreviousKeys does not apply to NewTenantHandler: put a tenant's previous keys in its Credentials")
	}
	return newHandler(&cfg, fn, nil, &t, inbound.TenantsBot("easydialog"))
}

func newHandler(cfg *config, fn HandlerFunc, keys *keyring, t *Tenants, bot inbound.Bot) (*Handler, error) {
	if cfg.maxBody <= 0 {
		cfg.maxBody = inbound.DefaultMaxBody
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	h := &Handler{keys: keys, tenants: t, fn: fn, onUnknown: cfg.onUnknown,
		maxBody: cfg.maxBody, logger: cfg.logger, maxAge: cfg.maxAge, now: time.Now,
		probe: inbound.Probe{Observer: cfg.observer, Platform: observe.EasyDialog, Endpoint: "webhook", Tap: cfg.tap}}
	if h.maxAge == 0 {
		h.maxAge = DefaultMaxAge
	}
	if d := cfg.dedup; d != nil {
		if err := bot.Bind("WithDeduplication", d.Store); err != nil {
			return nil, err
		}
		d.Logger, d.Vendor, d.Probe = h.logger, "easydialog", &h.probe
		h.dedup = d
		ttl := d.TTL
		if ttl <= 0 {
			ttl = inbound.DefaultDedupTTL
		}
		switch {
		case cfg.maxAge > ttl:
			return nil, fmt.Errorf("easydialog: WithMaxAge(%s) is longer than the deduplication ttl (%s): a replay in between would run again", cfg.maxAge, ttl)
		case cfg.maxAge == 0 && h.maxAge > ttl:
			h.maxAge = ttl
		}
	}
	if h.maxAge < 0 {
		h.maxAge = 0
	}
	return h, nil
}

// String describes the handler without its key.
func (h Handler) String() string {
	if h.tenants != nil {
		return fmt.Sprintf("easydialog.Handler{tenants, maxBody: %d}", h.maxBody)
	}
	return fmt.Sprintf("easydialog.Handler{key: [REDACTED], maxBody: %d}", h.maxBody)
}

// GoString describes the handler without its key (for %#v).
func (h Handler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h Handler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

var emptyReply = []byte(`{"messages":[]}`)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.handle)
}

func (h *Handler) handle(w http.ResponseWriter, r *http.Request) {
	body, ok := inbound.Begin(w, r, h.maxBody)
	if !ok {
		return
	}
	// The signature covers the raw bytes, so the body is read before it is
	// checked; the size limit still bounds what an unsigned caller costs.
	index, id, err := h.authenticate(r, body)
	switch {
	case errors.Is(err, errLookup):
		h.logger.ErrorContext(r.Context(), "easydialog: tenant lookup failed; answered 503", "tenant", id, "error", err)
		h.probe.Tenant(r.Context(), id)
		h.probe.Busy(r.Context(), observe.ReasonTenantLookup, err)
		inbound.Unavailable(w, 1)
		return
	case err != nil:
		inbound.Unauthorized(w)
		return
	}
	// From here on r carries the key's index (and the tenant) to the
	// callback, through deduplication too.
	r = inbound.Authenticated(r, index, h.logger.DebugContext, "easydialog")
	if h.tenants != nil {
		r = r.WithContext(tenant.NewContext(r.Context(), id))
	}
	h.probe.Authenticated(r.Context(), index)
	// Decoded before deduplication: the timestamp is checked before any
	// store is touched, and a body that can never succeed costs no claim.
	req, err := ParseRequest(body)
	if err != nil {
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	if d := h.probe.Delivery(r.Context()); d != nil {
		d.Conversation, d.MessageID, d.Type = req.DialogUUID, req.Message.ProviderMsgID.String(), bodyType(&req.Message.Body)
	}
	if !h.fresh(w, r, req) {
		return
	}
	if h.dedup != nil {
		key := deliveryKey(body)
		if h.tenants != nil {
			key = inbound.Key("tenant", id, "delivery", key)
		}
		h.dedup.Serve(w, r, key, func(w http.ResponseWriter) { h.serve(w, r, req) })
		return
	}
	h.serve(w, r, req)
}

// errLookup marks a tenant lookup's failure (503, not 401).
var errLookup = errors.New("easydialog: tenant lookup failed")

// noTenant is the key a request of an unknown tenant is checked with, so
// the answer costs what a wrong signature's does.
const noTenant = "botwire: no such tenant"

// authenticate checks r's signature with the handler's keys, or with those
// of r's tenant (whose id it returns).
func (h *Handler) authenticate(r *http.Request, body []byte) (index int, id string, err error) {
	sig := r.Header.Get(SignatureHeader)
	if h.tenants == nil {
		index, err = h.keys.match(body, sig)
		return index, "", err
	}
	c, id, found, err := inbound.LookupTenant(r, body, h.tenants.Resolve, h.tenants.Lookup)
	if err != nil {
		return 0, id, fmt.Errorf("%w: %w", errLookup, err)
	}
	if !found || c.Key == "" {
		c = Credentials{Key: noTenant}
	}
	keys := []string{c.Key}
	for _, p := range c.Previous {
		if p != "" {
			keys = append(keys, p)
		}
	}
	index, err = matchKeys(body, sig, keys)
	if err == nil && c.Key == noTenant {
		err = ErrInvalidSignature
	}
	return index, id, err
}

// fresh runs WithMaxAge's check; when it returns false it has answered 400.
func (h *Handler) fresh(w http.ResponseWriter, r *http.Request, req *Request) bool {
	if h.maxAge <= 0 {
		return true
	}
	err := VerifyTimestamp(req.Message.Timestamp, h.now(), h.maxAge)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNoTimestamp):
		h.logger.WarnContext(r.Context(), "easydialog: delivery without a readable message.timestamp; its age was not checked",
			"dialogUuid", req.DialogUUID, "error", err)
		return true
	}
	h.logger.WarnContext(r.Context(), "easydialog: refused a signed delivery outside the accepted time window; answered 400",
		"dialogUuid", req.DialogUUID, "error", err)
	inbound.BadRequest(w, "message.timestamp is outside the accepted time window")
	return false
}

// deliveryKey identifies a delivery for WithDeduplication: the dialog and
// the channel's message id (providerMsgID), or the hash of the body when
// either is absent. inbound.Key escapes and bounds the ids, so dialog
// "A:message:B" with message "C" is not dialog "A" with message
// "B:message:C".
func deliveryKey(body []byte) string {
	m := jsonx.Field(body, "message")
	dialog, msg := jsonx.Field(body, "dialogUuid"), jsonx.Field(m, "providerMsgID")
	if len(dialog) > 2 && len(msg) > 0 && string(msg) != `""` && string(msg) != "null" {
		return inbound.Key("dialog", unquote(dialog), "message", unquote(msg))
	}
	return inbound.BodyKey(body)
}

// unquote drops the quotes of a JSON string's raw bytes; a number stays as
// it is, so providerMsgID 5 and "5" are one id.
func unquote(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	return string(raw)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, req *Request) {
	fn := h.fn
	if !req.Message.Body.Known() {
		h.probe.Unknown(r.Context(), "unknown", h.onUnknown == nil)
		if h.onUnknown == nil {
			inbound.JSONBytes(w, http.StatusOK, emptyReply)
			return
		}
		fn = h.onUnknown
	}
	resp, err := h.call(r.Context(), req, fn)
	if err == nil && resp != nil {
		err = resp.Validate()
	}
	if err != nil {
		h.logger.ErrorContext(r.Context(), "easydialog: callback failed", inbound.LogArgs(r.Context(), "dialogUuid", req.DialogUUID, "error", err)...)
		h.probe.Failed(r.Context(), err)
		inbound.CallbackFailed(w)
		return
	}
	if resp == nil || len(resp.Messages) == 0 {
		inbound.JSONBytes(w, http.StatusOK, emptyReply)
		return
	}
	out, err := json.Marshal(resp)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "easydialog: encode reply", "dialogUuid", req.DialogUUID, "error", err)
		inbound.CallbackFailed(w)
		return
	}
	inbound.JSONBytes(w, http.StatusOK, out)
}

func (h *Handler) call(ctx context.Context, req *Request, fn HandlerFunc) (resp *Response, err error) {
	err = h.probe.Callback(ctx, h.probe.NewCallback(ctx), func(ctx context.Context) error {
		var err error
		resp, err = fn(ctx, req)
		return err
	})
	return resp, err
}

// bodyType names the kind of a message body for the observer: the body's
// key ("textMessage", ...), or "unknown".
func bodyType(b *Body) string {
	switch {
	case b.Text != nil:
		return "textMessage"
	case b.Picture != nil:
		return "pictureMessage"
	case b.Video != nil:
		return "videoMessage"
	case b.Audio != nil:
		return "audioMessage"
	case b.File != nil:
		return "fileMessage"
	case b.FileList != nil:
		return "fileListMessage"
	case b.Location != nil:
		return "locationMessage"
	case b.Contact != nil:
		return "contactMessage"
	case b.Suggestions != nil:
		return "suggestionsMessage"
	case b.Card != nil:
		return "cardMessage"
	case b.CardCarousel != nil:
		return "cardCarouselMessage"
	}
	return "unknown"
}
