package botcopy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/botwire/botwire/internal/transport"
)

// Option configures a Handler or a Client. Each option says which of the two
// it applies to; NewHandler and NewClient refuse an option meant for the
// other, so a misplaced option is an error rather than silently ignored.
type Option func(*config)

type config struct {
	forClient bool
	misplaced []string

	// client
	transport transport.Config

	baseURL       string
	minutesPaused int

	// handler
	maxBody      int64
	logger       *slog.Logger
	customName   string
	customValue  string
	deadline     time.Duration
	fallback     *Decision
	onUserTyping func(context.Context, *HandoverRequest) error
	onUnknown    func(context.Context, *HandoverRequest) error
}

func newConfig(forClient bool, opts []Option) (*config, error) {
	c := &config{forClient: forClient}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if len(c.misplaced) > 0 {
		kind := "NewHandler"
		if forClient {
			kind = "NewClient"
		}
		return nil, fmt.Errorf("botcopy: %s does not take %s", kind, strings.Join(c.misplaced, ", "))
	}
	return c, nil
}

func (c *config) clientOnly(name string) bool {
	if !c.forClient {
		c.misplaced = append(c.misplaced, name)
	}
	return c.forClient
}

func (c *config) handlerOnly(name string) bool {
	if c.forClient {
		c.misplaced = append(c.misplaced, name)
	}
	return !c.forClient
}

// WithLogger sends diagnostics to l. Handler: callback errors, panics and
// late callbacks (default slog.Default()). Client: retries and KeepTyping
// failures (default: no logging). Client: retries (default: no logging). Neither
// ever logs a secret or a whole body.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if c.forClient {
			c.transport.Logger = l
		} else {
			c.logger = l
		}
	}
}

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413. Handler only.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if c.handlerOnly("WithMaxBodyBytes") {
			c.maxBody = n
		}
	}
}

// WithCustomHeader makes the handler also require the custom header set in
// the portal (name and value, compared in constant time). Handler only.
func WithCustomHeader(name, value string) Option {
	return func(c *config) {
		if c.handlerOnly("WithCustomHeader") {
			c.customName, c.customValue = name, value
		}
	}
}

// WithResponseDeadline bounds the callback (default 4.5 s): Botcopy ignores
// an answer after 5 s, so when the callback is late the handler answers
// the fallback decision in time instead, and the callback's context is
// cancelled. Handler only.
func WithResponseDeadline(d time.Duration) Option {
	return func(c *config) {
		if c.handlerOnly("WithResponseDeadline") {
			c.deadline = d
		}
	}
}

// WithFallbackDecision sets the answer given when the callback misses the
// deadline (default Pause(10): a handover in progress keeps the bot
// quiet). Handler only.
func WithFallbackDecision(d Decision) Option {
	return func(c *config) {
		if c.handlerOnly("WithFallbackDecision") {
			c.fallback = &d
		}
	}
}

// WithOnUserTyping receives the user_typing webhook events (sent when
// "Live Chat User Events > Typing" is enabled in the portal). Without it
// they are acknowledged and dropped. Handler only.
func WithOnUserTyping(fn func(context.Context, *HandoverRequest) error) Option {
	return func(c *config) {
		if c.handlerOnly("WithOnUserTyping") {
			c.onUserTyping = fn
		}
	}
}

// WithOnUnknown receives webhook calls with an eventType this package does
// not know. Without it they are acknowledged and dropped. Handler only.
func WithOnUnknown(fn func(context.Context, *HandoverRequest) error) Option {
	return func(c *config) {
		if c.handlerOnly("WithOnUnknown") {
			c.onUnknown = fn
		}
	}
}

// WithHTTPClient sends requests with hc (its transport, proxy, TLS
// settings); the client copies it and never changes it. Client only.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if c.clientOnly("WithHTTPClient") {
			c.transport.HTTPClient = hc
		}
	}
}

// WithTimeout bounds each attempt (default 10 s). Client only.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if c.clientOnly("WithTimeout") {
			c.transport.Timeout = d
		}
	}
}

// WithMaxRetries sets how many times a failed call may be retried (default
// 3, so 4 attempts); 0 disables retries. Client only.
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if c.clientOnly("WithMaxRetries") {
			c.transport.SetMaxRetries(n)
		}
	}
}

// WithRetryWait sets the exponential backoff range (default 200 ms to 5 s).
// Client only.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(c *config) {
		if c.clientOnly("WithRetryWait") {
			c.transport.WaitMin, c.transport.WaitMax = minWait, maxWait
		}
	}
}

// WithRetryPolicy chooses which failures are retried (default
// RetryIdempotent: a message is never sent twice). Client only.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) {
		if c.clientOnly("WithRetryPolicy") {
			c.transport.RetryPolicy = p
		}
	}
}

// WithUserAgent sets the User-Agent header. Client only.
func WithUserAgent(ua string) Option {
	return func(c *config) {
		if c.clientOnly("WithUserAgent") {
			c.transport.UserAgent = ua
		}
	}
}

// WithBaseURL overrides the API base URL (default https://api.botcopy.com),
// for a proxy or a fake. Client only.
func WithBaseURL(u string) Option {
	return func(c *config) {
		if c.clientOnly("WithBaseURL") {
			c.baseURL = u
		}
	}
}

// WithMinutesPaused sets the minutesPaused the client sends with messages,
// pauses and typing indicators (default 10): every push extends the pause
// by that much. Client only.
func WithMinutesPaused(n int) Option {
	return func(c *config) {
		if c.clientOnly("WithMinutesPaused") {
			c.minutesPaused = n
		}
	}
}
