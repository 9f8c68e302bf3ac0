// Package store holds the state botwire shares between replicas of a bot:
// which webhook deliveries already ran (Deduplicator), how many requests a
// key made in the last window (RateLimiter), and messages acknowledged to
// a platform but not yet processed (Queue).
//
// The in-memory implementations here (NewMemoryDeduplicator,
// NewMemoryRateLimiter, NewMemoryQueue) are the defaults and serve one
// process. Package store/redisstore implements the same contracts on Redis
// for many replicas; any other implementation can check itself against
// the contract suite in store/storetest.
//
// Every method takes a context and returns an error when the store cannot
// answer: the handlers then answer 503 (the platform redelivers later) and
// never run a callback they could not record.
package store

import (
	"context"
	"errors"
	"time"
)

// ClaimState is the outcome of Deduplicator.Claim.
type ClaimState int

const (
	// Acquired: this delivery owns the key; run the callback, renewing
	// the claim (Renew) while it runs, then call Complete (success) or
	// Release (failure) with the claim's token.
	Acquired ClaimState = iota + 1
	// Done: a delivery of the key completed; Claim.Answer is its answer,
	// to replay byte for byte.
	Done
	// Busy: another delivery of the key is running now; retry the claim
	// later (or answer 503 so the platform redelivers).
	Busy
)

// String names the state.
func (s ClaimState) String() string {
	switch s {
	case Acquired:
		return "acquired"
	case Done:
		return "done"
	case Busy:
		return "busy"
	}
	return "ClaimState(?)"
}

// Claim is the answer of Deduplicator.Claim.
type Claim struct {
	State ClaimState
	// Answer is the stored answer of a Done key.
	Answer []byte
}

// ErrClaimLost is returned by Deduplicator.Renew when the key is no longer
// held by the token: its lease ran out, or another delivery took or
// completed it.
var ErrClaimLost = errors.New("store: claim lost")

// Deduplicator remembers webhook deliveries by key, so a redelivery does not
// run the bot's callback again.
//
// An implementation must be safe for concurrent use by many processes:
// of concurrent Claims of one free key with different tokens exactly one
// is Acquired. A claim that is neither renewed, completed nor released
// frees itself after its lease (the process died); a completed key answers
// Done until its ttl passes.
//
// The caller chooses the claim's token: a random string, new for every
// delivery attempt, that no other caller can have (the handlers use 96
// bits from crypto/rand); an empty token is an error. The token makes a
// claim idempotent: Claim with the token that holds the key answers
// Acquired again and restarts its lease, so a call retried after the store
// applied it (a reply lost to a timeout or a reset) does not lock its own
// caller out, and a caller that gave up on such a call frees the key with
// Release and the same token. Complete, Renew and Release with another
// token change nothing, so a delivery whose lease ran out cannot undo its
// successor's work.
//
// Every method must return when ctx is done (with ctx's error or one that
// wraps it): the handlers call the store under a deadline derived from the
// platform's answer budget and answer 503 when it passes.
type Deduplicator interface {
	// Claim takes the key for token for lease, unless a delivery of it
	// completed (Done, with its answer) or another token holds it (Busy).
	Claim(ctx context.Context, key, token string, lease time.Duration) (Claim, error)
	// Renew restarts the lease of the key held by token, so a callback
	// that runs longer than the lease keeps its claim. It returns
	// ErrClaimLost when token no longer holds the key.
	Renew(ctx context.Context, key, token string, lease time.Duration) error
	// Complete records the answer of the key held by token, kept for ttl.
	Complete(ctx context.Context, key, token string, answer []byte, ttl time.Duration) error
	// Release frees the key held by token, so a redelivery runs again.
	Release(ctx context.Context, key, token string) error
}

// DedupOptions tunes a handler's deduplication of deliveries
// (WithDeduplication in every vendor package). The zero value takes the
// defaults.
type DedupOptions struct {
	// Lease is how long a delivery's claim lives without being renewed
	// (default 5 s). The handler renews it every Lease/3 while the
	// callback runs, so a callback may run longer; a replica that dies
	// mid-callback leaves its claim for at most Lease, after which a
	// redelivery runs.
	Lease time.Duration
	// Wait is the handler's answer budget for a delivery on the
	// deduplication path (default 4 s, under Botcopy's 5 s, the only
	// documented deadline, with a second for the network): a redelivery
	// that finds another delivery of its key running waits for that
	// delivery's answer at most this long, and every store call runs under
	// this limit; past it the handler answers 503 and the platform
	// redelivers. Botcopy's handler keeps it under its response deadline
	// (WithResponseDeadline) whatever is set here.
	Wait time.Duration
}

// RateLimiter keeps a sliding window of requests per key: no window of
// period ever holds more than limit taken slots, across every process that
// shares the limiter.
type RateLimiter interface {
	// Take takes one slot of key's window now and returns ok, or returns
	// how long until a slot frees (ok false, nothing taken).
	Take(ctx context.Context, key string, limit int, period time.Duration) (ok bool, wait time.Duration, err error)
}

// Message is one queued message. Enqueue stores its Key, Payload and
// Header; the queue sets the rest.
type Message struct {
	ID      string // the queue's id of the message
	Key     string // messages of one key are processed in order
	Payload []byte
	// Header travels with the message: the trace context of the delivery
	// that queued it (observe.Propagator), so the webhook and the queued
	// callback are one trace. Names and values are short strings; nil is
	// no header.
	Header   map[string]string
	Attempts int // processing attempts so far, this one included
	// Enqueued is when the message was first queued (set by the queue,
	// kept through retries, the dead letters and Replay).
	Enqueued time.Time
	// Err is the last processing error of a dead letter.
	Err string
}

// Handler processes one message. A nil error acknowledges it; an error
// makes it run again later, until the queue's attempt limit sends it to
// the dead letters.
type Handler func(ctx context.Context, m Message) error

// Queue is a durable queue that keeps the order of messages with the same
// key and runs different keys in parallel.
//
// A key is a message group, as in SQS FIFO queues or Service Bus sessions:
// its messages run one at a time, each after the previous one succeeded or
// went to the dead letters, and a key whose message fails (waiting for the
// retry delay) or runs long delays only its own later messages; every other
// key goes on.
//
// Enqueue returns once the message is durable. Consume runs h for messages
// until ctx ends, at least once each: a consumer that dies in the middle of
// a message has it redelivered to another consumer after a lease. A message
// that failed MaxAttempts times goes to the dead letters, which
// DeadLetters lists and Replay puts back.
type Queue interface {
	// Enqueue stores m's Key, Payload and Header and returns the queue's
	// id of the message once it is durable.
	Enqueue(ctx context.Context, m Message) (id string, err error)
	Consume(ctx context.Context, consumer string, h Handler) error
	DeadLetters(ctx context.Context) ([]Message, error)
	Replay(ctx context.Context, id string) error
}

// QueueStats is a queue's state at one moment, the same whichever
// replica reads it.
type QueueStats struct {
	// Pending messages wait for a consumer (retrying ones excluded);
	// Running ones are held by a consumer now; Retrying ones failed and
	// wait for their retry delay; Dead ones are dead letters. What a
	// consumer holds depends on the queue: the memory queue's hold the
	// message they run, the Redis queue's also the messages they read
	// ahead (see redisstore.Store.Stats).
	Pending, Running, Retrying, Dead int
	// OldestPending is the age of the oldest message not yet acknowledged
	// (pending, running or retrying), counted from its Enqueue (its
	// Replay, for a replayed dead letter); 0 when there is none.
	OldestPending time.Duration
	// Paused says the queue's consumers take no message (QueueAdmin.Pause).
	Paused bool
}

// QueueInspector is implemented by a Queue that reports its state, as the
// memory and Redis queues do: the observability gauges (the otel module's
// queue depth and age) and the operations tools read it, every few
// seconds, so it must not cost a walk of every message.
type QueueInspector interface {
	Stats(ctx context.Context) (QueueStats, error)
}

// QueueAdmin is implemented by a Queue an operator can inspect and act on,
// as the memory and Redis queues do: the botwire command's queue verbs and
// the admin handler use it. Every method reads or changes the shared
// state, so every replica sees the same queue.
type QueueAdmin interface {
	QueueInspector
	// List returns a page of messages in one state (StatePending: every
	// message not yet acknowledged, pending, running or retrying, oldest
	// first; StateDead: the dead letters, oldest first). A page holds at
	// most opts.Limit messages (default 50); Next is the cursor of the
	// following page, "" after the last: an opaque position, so
	// messages that come and go between pages make no page repeat or skip
	// another's. Payloads are left out unless opts.Payload is set.
	// "Oldest" is by when a message was put on the queue (its Enqueue, or
	// its Replay) for StatePending, by Enqueued for StateDead; each
	// implementation documents its order and cost. A pending message's
	// Attempts and Err are what the queue knows of its failed runs.
	List(ctx context.Context, opts ListOptions) (Page, error)
	// Message returns one message, pending or dead, with its payload, or
	// ErrNotFound.
	Message(ctx context.Context, id string) (Message, error)
	// ReplayAll puts every dead letter back, as Replay does one, and
	// returns how many.
	ReplayAll(ctx context.Context) (int, error)
	// DeleteDead removes one dead letter (ErrNotFound if it is none);
	// DeleteAllDead removes them all and returns how many.
	DeleteDead(ctx context.Context, id string) error
	DeleteAllDead(ctx context.Context) (int, error)
	// Pause stops every consumer of the queue, in every replica, from
	// taking a message (a message running goes on); Resume undoes it,
	// and the consumers take messages again within about a second.
	// Enqueue goes on while paused. Paused reports the state, as
	// QueueStats.Paused does.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	Paused(ctx context.Context) (bool, error)
}

// MessageState selects the messages QueueAdmin.List returns.
type MessageState string

const (
	StatePending MessageState = "pending" // not yet acknowledged: pending, running or retrying
	StateDead    MessageState = "dead"    // dead letters
)

// ListOptions selects a page of QueueAdmin.List.
type ListOptions struct {
	State   MessageState
	Cursor  string // "" for the first page, else a Page.Next
	Limit   int    // at most this many (default 50, at most 1000)
	Payload bool   // include each message's payload
}

// Page is one page of QueueAdmin.List.
type Page struct {
	Messages []Message
	Next     string // the next page's cursor; "" after the last page
}

// ErrNotFound is returned by Replay and QueueAdmin.DeleteDead for an id
// that is not a dead letter, and by QueueAdmin.Message for one that is
// neither pending nor dead.
var ErrNotFound = errors.New("store: no such message")

// Binder is implemented by a store that knows which bot it serves. A store
// serves one bot: two bots on one Queue would run each other's messages,
// and two bots on one Deduplicator would answer each other's replays when
// their delivery keys meet. Every handler binds the stores it is given at
// construction (WithDeduplication, WithQueue) to its bot, so a
// configuration that mixes two bots is refused before it runs. Handlers
// of one bot (the same platform and credential) bind one store any number
// of times. A store that does not implement Binder is not checked, nor is
// a wrapper around one (a type embedding the Queue or Deduplicator
// interface) unless it implements Bind too.
//
// bot is an opaque identity computed by the handler: the platform and a
// fingerprint of the bot's webhook credential, never the credential.
type Binder interface {
	// Bind records that the store serves bot; it refuses (ErrSharedStore)
	// a second, different bot in this process.
	Bind(bot string) error
}

// ErrSharedStore is returned by Binder.Bind for a store that already
// serves another bot.
var ErrSharedStore = errors.New("store: the store already serves another bot")
