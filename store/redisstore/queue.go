package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
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
// when it returns.
func (s *Store) Enqueue(ctx context.Context, key string, payload []byte) error {
	stream := s.stream(s.partition(key))
	err := s.durably(ctx, stream, func(c redis.Cmdable) error { // waits for replicas
		return c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"key": key, "payload": payload}}).Err()
	})
	if err != nil {
		return fmt.Errorf("redisstore: enqueue: %w", err)
	}
	return nil
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

// Consume implements store.Queue. It scans the partitions, takes the lease
// of a free one, runs its pending entries (a dead holder's first) and then
// its new ones in stream order, and gives the lease back when the
// partition is empty or after a few messages, so partitions are shared
// among consumers. While it holds a lease it renews it; a consumer that
// stops (ctx ends) gives its lease back, one that dies loses it after
// Options.Queue.Lease.
//
// consumer is only a readable prefix: every Consume call has an identity
// of its own, consumer plus a random suffix, as lease holder and as
// consumer of the streams' group. Replicas that are all PID 1 in
// containers on one host network, or handlers in one process, often pass
// the same name; with the name alone as identity they took one lease at
// once and ran messages twice. When a renewal finds the lease gone or
// another's, the consumer cancels the running handler's context and
// leaves the message to the new holder.
func (s *Store) Consume(ctx context.Context, consumer string, h store.Handler) error {
	if consumer == "" {
		consumer = "consumer"
	}
	consumer += "-" + token()
	for p := range s.opts.Partitions {
		err := s.rdb.XGroupCreateMkStream(ctx, s.stream(p), group, "0").Err()
		if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("redisstore: create consumer group: %w", err)
		}
		s.pruneConsumers(ctx, p)
	}
	defer s.leave(context.WithoutCancel(ctx), consumer)
	start := rand.IntN(s.opts.Partitions)
	for {
		worked := false
		for i := range s.opts.Partitions {
			if ctx.Err() != nil {
				return nil
			}
			n, err := s.drain(ctx, (start+i)%s.opts.Partitions, consumer, h)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			worked = worked || n > 0
		}
		if !worked {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.opts.Poll):
			}
		}
	}
}

// pruneConsumers deletes the group's consumers of partition p that have
// no pending entry and were idle longer than a lease: every Consume call
// is a new consumer of the group, and those of stopped or dead processes
// would otherwise accumulate. A consumer deleted while alive loses
// nothing (it has no entry) and is created again by its next read. It is
// tidying: an error leaves the consumers for the next call.
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

// leave deletes the stopping consumer from every partition's group where
// it has no pending entry. It is tidying, bounded to a second, so a Redis
// that is down does not hold up the stop (pruneConsumers catches up).
func (s *Store) leave(ctx context.Context, consumer string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for p := range s.opts.Partitions {
		if dropConsumerScript.Run(ctx, s.rdb, []string{s.stream(p)}, group, consumer).Err() != nil {
			return
		}
	}
}

// drain runs up to 16 messages of partition p if its lease is free.
func (s *Store) drain(ctx context.Context, p int, consumer string, h store.Handler) (int, error) {
	taken := time.Now()
	ok, err := s.rdb.SetNX(ctx, s.lease(p), consumer, s.opts.Queue.Lease).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: lease: %w", err)
	}
	if !ok {
		return 0, nil
	}
	l := s.hold(ctx, s.lease(p), consumer, taken)
	defer func() {
		l.end()
		dropLeaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{s.lease(p)}, consumer)
	}()
	done := 0
	for done < 16 && !l.lost() {
		m, found, err := s.next(l.ctx, p, consumer)
		if err != nil || !found {
			if l.lost() {
				return done, nil
			}
			return done, err
		}
		if err := s.run(ctx, l, p, m, h); err != nil {
			if l.lost() && ctx.Err() == nil {
				return done, nil
			}
			return done, err
		}
		done++
	}
	return done, nil
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

// next returns the partition's oldest pending entry (left by a consumer
// that died or stopped, or retried), else its next new one.
func (s *Store) next(ctx context.Context, p int, consumer string) (redis.XMessage, bool, error) {
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.stream(p), Group: group,
		Consumer: consumer, MinIdle: 0, Start: "0-0", Count: 1}).Result()
	if err != nil {
		return redis.XMessage{}, false, fmt.Errorf("redisstore: autoclaim: %w", err)
	}
	if len(msgs) > 0 {
		return msgs[0], true, nil
	}
	res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
		Streams: []string{s.stream(p), ">"}, Count: 1, Block: -1}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return redis.XMessage{}, false, nil
	case err != nil:
		return redis.XMessage{}, false, fmt.Errorf("redisstore: read: %w", err)
	case len(res) == 0 || len(res[0].Messages) == 0:
		return redis.XMessage{}, false, nil
	}
	return res[0].Messages[0], true, nil
}

// run processes one entry under the partition's lease l: acknowledged on
// success, retried after the retry delay on failure, dead after the
// attempt limit; left pending for the next holder when the consumer stops
// or loses the lease in the middle.
func (s *Store) run(ctx context.Context, l *holding, p int, x redis.XMessage, h store.Handler) error {
	attempts, err := s.rdb.HIncrBy(l.ctx, s.attempts(p), x.ID, 1).Result()
	if err != nil {
		return fmt.Errorf("redisstore: attempts: %w", err)
	}
	m := store.Message{ID: x.ID, Key: str(x.Values["key"]), Payload: []byte(str(x.Values["payload"])), Attempts: int(attempts)}

	herr := h(l.ctx, m) // l.ctx ends when the lease is lost
	bg := context.WithoutCancel(ctx)
	switch {
	case herr != nil && ctx.Err() != nil:
		// Stopped mid-message: leave it pending for the next holder, and
		// do not count the attempt (the lease is still ours until drain
		// gives it back, so no holder counts meanwhile).
		s.rdb.HIncrBy(bg, s.attempts(p), x.ID, -1)
		return ctx.Err()
	case herr != nil && l.lost():
		// Another consumer holds the partition now and runs the message:
		// leave it to that holder. The attempt stays counted, since the
		// holder may have counted its own already.
		return nil
	}
	switch {
	case herr == nil:
		return s.finish(bg, p, x.ID)
	case int(attempts) >= s.opts.Queue.MaxAttempts:
		m.Err = herr.Error()
		b, _ := json.Marshal(m)
		if err := s.rdb.HSet(bg, s.deadKey(), x.ID, b).Err(); err != nil {
			return fmt.Errorf("redisstore: dead letter: %w", err)
		}
		return s.finish(bg, p, x.ID)
	}
	select { // keep the partition (and the case's order) while waiting
	case <-l.ctx.Done():
	case <-time.After(s.opts.Queue.RetryDelay):
	}
	return nil
}

func (s *Store) finish(ctx context.Context, p int, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.XAck(ctx, s.stream(p), group, id)
		pipe.XDel(ctx, s.stream(p), id)
		pipe.HDel(ctx, s.attempts(p), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: acknowledge: %w", err)
	}
	return nil
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
