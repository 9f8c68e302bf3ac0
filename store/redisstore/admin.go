package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store"
)

// pausedKey is set while the queue is paused (Pause): its consumers, in
// every replica, take no message. It shares the members' hash tag.
func (s *Store) pausedKey() string { return "{" + tagSafe(s.opts.Prefix) + ":q}:paused" }

// The wake-up channel's messages for Pause and Resume.
const (
	pauseMsg  = "pause"
	resumeMsg = "resume"
)

// pausePoll is how often a pool reads the pause flag, in case a message of
// the wake-up channel was lost.
const pausePoll = 500 * time.Millisecond

// listLimit is store.ListOptions.Limit with its default and bound applied.
func listLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}

// errBadCursor refuses a List cursor that no Page.Next gave.
var errBadCursor = errors.New("redisstore: list: not a cursor of this queue")

// entryPos is the position of a stream entry in a listing of the
// pending messages: its entry id's time and sequence, then its partition.
type entryPos struct {
	ms, seq uint64
	p       int
}

func (a entryPos) compare(b entryPos) int {
	return cmp.Or(cmp.Compare(a.ms, b.ms), cmp.Compare(a.seq, b.seq), cmp.Compare(a.p, b.p))
}

// parseEntryID splits a stream entry id "<ms>-<seq>".
func parseEntryID(id string) (ms, seq uint64, ok bool) {
	a, b, ok := strings.Cut(id, "-")
	if !ok {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

// parseMessageID splits a queue id "<partition>:<entry id>" of this
// Store.
func (s *Store) parseMessageID(id string) (p int, entry string, ok bool) {
	a, b, ok := strings.Cut(id, ":")
	if !ok {
		return 0, "", false
	}
	p, err := strconv.Atoi(a)
	if err != nil || p < 0 || p >= s.opts.Partitions {
		return 0, "", false
	}
	if _, _, ok := parseEntryID(b); !ok {
		return 0, "", false
	}
	return p, b, true
}

// List implements store.QueueAdmin.
//
// Pending messages (every entry of the partitions' streams: waiting,
// read by a consumer, running or retrying) come oldest first by their
// stream entry id, the time they were put on the queue on the Redis
// server's clock (their Enqueue, or their Replay for a replayed dead
// letter; Enqueued keeps the first enqueue), ties by partition. A page
// costs two round trips: one XRANGE of at most Limit+1 entries per
// partition (one pipeline; on a Cluster, one per master, in parallel),
// merged, then two HMGETs per partition (the page's attempts and last
// errors). A pending message's Attempts are the failed (or taken-over)
// runs recorded in Redis, 0 for one that never failed; Err is the last
// failed run's error (at most 1 KiB), empty for one that never failed
// or was only taken over.
//
// Dead letters come oldest first by Enqueued, ties by id; a page reads
// every dead letter (HGETALL) and sorts them, so it costs O(dead letters).
//
// The cursor is the last message's position, so a page neither repeats nor
// skips a message when others come and go between pages.
func (s *Store) List(ctx context.Context, opts store.ListOptions) (store.Page, error) {
	switch opts.State {
	case store.StatePending:
		return s.listPending(ctx, opts)
	case store.StateDead:
		return s.listDead(ctx, opts)
	}
	return store.Page{}, fmt.Errorf("redisstore: list: unknown state %q", opts.State)
}

func (s *Store) listPending(ctx context.Context, opts store.ListOptions) (store.Page, error) {
	limit := listLimit(opts.Limit)
	var after *entryPos
	var afterID string
	if opts.Cursor != "" {
		p, eid, ok := s.parseMessageID(opts.Cursor)
		if !ok {
			return store.Page{}, errBadCursor
		}
		ms, seq, _ := parseEntryID(eid)
		after, afterID = &entryPos{ms, seq, p}, eid
	}
	pipe := s.rdb.Pipeline()
	ranges := make([]*redis.XMessageSliceCmd, s.opts.Partitions)
	for p := range ranges {
		start := "-"
		if after != nil {
			start = afterID
			if p <= after.p {
				start = "(" + afterID
			}
		}
		ranges[p] = pipe.XRangeN(ctx, s.stream(p), start, "+", int64(limit+1))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return store.Page{}, fmt.Errorf("redisstore: list: %w", err)
	}
	type found struct {
		pos entryPos
		e   *entry
	}
	var all []found
	for p, c := range ranges {
		xs, err := c.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return store.Page{}, fmt.Errorf("redisstore: list: %w", err)
		}
		for _, x := range xs {
			ms, seq, ok := parseEntryID(x.ID)
			if !ok {
				continue
			}
			all = append(all, found{entryPos{ms, seq, p}, readEntry(p, x)})
		}
	}
	slices.SortFunc(all, func(a, b found) int { return a.pos.compare(b.pos) })
	var page store.Page
	if len(all) > limit {
		all = all[:limit]
		page.Next = all[limit-1].e.qid
	}
	// The attempts recorded for the page's entries, per partition.
	byPart := map[int][]int{} // partition: indexes in all
	for i, f := range all {
		byPart[f.pos.p] = append(byPart[f.pos.p], i)
	}
	attempts := make([]int64, len(all))
	errs := make([]string, len(all))
	if len(all) > 0 {
		pipe := s.rdb.Pipeline()
		cmds, errCmds := map[int]*redis.SliceCmd{}, map[int]*redis.SliceCmd{}
		for p, idx := range byPart {
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = all[i].e.id
			}
			cmds[p] = pipe.HMGet(ctx, s.attempts(p), ids...)
			errCmds[p] = pipe.HMGet(ctx, s.errorsKey(p), ids...)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return store.Page{}, fmt.Errorf("redisstore: list: attempts: %w", err)
		}
		for p, c := range cmds {
			for j, v := range c.Val() {
				if n, err := strconv.ParseInt(str(v), 10, 64); err == nil {
					attempts[byPart[p][j]] = max(n, 0)
				}
			}
		}
		for p, c := range errCmds {
			for j, v := range c.Val() {
				errs[byPart[p][j]] = str(v)
			}
		}
	}
	page.Messages = make([]store.Message, len(all))
	for i, f := range all {
		m := store.Message{ID: f.e.qid, Key: f.e.key, Header: f.e.header, Enqueued: f.e.enqueued, Attempts: int(attempts[i]), Err: errs[i]}
		if opts.Payload {
			m.Payload = f.e.payload
		}
		page.Messages[i] = m
	}
	return page, nil
}

// deadCursor is a position in the dead letters: Enqueued (Unix ns) and
// id, encoded "<ns>.<id>".
func deadCursor(m store.Message) string {
	return strconv.FormatInt(m.Enqueued.UnixNano(), 10) + "." + m.ID
}

func compareDead(a, b store.Message) int {
	return cmp.Or(a.Enqueued.Compare(b.Enqueued), cmp.Compare(a.ID, b.ID))
}

func (s *Store) listDead(ctx context.Context, opts store.ListOptions) (store.Page, error) {
	limit := listLimit(opts.Limit)
	var after *store.Message
	if opts.Cursor != "" {
		a, id, ok := strings.Cut(opts.Cursor, ".")
		ns, err := strconv.ParseInt(a, 10, 64)
		if !ok || err != nil || id == "" {
			return store.Page{}, errBadCursor
		}
		after = &store.Message{ID: id, Enqueued: time.Unix(0, ns)}
	}
	dead, err := s.DeadLetters(ctx)
	if err != nil {
		return store.Page{}, fmt.Errorf("redisstore: list: %w", err)
	}
	slices.SortFunc(dead, compareDead)
	if after != nil {
		i, _ := slices.BinarySearchFunc(dead, *after, compareDead)
		for i < len(dead) && compareDead(dead[i], *after) <= 0 {
			i++
		}
		dead = dead[i:]
	}
	var page store.Page
	if len(dead) > limit {
		dead = dead[:limit]
		page.Next = deadCursor(dead[limit-1])
	}
	if !opts.Payload {
		for i := range dead {
			dead[i].Payload = nil
		}
	}
	page.Messages = dead
	return page, nil
}

// Message implements store.QueueAdmin: the pending message (one XRANGE
// and HGETs of its attempts and last error, in one round trip) or else
// the dead letter id, with its payload.
func (s *Store) Message(ctx context.Context, id string) (store.Message, error) {
	if p, eid, ok := s.parseMessageID(id); ok {
		pipe := s.rdb.Pipeline()
		r := pipe.XRangeN(ctx, s.stream(p), eid, eid, 1)
		a := pipe.HGet(ctx, s.attempts(p), eid)
		le := pipe.HGet(ctx, s.errorsKey(p), eid)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return store.Message{}, fmt.Errorf("redisstore: message: %w", err)
		}
		if xs := r.Val(); len(xs) == 1 {
			e := readEntry(p, xs[0])
			n, _ := a.Int64()
			return store.Message{ID: e.qid, Key: e.key, Payload: e.payload, Header: e.header,
				Enqueued: e.enqueued, Attempts: int(max(n, 0)), Err: le.Val()}, nil
		}
	}
	v, err := s.rdb.HGet(ctx, s.deadKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		return store.Message{}, store.ErrNotFound
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("redisstore: message: %w", err)
	}
	var m store.Message
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return store.Message{}, fmt.Errorf("redisstore: message: %w", err)
	}
	if m.Enqueued.IsZero() {
		m.Enqueued = idTime(id)
	}
	return m, nil
}

// ReplayAll implements store.QueueAdmin: every dead letter is replayed,
// oldest first, as Replay does (two round trips each); one replayed or
// deleted meanwhile by another caller is not counted.
func (s *Store) ReplayAll(ctx context.Context) (int, error) {
	dead, err := s.DeadLetters(ctx)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(dead, compareDead)
	n := 0
	for _, m := range dead {
		switch err := s.Replay(ctx, m.ID); {
		case err == nil:
			n++
		case !errors.Is(err, store.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}

// DeleteDead implements store.QueueAdmin.
func (s *Store) DeleteDead(ctx context.Context, id string) error {
	n, err := s.rdb.HDel(ctx, s.deadKey(), id).Result()
	if err != nil {
		return fmt.Errorf("redisstore: delete dead letter: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// deleteAllScript counts and deletes a hash at once.
var deleteAllScript = redis.NewScript(`
local n = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`)

// DeleteAllDead implements store.QueueAdmin, in one script call.
func (s *Store) DeleteAllDead(ctx context.Context) (int, error) {
	n, err := deleteAllScript.Run(ctx, s.rdb, []string{s.deadKey()}).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: delete dead letters: %w", err)
	}
	return n, nil
}

// Pause implements store.QueueAdmin: it sets the pause flag (a key under
// the Store's prefix, read by every replica) and tells the consumers on
// the wake-up channel, so they stop taking messages at once; a consumer
// that missed the message reads the flag within half a second.
func (s *Store) Pause(ctx context.Context) error {
	_, err := s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, s.pausedKey(), "1", 0)
		pipe.Publish(ctx, s.wakeChannel(), pauseMsg)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: pause: %w", err)
	}
	return nil
}

// Resume implements store.QueueAdmin: the flag is removed and the
// consumers told; they take messages again at once, or within half a
// second if they missed the message.
func (s *Store) Resume(ctx context.Context) error {
	_, err := s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, s.pausedKey())
		pipe.Publish(ctx, s.wakeChannel(), resumeMsg)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: resume: %w", err)
	}
	return nil
}

// Paused implements store.QueueAdmin.
func (s *Store) Paused(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.pausedKey()).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: paused: %w", err)
	}
	return n > 0, nil
}

// setPaused records the pause flag as read from Redis by a call sent when
// the pool's pause generation was gen: a wake-up message that came since
// is newer and wins. p.mu is held.
func (p *pool) setPaused(paused bool, gen uint64) {
	if gen != p.pauseGen || paused == p.paused {
		return
	}
	p.paused = paused
	if !paused {
		p.broadcast()
	}
}

// pauseMessage applies a Pause or Resume of the wake-up channel.
func (p *pool) pauseMessage(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauseGen++
	p.setPaused(paused, p.pauseGen)
}

// readPaused reads the pause flag (at the pool's start and every
// pausePoll); an error keeps the state as it is.
func (p *pool) readPaused() {
	p.mu.Lock()
	gen := p.pauseGen
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, time.Second)
	defer cancel()
	n, err := p.s.rdb.Exists(ctx, p.s.pausedKey()).Result()
	if err != nil {
		if p.ctx.Err() == nil {
			p.s.storeError(p.ctx, "paused", err)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setPaused(n > 0, gen)
}

var _ store.QueueAdmin = (*Store)(nil)
