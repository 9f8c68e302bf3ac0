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
	// Acquired: this delivery owns the key; run the callback, then call
	// Complete (success) or Release (failure) with the claim's Token.
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
	// Token identifies the owner of an Acquired claim; Complete and
	// Release with another token do nothing, so a delivery whose lease ran
	// out cannot undo its successor's work.
	Token string
	// Answer is the stored answer of a Done key.
	Answer []byte
}

// Deduplicator remembers webhook deliveries by key, so a redelivery does not
// run the bot's callback again.
//
// An implementation must be safe for concurrent use by many processes:
// of concurrent Claims of one free key exactly one is Acquired. A claim
// that is neither completed nor released frees itself after its lease (the
// process died); a completed key answers Done until its ttl passes.
type Deduplicator interface {
	Claim(ctx context.Context, key string, lease time.Duration) (Claim, error)
	Complete(ctx context.Context, key, token string, answer []byte, ttl time.Duration) error
	Release(ctx context.Context, key, token string) error
}

// RateLimiter keeps a sliding window of requests per key: no window of
// period ever holds more than limit taken slots, across every process that
// shares the limiter.
type RateLimiter interface {
	// Take takes one slot of key's window now and returns ok, or returns
	// how long until a slot frees (ok false, nothing taken).
	Take(ctx context.Context, key string, limit int, period time.Duration) (ok bool, wait time.Duration, err error)
}

// Message is one queued message.
type Message struct {
	ID       string // the queue's id of the message
	Key      string // messages of one key are processed in order
	Payload  []byte
	Attempts int // processing attempts so far, this one included
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
// Enqueue returns once the message is durable. Consume runs h for messages
// until ctx ends, at least once each: a consumer that dies in the middle of
// a message has it redelivered to another consumer after a lease. A message
// that failed MaxAttempts times goes to the dead letters, which
// DeadLetters lists and Replay puts back.
type Queue interface {
	Enqueue(ctx context.Context, key string, payload []byte) error
	Consume(ctx context.Context, consumer string, h Handler) error
	DeadLetters(ctx context.Context) ([]Message, error)
	Replay(ctx context.Context, id string) error
}

// ErrNotFound is returned by Replay for an id that is not a dead letter.
var ErrNotFound = errors.New("store: no such dead letter")
