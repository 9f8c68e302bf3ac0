package ultimate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/jsonx"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/tenant"
)

// ChatCallbacks handle the chat webhook's events. Every field is optional;
// an event without a callback is answered as the doc expects of a bot that
// does not use it (see NewChatHandler).
type ChatCallbacks struct {
	// OnMessage shows the virtual agent's message to the visitor. It runs
	// before the webhook answers; Ultimate only needs an acknowledgement,
	// so keep it quick.
	OnMessage func(ctx context.Context, e *ChatEvent, m *Message) error
	// OnEscalate hands the conversation to a human. It is synchronous: nil
	// answers 200 (escalated); an error answers its Status (default 500),
	// which tells Ultimate the escalation failed.
	OnEscalate func(ctx context.Context, e *ChatEvent, x *Escalation) error
	// OnTeamOnline says whether a human team is available; the webhook
	// answers {"isOnline": online}.
	OnTeamOnline func(ctx context.Context, e *ChatEvent, q *TeamOnlineQuery) (online bool, err error)
	// OnWidgetEvent receives widgetMessage, widgetEscalate and
	// widgetEndSession (only sent to users of Ultimate's chat widget).
	OnWidgetEvent func(ctx context.Context, e *ChatEvent, w *WidgetEvent) error
	// OnUnknown receives events of a type this package does not model.
	OnUnknown func(ctx context.Context, e *ChatEvent) error
}

// StatusError is an error with the HTTP status the webhook should answer.
type StatusError struct {
	Code int
	Err  error
}

// Error reports the status and the wrapped error.
func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %v", e.Code, e.Err) }

// Unwrap returns the wrapped error.
func (e *StatusError) Unwrap() error { return e.Err }

// WithStatus wraps err so the webhook answers code (4xx or 5xx); use it in
// OnEscalate to tell Ultimate why an escalation failed.
func WithStatus(code int, err error) error { return &StatusError{Code: code, Err: err} }

func statusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) && se.Code >= 400 && se.Code <= 599 {
		return se.Code
	}
	return http.StatusInternalServerError
}

// ErrNoAuthentication is returned by the handler constructors without an
// authentication option or an explicit WithoutAuthentication.
var ErrNoAuthentication = errors.New("ultimate: the webhook needs WithWebhookHeader or WithBasicAuth (or WithoutAuthentication)")

// base is what both webhook handlers share.
type base struct {
	auth    inbound.Auth
	tenants *Tenants     // NewTenantChatHandler, NewTenantActionHandler; else nil
	none    inbound.Auth // a tenant handler's: what a call of no known tenant is compared with
	maxBody int64
	logger  *slog.Logger
	dedup   *inbound.Dedup
	probe   *inbound.Probe // its Endpoint is the handler's
	// noAuth: WithoutAuthentication, so no call carries a credential index.
	noAuth bool
}

func newBase(opts []Option) (base, error) {
	cfg, err := newConfig(false, opts)
	if err != nil {
		return base{}, err
	}
	a, err := inbound.NewAuth(cfg.Auth)
	switch {
	case errors.Is(err, inbound.ErrNoAuth):
		return base{}, ErrNoAuthentication
	case err != nil:
		return base{}, fmt.Errorf("ultimate: %w", err)
	}
	if slices.Contains(cfg.Auth.PreviousPasswords, "") {
		// WithBasicAuth refuses an empty password; so does its rotation.
		return base{}, errors.New("ultimate: WithPreviousBasicAuthPasswords needs non-empty passwords")
	}
	return finishBase(cfg, base{auth: a, noAuth: cfg.Auth.None}, inbound.AuthBot("ultimate", cfg.Auth))
}

// finishBase sets what single-tenant and tenant handlers share; bot is the
// identity the deduplication store is bound to.
func finishBase(cfg *config, b base, bot inbound.Bot) (base, error) {
	b.maxBody, b.logger = cfg.MaxBody, cfg.Logger
	b.probe = &inbound.Probe{Observer: cfg.Observer, Platform: observe.Ultimate, Tap: cfg.Tap, CredentialHeaders: cfg.Auth.HeaderNames(), TapUnauthenticated: b.noAuth}
	if b.maxBody <= 0 {
		b.maxBody = inbound.DefaultMaxBody
	}
	if b.logger == nil {
		b.logger = slog.Default()
	}
	if d := cfg.Dedup; d != nil {
		if err := bot.Bind("WithDeduplication", d.Store); err != nil {
			return base{}, err
		}
		d.Logger, d.Vendor, d.Probe = b.logger, "ultimate", b.probe
		b.dedup = d
	}
	return b, nil
}

// begin runs the shared rows of the handler table and returns r with the
// matched credential in its context (see CredentialIndex), and for a tenant
// handler its tenant (tenant.FromContext), and a copy of the body, or false
// when it has answered.
func (b *base) begin(w http.ResponseWriter, r *http.Request) (*http.Request, []byte, bool) {
	if !inbound.AllowPost(w, r) {
		return nil, nil, false
	}
	// The credentials are headers, so check them before reading any body,
	// unless the tenant is named in the body.
	var body []byte
	if b.tenants != nil && b.tenants.Resolve.NeedsBody() {
		var ok bool
		if body, ok = inbound.Read(w, r, b.maxBody); !ok {
			return nil, nil, false
		}
	}
	index, id, ok, err := b.authenticate(r, body)
	if err != nil {
		b.logger.ErrorContext(r.Context(), "ultimate: tenant lookup failed; answered 503", "tenant", id, "error", err)
		b.probe.Tenant(r.Context(), id)
		b.probe.Busy(r.Context(), observe.ReasonTenantLookup, err)
		inbound.Unavailable(w, 1)
		return nil, nil, false
	}
	if !ok {
		inbound.Unauthorized(w)
		return nil, nil, false
	}
	if !b.noAuth {
		r = inbound.Authenticated(r, index, b.logger.DebugContext, "ultimate")
	}
	if b.tenants != nil {
		r = r.WithContext(tenant.NewContext(r.Context(), id))
	}
	if !b.noAuth {
		b.probe.Authenticated(r.Context(), index)
	}
	if body == nil {
		if body, ok = inbound.Read(w, r, b.maxBody); !ok {
			return nil, nil, false
		}
	}
	return r, body, true
}

// CredentialIndex tells a callback (of a ChatHandler or an ActionHandler)
// which credential authenticated the call it runs for: 0 the current ones
// (WithWebhookHeader, WithBasicAuth), i the i-th previous one, in the order
// given to WithPreviousWebhookHeader for a header and to
// WithPreviousBasicAuthPasswords for the password (with several checks,
// the highest index any of them matched); for a tenant handler, in the
// same way, the i-th of the tenant's Credentials.Previous or
// PreviousPasswords. ok is false when ctx is not the
// context of an authenticated call: a handler built with
// WithoutAuthentication, or a context the callback made itself. It is set
// on the WithDeduplication path too. Watch it (or the debug log line
// written for each call with a previous credential) to know when the
// previous one can be removed.
func CredentialIndex(ctx context.Context) (index int, ok bool) {
	return inbound.Credential(ctx)
}

func (b *base) fail(ctx context.Context, w http.ResponseWriter, what string, err error) {
	b.logger.ErrorContext(ctx, "ultimate: "+what+" failed", inbound.LogArgs(ctx, "error", err)...)
	code := statusOf(err)
	// Whatever status the callback chose (WithStatus), the delivery
	// failed in the callback.
	b.probe.Failed(ctx, err)
	if errors.Is(err, notImplemented) {
		b.probe.Outcome(ctx, observe.OutcomeFailed, observe.ReasonNoCallback)
	}
	inbound.Error(w, code, http.StatusText(code))
}

// call runs the bot's function fn, reporting it to the observer as the
// callback of the delivery in ctx (typ its event type) and turning a panic
// into an error.
func (b *base) call(ctx context.Context, typ string, fn func(context.Context) error) error {
	cb := b.probe.NewCallback(ctx)
	if cb != nil {
		cb.Type = typ
	}
	return b.probe.Callback(ctx, cb, fn)
}

// ChatHandler is the http.Handler of the chat (converse) webhook. It
// answers, in order:
//
//   - 405 with Allow: POST for any other method;
//   - 401 when the configured authentication fails (a credential that is
//     neither the current one nor a previous one);
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 400 for a body that is not a chat event (no data object);
//   - 200 for an event type this package does not model (or OnUnknown);
//   - sendMessage and the widget events: 200 once the callback returns nil;
//   - escalate: 200 when OnEscalate succeeds, its error's status otherwise,
//     and 501 without OnEscalate (the bot cannot escalate);
//   - isTeamOnline: 200 {"isOnline": bool}, or 501 without OnTeamOnline;
//   - 500 (or a WithStatus code) when a callback fails; the error goes to
//     the logger.
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout longer than the callback takes. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type ChatHandler struct {
	base
	cb ChatCallbacks
}

// NewChatHandler returns the chat webhook handler. Ultimate documents no
// authentication for its webhooks, so one of WithWebhookHeader and
// WithBasicAuth is required, or an explicit WithoutAuthentication.
func NewChatHandler(cb ChatCallbacks, opts ...Option) (*ChatHandler, error) {
	b, err := newBase(opts)
	if err != nil {
		return nil, err
	}
	b.probe.Endpoint = "chat"
	return &ChatHandler{base: b, cb: cb}, nil
}

// String describes the handler without its credentials.
func (h ChatHandler) String() string {
	return fmt.Sprintf("ultimate.ChatHandler{%s, maxBody: %d}", h.describe(), h.maxBody)
}

// GoString describes the handler without its credentials (for %#v).
func (h ChatHandler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h ChatHandler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

var notImplemented = WithStatus(http.StatusNotImplemented, errors.New("no callback for this event"))

// ServeHTTP implements http.Handler.
func (h *ChatHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.handle)
}

func (h *ChatHandler) handle(w http.ResponseWriter, r *http.Request) {
	r, data, ok := h.begin(w, r)
	if !ok {
		return
	}
	if h.dedup != nil {
		h.dedup.Serve(w, r, h.key(r, chatKey(data)), func(w http.ResponseWriter) { h.serve(w, r, data) })
		return
	}
	h.serve(w, r, data)
}

// chatKey identifies a chat delivery for WithDeduplication: the message id
// of a sendMessage (newer than the doc), escaped and bounded by inbound.Key,
// or the hash of the body.
func chatKey(body []byte) string {
	if id := jsonx.Field(jsonx.Field(body, "data"), "messageId"); len(id) > 2 && id[0] == '"' {
		return inbound.Key("message", string(id[1:len(id)-1]))
	}
	return inbound.BodyKey(body)
}

func (h *ChatHandler) serve(w http.ResponseWriter, r *http.Request, data []byte) {
	e, err := decodeChatEvent(data)
	switch {
	case errors.Is(err, errNoData):
		inbound.BadRequest(w, "data is missing or not an object")
		return
	case err != nil:
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	ctx := r.Context()
	h.probe.Note(ctx, e.data.PlatformConversationID, "", e.EventType)
	switch e.EventType {
	case EventSendMessage:
		m, err := e.Message()
		if err != nil {
			inbound.BadRequest(w, inbound.SyntaxReason(err))
			return
		}
		if h.cb.OnMessage != nil {
			if d := h.probe.Delivery(ctx); d != nil {
				d.MessageID = m.MessageID
			}
			if err := h.call(ctx, e.EventType, func(ctx context.Context) error { return h.cb.OnMessage(ctx, e, m) }); err != nil {
				h.fail(ctx, w, "OnMessage", err)
				return
			}
		}
	case EventEscalate:
		x, err := e.Escalation()
		if err != nil {
			inbound.BadRequest(w, inbound.SyntaxReason(err))
			return
		}
		if h.cb.OnEscalate == nil {
			h.fail(ctx, w, "escalate", notImplemented)
			return
		}
		if err := h.call(ctx, e.EventType, func(ctx context.Context) error { return h.cb.OnEscalate(ctx, e, x) }); err != nil {
			h.fail(ctx, w, "OnEscalate", err)
			return
		}
	case EventIsTeamOnline:
		q, err := e.TeamOnlineQuery()
		if err != nil {
			inbound.BadRequest(w, inbound.SyntaxReason(err))
			return
		}
		if h.cb.OnTeamOnline == nil {
			h.fail(ctx, w, "isTeamOnline", notImplemented)
			return
		}
		var online bool
		if err := h.call(ctx, e.EventType, func(ctx context.Context) (err error) { online, err = h.cb.OnTeamOnline(ctx, e, q); return err }); err != nil {
			h.fail(ctx, w, "OnTeamOnline", err)
			return
		}
		if online {
			inbound.JSONBytes(w, http.StatusOK, []byte(`{"isOnline":true}`))
		} else {
			inbound.JSONBytes(w, http.StatusOK, []byte(`{"isOnline":false}`))
		}
		return
	case EventWidgetMessage, EventWidgetEscalate, EventWidgetEndSession:
		we, err := e.WidgetEvent()
		if err != nil {
			inbound.BadRequest(w, inbound.SyntaxReason(err))
			return
		}
		if h.cb.OnWidgetEvent != nil {
			if err := h.call(ctx, e.EventType, func(ctx context.Context) error { return h.cb.OnWidgetEvent(ctx, e, we) }); err != nil {
				h.fail(ctx, w, "OnWidgetEvent", err)
				return
			}
		}
	default:
		h.probe.Unknown(ctx, e.EventType, h.cb.OnUnknown == nil)
		if h.cb.OnUnknown != nil {
			if err := h.call(ctx, e.EventType, func(ctx context.Context) error { return h.cb.OnUnknown(ctx, e) }); err != nil {
				h.fail(ctx, w, "OnUnknown", err)
				return
			}
		} else {
			h.logger.DebugContext(ctx, "ultimate: ignored unknown chat event", "eventType", e.EventType)
		}
	}
	inbound.OK(w)
}

// ActionFunc runs an action and returns the session parameters to store.
type ActionFunc func(ctx context.Context, r *ActionRequest) ([]ActionResult, error)

// ActionHandler is the http.Handler of the actions webhook. Actions are
// synchronous: it answers 200 {"results": [...]} with what fn returns, 500
// (or a WithStatus code) when fn fails, and otherwise the rows of
// ChatHandler's table (405, 401, 413, 400).
//
// Serve it from an http.Server with ReadHeaderTimeout and ReadTimeout set
// (a few seconds: webhook bodies are small), so a caller that sends slowly
// cannot hold a connection; IdleTimeout, so idle kept-alive connections
// close; and a WriteTimeout longer than the callback takes. The body is read
// into memory that grows with the bytes received, never with the declared
// Content-Length alone.
type ActionHandler struct {
	base
	fn ActionFunc
}

// NewActionHandler returns the actions webhook handler; authentication is
// required as for NewChatHandler.
func NewActionHandler(fn ActionFunc, opts ...Option) (*ActionHandler, error) {
	if fn == nil {
		return nil, errors.New("ultimate: NewActionHandler needs a callback")
	}
	b, err := newBase(opts)
	if err != nil {
		return nil, err
	}
	b.probe.Endpoint = "action"
	return &ActionHandler{base: b, fn: fn}, nil
}

// String describes the handler without its credentials.
func (h ActionHandler) String() string {
	return fmt.Sprintf("ultimate.ActionHandler{%s, maxBody: %d}", h.describe(), h.maxBody)
}

// GoString describes the handler without its credentials (for %#v).
func (h ActionHandler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h ActionHandler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

// ServeHTTP implements http.Handler.
func (h *ActionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.probe.Serve(w, r, h.handle)
}

func (h *ActionHandler) handle(w http.ResponseWriter, r *http.Request) {
	r, data, ok := h.begin(w, r)
	if !ok {
		return
	}
	if h.dedup != nil {
		// Action calls carry no id of their own: the body is the key.
		h.dedup.Serve(w, r, h.key(r, "action:"+inbound.BodyKey(data)), func(w http.ResponseWriter) { h.serve(w, r, data) })
		return
	}
	h.serve(w, r, data)
}

func (h *ActionHandler) serve(w http.ResponseWriter, r *http.Request, data []byte) {
	req, err := decodeActionRequest(data)
	if err != nil {
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	h.probe.Note(r.Context(), req.PlatformConversationID, "", req.Name)
	var results []ActionResult
	if err := h.call(r.Context(), req.Name, func(ctx context.Context) (err error) { results, err = h.fn(ctx, req); return err }); err != nil {
		h.fail(r.Context(), w, "action "+req.Name, err)
		return
	}
	if results == nil {
		results = []ActionResult{}
	}
	b, err := json.Marshal(ActionResponse{Results: results})
	if err != nil {
		h.fail(r.Context(), w, "encode action results", err)
		return
	}
	inbound.JSONBytes(w, http.StatusOK, b)
}
