// Package redisstore implements botwire's store contracts on Redis (6.2 or
// newer), so replicas of a bot share their state: deduplicated deliveries
// (store.Deduplicator), the per-key sliding-window rate limit
// (store.RateLimiter) and the durable queue (store.Queue).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	st := redisstore.New(rdb, redisstore.Options{})
//	bot, _ := onetalk.NewHandler(secret, fn, onetalk.WithDeduplication(st, 0), onetalk.WithQueue(st, 4))
//
// It is a module of its own, so go-redis never enters the build of a user
// who does not import it.
//
// Keys start with Options.Prefix and carry a hash tag, so the store works
// on Redis Cluster: a deduplication or rate-limit key is one slot; a queue
// partition's stream, lease and attempts live in one slot. Claims are SET
// NX PX with an owner token checked by Lua; the rate limit is a Lua script
// over a sorted set stamped with the Redis server's clock; the queue is P
// streams (a case hashes to one) read through a consumer group, each
// partition consumed by one lease holder at a time, which takes over the
// entries a dead holder left pending with XAUTOCLAIM, so one case's
// messages run in order.
//
// Durability is Redis's: run it with appendonly yes (or replicas) for the
// queue to survive a Redis restart.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

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
	// Poll is how often an idle consumer looks for messages (default
	// 50 ms).
	Poll time.Duration
}

// Store is the three store contracts on one Redis client. It is safe for
// concurrent use by any number of processes.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
}

var (
	_ store.Deduplicator = (*Store)(nil)
	_ store.RateLimiter  = (*Store)(nil)
	_ store.Queue        = (*Store)(nil)
)

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "botwire"
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 16
	}
	if opts.Poll <= 0 {
		opts.Poll = 50 * time.Millisecond
	}
	opts.Queue = opts.Queue.Defaults()
	return &Store{rdb: rdb, opts: opts}
}

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Store) dedupKey(key string) string { return s.opts.Prefix + ":dedup:{" + key + "}" }

// A dedup key holds "p:<token>" while a delivery runs and "d:<answer>"
// once it completed.
var (
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return {'acquired'}
end
if string.sub(v, 1, 2) == 'd:' then
  return {'done', string.sub(v, 3)}
end
return {'busy'}`)
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
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (store.Claim, error) {
	tok := token()
	res, err := claimScript.Run(ctx, s.rdb, []string{s.dedupKey(key)}, tok, max(lease.Milliseconds(), 1)).StringSlice()
	if err != nil {
		return store.Claim{}, fmt.Errorf("redisstore: claim: %w", err)
	}
	switch res[0] {
	case "acquired":
		return store.Claim{State: store.Acquired, Token: tok}, nil
	case "done":
		return store.Claim{State: store.Done, Answer: []byte(res[1])}, nil
	}
	return store.Claim{State: store.Busy}, nil
}

// Complete implements store.Deduplicator.
func (s *Store) Complete(ctx context.Context, key, tok string, answer []byte, ttl time.Duration) error {
	if err := completeScript.Run(ctx, s.rdb, []string{s.dedupKey(key)}, tok, answer, max(ttl.Milliseconds(), 1)).Err(); err != nil {
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
