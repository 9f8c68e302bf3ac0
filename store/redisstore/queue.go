package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
)

const group = "botwire"

// partition keys share the hash tag {<prefix>:q:<p>}: one slot each.
func (s *Store) stream(p int) string   { return s.tag(p) + ":stream" }
func (s *Store) lease(p int) string    { return s.tag(p) + ":lease" }
func (s *Store) attempts(p int) string { return s.tag(p) + ":attempts" }

// errorsKey holds the last error of the entries that failed and will run
// again (for QueueAdmin's List and Message), forgotten with their
// acknowledgement.
func (s *Store) errorsKey(p int) string { return s.tag(p) + ":errors" }

// maxErrorLen bounds an error kept in a partition's errors hash.
const maxErrorLen = 1024

// lastError is err's text for the errors hash, at most maxErrorLen bytes.
func lastError(err error) string {
	msg := err.Error()
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "")
	}
	return msg
}

// retryKey is a sorted set of the entries that failed, scored by when
// they may run again (Unix ms, the Redis server's clock): Stats counts the
// ones still waiting.
func (s *Store) retryKey(p int) string { return s.tag(p) + ":retry" }
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
// when it returns. Its id is "<partition>:<stream entry id>"
// ("3:1718000000000-0"), unique in the queue. In the same round trip
// it publishes the partition's number on the Store's wake-up channel, so a
// consumer that has nothing to do reads it at once instead of polling.
//
// The entry's fields are "key", "payload" and, for each header, "h." and
// the header's name, with its value (sorted by name, so entries with the
// same header names share their field names in Redis's stream nodes): a
// message without a header costs nothing more. Its enqueue time is the
// entry id's, on the Redis server's clock.
func (s *Store) Enqueue(ctx context.Context, m store.Message) (string, error) {
	id, err := s.enqueue(ctx, m, time.Time{})
	if err != nil {
		return "", fmt.Errorf("redisstore: enqueue: %w", err)
	}
	return id, nil
}

// enqueue adds m to its partition's stream; a non-zero enqueued (a
// replayed dead letter's first enqueue) is kept in the entry's field "t"
// (Unix ms), and the entry's id stands for it otherwise.
func (s *Store) enqueue(ctx context.Context, m store.Message, enqueued time.Time) (string, error) {
	p := s.partition(m.Key)
	stream := s.stream(p)
	values := entryValues(m, enqueued)
	// add is the last try's: durably may write twice.
	var add *redis.StringCmd
	err := s.durably(ctx, stream, func(c redis.Cmdable) error { // waits for replicas
		if pipe, ok := c.(redis.Pipeliner); ok {
			add = s.add(ctx, pipe, p, values)
			return nil
		}
		_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			add = s.add(ctx, pipe, p, values)
			return nil
		})
		if add.Err() != nil || err == nil {
			return add.Err()
		}
		return nil // the message is in; a lost wake-up is caught by Options.Poll
	})
	if err != nil {
		return "", err
	}
	return messageID(p, add.Val()), nil
}

// headerField starts the stream fields that carry a message's header.
const headerField = "h."

// entryValues are the stream entry's fields and values for m.
func entryValues(m store.Message, enqueued time.Time) []any {
	v := make([]any, 0, 4+2*len(m.Header)+2)
	v = append(v, "key", m.Key, "payload", m.Payload)
	if !enqueued.IsZero() {
		v = append(v, "t", strconv.FormatInt(enqueued.UnixMilli(), 10))
	}
	if len(m.Header) == 1 {
		for k, h := range m.Header {
			v = append(v, headerField+k, h)
		}
	} else if len(m.Header) > 1 {
		for _, k := range slices.Sorted(maps.Keys(m.Header)) {
			v = append(v, headerField+k, m.Header[k])
		}
	}
	return v
}

// messageID is the queue's id of the entry id of partition p's stream:
// "<p>:<entry id>". An entry id alone is unique only in its stream: two
// partitions give the same id to entries added in the same millisecond.
func messageID(p int, id string) string { return strconv.Itoa(p) + ":" + id }

// readEntry is the message of partition p's stream entry x.
func readEntry(p int, x redis.XMessage) *entry {
	e := &entry{id: x.ID, qid: messageID(p, x.ID)}
	for f, v := range x.Values {
		switch {
		case f == "key":
			e.key = str(v)
		case f == "payload":
			e.payload = []byte(str(v))
		case f == "t":
			if ms, err := strconv.ParseInt(str(v), 10, 64); err == nil {
				e.enqueued = time.UnixMilli(ms)
			}
		case strings.HasPrefix(f, headerField):
			if e.header == nil {
				e.header = map[string]string{}
			}
			e.header[f[len(headerField):]] = str(v)
		}
	}
	if e.enqueued.IsZero() {
		e.enqueued = idTime(x.ID)
	}
	return e
}

// idTime is the time of a stream entry id ("<Unix ms>-<seq>", or a
// messageID); zero for an id of another form.
func idTime(id string) time.Time {
	if _, after, ok := strings.Cut(id, ":"); ok {
		id = after
	}
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func (s *Store) add(ctx context.Context, pipe redis.Pipeliner, p int, values []any) *redis.StringCmd {
	add := pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.stream(p), Values: values})
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
				s.storeError(bg, "renew", errRenewalLate)
				l.lostFlag.Store(true)
				cancel()
				<-res // the call ends within the client's timeouts
				deadline.Stop()
				return
			}
			deadline.Stop()
			if r.err != nil {
				s.storeError(bg, "renew", r.err)
			}
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

// errRenewalLate reports a lease renewal that did not answer while the
// lease surely lasted.
var errRenewalLate = errors.New("redisstore: the lease renewal did not answer in time")

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

// DeadLetters implements store.Queue. A dead letter keeps its header and
// its enqueue time.
func (s *Store) DeadLetters(ctx context.Context) ([]store.Message, error) {
	all, err := s.rdb.HGetAll(ctx, s.deadKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: dead letters: %w", err)
	}
	out := make([]store.Message, 0, len(all))
	for id, v := range all {
		var m store.Message
		if json.Unmarshal([]byte(v), &m) == nil {
			if m.Enqueued.IsZero() { // written before the field was
				m.Enqueued = idTime(id)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Replay implements store.Queue: the dead letter is enqueued again (at the
// end of its case's messages, with a new id, its header and its first
// enqueue time) and then removed from the dead letters.
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
	enqueued := m.Enqueued
	if enqueued.IsZero() {
		enqueued = idTime(id)
	}
	if _, err := s.enqueue(ctx, store.Message{Key: m.Key, Payload: m.Payload, Header: m.Header}, enqueued); err != nil {
		return fmt.Errorf("redisstore: replay: %w", err)
	}
	if err := s.rdb.HDel(ctx, s.deadKey(), id).Err(); err != nil {
		return fmt.Errorf("redisstore: replay: %w", err)
	}
	if o := s.obs; o != nil {
		o.Event(ctx, observe.Event{Kind: observe.KindReplayed, Queue: s.opts.Prefix, Key: m.Key, MessageID: id, Attempt: m.Attempts})
	}
	return nil
}

// statsScript reads one partition's counts on the server's clock: the
// stream's length (every message not yet acknowledged), the entries
// delivered to a consumer and not acknowledged (the group's XPENDING
// summary; none before a consumer created the group), those whose retry
// delay has not passed, and the age in µs of the stream's first entry.
var statsScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local len = redis.call('XLEN', KEYS[1])
local held = 0
local ok, p = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
if ok and type(p) == 'table' and p[1] then held = tonumber(p[1]) end
local retrying = redis.call('ZCOUNT', KEYS[2], '(' .. math.floor(now / 1000), '+inf')
local age = 0
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first > 0 then
  local ms = tonumber(string.match(first[1][1], '^(%d+)'))
  age = 1
  if ms and now - ms * 1000 > 1 then age = now - ms * 1000 end
end
return {len, held, retrying, age}`)

// Stats implements store.QueueInspector, from what Redis holds, so every
// replica reads the same: Pending counts the messages no consumer has read
// yet; Running those delivered to a consumer and not yet acknowledged nor
// retrying — the ones running now, and those a Store's consumers have
// read ahead for their workers (at most 256 waiting for a worker) or hold
// behind the running message of their case, and a dead consumer's until
// another takes them over; Retrying those that failed and wait for their
// retry delay; Dead the dead letters. OldestPending is the age of the
// oldest message in a stream (since its Enqueue, or its Replay for a
// replayed dead letter), on the Redis server's clock.
//
// It costs one round trip (one pipeline; on a Cluster, one per master that
// holds a partition, in parallel): per partition one script of XLEN, an
// XPENDING summary, ZCOUNT and XRANGE COUNT 1, each O(log N) or
// O(consumers of the partition's group), and one HLEN of the dead letters:
// Options.Partitions + 2 commands (18 by default, with an EXISTS of the
// pause flag for Paused), whatever the number of messages. It reads no
// message.
func (s *Store) Stats(ctx context.Context) (store.QueueStats, error) {
	pipe := s.rdb.Pipeline()
	parts := make([]*redis.Cmd, s.opts.Partitions)
	for p := range parts {
		parts[p] = statsScript.Eval(ctx, pipe, []string{s.stream(p), s.retryKey(p)}, group)
	}
	dead := pipe.HLen(ctx, s.deadKey())
	paused := pipe.Exists(ctx, s.pausedKey())
	if _, err := pipe.Exec(ctx); err != nil {
		return store.QueueStats{}, fmt.Errorf("redisstore: queue stats: %w", err)
	}
	var st store.QueueStats
	for _, c := range parts {
		v, err := c.Int64Slice()
		if err == nil && len(v) != 4 {
			err = fmt.Errorf("%d values in a partition's answer, want 4", len(v))
		}
		if err != nil {
			return store.QueueStats{}, fmt.Errorf("redisstore: queue stats: %w", err)
		}
		total, held, retrying, age := v[0], v[1], v[2], v[3]
		retrying = min(retrying, held)
		st.Pending += int(max(total-held, 0))
		st.Running += int(max(held-retrying, 0))
		st.Retrying += int(retrying)
		st.OldestPending = max(st.OldestPending, time.Duration(age)*time.Microsecond)
	}
	st.Dead = int(dead.Val())
	st.Paused = paused.Val() > 0
	return st, nil
}
