package userlike

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/safefmt"
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
	fn        HandlerFunc
	onUnknown HandlerFunc
	maxBody   int64
	logger    *slog.Logger
	dedup     *inbound.Dedup
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
	h := &Handler{auth: a, fn: fn, onUnknown: cfg.onUnknown, maxBody: cfg.MaxBody, logger: cfg.Logger, noAuth: cfg.Auth.None}
	if h.maxBody <= 0 {
		h.maxBody = inbound.DefaultMaxBody
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if d := cfg.Dedup; d != nil {
		if err := inbound.AuthBot("userlike", cfg.Auth).Bind("WithDeduplication", d.Store); err != nil {
			return nil, err
		}
		d.Logger, d.Vendor = h.logger, "userlike"
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
	return fmt.Sprintf("userlike.Handler{auth: %s, maxBody: %d}", h.auth.String(), h.maxBody)
}

// GoString describes the handler without its header values (for %#v).
func (h Handler) GoString() string { return h.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (h Handler) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, h.String()) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !inbound.AllowPost(w, r) {
		return
	}
	index, ok := h.auth.Match(r)
	if !ok {
		inbound.Unauthorized(w)
		return
	}
	if !h.noAuth {
		r = inbound.Authenticated(r, index, h.logger.DebugContext, "userlike")
	}
	body, ok := inbound.Read(w, r, h.maxBody)
	if !ok {
		return
	}
	if h.dedup != nil {
		// Userlike's events carry no id of their own: the body is the key.
		h.dedup.Serve(w, r, inbound.BodyKey(body), func(w http.ResponseWriter) { h.serve(w, r, body) })
		return
	}
	h.serve(w, r, body)
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
	var out []OutboundEvent
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
			if h.onUnknown == nil {
				h.logger.DebugContext(r.Context(), "userlike: ignored unknown event", "event", e.Packet.Name, "cid", e.Info.CID)
				continue
			}
			fn = h.onUnknown
		}
		reply := NewReply(e.Info.CID)
		if err := h.call(r.Context(), fn, e, reply); err != nil {
			h.logger.ErrorContext(r.Context(), "userlike: callback failed", "event", e.Packet.Name, "cid", e.Info.CID, "error", err)
			inbound.CallbackFailed(w)
			return
		}
		if err := reply.Validate(); err != nil {
			h.logger.ErrorContext(r.Context(), "userlike: invalid reply", "event", e.Packet.Name, "cid", e.Info.CID, "error", err)
			inbound.CallbackFailed(w)
			return
		}
		h.warn(r.Context(), reply)
		out = append(out, reply.Events()...)
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

func (h *Handler) call(ctx context.Context, fn HandlerFunc, e *Event, reply *Reply) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("userlike: callback panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx, e, reply)
}
