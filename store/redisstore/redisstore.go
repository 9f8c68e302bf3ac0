// Package redisstore implements botwire's store contracts on Redis (6.2 or
// newer), so replicas of a bot share their state: deduplicated deliveries
// (store.Deduplicator), the per-key sliding-window rate limit
// (store.RateLimiter) and the durable queue (store.Queue).
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr: "localhost:6379",
//		// End each call at its context's deadline, even mid-read: handlers
//		// call the store within the platform's answer budget (4 s by
//		// default) and answer 503 past it. Without this go-redis ignores
//		// the deadline on a read and waits out ReadTimeout (5 s) first.
//		ContextTimeoutEnabled: true,
//	})
//	st := redisstore.New(rdb, redisstore.Options{Prefix: "support-bot"}) // one Prefix per bot
//	bot, _ := onetalk.NewHandler(secret, fn, onetalk.WithDeduplication(st, 0), onetalk.WithQueue(st, 4))
//
// It is a module of its own, so go-redis never enters the build of a user
// who does not import it.
//
// Keys start with Options.Prefix and carry a hash tag, so the store works
// on Redis Cluster: a deduplication or rate-limit key is one slot; a queue
// partition's stream, lease and attempts live in one slot. A delivery's
// claim is a key set with PX by Lua to the caller's token, taken when free
// or already this token's, renewed (PEXPIRE) and completed or deleted only
// with that token; the rate limit is a Lua script over a sorted set
// stamped with the Redis server's clock; the queue is P streams (a case
// hashes to one) read through a consumer group, each partition consumed
// by one lease holder at a time, which takes over the entries a dead
// holder left pending with XAUTOCLAIM, so one case's messages run in
// order.
//
// Every Consume call is a consumer of its own: the name it is given is a
// readable prefix to which it adds a random suffix, so replicas that are
// all PID 1 in containers with one hostname, or handlers in one process,
// never hold a partition together. A partition's lease is taken only when
// free (SET NX PX) and renewed only by its holder; a holder that finds it
// gone or another's cancels its running handler and leaves the message to
// the new holder.
//
// A Store serves one bot. The handlers bind the Store given to
// WithDeduplication and WithQueue to their bot (the platform and a
// fingerprint of its webhook credential) and refuse, at construction, a
// Store that already serves another bot, so two bots never run each
// other's queued messages or answer each other's replays; replicas of one
// bot share a Store. Bots that share one Redis need a Store each with its
// own Options.Prefix: the check holds within one Store value, and Stores
// in other processes with the same Prefix are not checked against each
// other (see Store.Bind).
//
// Enqueue and Complete wait for the master's replicas (WAIT in the write's
// own pipeline; Options.MinReplicas, ReplicaTimeout, WaitFsync), so a
// Sentinel failover loses no acknowledged message. A restart of Redis keeps
// them only with appendonly yes: replicas copy a master that restarted
// empty.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
)

// Options tunes a Store.
type Options struct {
	// Prefix starts every key (default "botwire").
	Prefix string
	// Partitions is the number of queue streams (default 16); a case
	// always hashes to the same one. Changing it reorders cases in flight.
	Partitions int
	// Queue sets the attempt limit, the retry delay and the lease of a
	// partition (how long a dead consumer's messages wait before another
	// consumer takes them over).
	Queue store.QueueOptions
	// Observer receives the queue's events (observe.Event): a message that
	// failed and will run again (KindQueueRetry), went to the dead letters
	// (KindDeadLettered) or was replayed (KindReplayed), and the failures
	// of Redis calls that the consumers' pool makes on its own — lease
	// renewals, reads, acknowledgements, heartbeats — (KindStoreError,
	// Store observe.StoreQueue, Op naming the call), which it retries or
	// after which Consume returns. Events name the queue by Prefix. Nil
	// (the default): Queue.Observer, if set; with neither, the cost is a
	// nil check.
	Observer observe.Observer
	// Poll is how often consumers look at their partitions when no
	// wake-up came (default: once per Queue.Lease). New messages wake the
	// consumers at once (Enqueue publishes on a channel the consumers of
	// each Store listen to, on one connection); the look only catches a
	// wake-up lost with a connection.
	Poll time.Duration

	// MinReplicas is how many replicas must have a write before Enqueue,
	// or Complete of a deduplicated delivery, returns: when fewer follow
	// the master, or fewer acknowledge within ReplicaTimeout, the call
	// fails with ErrNotReplicated, so the handler answers 503 and the
	// platform redelivers. It is Kafka's min.insync.replicas without the
	// master: 1 here is 2 there. Default 0: a write waits for every
	// replica that follows the master (Kafka's acks=all), and still
	// succeeds after ReplicaTimeout when one is too slow, as Kafka drops a
	// lagging replica from the in-sync set.
	//
	// The wait is WAIT in the write's own pipeline (one round trip; on a
	// Cluster, on the master that owns the key's slot). How many replicas
	// follow a master comes from INFO replication: once at the first
	// write, then riding along with a write every second, or sooner when
	// a WAIT came back short. A master without replicas adds nothing to a
	// write.
	MinReplicas int
	// ReplicaTimeout bounds the wait for replicas (default 250 ms), and is
	// cut to fit inside the call's context deadline and half the client's
	// ReadTimeout.
	ReplicaTimeout time.Duration
	// NoReplicaWait turns the default wait off: a write returns once the
	// master has it, and a failover loses what the master had not yet
	// sent to its replicas. MinReplicas and WaitFsync still wait for what
	// they ask.
	NoReplicaWait bool
	// WaitFsync also waits for the master to fsync the write to its AOF
	// (WAITAOF 1 N, Redis 7.2 or newer, appendonly yes), and then counts
	// only replicas that fsynced it to theirs (give them appendonly yes
	// too). Off by default: with appendfsync always the fsync happened
	// before Redis answered, with everysec it can take up to a second, and
	// replicas on other hosts already keep a write through the loss of the
	// master's. Redis before 7.2 has no WAITAOF: the store then waits with
	// WAIT alone.
	WaitFsync bool
}

// Store is the three store contracts on one Redis client. It is safe for
// concurrent use by any number of processes.
type Store struct {
	rdb   redis.UniversalClient
	opts  Options
	bound bound // the bot this Store serves (bind.go)

	repl replication // replica counts per master (durability.go)
	obs  observe.Observer

	qmu   sync.Mutex
	qpool *pool // the consumers' pool while any Consume runs (queue.go)
}

var (
	_ store.Deduplicator   = (*Store)(nil)
	_ store.RateLimiter    = (*Store)(nil)
	_ store.Queue          = (*Store)(nil)
	_ store.QueueInspector = (*Store)(nil)
)

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "botwire"
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 16
	}
	opts.Queue = opts.Queue.Defaults()
	if opts.Poll <= 0 {
		opts.Poll = opts.Queue.Lease
	}
	obs := opts.Observer
	if obs == nil {
		obs = opts.Queue.Observer
	}
	return &Store{rdb: rdb, opts: opts, obs: obs}
}

// storeError reports a failure of a Redis call the consumers' pool made on
// its own (op: "read", "ack", ...) to the observer, if any.
func (s *Store) storeError(ctx context.Context, op string, err error) {
	if o := s.obs; o != nil {
		o.Event(ctx, observe.Event{Kind: observe.KindStoreError, Store: observe.StoreQueue, Op: op, Queue: s.opts.Prefix, Err: err})
	}
}

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Store) dedupKey(key string) string { return s.opts.Prefix + ":dedup:{" + key + "}" }

// A dedup key holds "p:<token>" while a delivery runs and "d:<answer>"
// once it completed. A claim with the token that holds the key takes it
// again (a retried claim whose first reply was lost), restarting its
// lease.
var (
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or v == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return {'acquired'}
end
if string.sub(v, 1, 2) == 'd:' then
  return {'done', string.sub(v, 3)}
end
return {'busy'}`)
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)
	completeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[2], 'PX', ARGV[3])
end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0`)
)

// Claim implements store.Deduplicator.
func (s *Store) Claim(ctx context.Context, key, tok string, lease time.Duration) (store.Claim, error) {
	if tok == "" {
		return store.Claim{}, errors.New("redisstore: claim: empty token")
	}
	res, err := claimScript.Run(ctx, s.rdb, []string{s.dedupKey(key)}, tok, max(lease.Milliseconds(), 1)).StringSlice()
	if err != nil {
		return store.Claim{}, fmt.Errorf("redisstore: claim: %w", err)
	}
	switch res[0] {
	case "acquired":
		return store.Claim{State: store.Acquired}, nil
	case "done":
		return store.Claim{State: store.Done, Answer: []byte(res[1])}, nil
	}
	return store.Claim{State: store.Busy}, nil
}

// Renew implements store.Deduplicator.
func (s *Store) Renew(ctx context.Context, key, tok string, lease time.Duration) error {
	held, err := renewScript.Run(ctx, s.rdb, []string{s.dedupKey(key)}, tok, max(lease.Milliseconds(), 1)).Int()
	if err != nil {
		return fmt.Errorf("redisstore: renew: %w", err)
	}
	if held == 0 {
		return store.ErrClaimLost
	}
	return nil
}

// Complete implements store.Deduplicator.
func (s *Store) Complete(ctx context.Context, key, tok string, answer []byte, ttl time.Duration) error {
	if err := s.durably(ctx, s.dedupKey(key), func(c redis.Cmdable) error {
		return completeScript.Run(ctx, c, []string{s.dedupKey(key)}, tok, answer, max(ttl.Milliseconds(), 1)).Err()
	}); err != nil {
		return fmt.Errorf("redisstore: complete: %w", err)
	}
	return nil
}

// Release implements store.Deduplicator.
func (s *Store) Release(ctx context.Context, key, tok string) error {
	if err := releaseScript.Run(ctx, s.rdb, []string{s.dedupKey(key)}, tok).Err(); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	return nil
}

// takeScript keeps a sliding window in a sorted set scored by the Redis
// server's clock (microseconds), so the replicas' clocks do not matter.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}`)

// Take implements store.RateLimiter.
func (s *Store) Take(ctx context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error) {
	res, err := takeScript.Run(ctx, s.rdb, []string{s.opts.Prefix + ":rate:{" + key + "}"},
		limit, period.Microseconds(), token()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redisstore: rate limit: %w", err)
	}
	return res[0] == 1, time.Duration(max(res[1], 1)) * time.Microsecond, nil
}

// ErrClosed is returned by Consume when rdb was closed.
var ErrClosed = errors.New("redisstore: client closed")
