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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store"
)

const group = "botwire"

// partition keys share the hash tag {<prefix>:q:<p>}: one slot each.
func (s *Store) stream(p int) string   { return s.tag(p) + ":stream" }
func (s *Store) lease(p int) string    { return s.tag(p) + ":lease" }
func (s *Store) attempts(p int) string { return s.tag(p) + ":attempts" }
func (s *Store) tag(p int) string      { return "{" + s.opts.Prefix + ":q:" + strconv.Itoa(p) + "}" }
func (s *Store) deadKey() string       { return "{" + s.opts.Prefix + ":q:dead}" }

func (s *Store) partition(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(s.opts.Partitions))
}

// Enqueue implements store.Queue: the message is in its partition's stream
// when it returns.
func (s *Store) Enqueue(ctx context.Context, key string, payload []byte) error {
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.stream(s.partition(key)),
		Values: map[string]any{"key": key, "payload": payload}}).Err()
	if err != nil {
		return fmt.Errorf("redisstore: enqueue: %w", err)
	}
	return nil
}

var (
	acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)
	dropLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`)
)

// Consume implements store.Queue. It scans the partitions, takes the lease
// of a free one, runs its pending entries (a dead holder's first) and then
// its new ones in stream order, and gives the lease back when the
// partition is empty or after a few messages, so partitions are shared
// among consumers. While a message runs the lease is renewed; a consumer
// that stops (ctx ends) gives its lease back, one that dies loses it after
// Options.Queue.Lease.
func (s *Store) Consume(ctx context.Context, consumer string, h store.Handler) error {
	for p := range s.opts.Partitions {
		err := s.rdb.XGroupCreateMkStream(ctx, s.stream(p), group, "0").Err()
		if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("redisstore: create consumer group: %w", err)
		}
	}
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

// drain runs up to 16 messages of partition p if its lease is free.
func (s *Store) drain(ctx context.Context, p int, consumer string, h store.Handler) (int, error) {
	lease := s.opts.Queue.Lease
	ok, err := acquireScript.Run(ctx, s.rdb, []string{s.lease(p)}, consumer, lease.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: lease: %w", err)
	}
	if ok == 0 {
		return 0, nil
	}
	defer dropLeaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{s.lease(p)}, consumer)
	done := 0
	for done < 16 {
		m, found, err := s.next(ctx, p, consumer)
		if err != nil || !found {
			return done, err
		}
		if err := s.run(ctx, p, consumer, m, h); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
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

// run processes one entry under the partition's lease: acknowledged on
// success, retried after the retry delay on failure, dead after the
// attempt limit.
func (s *Store) run(ctx context.Context, p int, consumer string, x redis.XMessage, h store.Handler) error {
	attempts, err := s.rdb.HIncrBy(ctx, s.attempts(p), x.ID, 1).Result()
	if err != nil {
		return fmt.Errorf("redisstore: attempts: %w", err)
	}
	m := store.Message{ID: x.ID, Key: str(x.Values["key"]), Payload: []byte(str(x.Values["payload"])), Attempts: int(attempts)}

	// Renew the lease while the handler runs; losing it stops the handler.
	hctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(s.opts.Queue.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				ok, err := acquireScript.Run(hctx, s.rdb, []string{s.lease(p)}, consumer, s.opts.Queue.Lease.Milliseconds()).Int()
				if err == nil && ok == 0 {
					cancel() // another consumer holds the partition now
					return
				}
			}
		}
	}()
	herr := h(hctx, m)
	cancel()
	<-renewed
	if ctx.Err() != nil && herr != nil {
		// Stopped mid-message: leave it pending for the next holder, and
		// do not count the attempt.
		s.rdb.HIncrBy(context.WithoutCancel(ctx), s.attempts(p), x.ID, -1)
		return ctx.Err()
	}
	bg := context.WithoutCancel(ctx)
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
	case <-ctx.Done():
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
