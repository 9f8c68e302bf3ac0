package userlike

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/botwire/botwire/internal/optkit"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tap"
)

// Option configures a Handler or a Client. Each option says which of the two
// it applies to; NewHandler and NewClient refuse an option meant for the
// other, so a misplaced option is an error rather than silently ignored.
type Option func(*config)

type config struct {
	optkit.Scope

	// client
	rateLimit  int
	ratePer    time.Duration
	rateNoWait bool
	rateMargin time.Duration     // client: WithRateMargin; 0 means DefaultRateMargin
	shared     store.RateLimiter // client: WithRateLimiter
	batch      bool

	// handler
	onUnknown HandlerFunc
}

func newConfig(forClient bool, opts []Option) (*config, error) {
	return optkit.Apply[config]("userlike", forClient, opts)
}

// WithObserver reports to o what the handler or the client does (observe.Observer; the otel
// module implements it with OpenTelemetry). Handler: every delivery, its
// rejection reason, the callback, deduplication. Client: every call, each
// HTTP attempt, retries and waits. With none (the default) the cost is a nil
// check. Handler and Client.
func WithObserver(o observe.Observer) Option { return optkit.Observer[*config](o) }

// WithTap writes each authenticated delivery to t (package tap: one JSON
// line with the headers, credentials masked, the body, the answer's status
// and latency), for botwire replay to reproduce it locally. With none (the
// default) the cost is a nil check. Handler only.
func WithTap(t *tap.Tap) Option { return optkit.Tap[*config](t) }

// WithLogger sends diagnostics to l. Handler: callback errors, panics and
// channel warnings (default slog.Default()). Client: retries (default: no
// logging). Neither ever logs a secret or a whole body.
func WithLogger(l *slog.Logger) Option { return optkit.Logger[*config](l) }

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413. Handler only.
func WithMaxBodyBytes(n int64) Option { return optkit.MaxBodyBytes[*config](n) }

// WithWebhookHeader makes the handler require header name with value on
// every webhook call, compared in constant time. Set the same header under
// "Webhook headers" in the Userlike dashboard. Give it more than once to
// require several headers. Handler only.
func WithWebhookHeader(name, value string) Option { return optkit.WebhookHeader[*config](name, value) }

// WithPreviousWebhookHeader keeps accepting value for header name, a
// WithWebhookHeader name (case-insensitive), while its value is rolled.
// To rotate a webhook header: deploy with the new value in
// WithWebhookHeader and the old one here, change the header under
// "Webhook headers" in the Userlike dashboard, then, once no delivery uses
// the old value (CredentialIndex, and a debug log line for each delivery
// that did), deploy again without this option. Every candidate is compared
// in constant time, and a refused call gets the same 401 whichever value it
// came close to. Give it more than once to keep several old values (the
// first is previous credential 1, the next 2, ...). NewHandler refuses a
// name that no WithWebhookHeader gives and an empty value. Deduplication
// keys and the store binding follow the current value only, so replicas
// with and without the previous value share a store. Handler only.
func WithPreviousWebhookHeader(name, value string) Option {
	return optkit.PreviousWebhookHeader[*config](name, value)
}

// WithoutAuthentication builds a handler that accepts webhook calls without
// checking any header. Only for tests and for deployments that
// authenticate in front of the handler. Handler only.
func WithoutAuthentication() Option { return optkit.NoAuth[*config]() }

// WithOnUnknown routes webhook events this package does not model to fn.
// Without it they are acknowledged with 200 and nothing else. Handler only.
func WithOnUnknown(fn HandlerFunc) Option {
	return func(c *config) {
		if c.HandlerOnly("WithOnUnknown") {
			c.onUnknown = fn
		}
	}
}

// WithHTTPClient sends requests with hc (its transport, proxy, TLS
// settings); the client copies it and never changes it. Client only.
func WithHTTPClient(hc *http.Client) Option { return optkit.HTTPClient[*config](hc) }

// WithTimeout bounds each attempt (default 10 s). Client only.
func WithTimeout(d time.Duration) Option { return optkit.Timeout[*config](d) }

// WithMaxRetries sets how many times a failed call may be retried (default
// 3, so 4 attempts); 0 disables retries. Client only.
func WithMaxRetries(n int) Option { return optkit.MaxRetries[*config](n) }

// WithRetryWait sets the exponential backoff range (default 200 ms to 5 s).
// Client only.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return optkit.RetryWait[*config](minWait, maxWait)
}

// WithRetryPolicy chooses which failures are retried (default
// RetryIdempotent: a message is never sent twice). Client only.
func WithRetryPolicy(p RetryPolicy) Option { return optkit.RetryPolicy[*config](p) }

// WithUserAgent sets the User-Agent header. Client only.
func WithUserAgent(ua string) Option { return optkit.UserAgent[*config](ua) }

// WithRateLimitWait chooses what Send does when a cid has used its 20
// requests of the last minute: wait for a free slot (true, the default) or
// fail at once with an error wrapping ErrRateLimited (false). Client only.
func WithRateLimitWait(wait bool) Option {
	return func(c *config) {
		if c.ClientOnly("WithRateLimitWait") {
			c.rateNoWait = !wait
		}
	}
}

// WithRateLimit changes the per-cid limit (default 20 requests per minute,
// Userlike's limit). Client only.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) {
		if c.ClientOnly("WithRateLimit") {
			c.rateLimit, c.ratePer = n, per
		}
	}
}

// WithRateMargin sets how long after the period a request slot frees
// (0: DefaultRateMargin, 1 s; negative for none). Userlike counts the
// requests that arrive in a window and the limiter stamps them when they
// leave, so without a margin two requests taken a full period apart can
// arrive less than a period apart. With WithRateLimit(20, time.Minute) and
// the default, a cid sends at most 20 requests per 61 s. Client only.
func WithRateMargin(d time.Duration) Option {
	return func(c *config) {
		if c.ClientOnly("WithRateMargin") {
			c.rateMargin = d
		}
	}
}

// WithRateLimiter keeps the per-cid limit in rl instead of in the client,
// so replicas that share rl (store/redisstore) share Userlike's "20
// requests per minute that use the same cid": a sliding window no 60 s of
// which holds more than the limit, counting every attempt that reaches
// Userlike, retries included. WithRateLimit and WithRateLimitWait apply as
// without it. Client only.
func WithRateLimiter(rl store.RateLimiter) Option {
	return func(c *config) {
		if c.ClientOnly("WithRateLimiter") {
			c.shared = rl
		}
	}
}

// WithBatch makes Send post all its actions in one request, as a JSON list.
// Userlike documents lists for webhook answers; whether its API URL takes
// them is not documented, so by default Send posts one event per request.
// Client only.
func WithBatch(batch bool) Option {
	return func(c *config) {
		if c.ClientOnly("WithBatch") {
			c.batch = batch
		}
	}
}

// WithDeduplication makes the handler run the callback once per delivery:
// a redelivery of a delivery that completed gets the stored answer again,
// byte for byte, without the callback running. Userlike's events carry no
// id, so the key is the SHA-256 of the body. d is shared by every replica
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
// 503 and the platform redelivers. Handler only.
//
// d serves one bot: NewHandler refuses (store.ErrSharedStore) a d that
// already serves another bot in this process, one with another credential
// or of another platform, whose replays it could answer; handlers of one
// bot (replicas, with the same webhook headers) share it. Give each bot its
// own store: its own redisstore.Options.Prefix, or its own
// store.NewMemoryDeduplicator(). Only a store that implements store.Binder
// is checked (redisstore.Store and store.MemoryDeduplicator do); stores in
// other processes are not, so on a shared Redis the Prefix is what keeps
// two bots apart.
func WithDeduplication(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) Option {
	return optkit.Deduplication[*config](d, ttl, opts...)
}
