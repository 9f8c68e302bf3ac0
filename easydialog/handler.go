package easydialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/jsonx"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/store"
)

// HandlerFunc answers one inbound message. The returned response (nil means
// no messages) is sent to the customer; an error makes the webhook answer
// 500.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Option configures a Handler.
type Option func(*config)

type config struct {
	dedup     *inbound.Dedup
	maxBody   int64
	logger    *slog.Logger
	onUnknown HandlerFunc
}

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithLogger sends callback errors and panics to l (default slog.Default()).
// Nothing logged contains the key, the signature or a whole body.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithDeduplication makes the handler run the callback once per delivery:
// a redelivery of a delivery that completed gets the stored answer again,
// byte for byte, without the callback running. The key is the dialog and the channel's message id (dialogUuid and
// providerMsgID), or the SHA-256 of the body when either is absent. d is shared by every
// replica (store/redisstore) or store.NewMemoryDeduplicator() for one
// process; keys are kept for ttl (0: 24 h). A callback that fails releases
// its key, so the redelivery runs again; when the store fails the handler
// answers 503. Handler only.
func WithDeduplication(d store.Deduplicator, ttl time.Duration) Option {
	return func(c *config) { c.dedup = dedupOf(d, ttl) }
}

func dedupOf(d store.Deduplicator, ttl time.Duration) *inbound.Dedup {
	if d == nil {
		return nil
	}
	return &inbound.Dedup{Store: d, TTL: ttl}
}

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
//   - 401 when X-BM-Signature is missing or does not match the raw body;
//   - 400 for a body that is not Easy Dialog's JSON;
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
	verifier  *verifier
	fn        HandlerFunc
	onUnknown HandlerFunc
	maxBody   int64
	logger    *slog.Logger
	dedup     *inbound.Dedup
}

// NewHandler returns a Handler that checks every request's X-BM-Signature
// with signatureKey and answers with fn's reply. An empty key is an error
// (ErrNoKey): the handler never runs unauthenticated.
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
	if cfg.maxBody <= 0 {
		cfg.maxBody = inbound.DefaultMaxBody
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	h := &Handler{verifier: newVerifier(signatureKey), fn: fn, onUnknown: cfg.onUnknown,
		maxBody: cfg.maxBody, logger: cfg.logger}
	if d := cfg.dedup; d != nil {
		d.Logger, d.Vendor = h.logger, "easydialog"
		h.dedup = d
	}
	return h, nil
}

// String describes the handler without its key.
func (h Handler) String() string {
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
	body, ok := inbound.Begin(w, r, h.maxBody)
	if !ok {
		return
	}
	// The signature covers the raw bytes, so the body is read before it is
	// checked; the size limit still bounds what an unsigned caller costs.
	if h.verifier.verify(body, r.Header.Get(SignatureHeader)) != nil {
		inbound.Unauthorized(w)
		return
	}
	if h.dedup != nil {
		h.dedup.Serve(w, r, deliveryKey(body), func(w http.ResponseWriter) { h.serve(w, r, body) })
		return
	}
	h.serve(w, r, body)
}

// deliveryKey identifies a delivery for WithDeduplication: the dialog and
// the channel's message id (providerMsgID), or the hash of the body when
// either is absent.
func deliveryKey(body []byte) string {
	m := jsonx.Field(body, "message")
	dialog, msg := jsonx.Field(body, "dialogUuid"), jsonx.Field(m, "providerMsgID")
	if len(dialog) > 2 && len(msg) > 0 && string(msg) != `""` && string(msg) != "null" {
		return "dialog:" + strings.Trim(string(dialog), `"`) + ":message:" + strings.Trim(string(msg), `"`)
	}
	return inbound.BodyKey(body)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, body []byte) {

	req, err := ParseRequest(body)
	if err != nil {
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	fn := h.fn
	if !req.Message.Body.Known() {
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
		h.logger.ErrorContext(r.Context(), "easydialog: callback failed", "dialogUuid", req.DialogUUID, "error", err)
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
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("easydialog: callback panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx, req)
}
