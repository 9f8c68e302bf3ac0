package botcopy

import (
	"bytes"
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
	ErrUnauthorized  = errors.New("botcopy: missing or wrong access token")
)

// Handler is the http.Handler Botcopy calls (the portal's "Live Chat
// Endpoint Webhook URL"). It answers, in order:
//
//   - 405 with Allow: POST for any other method;
//   - 413 for a body over the limit (WithMaxBodyBytes, default 1 MiB);
//   - 401 when the access token is wrong or missing: the Authorization
//     header (raw; a "Bearer " prefix is tolerated), or when the header is
//     absent the legacy body field accessToken; and when the custom header
//     of WithCustomHeader does not match;
//   - 400 for a body that is not Botcopy's JSON;
//   - 200 {} for user_typing (WithOnUserTyping) and unknown event types
//     (WithOnUnknown), without calling the callback;
//   - 500 when the callback fails; the error goes to the logger;
//   - 200 with the callback's decision, or with the fallback decision when
//     the callback misses the response deadline (default 4.5 s).
type Handler struct {
	token       inbound.Secret
	customName  string
	customValue inbound.Secret
	fn          HandlerFunc
	deadline    time.Duration
	fallback    Decision
	onTyping    func(context.Context, *HandoverRequest) error
	onUnknown   func(context.Context, *HandoverRequest) error
	maxBody     int64
	logger      *slog.Logger
}

// NewHandler returns a Handler that authenticates Botcopy with accessToken
// (the portal's "access token") and asks fn for each decision. An empty
// token is an error.
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
	if (cfg.customName == "") != (cfg.customValue == "") {
		return nil, errors.New("botcopy: WithCustomHeader needs a header name and a value")
	}
	h := &Handler{
		token: inbound.NewSecret(accessToken), customName: cfg.customName, customValue: inbound.NewSecret(cfg.customValue),
		fn: fn, deadline: cfg.deadline, fallback: Pause(DefaultMinutesPaused),
		onTyping: cfg.onUserTyping, onUnknown: cfg.onUnknown, maxBody: cfg.maxBody, logger: cfg.logger,
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
	return h, nil
}

// String describes the handler without its secrets.
func (h *Handler) String() string {
	custom := "none"
	if h.customName != "" {
		custom = h.customName + ": [REDACTED]"
	}
	return fmt.Sprintf("botcopy.Handler{token: [REDACTED], customHeader: %s, deadline: %s, fallback: %s}", custom, h.deadline, h.fallback)
}

// GoString describes the handler without its secrets (for %#v).
func (h *Handler) GoString() string { return h.String() }

// authorize checks the Authorization header, or the legacy body token when
// the header is absent.
func (h *Handler) authorize(r *http.Request, body []byte) error {
	if h.customName != "" && !h.customValue.Equal(r.Header.Get(h.customName)) {
		return ErrUnauthorized
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
			auth = auth[7:]
		}
		if !h.token.Equal(auth) {
			return ErrUnauthorized
		}
		return nil
	}
	var legacy struct {
		AccessToken string `json:"accessToken"`
	}
	if json.Unmarshal(body, &legacy) != nil || !h.token.Equal(legacy.AccessToken) {
		return ErrUnauthorized
	}
	return nil
}

var emptyObject = []byte(`{}`)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := inbound.Begin(w, r, h.maxBody)
	if !ok {
		return
	}
	data := bytes.Clone(body.Bytes()) // Raw outlives the pooled buffer
	body.Release()
	if h.authorize(r, data) != nil {
		inbound.Unauthorized(w)
		return
	}
	req, err := decodeRequest(data)
	if err != nil {
		inbound.BadRequest(w, inbound.SyntaxReason(err))
		return
	}
	switch req.Kind() {
	case KindUserTyping, KindUnknown:
		fn := h.onTyping
		if req.Kind() == KindUnknown {
			fn = h.onUnknown
		}
		if fn != nil {
			if err := recovered(func() error { return fn(r.Context(), req) }); err != nil {
				h.logger.ErrorContext(r.Context(), "botcopy: event callback failed", "eventType", req.EventType, "error", err)
				inbound.CallbackFailed(w)
				return
			}
		}
		inbound.JSONBytes(w, http.StatusOK, emptyObject)
		return
	}
	d, err := h.decide(r.Context(), req)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "botcopy: callback failed", "kind", req.Kind(), "userId", req.UserID, "error", err)
		inbound.CallbackFailed(w)
		return
	}
	b, _ := json.Marshal(d) // a Decision always marshals
	inbound.JSONBytes(w, http.StatusOK, b)
}

type outcome struct {
	d   Decision
	err error
}

// decide runs the callback under the deadline. A late callback keeps
// running with a cancelled context until it returns; its result is dropped,
// since Botcopy has stopped listening. A callback that finishes only once
// the deadline has passed counts as late too.
func (h *Handler) decide(ctx context.Context, req *HandoverRequest) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, h.deadline)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = recovered(func() (err error) { o.d, err = h.fn(ctx, req); return err })
		done <- o
	}()
	select {
	case o := <-done:
		if ctx.Err() != nil {
			return h.late(ctx, req), nil
		}
		return o.d, o.err
	case <-ctx.Done():
		return h.late(ctx, req), nil
	}
}

func (h *Handler) late(ctx context.Context, req *HandoverRequest) Decision {
	h.logger.WarnContext(ctx, "botcopy: callback missed the response deadline; answered the fallback",
		"deadline", h.deadline, "fallback", h.fallback.String(), "userId", req.UserID)
	return h.fallback
}

func recovered(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("botcopy: callback panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}
