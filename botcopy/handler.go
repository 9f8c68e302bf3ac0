package botcopy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/tenant"
)

// HandlerFunc decides, for a trigger or a user message, whether the bot
// stays paused. It runs under the response deadline.
type HandlerFunc func(ctx context.Context, r *HandoverRequest) (Decision, error)

// DefaultResponseDeadline leaves half a second of Botcopy's 5 s for the
// network.
const DefaultResponseDeadline = 4500 * time.Millisecond

// Errors of NewHandler and of the authentication check.
var (
	ErrNoAccessToken = errors.New("botcopy: empty access token")
	ErrInvalidToken  = errors.New("botcopy: missing or wrong access token")
)

// Handler is the http.Handler Botcopy calls (the portal's "Live Chat
// Endpoint Webhook URL"). It answers, in order:
//
//   - 405 with Allow: POST for any other method;
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 401 when the access token is wrong or missing: the Authorization
//     header (raw; a "Bearer " prefix is tolerated), or when the header is
//     absent the legacy body field accessToken; and when the custom header
//     of WithCustomHeader does not match. During a rotation the previous
//     tokens and values (WithPreviousAccessTokens,
//     WithPreviousCustomHeaderValues) match too; every check runs whichever
//     fails, and every failure gets the same 401;
//   - 400 for a body that is not Botcopy's JSON;
//   - 200 {} for user_typing (WithOnUserTyping) and unknown event types
//     (WithOnUnknown), without calling the callback;
//   - when the callback fails (an error or a panic; the error goes to the
//     logger): for a user message, 200 with the fallback decision, since
//     Botcopy forwards a message that gets no decision to Dialogflow and
//     the bot would answer inside the human conversation; for a trigger,
//     500, which leaves the bot unpaused ("otherwise the bot will not
//     pause the conversation");
//   - 200 with the callback's decision, or with the fallback decision when
//     the callback misses the response deadline (default 4.5 s).
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout above the response deadline. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type Handler struct {
	tokens      inbound.Secrets // the access token, then WithPreviousAccessTokens
	tenants     *Tenants        // NewTenantHandler, else nil
	customName  string
	customValue inbound.Secrets // WithCustomHeader's value, then WithPreviousCustomHeaderValues
	fn          HandlerFunc
	deadline    time.Duration
	fallback    Decision
	onTyping    func(context.Context, *HandoverRequest) error
	onUnknown   func(context.Context, *HandoverRequest) error
	maxBody     int64
	logger      *slog.Logger
	dedup       *inbound.Dedup
	probe       inbound.Probe
	watchdogs   *sync.Pool // of *watchdog, each with its timer, reused when stopped in time
}

// NewHandler returns a Handler that authenticates Botcopy with accessToken
// (the portal's "access token", and during a rotation the tokens of
// WithPreviousAccessTokens) and asks fn for each decision. An empty token
// is an error.
func NewHandler(accessToken string, fn HandlerFunc, opts ...Option) (*Handler, error) {
	if accessToken == "" {
		return nil, ErrNoAccessToken
	}
	if fn == nil {
		return nil, errors.New("botcopy: NewHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	if err := checkCustom(cfg); err != nil {
		return nil, err
	}
	for i, t := range cfg.prevTokens {
		if t == "" {
			return nil, fmt.Errorf("botcopy: WithPreviousAccessTokens: previous token %d is empty: %w", i+1, ErrNoAccessToken)
		}
	}
	// The store serves one bot, known by its current token only: a
	// rotation does not change which bot it is.
	return newHandler(cfg, fn, inbound.NewSecrets(accessToken, cfg.prevTokens...), nil, inbound.NewBot("botcopy", accessToken))
}

// Credentials are a tenant's Botcopy credentials, as a Tenants lookup
// returns them.
type Credentials struct {
	// AccessToken is the tenant's current access token. A tenant without
	// one never authenticates.
	AccessToken string
	// Previous are tokens still accepted during a rotation, as
	// WithPreviousAccessTokens; CredentialIndex counts them from 1.
	Previous []string
}

// Tenants is how NewTenantHandler finds a call's tenant and its
// credentials.
type Tenants struct {
	// Resolve names the call's tenant before it is verified:
	// tenant.JSONField("botId") for the bot id Botcopy sends in the body,
	// or tenant.PathValue("tenant") for a path per tenant.
	Resolve tenant.Resolver
	// Lookup returns the tenant's credentials, or an error wrapping
	// tenant.ErrUnknown for a tenant it does not know (401, as a wrong
	// token); any other error answers 503. It runs on every call: cache
	// what it reads.
	Lookup func(ctx context.Context, tenant string) (Credentials, error)
}

// NewTenantHandler returns a Handler that serves many tenants' handovers:
// for every call it resolves the tenant (t.Resolve), looks up its tokens
// (t.Lookup) and checks the call's token against them, then asks fn for
// the decision with the tenant in its context (tenant.FromContext). An
// unknown tenant, or another tenant's token, gets the 401 of a wrong token
// after the same comparison. WithCustomHeader, if set, is checked for
// every tenant alike. Deduplication keys carry the tenant, and the store
// of WithDeduplication serves this handler's tenants and no single-tenant
// handler. Every option of NewHandler applies except
// WithPreviousAccessTokens (a tenant's previous tokens are in its
// Credentials).
func NewTenantHandler(t Tenants, fn HandlerFunc, opts ...Option) (*Handler, error) {
	switch {
	case t.Resolve.IsZero():
		return nil, errors.New("botcopy: NewTenantHandler needs Tenants.Resolve (tenant.JSONField(\"botId\"), ...)")
	case t.Lookup == nil:
		return nil, errors.New("botcopy: NewTenantHandler needs Tenants.Lookup")
	case fn == nil:
		return nil, errors.New("botcopy: NewTenantHandler needs a callback")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.prevTokens) > 0 {
		return nil, errors.New("botcopy: WithPreviousAccessTokens does not apply to NewTenantHandler: put a tenant's previous tokens in its Credentials")
	}
	if err := checkCustom(cfg); err != nil {
		return nil, err
	}
	return newHandler(cfg, fn, inbound.Secrets{}, &t, inbound.TenantsBot("botcopy"))
}

func checkCustom(cfg *config) error {
	if (cfg.customName == "") != (cfg.customValue == "") {
		return errors.New("botcopy: WithCustomHeader needs a header name and a value")
	}
	if len(cfg.prevCustom) > 0 && cfg.customName == "" {
		return errors.New("botcopy: WithPreviousCustomHeaderValues needs WithCustomHeader")
	}
	for i, v := range cfg.prevCustom {
		if v == "" {
			return fmt.Errorf("botcopy: WithPreviousCustomHeaderValues: previous value %d is empty", i+1)
		}
	}
	return nil
}

func newHandler(cfg *config, fn HandlerFunc, tokens inbound.Secrets, t *Tenants, bot inbound.Bot) (*Handler, error) {
	h := &Handler{
		tokens: tokens, tenants: t,
		customName: cfg.customName, customValue: inbound.NewSecrets(cfg.customValue, cfg.prevCustom...),
		fn: fn, deadline: cfg.deadline, fallback: PauseFor(DefaultMinutesPaused),
		onTyping: cfg.onUserTyping, onUnknown: cfg.onUnknown, maxBody: cfg.MaxBody, logger: cfg.Logger,
		probe:     inbound.Probe{Observer: cfg.Observer, Platform: observe.Botcopy, Endpoint: "handover", Tap: cfg.Tap, CredentialHeaders: []string{cfg.customName}},
		watchdogs: new(sync.Pool),
	}
	if cfg.fallback != nil {
		h.fallback = *cfg.fallback
	}
	if h.deadline <= 0 {
		h.deadline = DefaultResponseDeadline
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
		d.Logger, d.Vendor, d.Deadline, d.Probe = h.logger, "botcopy", h.deadline, &h.probe
		h.dedup = d
	}
	return h, nil
}

// String describes the handler without its secrets, current or previous.
func (h Handler) String() string {
	token := "[REDACTED]"
	if h.tenants != nil {
		token = "per tenant"
	}
	if n := h.tokens.Len() - 1; n > 0 {
		token += fmt.Sprintf(", previous tokens: %d [REDACTED]", n)
	}
	custom := "none"
	if h.customName != "" {
		custom = h.customName + ": [REDACTED]"
		if n := h.customValue.Len() - 1; n > 0 {
			custom += fmt.Sprintf(", previous values: %d [REDACTED]", n)
		}
	}
	return fmt.Sprintf("botcopy.Handler{token: %s, customHeader: %s, deadline: %s, fallback: %s}", token, custom, h.deadline, h.fallback)
}

// GoString describes the handler without its secrets (for %#v).
func (h Handler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h Handler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

// authorize checks the custom header and the Authorization header, or the
// legacy body token when the header is absent, and says which credential
// matched (see CredentialIndex). Both checks run whichever fails, each
// against every accepted value, so timing does not tell which failed.
func (h *Handler) authorize(r *http.Request, body []byte) (index int, id string, err error) {
	customOK := true
	if h.customName != "" {
		index, customOK = h.customValue.Match(r.Header.Get(h.customName))
	}
	token := r.Header.Get("Authorization")
	if token != "" {
		if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
			token = token[7:]
		}
	} else {
		var legacy struct {
			AccessToken string `json:"accessToken"`
		}
		if json.Unmarshal(body, &legacy) == nil {
			token = legacy.AccessToken
		}
	}
	var i int
	var tokenOK bool
	if h.tenants == nil {
		i, tokenOK = h.tokens.Match(token)
	} else {
		var c Credentials
		c, id, err = h.tenant(r, body)
		if err != nil {
			return 0, id, err
		}
		i, tokenOK = inbound.MatchStrings(token, c.AccessToken, c.Previous)
		tokenOK = tokenOK && c.AccessToken != noTenant
	}
	if !customOK || !tokenOK {
		return 0, id, ErrInvalidToken
	}
	return max(index, i), id, nil
}

// errLookup marks a tenant lookup's failure (503, not 401).
var errLookup = errors.New("botcopy: tenant lookup failed")

// noTenant is the token an unknown tenant's call is compared with, so the
// answer costs what a wrong token's does.
const noTenant = "botwire: no such tenant"

// tenant resolves r's tenant and looks up its credentials.
func (h *Handler) tenant(r *http.Request, body []byte) (Credentials, string, error) {
	none := Credentials{AccessToken: noTenant}
	c, id, found, err := inbound.LookupTenant(r, body, h.tenants.Resolve, h.tenants.Lookup)
	switch {
	case err != nil:
		return none, id, fmt.Errorf("%w: %w", errLookup, err)
	case !found || c.AccessToken == "":
		return none, id, nil
	}
	return c, id, nil
}

// CredentialIndex reports, in a callback's context, which credentials
// authenticated the call: 0 when the access token and the custom header
// value (WithCustomHeader) were the current ones; else the larger of the
// two indexes, i for the i-th token of WithPreviousAccessTokens or the i-th
// value of WithPreviousCustomHeaderValues. ok is false when ctx is not an
// authenticated call's. The trigger, user-message, user-typing and unknown
// callbacks all have it, deduplicated or not.
func CredentialIndex(ctx context.Context) (index int, ok bool) {
	return inbound.Credential(ctx)
}

var emptyObject = []byte(`{}`)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.handle)
}

func (h *Handler) handle(w http.ResponseWriter, r *http.Request) {
	body, ok := inbound.Begin(w, r, h.maxBody)
	if !ok {
		return
	}

	index, id, err := h.authorize(r, body)
	switch {
	case errors.Is(err, errLookup):
		h.logger.ErrorContext(r.Context(), "botcopy: tenant lookup failed; answered 503", "tenant", id, "error", err)
		h.probe.Tenant(r.Context(), id)
		h.probe.Busy(r.Context(), observe.ReasonTenantLookup, err)
		inbound.Unavailable(w, 1)
		return
	case err != nil:
		inbound.Unauthorized(w)
		return
	}
	// The callbacks' context says which credential it was (CredentialIndex)
	// and whose (tenant.FromContext).
	r = inbound.Authenticated(r, index, h.logger.DebugContext, "botcopy")
	if h.tenants != nil {
		r = r.WithContext(tenant.NewContext(r.Context(), id))
	}
	h.probe.Authenticated(r.Context(), index)
	if h.dedup != nil {
		// Botcopy's calls carry no id of their own: the body is the key.
		key := inbound.BodyKey(body)
		if h.tenants != nil {
			key = inbound.Key("tenant", id, "delivery", key)
		}
		h.dedup.Serve(w, r, key, func(w http.ResponseWriter) { h.serve(w, r, body) })
		return
	}
	h.serve(w, r, body)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	h.probe.Note(r.Context(), req.UserID, "", string(req.Kind()))
	switch req.Kind() {
	case KindUserTyping, KindUnknown:
		fn := h.onTyping
		if req.Kind() == KindUnknown {
			fn = h.onUnknown
			h.probe.Unknown(r.Context(), req.EventType, fn == nil)
		}
		if fn != nil {
			cb := h.probe.NewCallback(r.Context())
			if err := h.probe.Callback(r.Context(), cb, func(ctx context.Context) error { return fn(ctx, req) }); err != nil {
				h.logger.ErrorContext(r.Context(), "botcopy: event callback failed", inbound.LogArgs(r.Context(), "eventType", req.EventType, "error", err)...)
				h.probe.Failed(r.Context(), err)
				inbound.CallbackFailed(w)
				return
			}
		}
		inbound.JSONBytes(w, http.StatusOK, emptyObject)
		return
	}
	h.decide(w, r.Context(), req)
}

// watchdog answers the fallback decision when the deadline passes before
// the callback returns. Exactly one of the two answers: whoever moves state
// from pending first.
type watchdog struct {
	state  atomic.Int32  // pending, answered, or fellBack
	done   chan struct{} // closed once the fallback is written
	timer  *time.Timer   // runs fire; created once per watchdog
	h      *Handler
	w      http.ResponseWriter
	req    *HandoverRequest
	ctx    context.Context
	parent context.Context // the delivery's, for the observer
	cancel context.CancelFunc
}

const (
	pending int32 = iota
	answered
	fellBack
)

// fire runs when the deadline passes: it cancels the callback's context
// and, unless the callback has answered already, writes the fallback with
// its length and flushes it, so Botcopy has the whole answer in time while
// the callback may still run.
//
// A watchdog that fired is never reused, so done is closed at most once.
func (wd *watchdog) fire() {
	wd.cancel()
	if !wd.state.CompareAndSwap(pending, fellBack) {
		return
	}
	defer close(wd.done)
	wd.h.probe.Fallback(wd.parent, observe.ReasonDeadline, nil)
	b, _ := json.Marshal(wd.h.late(wd.ctx, wd.req)) // a Decision always marshals
	inbound.JSONNow(wd.w, http.StatusOK, b)
}

// decide runs the callback on the request's goroutine under the deadline;
// a timer answers the fallback when the callback is late (see watchdog).
// A callback that returns only after the deadline is late too, whichever
// goroutine gets to answer. No goroutine is started on the fast path.
func (h *Handler) decide(w http.ResponseWriter, parent context.Context, req *HandoverRequest) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	wd, _ := h.watchdogs.Get().(*watchdog)
	if wd == nil {
		wd = &watchdog{h: h, done: make(chan struct{})}
	}
	wd.state.Store(pending)
	wd.w, wd.req, wd.ctx, wd.parent, wd.cancel = w, req, ctx, parent, cancel
	if wd.timer == nil {
		wd.timer = time.AfterFunc(h.deadline, wd.fire)
	} else {
		wd.timer.Reset(h.deadline)
	}
	start := time.Now()
	d, err := h.call(ctx, req)
	inTime := wd.timer.Stop()
	if inTime {
		// fire will not run for this arming: the watchdog can serve again.
		defer func() {
			wd.w, wd.req, wd.ctx, wd.parent, wd.cancel = nil, nil, nil, nil, nil
			h.watchdogs.Put(wd)
		}()
	}
	if !wd.state.CompareAndSwap(pending, answered) {
		<-wd.done // the fallback is being written: w must not outlive ServeHTTP
		h.probe.Event(parent, observe.Event{Kind: observe.KindLateCallback, Duration: time.Since(start), Err: err})
		return
	}
	switch {
	case !inTime:
		h.probe.Fallback(parent, observe.ReasonDeadline, nil)
		h.probe.Event(parent, observe.Event{Kind: observe.KindLateCallback, Duration: time.Since(start), Err: err})
		h.writeDecision(w, h.late(ctx, req))
	case err != nil && req.Kind() == KindUserMessage:
		// A 500 is no decision: "If Botcopy receives { paused: false } or a
		// response after five seconds, we forward the user message in the
		// request to Dialogflow", and the bot would barge into the human
		// conversation. Answer what the deadline answers.
		h.logger.ErrorContext(parent, "botcopy: callback failed; answered the fallback", inbound.LogArgs(parent, "kind", req.Kind(),
			"userId", req.UserID, "fallback", h.fallback.String(), "error", err)...)
		h.probe.Fallback(parent, inbound.ReasonOf(err), err)
		h.writeDecision(w, h.fallback)
	case err != nil:
		// A trigger that fails is not paused ("otherwise the bot will not
		// pause the conversation"): with the desk down no human would take
		// over, so the bot keeps the conversation.
		h.logger.ErrorContext(parent, "botcopy: callback failed", inbound.LogArgs(parent, "kind", req.Kind(), "userId", req.UserID, "error", err)...)
		h.probe.Failed(parent, err)
		inbound.CallbackFailed(w)
	default:
		h.writeDecision(w, d)
	}
}

// call runs the callback, turning a panic into an error.
func (h *Handler) call(ctx context.Context, req *HandoverRequest) (d Decision, err error) {
	err = h.probe.Callback(ctx, h.probe.NewCallback(ctx), func(ctx context.Context) error {
		var err error
		d, err = h.fn(ctx, req)
		return err
	})
	return d, err
}

func (h *Handler) writeDecision(w http.ResponseWriter, d Decision) {
	b, _ := json.Marshal(d) // a Decision always marshals
	inbound.JSONBytes(w, http.StatusOK, b)
}

func (h *Handler) late(ctx context.Context, req *HandoverRequest) Decision {
	h.logger.WarnContext(ctx, "botcopy: callback missed the response deadline; answered the fallback",
		"deadline", h.deadline, "fallback", h.fallback.String(), "userId", req.UserID)
	return h.fallback
}
