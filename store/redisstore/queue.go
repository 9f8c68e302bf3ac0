package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store"
)

const group = "botwire"

// partition keys share the hash tag {<prefix>:q:<p>}: one slot each.
func (s *Store) stream(p int) string   { return s.tag(p) + ":stream" }
func (s *Store) lease(p int) string    { return s.tag(p) + ":lease" }
func (s *Store) attempts(p int) string { return s.tag(p) + ":attempts" }
func (s *Store) tag(p int) string {
	return "{" + tagSafe(s.opts.Prefix) + ":q:" + strconv.Itoa(p) + "}"
}
func (s *Store) deadKey() string { return "{" + tagSafe(s.opts.Prefix) + ":q:dead}" }

// membersKey holds the Stores whose consumers run now, each with the
// expiry of its last heartbeat: partitions are shared among them.
func (s *Store) membersKey() string { return "{" + tagSafe(s.opts.Prefix) + ":q}:members" }

// wakeChannel carries the partition of every new message, and "rebalance"
// when a Store joins or gives a partition back.
func (s *Store) wakeChannel() string { return tagSafe(s.opts.Prefix) + ":q:wake" }

// tagEscaper keeps a prefix from ending a hash tag early: Redis Cluster
// hashes what lies between the first '{' and the next '}', so a prefix
// "}bot" made the tag empty and put a partition's stream, lease and
// attempts on three slots (CROSSSLOT on every acknowledgement).
var tagEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// tagSafe returns prefix with '{', '}' and '%' escaped; other prefixes are
// returned as they are, so their keys do not change.
func tagSafe(prefix string) string { return tagEscaper.Replace(prefix) }

func (s *Store) partition(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(s.opts.Partitions))
}

// Enqueue implements store.Queue: the message is in its partition's stream
// when it returns. In the same round trip it publishes the partition's
// number on the Store's wake-up channel, so a consumer that has nothing to
// do reads it at once instead of polling.
func (s *Store) Enqueue(ctx context.Context, key string, payload []byte) error {
	p := s.partition(key)
	stream := s.stream(p)
	err := s.durably(ctx, stream, func(c redis.Cmdable) error { // waits for replicas
		if pipe, ok := c.(redis.Pipeliner); ok {
			s.add(ctx, pipe, p, key, payload)
			return nil
		}
		var add *redis.StringCmd
		_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			add = s.add(ctx, pipe, p, key, payload)
			return nil
		})
		if add.Err() != nil || err == nil {
			return add.Err()
		}
		return nil // the message is in; a lost wake-up is caught by Options.Poll
	})
	if err != nil {
		return fmt.Errorf("redisstore: enqueue: %w", err)
	}
	return nil
}

func (s *Store) add(ctx context.Context, pipe redis.Pipeliner, p int, key string, payload []byte) *redis.StringCmd {
	add := pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.stream(p), Values: map[string]any{"key": key, "payload": payload}})
	pipe.Publish(ctx, s.wakeChannel(), strconv.Itoa(p))
	return add
}

// A partition's lease holds the identity of its consumer. It is taken only
// when free (SET NX PX) and renewed only by its holder: a renewal never
// takes a lease that expired, or was given back, and then went to another
// consumer.
var (
	renewLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)
	dropLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)
	// dropConsumerScript deletes a consumer of the group that has no
	// pending entry; one with entries keeps them for the next holder.
	dropConsumerScript = redis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`)
)

// pruneConsumers deletes the group's consumers of partition p that have
// no pending entry and were idle longer than a lease: every pool of
// consumers is a new consumer of the group, and those of stopped or dead
// processes would otherwise accumulate. A consumer deleted while alive
// loses nothing (it has no entry) and is created again by its next read.
// It is tidying: an error leaves the consumers for the next call.
func (s *Store) pruneConsumers(ctx context.Context, p int) {
	cs, err := s.rdb.XInfoConsumers(ctx, s.stream(p), group).Result()
	if err != nil {
		return
	}
	for _, c := range cs {
		if c.Pending == 0 && c.Idle > s.opts.Queue.Lease {
			_ = dropConsumerScript.Run(ctx, s.rdb, []string{s.stream(p)}, group, c.Name).Err()
		}
	}
}

// leave deletes a stopping pool's consumer from every partition's group
// where it has no pending entry. It is tidying, bounded to a second, so a
// Redis that is down does not hold up the stop (pruneConsumers catches
// up).
func (s *Store) leave(ctx context.Context, consumer string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for p := range s.opts.Partitions {
		if dropConsumerScript.Run(ctx, s.rdb, []string{s.stream(p)}, group, consumer).Err() != nil {
			return
		}
	}
}

// holding is a partition lease being held: a goroutine renews it every
// third of the lease until end. When a renewal finds the lease gone or
// another's, or renewals fail until the lease may have run out, ctx is
// cancelled and lost reports true: the holder stops taking messages and
// the running handler sees its context end.
type holding struct {
	ctx      context.Context // ends with Consume's ctx, or when the lease is lost
	cancel   context.CancelFunc
	lostFlag atomic.Bool
	stop     chan struct{}
	done     chan struct{}
}

// hold starts renewing the lease key held by consumer since taken (the
// time the lease was asked for, so its expiry is at least taken + lease).
// Renewals do not end with ctx: a handler that outlives its consumer's
// stop (a Shutdown letting callbacks finish) keeps its partition. The
// lease counts as lost a third of a lease before it could expire without
// a renewal that succeeded, also while a renewal call hangs (a client
// without ContextTimeoutEnabled does not give up a blocked read at the
// context's deadline).
func (s *Store) hold(ctx context.Context, key, consumer string, taken time.Time) *holding {
	lease := s.opts.Queue.Lease
	hctx, cancel := context.WithCancel(ctx)
	l := &holding{ctx: hctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	bg := context.WithoutCancel(ctx)
	type renewal struct {
		ok   bool
		err  error
		sent time.Time
	}
	go func() {
		defer close(l.done)
		valid := taken.Add(lease) // the lease is ours at least until then
		t := time.NewTicker(max(lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			res := make(chan renewal, 1)
			go func() {
				sent := time.Now()
				rctx, rcancel := context.WithTimeout(bg, max(lease/3, time.Millisecond))
				defer rcancel()
				ok, err := renewLeaseScript.Run(rctx, s.rdb, []string{key}, consumer, max(lease.Milliseconds(), 1)).Int()
				res <- renewal{ok == 1, err, sent}
			}()
			deadline := time.NewTimer(time.Until(valid) - lease/3)
			var r renewal
			select {
			case r = <-res:
			case <-deadline.C: // no answer while the lease surely lasts
				l.lostFlag.Store(true)
				cancel()
				<-res // the call ends within the client's timeouts
				deadline.Stop()
				return
			}
			deadline.Stop()
			switch {
			case r.err == nil && r.ok:
				valid = r.sent.Add(lease)
				continue
			case r.err != nil && time.Until(valid) > lease/3:
				continue // try again while the lease surely lasts
			}
			// Gone, another consumer's, or perhaps expired by now.
			l.lostFlag.Store(true)
			cancel()
			return
		}
	}()
	return l
}

func (l *holding) lost() bool { return l.lostFlag.Load() }

// end stops the renewals; the caller then gives the lease back.
func (l *holding) end() {
	close(l.stop)
	<-l.done
	l.cancel()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// DeadLetters implements store.Queue.
func (s *Store) DeadLetters(ctx context.Context) ([]store.Message, error) {
	all, err := s.rdb.HGetAll(ctx, s.deadKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: dead letters: %w", err)
	}
	out := make([]store.Message, 0, len(all))
	for _, v := range all {
		var m store.Message
		if json.Unmarshal([]byte(v), &m) == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// Replay implements store.Queue: the dead letter is enqueued again (at the
// end of its case's messages, with a new id) and then removed from the
// dead letters.
func (s *Store) Replay(ctx context.Context, id string) error {
	v, err := s.rdb.HGet(ctx, s.deadKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: replay: %w", err)
	}
	var m store.Message
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return fmt.Errorf("redisstore: replay: %w", err)
	}
	if err := s.Enqueue(ctx, m.Key, m.Payload); err != nil {
		return err
	}
	return s.rdb.HDel(ctx, s.deadKey(), id).Err()
}
