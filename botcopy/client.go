package botcopy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/observe"
)

// Version is the botwire release, sent in the default User-Agent.
const Version = version.Version

// DefaultBaseURL is Botcopy's API, and PushPath its handover push endpoint.
const (
	DefaultBaseURL = "https://api.botcopy.com"
	PushPath       = "/webhooks/handover/push"
)

// TypingInterval is how often KeepTyping re-sends the indicator: Botcopy
// hides it after 10 s.
const TypingInterval = 9 * time.Second

// ErrNoAPIKey: NewClient was given an empty API key.
var ErrNoAPIKey = errors.New("botcopy: empty API key")

// APIError is a non-2xx answer from the push endpoint, returned after the
// last attempt: StatusCode, Header, Body (at most 64 KiB), RetryAfter. Use
// errors.As to get it. Its message never contains the key.
type APIError = transport.APIError

// RetryPolicy chooses which failures the client retries; see WithRetryPolicy.
type RetryPolicy = transport.RetryPolicy

// Retry policies.
const (
	// RetryIdempotent (the default) retries connection failures before
	// sending, 429 and 503 for every push, and other 5xx or ambiguous
	// failures only for channel updates and typing indicators: a message is
	// never sent twice.
	RetryIdempotent = transport.RetryIdempotent
	// RetryAlways also retries messages.
	RetryAlways = transport.RetryAlways
	// RetryNever makes one attempt.
	RetryNever = transport.RetryNever
)

// Target is the conversation a push goes to.
type Target struct {
	UserID string
	BotID  string
}

// Client pushes live-agent events to Botcopy. It is immutable and safe for
// concurrent use.
//
// An observer (WithObserver) sees each push as the method the caller called
// ("SendMessage", "Pause", "Resume", "Typing", "KeepTyping", "Push") with
// the URL template PushPath.
type Client struct {
	url     string
	minutes int
	http    *transport.Client // holds the Authorization header
	logger  *slog.Logger
	every   time.Duration // KeepTyping interval; TypingInterval outside tests
}

// NewClient returns a client authenticating with the portal's API key, sent
// raw in Authorization.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	cfg, err := newConfig(true, opts)
	if err != nil {
		return nil, err
	}
	base := cfg.baseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("botcopy: base URL must be an absolute http(s) URL, got %q", base)
	}
	minutes := cfg.minutesPaused
	if minutes <= 0 {
		minutes = DefaultMinutesPaused
	}
	cfg.Transport.Header = http.Header{"Authorization": {apiKey}}
	cfg.Transport.Platform = observe.Botcopy
	return &Client{
		url:     strings.TrimRight(base, "/") + PushPath,
		minutes: minutes,
		http:    transport.New(cfg.Transport, version.UserAgent("botcopy")),
		logger:  cfg.Transport.Logger,
		every:   TypingInterval,
	}, nil
}

// String describes the client without its key.
func (c Client) String() string {
	return fmt.Sprintf("botcopy.Client{url: %q, apiKey: [REDACTED]}", c.url)
}

// GoString describes the client without its key (for %#v).
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (c Client) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// SendMessage sends the live agent's text to the user, keeping the bot
// paused.
func (c *Client) SendMessage(ctx context.Context, to Target, text string) error {
	return c.push(ctx, "SendMessage", &PushEvent{EventType: PushMessage, UserID: to.UserID, BotID: to.BotID, Paused: true, MinutesPaused: c.minutes, Text: text})
}

// Pause shows the user they are chatting with agent ("You are now chatting
// with an Agent.") and keeps the bot paused.
func (c *Client) Pause(ctx context.Context, to Target, agent AgentProfile) error {
	e := &PushEvent{EventType: PushChannelUpdate, UserID: to.UserID, BotID: to.BotID, Paused: true, MinutesPaused: c.minutes}
	if agent != (AgentProfile{}) {
		e.AgentProfile = &agent
	}
	return c.push(ctx, "Pause", e)
}

// Resume gives the conversation back to the bot. unpause is UnpauseDefault
// (or "") to show "... has left the conversation", UnpauseNone to resume
// silently, or a Dialogflow event name to fire. Only a silent resume is
// retried after an ambiguous failure (see Push).
func (c *Client) Resume(ctx context.Context, to Target, unpause string) error {
	return c.push(ctx, "Resume", &PushEvent{EventType: PushChannelUpdate, UserID: to.UserID, BotID: to.BotID, UnpauseChatEvent: unpause})
}

// Typing shows the agent's typing indicator for 10 s.
func (c *Client) Typing(ctx context.Context, to Target) error { return c.typing(ctx, "Typing", to) }

// typing is Typing, reported to the observer as operation op.
func (c *Client) typing(ctx context.Context, op string, to Target) error {
	return c.push(ctx, op, &PushEvent{EventType: PushTyping, UserID: to.UserID, BotID: to.BotID, Paused: true, MinutesPaused: c.minutes})
}

// KeepTyping shows the typing indicator now and every 9 s until stop is
// called or ctx ends. The first push is always made, even when stop is
// called at once; stop ends the loop and waits for a push in flight to
// finish (a push is bounded by ctx and the client's timeout, not by stop);
// calling it more than once is safe. Failed pushes go to the logger and do
// not stop the loop.
func (c *Client) KeepTyping(ctx context.Context, to Target) (stop func()) {
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.every)
		defer t.Stop()
		for {
			if err := c.typing(ctx, "KeepTyping", to); err != nil && ctx.Err() == nil && c.logger != nil {
				c.logger.WarnContext(ctx, "botcopy: typing indicator failed", "userId", to.UserID, "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-stopped:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stopped)
			wg.Wait()
		})
	}
}

// Push validates e and posts it. Under RetryIdempotent, typing indicators,
// pauses and silent resumes (UnpauseNone) are retried after ambiguous
// failures; what makes the user see something new is not, since it may
// have been received: a message, and a resume that shows "... has left the
// conversation" (UnpauseDefault or "") or fires a Dialogflow event (the
// bot answers).
func (c *Client) Push(ctx context.Context, e *PushEvent) error { return c.push(ctx, "Push", e) }

// push is Push, reported to the observer as operation op (the exported
// method the caller called).
func (c *Client) push(ctx context.Context, op string, e *PushEvent) error {
	if e == nil {
		return fmt.Errorf("%w: nil push", ErrInvalidPush)
	}
	if err := e.Validate(); err != nil {
		return err
	}
	_, err := c.http.PostJSON(ctx, transport.Request{URL: c.url, Body: e, Idempotent: e.idempotent(),
		Operation: op, URLTemplate: PushPath})
	if err != nil {
		return fmt.Errorf("botcopy: push %s: %w", e.EventType, err)
	}
	return nil
}

// idempotent reports whether the push may safely reach Botcopy twice.
func (e *PushEvent) idempotent() bool {
	switch e.EventType {
	case PushTyping:
		return true
	case PushChannelUpdate:
		return e.Paused || e.UnpauseChatEvent == UnpauseNone
	}
	return false
}
