package userlike

import (
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

	rateLimit  int
	ratePer    time.Duration
	rateNoWait bool
	batch      bool

	// handler
	maxBody   int64
	logger    *slog.Logger
	onUnknown HandlerFunc
	headers   []struct{ name, value string }
	noAuth    bool
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
		return nil, fmt.Errorf("userlike: %s does not take %s", kind, strings.Join(c.misplaced, ", "))
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
// channel warnings (default slog.Default()). Client: retries (default: no logging). Neither
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

// WithWebhookHeader makes the handler require header name with value on
// every webhook call, compared in constant time. Set the same header under
// "Webhook headers" in the Userlike dashboard. Give it more than once to
// require several headers. Handler only.
func WithWebhookHeader(name, value string) Option {
	return func(c *config) {
		if c.handlerOnly("WithWebhookHeader") {
			c.headers = append(c.headers, struct{ name, value string }{name, value})
		}
	}
}

// WithoutAuthentication builds a handler that accepts webhook calls without
// checking any header. Only for tests and for deployments that
// authenticate in front of the handler. Handler only.
func WithoutAuthentication() Option {
	return func(c *config) {
		if c.handlerOnly("WithoutAuthentication") {
			c.noAuth = true
		}
	}
}

// WithOnUnknown routes webhook events this package does not model to fn.
// Without it they are acknowledged with 200 and nothing else. Handler only.
func WithOnUnknown(fn HandlerFunc) Option {
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

// WithRateLimitWait chooses what Send does when a cid has used its 20
// requests of the last minute: wait for a free slot (true, the default) or
// fail at once with an error wrapping ErrRateLimited (false). Client only.
func WithRateLimitWait(wait bool) Option {
	return func(c *config) {
		if c.clientOnly("WithRateLimitWait") {
			c.rateNoWait = !wait
		}
	}
}

// WithRateLimit changes the per-cid limit (default 20 requests per minute,
// Userlike's limit). Client only.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) {
		if c.clientOnly("WithRateLimit") {
			c.rateLimit, c.ratePer = n, per
		}
	}
}

// WithBatch makes Send post all its actions in one request, as a JSON list.
// Userlike documents lists for webhook answers; whether its API URL takes
// them is not documented, so by default Send posts one event per request.
// Client only.
func WithBatch(batch bool) Option {
	return func(c *config) {
		if c.clientOnly("WithBatch") {
			c.batch = batch
		}
	}
}
