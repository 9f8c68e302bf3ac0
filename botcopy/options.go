package botcopy

import (
	"context"
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

	baseURL       string
	minutesPaused int

	// handler
	customName   string
	customValue  string
	prevTokens   []string // WithPreviousAccessTokens
	prevCustom   []string // WithPreviousCustomHeaderValues
	deadline     time.Duration
	fallback     *Decision
	onUserTyping func(context.Context, *HandoverRequest) error
	onUnknown    func(context.Context, *HandoverRequest) error
}

func newConfig(forClient bool, opts []Option) (*config, error) {
	return optkit.Apply[config]("botcopy", forClient, opts)
}

// WithObserver reports to o what the handler or the client does (observe.Observer; the otel
// module implements it with OpenTelemetry). Handler: every delivery, its
// rejection reason, the callback, deduplication and the fallback. Client: every call, each
// HTTP attempt, retries and waits. With none (the default) the cost is a nil
// check. Handler and Client.
func WithObserver(o observe.Observer) Option { return optkit.Observer[*config](o) }

// WithTap writes each authenticated delivery to t (package tap: one JSON
// line with the headers, credentials masked, the body, the answer's status
// and latency), for botwire replay to reproduce it locally. With none (the
// default) the cost is a nil check. Handler only.
func WithTap(t *tap.Tap) Option { return optkit.Tap[*config](t) }

// WithLogger sends diagnostics to l. Handler: callback errors, panics and
// late callbacks (default slog.Default()). Client: retries and KeepTyping
// failures (default: no logging). Client: retries (default: no logging). Neither
// ever logs a secret or a whole body.
func WithLogger(l *slog.Logger) Option { return optkit.Logger[*config](l) }

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413. Handler only.
func WithMaxBodyBytes(n int64) Option { return optkit.MaxBodyBytes[*config](n) }

// WithCustomHeader makes the handler also require the custom header set in
// the portal (name and value, compared in constant time). Handler only.
func WithCustomHeader(name, value string) Option {
	return func(c *config) {
		if c.HandlerOnly("WithCustomHeader") {
			c.customName, c.customValue = name, value
		}
	}
}

// WithPreviousAccessTokens makes the handler also accept tokens, previous
// access tokens, while a rotation is under way, so no call is refused while
// Botcopy switches to the new token. To roll the token: deploy with the new
// token as NewHandler's accessToken and the old one here, change the access
// token in the Botcopy portal, then, once no call uses the old token (the
// handler logs at debug each one that does), deploy without this option.
// The tokens are accepted where the current one is: in Authorization, or in
// the legacy body field accessToken. Handler only.
//
// Every token, current and previous, is compared in constant time on each
// call, and a wrong token gets the same 401 whichever it resembles.
// CredentialIndex tells the callback which one came (0 the current token,
// i the i-th of tokens, counting across repeated uses of the option in
// order). An empty string among tokens is an error (ErrNoAccessToken), like
// an empty current token. The store of WithDeduplication stays bound to the
// current token only.
func WithPreviousAccessTokens(tokens ...string) Option {
	return func(c *config) {
		if c.HandlerOnly("WithPreviousAccessTokens") {
			c.prevTokens = append(c.prevTokens, tokens...)
		}
	}
}

// WithPreviousCustomHeaderValues makes the handler also accept values for
// the header of WithCustomHeader while a rotation of its value is under
// way. To roll the value: deploy with the new value in WithCustomHeader and
// the old one here, change the custom header in the Botcopy portal, then,
// once no call uses the old value (the handler logs at debug each one that
// does), deploy without this option. It needs WithCustomHeader; an empty
// string among values is an error, as an empty WithCustomHeader value is.
// Each value is compared in constant time, like the token; CredentialIndex
// gives i for the i-th of values. Handler only.
func WithPreviousCustomHeaderValues(values ...string) Option {
	return func(c *config) {
		if c.HandlerOnly("WithPreviousCustomHeaderValues") {
			c.prevCustom = append(c.prevCustom, values...)
		}
	}
}

// WithResponseDeadline bounds the callback (default 4.5 s): Botcopy ignores
// an answer after 5 s, so when the callback is late the handler answers
// the fallback decision in time instead, and the callback's context is
// cancelled. Handler only.
func WithResponseDeadline(d time.Duration) Option {
	return func(c *config) {
		if c.HandlerOnly("WithResponseDeadline") {
			c.deadline = d
		}
	}
}

// WithFallbackDecision sets the answer given when the callback misses the
// deadline, or fails on a user message of a paused bot (default
// PauseFor(10): a handover in progress keeps the bot quiet). A trigger
// whose callback fails gets 500 instead and the bot is not paused. Handler
// only.
func WithFallbackDecision(d Decision) Option {
	return func(c *config) {
		if c.HandlerOnly("WithFallbackDecision") {
			c.fallback = &d
		}
	}
}

// WithOnUserTyping receives the user_typing webhook events (sent when
// "Live Chat User Events > Typing" is enabled in the portal). Without it
// they are acknowledged and dropped. Handler only.
func WithOnUserTyping(fn func(context.Context, *HandoverRequest) error) Option {
	return func(c *config) {
		if c.HandlerOnly("WithOnUserTyping") {
			c.onUserTyping = fn
		}
	}
}

// WithOnUnknown receives webhook calls with an eventType this package does
// not know. Without it they are acknowledged and dropped. Handler only.
func WithOnUnknown(fn func(context.Context, *HandoverRequest) error) Option {
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

// WithBaseURL overrides the API base URL (default https://api.botcopy.com),
// for a proxy or a fake. Client only.
func WithBaseURL(u string) Option {
	return func(c *config) {
		if c.ClientOnly("WithBaseURL") {
			c.baseURL = u
		}
	}
}

// WithMinutesPaused sets the minutesPaused the client sends with messages,
// pauses and typing indicators (default 10): every push extends the pause
// by that much. Client only.
func WithMinutesPaused(n int) Option {
	return func(c *config) {
		if c.ClientOnly("WithMinutesPaused") {
			c.minutesPaused = n
		}
	}
}

// WithDeduplication makes the handler run the callback once per delivery:
// a redelivery of a delivery that completed gets the stored answer again,
// byte for byte, without the callback running. Botcopy's calls carry no
// id, so the key is the SHA-256 of the body. d is shared by every replica
// (store/redisstore) or store.NewMemoryDeduplicator() for one process;
// keys are kept for ttl (0: 24 h). A trigger whose callback fails releases
// its key, so the redelivery runs again (a user message whose callback
// fails is answered with the fallback decision, which is stored like any
// answer); when the store fails the handler answers 503.
//
// opts set the claim's lease and the answer budget (store.DedupOptions;
// the zero value takes the defaults): a delivery's claim lives 5 s and is
// renewed while the callback runs, so a replica that dies mid-callback
// holds its message for at most the lease; a redelivery that finds another
// delivery of its message running waits for its answer at most the budget
// (4 s), and every store call runs within it; past it the handler answers
// 503 and the platform redelivers.
// Botcopy ignores an answer after 5 s: the budget stays a tenth under the
// response deadline (WithResponseDeadline, 4.5 s by default), whatever
// opts say. Handler only.
//
// d serves one bot: NewHandler refuses (store.ErrSharedStore) a d that
// already serves another bot in this process, one with another credential
// or of another platform, whose replays it could answer; handlers of one
// bot (replicas, with the same access token) share it. Give each bot its
// own store: its own redisstore.Options.Prefix, or its own
// store.NewMemoryDeduplicator(). Only a store that implements store.Binder
// is checked (redisstore.Store and store.MemoryDeduplicator do); stores in
// other processes are not, so on a shared Redis the Prefix is what keeps
// two bots apart.
func WithDeduplication(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) Option {
	return optkit.Deduplication[*config](d, ttl, opts...)
}
