package onetalk

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

	// handler
	workers      int
	queue        int
	onUnknown    HandlerFunc
	asyncTimeout time.Duration
	durable      store.Queue // WithQueue
	consumers    int
	previous     []string // WithPreviousSecrets
}

func newConfig(forClient bool, opts []Option) (*config, error) {
	return optkit.Apply[config]("onetalk", forClient, opts)
}

// WithObserver reports to o what the handler or the client does (observe.Observer; the otel
// module implements it with OpenTelemetry). Handler: every delivery, its
// rejection reason, the callback, deduplication and the queue (WithQueue). Client: every call, each
// HTTP attempt, retries and waits. With none (the default) the cost is a nil
// check. Handler and Client.
func WithObserver(o observe.Observer) Option { return optkit.Observer[*config](o) }

// WithTap writes each authenticated delivery to t (package tap: one JSON
// line with the headers, credentials masked, the body, the answer's status
// and latency), for botwire replay to reproduce it locally. With none (the
// default) the cost is a nil check. Handler only.
func WithTap(t *tap.Tap) Option { return optkit.Tap[*config](t) }

// WithLogger sends diagnostics to l. Handler: callback errors and panics
// (default slog.Default()). Client: retries (default: no logging). Neither
// ever logs a secret or a whole body.
func WithLogger(l *slog.Logger) Option { return optkit.Logger[*config](l) }

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413. Handler only.
func WithMaxBodyBytes(n int64) Option { return optkit.MaxBodyBytes[*config](n) }

// WithPreviousSecrets makes the handler also accept secrets, the chatbot's
// previous secret keys, while a rotation is under way, so no delivery is
// refused while OneTalk switches to the new key. To roll the key: deploy
// with the new key as NewHandler's secret and the old one here, change
// the key in the OneTalk dashboard, then, once no delivery uses the old key
// (the handler logs at debug each one that does), deploy without this
// option. Handler only; the Client sends the key it was built with.
//
// Every key, current and previous, is compared in constant time on each
// delivery, and a wrong key gets the same 401 whichever it resembles.
// CredentialIndex tells the callback which key the delivery carried (0 the
// current one, i the i-th of secrets, counting across repeated uses of the
// option in order). An empty string among secrets is an error
// (ErrNoSecret), like an empty current secret. The stores of
// WithDeduplication and WithQueue stay bound to the current secret only.
func WithPreviousSecrets(secrets ...string) Option {
	return func(c *config) {
		if c.HandlerOnly("WithPreviousSecrets") {
			c.previous = append(c.previous, secrets...)
		}
	}
}

// WithAsync makes the handler acknowledge each valid message at once with
// 200 and run the callback on a pool of workers fed by a queue of the given
// size. When the queue is full the handler answers 503, so OneTalk
// redelivers later instead of the message being lost. OneTalk asks bots to
// answer quickly because its inbound queue waits for each answer.
// Call Handler.Shutdown to drain the queue. Handler only.
//
// Messages of one case run one at a time, in the order they arrived, so
// the replies to a customer keep their order; different cases run in
// parallel on the workers.
//
// Choosing a mode: async throughput is at most workers divided by the
// callback's duration, whatever the number of concurrent deliveries. With a
// 5 ms callback and 64 concurrent deliveries, sync processed about 11,000
// messages/s and WithAsync(16, 1024) about 2,800/s, its 16/5 ms bound
// (BenchmarkModes). Prefer sync when callbacks are quick: a failed
// callback answers 500 and OneTalk redelivers. Prefer async when a callback
// can be slower than OneTalk waits, and size workers to the cases you
// serve at once; a callback error in async mode is logged, and the message
// is not redelivered.
func WithAsync(workers, queue int) Option {
	return func(c *config) {
		if c.HandlerOnly("WithAsync") {
			c.workers, c.queue = max(workers, 1), max(queue, 0)
		}
	}
}

// WithCallbackTimeout bounds each callback run in async mode (default: no
// bound besides Shutdown). In sync mode the callback has the request's
// context. Handler only.
func WithCallbackTimeout(d time.Duration) Option {
	return func(c *config) {
		if c.HandlerOnly("WithCallbackTimeout") {
			c.asyncTimeout = d
		}
	}
}

// WithOnUnknown routes messages of a type this package does not model
// (neither text, document, image, video nor location) to fn. Without it such
// messages are acknowledged with 200 and dropped. Handler only.
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

// WithDeduplication makes the handler run the callback once per delivery:
// OneTalk redelivers a message that did not get its 200 in time, and a
// redelivery of a message that completed gets 200 without the callback
// running again. The key is the message id OneTalk gives every message
// (case id and message id), or the SHA-256 of the body when the id is
// absent. d is shared by every replica (store/redisstore) or
// store.NewMemoryDeduplicator() for one process; keys are kept for ttl (0:
// 24 h). A callback that fails releases its key, so the redelivery runs
// again; when the store fails the handler answers 503.
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
// bot (replicas, with the same secret) share it. Give each bot its own
// store: its own redisstore.Options.Prefix, or its own
// store.NewMemoryDeduplicator(). Only a store that implements store.Binder
// is checked (redisstore.Store and store.MemoryDeduplicator do); stores in
// other processes are not, so on a shared Redis the Prefix is what keeps
// two bots apart.
func WithDeduplication(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) Option {
	return optkit.Deduplication[*config](d, ttl, opts...)
}

// WithQueue makes the handler durable: each valid message is stored in q
// (keyed by its case) and acknowledged with 200 only then; consumers
// goroutines take messages from q and run the callback, at least once per
// message, one case's messages in arrival order and different cases in
// parallel. A callback error retries the message later, and after q's
// attempt limit it goes to q's dead letters (q.DeadLetters, q.Replay).
// When q cannot store a message the handler answers 503, so OneTalk
// redelivers it. With a shared queue (store/redisstore) any replica
// consumes, and a replica that dies mid-message has it finished by another
// after the queue's lease. Handler.Shutdown stops the consumers. Excludes
// WithAsync. Handler only.
//
// The queue stores the message only, not the delivery it came with: in a
// queued message's callback CredentialIndex reports ok false (the
// delivery was authenticated before the message was stored).
//
// q serves one bot: its consumers run whatever message comes next, so two
// bots on one queue would run each other's callbacks. NewHandler refuses
// (store.ErrSharedStore) a q that already serves another bot in this
// process (another secret, or another platform's bot); handlers of the bot
// itself (replicas, with the same secret) share it. Give each bot its own
// queue: its own redisstore.Options.Prefix on a shared Redis, or its own
// store.NewMemoryQueue. Only a queue that implements store.Binder is
// checked (redisstore.Store and store.MemoryQueue do); queues in other
// processes are not, so on a shared Redis the Prefix is what keeps two
// bots' replicas apart.
func WithQueue(q store.Queue, consumers int) Option {
	return func(c *config) {
		if c.HandlerOnly("WithQueue") {
			c.durable, c.consumers = q, consumers
		}
	}
}
