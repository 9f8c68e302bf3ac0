// Package observe lets a bot see what botwire does in production, with no
// dependency: every handler, client and store of botwire reports to an
// Observer given with WithObserver (onetalk.WithObserver, ...,
// redisstore.Options.Observer). Plug in the OpenTelemetry module
// (github.com/botwire/botwire/otel), a metrics adapter of your own, or a
// test recorder (observe/observetest).
//
// An Observer sees four nested operations as start/end pairs, each start
// returning the context the operation continues in (where a tracer puts
// its span):
//
//   - a Delivery: one webhook request into a botwire handler, from the
//     first byte to the answer, refused ones included;
//   - a Callback: the bot's function, run inline by the handler or later
//     from a queue (WithQueue);
//   - a Call: one logical client call (SendMessage, Handover, ...), its
//     retries and waits included;
//   - an Attempt: one HTTP request inside a Call;
//
// plus Enqueue (a message put on a durable queue) and point events (Event,
// told apart by Kind): which credential authenticated a delivery, why one
// was rejected, what deduplication did, a Botcopy fallback, a retry and why,
// a rate-limit wait, a store error, a queue retry or dead letter.
//
// With no observer a handler or client pays one nil check. An observer is
// called synchronously on the request's goroutine: keep it cheap, safe for
// concurrent use, and do not keep the pointers it is given after the
// matching End returns. Everything it receives is safe to export: enums
// for metric attributes (Platform, Endpoint, Outcome, Reason, ...), ids
// (conversation, message, tenant) for spans, never a secret or a body.
//
// Embed Base in an implementation: methods and event kinds added to this
// package later then have defaults, and an observer ignores the kinds it
// does not know.
package observe

import (
	"context"
	"time"
)

// Observer receives botwire's telemetry. Embed Base to implement only the
// methods you need.
type Observer interface {
	// DeliveryStart is called when a webhook request reaches a handler;
	// DeliveryEnd when its answer is written, with Status, Outcome,
	// Reason and Duration set.
	DeliveryStart(ctx context.Context, d *Delivery) context.Context
	DeliveryEnd(ctx context.Context, d *Delivery)
	// CallbackStart is called before the bot's function runs, inline or
	// from a queue; CallbackEnd after it returned (Err, Duration set).
	CallbackStart(ctx context.Context, c *Callback) context.Context
	CallbackEnd(ctx context.Context, c *Callback)
	// CallStart is called when a client method starts; CallEnd when it
	// returns, after its last attempt (Attempts, Status, Err, Duration).
	CallStart(ctx context.Context, c *Call) context.Context
	CallEnd(ctx context.Context, c *Call)
	// AttemptStart is called before each HTTP request of a Call;
	// AttemptEnd when its answer's headers arrived or it failed.
	AttemptStart(ctx context.Context, a *Attempt) context.Context
	AttemptEnd(ctx context.Context, a *Attempt)
	// EnqueueStart is called before a handler puts a message on its
	// durable queue (WithQueue); EnqueueEnd once the queue holds it or
	// failed to. A Propagator writes the trace context into the message's
	// header between the two.
	EnqueueStart(ctx context.Context, e *Enqueue) context.Context
	EnqueueEnd(ctx context.Context, e *Enqueue)
	// Event reports a point event; e.Kind says which.
	Event(ctx context.Context, e Event)
}

// Propagator is an optional capability of an Observer (detected with a
// type assertion, as http.Flusher is): it carries trace context through a
// queue. The handler calls Inject with the context of EnqueueStart before
// the message is stored, and the consumer calls Extract on the stored
// header before CallbackStart, so the webhook, the enqueue, the queued
// callback and the client calls it makes are one trace.
type Propagator interface {
	Inject(ctx context.Context, header map[string]string)
	Extract(ctx context.Context, header map[string]string) context.Context
}

// Platforms, as Delivery.Platform, Call.Platform and Event.Platform name
// them.
const (
	OneTalk    = "onetalk"
	Ultimate   = "ultimate"
	Userlike   = "userlike"
	Botcopy    = "botcopy"
	EasyDialog = "easydialog"
)

// Delivery is one webhook request into a handler. The handler fills what
// it learns as it goes: the fields up to Credential may be empty when the
// request was refused before they were known.
type Delivery struct {
	Platform string // OneTalk, Ultimate, ...
	// Endpoint names the handler: "webhook" (OneTalk, Userlike, Easy
	// Dialog), "chat" or "action" (Ultimate), "handover" (Botcopy).
	Endpoint string
	Start    time.Time

	Tenant       string // the resolved tenant (NewTenantHandler), else ""
	Conversation string // the platform's case, conversation or session id
	MessageID    string // the platform's message or event id, when it has one
	Type         string // the event or message type ("text", "button", ...)
	// Credential is the index of the credential that authenticated the
	// delivery: 0 the current one, i the i-th previous one (rotation);
	// -1 before or without authentication.
	Credential int

	// Set when the answer is written.
	Status   int
	Outcome  Outcome
	Reason   Reason // why, for every outcome but OutcomeAnswered
	Err      error  // the callback's or the store's error, if any
	Duration time.Duration
}

// Outcome is what became of a Delivery. It is a small enum, fit for a
// metric attribute.
type Outcome string

// Outcomes of a Delivery.
const (
	OutcomeAnswered Outcome = "answered" // the callback ran and succeeded
	OutcomeIgnored  Outcome = "ignored"  // an event type the package does not model, with no OnUnknown callback: 200
	OutcomeReplayed Outcome = "replayed" // a redelivery of a completed delivery: its stored answer was replayed
	OutcomeQueued   Outcome = "queued"   // acknowledged once queued (WithQueue, WithAsync)
	OutcomeRejected Outcome = "rejected" // refused before the callback: 405, 401, 413, 400
	OutcomeBusy     Outcome = "busy"     // 503: the platform redelivers later
	OutcomeFailed   Outcome = "failed"   // the callback failed: 500, the platform redelivers
	OutcomeFallback Outcome = "fallback" // Botcopy: the fallback decision was answered
)

// Reason says why a delivery was not simply answered, or why a client
// retried or waited. It is a small enum, fit for a metric attribute.
type Reason string

// Reasons of a Delivery (Rejected, Busy, Failed, Fallback).
const (
	ReasonMethodNotAllowed Reason = "method_not_allowed" // 405
	ReasonTooLarge         Reason = "too_large"          // 413
	ReasonUnauthenticated  Reason = "unauthenticated"    // 401: a wrong or missing credential, or an unknown tenant
	ReasonMalformed        Reason = "malformed"          // 400: not the platform's JSON, or missing a required field
	ReasonTenantLookup     Reason = "tenant_lookup"      // 503: the tenant lookup failed
	ReasonStoreUnavailable Reason = "store_unavailable"  // 503: a store call failed or passed its budget
	ReasonDedupTimeout     Reason = "dedup_timeout"      // 503: a concurrent delivery of the key ran past the budget
	ReasonQueueFull        Reason = "queue_full"         // 503: WithAsync's queue is full
	ReasonShuttingDown     Reason = "shutting_down"      // 503: the handler is shutting down
	ReasonCallbackError    Reason = "callback_error"     // the callback returned an error
	ReasonPanic            Reason = "panic"              // the callback panicked
	ReasonNoCallback       Reason = "no_callback"        // Ultimate: an event that needs a callback the bot did not set (501)
	ReasonDeadline         Reason = "deadline"           // Botcopy: the callback passed the response deadline
	ReasonUnknownType      Reason = "unknown_type"       // OutcomeIgnored
	ReasonDuplicate        Reason = "duplicate"          // OutcomeReplayed
)

// Reasons of a client Retry and a RateLimited wait.
const (
	ReasonStatus429 Reason = "status_429" // Too Many Requests
	ReasonStatus503 Reason = "status_503" // Service Unavailable
	ReasonStatus5xx Reason = "status_5xx" // another 5xx (idempotent operations, or RetryAlways)
	ReasonNotSent   Reason = "not_sent"   // a dial or DNS failure: the request never left
	ReasonNetwork   Reason = "network"    // a timeout or reset after sending (idempotent operations, or RetryAlways)
)

// Callback is one run of the bot's function.
type Callback struct {
	Platform, Endpoint string
	Start              time.Time
	Tenant             string
	Conversation       string
	MessageID          string
	Type               string
	// Queued is true for a callback run from a durable queue (WithQueue)
	// or WithAsync's pool, after the delivery was acknowledged.
	Queued bool
	// Queue names the durable queue ("onetalk.queue") when Queued from
	// WithQueue; Attempt is the queue's attempt (1 for the first run and
	// for an inline callback); QueueMessageID the queue's id of the message.
	Queue          string
	QueueMessageID string
	Attempt        int

	Err      error
	Reason   Reason // ReasonCallbackError or ReasonPanic when Err is set
	Duration time.Duration
}

// Call is one client method call, its attempts and waits included.
type Call struct {
	Platform string
	// Operation is the method ("SendMessage", "Handover", ...).
	Operation string
	// URLTemplate is the path with its ids as placeholders
	// ("/api/v1/conversations/{id}/messages"): never an id.
	URLTemplate string
	Start       time.Time

	Attempts int // HTTP attempts made
	Status   int // the last answer's status; 0 when none arrived
	Err      error
	Duration time.Duration
}

// Attempt is one HTTP request of a Call.
type Attempt struct {
	Call *Call
	// N counts the attempts of the Call from 0; N > 0 is a resend
	// (http.request.resend_count).
	N      int
	Method string
	Scheme string
	Host   string // server.address
	Port   int    // server.port
	Start  time.Time

	Status   int // 0 when no answer arrived
	Err      error
	Duration time.Duration
}

// Enqueue is one message put on a handler's durable queue.
type Enqueue struct {
	Platform     string
	Queue        string // "onetalk.queue"
	Tenant       string
	Conversation string // the case, the queue's ordering key
	MessageID    string // the platform's message id
	// QueueMessageID is the queue's id of the message, set at the end.
	QueueMessageID string
	// Header is the message's header: a Propagator writes the trace
	// context here in Inject.
	Header map[string]string
	Start  time.Time

	Err      error
	Duration time.Duration
}

// Kind tells point events apart.
type Kind uint8

// Kinds of Event. Observers ignore kinds they do not know: kinds are added
// in minor releases.
const (
	_ Kind = iota
	// KindAuthenticated: a delivery passed its credential check;
	// Credential says which credential (0 current, i > 0 previous).
	KindAuthenticated
	// KindRejected: a delivery was refused before the callback; Reason
	// says why (the Delivery's end carries it too).
	KindRejected
	// KindUnknownType: a delivery carried an event type the package does
	// not model (the callback was not called unless OnUnknown is set).
	KindUnknownType
	// KindDedupAcquired: deduplication took the delivery's key; the
	// callback runs.
	KindDedupAcquired
	// KindDedupReplayed: the key had completed; its answer was replayed.
	KindDedupReplayed
	// KindDedupWaiting: another delivery of the key is running; this one
	// waits (Wait: how long it has waited so far).
	KindDedupWaiting
	// KindDedupTimeout: the wait passed the budget; the handler answered
	// 503.
	KindDedupTimeout
	// KindFallbackSent: Botcopy's handler answered its fallback decision
	// (Reason: ReasonDeadline, ReasonCallbackError or ReasonPanic).
	KindFallbackSent
	// KindLateCallback: Botcopy's callback returned after the fallback was
	// sent; its decision was discarded (Duration: how long it ran).
	KindLateCallback
	// KindRetry: a client attempt failed and will be retried after Wait;
	// Attempt is the failed attempt's number (0 the first), Reason why;
	// Source is SourceServer when Wait is the platform's Retry-After
	// (a KindRateLimited event with SourceServer follows), else empty
	// (botwire's backoff).
	KindRetry
	// KindRateLimited: a client waits for a slot: Source says whose limit,
	// Wait how long.
	KindRateLimited
	// KindGaveUp: a client call ended without success after Attempt
	// attempts (retries exhausted, a context ended, a wait too long).
	KindGaveUp
	// KindStoreError: a store call failed; Store and Op say which.
	KindStoreError
	// KindQueueRetry: a queued message failed (Attempt, Err) and will run
	// again.
	KindQueueRetry
	// KindDeadLettered: a queued message failed its last attempt and went
	// to the dead letters.
	KindDeadLettered
	// KindReplayed: a dead letter was put back on the queue.
	KindReplayed
	// KindConsumerRestarted: a queue consumer failed (Err) and starts
	// again.
	KindConsumerRestarted
)

var kindNames = [...]string{
	KindAuthenticated:     "authenticated",
	KindRejected:          "rejected",
	KindUnknownType:       "unknown_type",
	KindDedupAcquired:     "dedup_acquired",
	KindDedupReplayed:     "dedup_replayed",
	KindDedupWaiting:      "dedup_waiting",
	KindDedupTimeout:      "dedup_timeout",
	KindFallbackSent:      "fallback_sent",
	KindLateCallback:      "late_callback",
	KindRetry:             "retry",
	KindRateLimited:       "rate_limited",
	KindGaveUp:            "gave_up",
	KindStoreError:        "store_error",
	KindQueueRetry:        "queue_retry",
	KindDeadLettered:      "dead_lettered",
	KindReplayed:          "replayed",
	KindConsumerRestarted: "consumer_restarted",
}

// String returns the kind's snake_case name ("dedup_replayed").
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind_" + itoa(int(k))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// Source says whose limit a RateLimited wait is for.
type Source string

// Sources of a RateLimited event.
const (
	SourceLocal  Source = "local"  // the client's own per-conversation window
	SourceShared Source = "shared" // a shared store.RateLimiter (all replicas)
	SourceServer Source = "server" // the platform's Retry-After
)

// Stores and operations, as a KindStoreError event names them.
const (
	StoreDedup     = "dedup"
	StoreRateLimit = "ratelimit"
	StoreQueue     = "queue"
)

// Event is a point event. Which fields are set depends on Kind; the
// others are zero.
type Event struct {
	Kind     Kind
	Platform string
	Endpoint string
	Tenant   string
	// Operation is the client method (Retry, RateLimited, GaveUp).
	Operation string
	Reason    Reason
	Source    Source
	// Store and Op name the store and its operation ("dedup", "claim";
	// "queue", "enqueue"; "ratelimit", "take").
	Store, Op string
	// Queue names a queue; Key is the message's ordering key (a case id:
	// for spans and logs, not metric attributes); MessageID the queue's id
	// of the message.
	Queue, Key, MessageID string
	Credential            int
	Attempt               int
	Wait                  time.Duration
	Duration              time.Duration
	Err                   error
}

// Base implements every method of Observer as a no-op: embed it, and
// methods added to Observer later have defaults.
type Base struct{}

func (Base) DeliveryStart(ctx context.Context, _ *Delivery) context.Context { return ctx }
func (Base) DeliveryEnd(context.Context, *Delivery)                         {}
func (Base) CallbackStart(ctx context.Context, _ *Callback) context.Context { return ctx }
func (Base) CallbackEnd(context.Context, *Callback)                         {}
func (Base) CallStart(ctx context.Context, _ *Call) context.Context         { return ctx }
func (Base) CallEnd(context.Context, *Call)                                 {}
func (Base) AttemptStart(ctx context.Context, _ *Attempt) context.Context   { return ctx }
func (Base) AttemptEnd(context.Context, *Attempt)                           {}
func (Base) EnqueueStart(ctx context.Context, _ *Enqueue) context.Context   { return ctx }
func (Base) EnqueueEnd(context.Context, *Enqueue)                           {}
func (Base) Event(context.Context, Event)                                   {}

var _ Observer = Base{}
