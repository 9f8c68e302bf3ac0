package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/observe"
)

// MemoryDeduplicator is the in-process Deduplicator, the default. It
// forgets keys when their lease or ttl passes.
type MemoryDeduplicator struct {
	mu     sync.Mutex
	keys   map[string]*dedupEntry
	sweeps int
	bound  binding // the bot it serves (Bind)
}

type dedupEntry struct {
	token   string
	done    bool
	answer  []byte
	expires time.Time
}

// NewMemoryDeduplicator returns an empty in-memory Deduplicator.
func NewMemoryDeduplicator() *MemoryDeduplicator {
	return &MemoryDeduplicator{keys: map[string]*dedupEntry{}}
}

// errNoToken refuses a claim without a token, which would match any other
// tokenless caller.
var errNoToken = errors.New("store: a claim needs a token")

// Claim implements Deduplicator.
func (d *MemoryDeduplicator) Claim(_ context.Context, key, token string, lease time.Duration) (Claim, error) {
	if token == "" {
		return Claim{}, errNoToken
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep(now)
	if e, ok := d.keys[key]; ok && now.Before(e.expires) {
		if e.done {
			return Claim{State: Done, Answer: slices.Clone(e.answer)}, nil
		}
		if e.token != token {
			return Claim{State: Busy}, nil
		}
	}
	d.keys[key] = &dedupEntry{token: token, expires: now.Add(lease)}
	return Claim{State: Acquired}, nil
}

// Renew implements Deduplicator.
func (d *MemoryDeduplicator) Renew(_ context.Context, key, token string, lease time.Duration) error {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.keys[key]
	if !ok || e.done || e.token != token || !now.Before(e.expires) {
		return ErrClaimLost
	}
	e.expires = now.Add(lease)
	return nil
}

// sweep drops expired keys every 256 claims, so memory follows the keys
// still alive.
func (d *MemoryDeduplicator) sweep(now time.Time) {
	if d.sweeps++; d.sweeps%256 != 0 {
		return
	}
	for k, e := range d.keys {
		if !now.Before(e.expires) {
			delete(d.keys, k)
		}
	}
}

// Complete implements Deduplicator.
func (d *MemoryDeduplicator) Complete(_ context.Context, key, token string, answer []byte, ttl time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.keys[key]; ok && e.token == token && !e.done {
		e.done, e.answer, e.expires = true, slices.Clone(answer), time.Now().Add(ttl)
	}
	return nil
}

// Release implements Deduplicator.
func (d *MemoryDeduplicator) Release(_ context.Context, key, token string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.keys[key]; ok && e.token == token && !e.done {
		delete(d.keys, key)
	}
	return nil
}

// MemoryRateLimiter is the in-process RateLimiter, the default. It forgets
// a key once its window is empty, so memory follows the keys used in the
// last window, not every key ever seen (20,000 cids seen once held 41 MB
// before).
type MemoryRateLimiter struct {
	mu      sync.Mutex
	times   map[string]*rateWindow
	longest time.Duration // the longest period asked for
	swept   time.Time
}

type rateWindow struct {
	times  []time.Time // the slots taken, oldest first
	period time.Duration
}

// NewMemoryRateLimiter returns an empty in-memory RateLimiter.
func NewMemoryRateLimiter() *MemoryRateLimiter {
	return &MemoryRateLimiter{times: map[string]*rateWindow{}}
}

// Take implements RateLimiter.
func (l *MemoryRateLimiter) Take(_ context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || period <= 0 {
		return false, 0, fmt.Errorf("store: rate limit of %d per %v: limit and period must be positive", limit, period)
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now, period)
	win := l.times[key]
	if win == nil {
		win = &rateWindow{}
	}
	win.period = period
	ts := win.times
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-period)) {
		i++
	}
	ts = ts[i:]
	if len(ts) < limit {
		win.times = append(ts, now)
		l.times[key] = win
		return true, 0, nil
	}
	if len(ts) == 0 {
		delete(l.times, key)
	} else {
		win.times = ts
		l.times[key] = win
	}
	return false, ts[len(ts)-limit].Add(period).Sub(now), nil
}

// sweep drops the keys whose newest slot is older than their period, at
// most once per longest period asked for and without a goroutine: a sweep
// walks every key, and each key it keeps was taken within that period, so
// the walks cost a constant per Take on average.
func (l *MemoryRateLimiter) sweep(now time.Time, period time.Duration) {
	l.longest = max(l.longest, period)
	if now.Sub(l.swept) < l.longest {
		return
	}
	l.swept = now
	for k, w := range l.times {
		if len(w.times) == 0 || !w.times[len(w.times)-1].After(now.Add(-w.period)) {
			delete(l.times, k)
		}
	}
}

// QueueOptions tunes a queue.
type QueueOptions struct {
	// MaxAttempts is how many times a message is tried before it goes to
	// the dead letters (default 5).
	MaxAttempts int
	// RetryDelay is the wait before a failed message runs again (default
	// 1 s); the messages after it with the same key wait too.
	RetryDelay time.Duration
	// Lease is how long a consumer may hold a message before another may
	// take it over (default 30 s). The in-memory queue has no other
	// process to hand over to and ignores it.
	Lease time.Duration
	// Observer receives the queue's events (observe.Event with Queue
	// naming the queue, Key and MessageID the message): a message that
	// failed and will run again (KindQueueRetry; Attempt is the failed
	// attempt, 1 for the first run, and Err its error), went to the dead
	// letters (KindDeadLettered; Attempt its last) or was replayed
	// (KindReplayed; Attempt the attempts it had), and, for a queue on a
	// server, the failures of the calls its consumers make on their own
	// (KindStoreError). The memory queue names itself "memory". Nil (the
	// default): the cost is a nil check. redisstore.Options.Observer, when
	// set, takes its place.
	Observer observe.Observer
}

func (o QueueOptions) withDefaults() QueueOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	return o
}

// Defaults returns o with its zero fields set to the defaults.
func (o QueueOptions) Defaults() QueueOptions { return o.withDefaults() }

// MemoryQueue is the in-process Queue, the default. It is not durable
// across a restart of the process: use store/redisstore for that.
type MemoryQueue struct {
	opts QueueOptions

	mu      sync.Mutex
	seq     int
	keys    []string // keys with messages, in order of arrival
	pending map[string]*keyQueue
	dead    []Message
	wake    chan struct{} // closed and replaced on every change
	paused  bool          // Pause: consumers take no message

	bound binding // the bot it serves (Bind)
}

type keyQueue struct {
	msgs      []queued
	running   bool
	notBefore time.Time
}

// queued is a message in a key's queue.
type queued struct {
	Message
	at      time.Time // when it was put on the queue: its Enqueue, or its Replay
	lastErr string    // the last failed attempt's error, for List and Message
}

// NewMemoryQueue returns an empty in-memory Queue.
func NewMemoryQueue(opts QueueOptions) *MemoryQueue {
	return &MemoryQueue{opts: opts.withDefaults(), pending: map[string]*keyQueue{}, wake: make(chan struct{})}
}

func (q *MemoryQueue) changed() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Enqueue implements Queue. It keeps copies of m's payload and header.
func (q *MemoryQueue) Enqueue(_ context.Context, m Message) (string, error) {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	id := strconv.Itoa(q.seq)
	q.push(Message{ID: id, Key: m.Key, Payload: slices.Clone(m.Payload), Header: maps.Clone(m.Header), Enqueued: now}, now)
	return id, nil
}

func (q *MemoryQueue) push(m Message, at time.Time) {
	kq := q.pending[m.Key]
	if kq == nil {
		kq = &keyQueue{}
		q.pending[m.Key] = kq
		q.keys = append(q.keys, m.Key)
	}
	kq.msgs = append(kq.msgs, queued{Message: m, at: at})
	q.changed()
}

// next takes the head of the first ready key, or says when to look again.
func (q *MemoryQueue) next(now time.Time) (Message, bool, time.Duration, <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	wait := time.Duration(-1)
	if q.paused {
		return Message{}, false, wait, q.wake
	}
	for _, k := range q.keys {
		kq := q.pending[k]
		if kq.running {
			continue
		}
		if d := kq.notBefore.Sub(now); d > 0 {
			if wait < 0 || d < wait {
				wait = d
			}
			continue
		}
		kq.running = true
		kq.msgs[0].Attempts++
		return kq.msgs[0].Message, true, 0, nil
	}
	return Message{}, false, wait, q.wake
}

// done records the outcome of m: acknowledged, retried later, dead, or
// handed back untouched when the consumer stopped; then it tells the
// observer, if any, of a retry or a dead letter.
func (q *MemoryQueue) done(ctx context.Context, m Message, err error, stopped bool) {
	kind := q.record(m, err, stopped)
	if o := q.opts.Observer; o != nil && kind != 0 {
		o.Event(ctx, observe.Event{Kind: kind, Queue: memoryQueueName, Key: m.Key, MessageID: m.ID, Attempt: m.Attempts, Err: err})
	}
}

// memoryQueueName names a MemoryQueue in its events.
const memoryQueueName = "memory"

// record is done under the lock; it returns the kind of event to report
// (KindQueueRetry, KindDeadLettered), or 0.
func (q *MemoryQueue) record(m Message, err error, stopped bool) observe.Kind {
	q.mu.Lock()
	defer q.mu.Unlock()
	kq := q.pending[m.Key]
	kq.running = false
	var kind observe.Kind
	switch {
	case stopped:
		kq.msgs[0].Attempts--
	case err == nil:
		kq.msgs = kq.msgs[1:]
	case m.Attempts >= q.opts.MaxAttempts:
		m.Err = err.Error()
		q.dead = append(q.dead, m)
		kq.msgs = kq.msgs[1:]
		kind = observe.KindDeadLettered
	default:
		kq.notBefore = time.Now().Add(q.opts.RetryDelay)
		kq.msgs[0].lastErr = err.Error()
		kind = observe.KindQueueRetry
	}
	if len(kq.msgs) == 0 {
		delete(q.pending, m.Key)
		q.keys = slices.DeleteFunc(q.keys, func(k string) bool { return k == m.Key })
	}
	q.changed()
	return kind
}

// Consume implements Queue. Several Consume calls share the messages, one
// key at a time each. The consumer name is only a label: two Consume calls
// with the same name are still two consumers, and a key's message runs in
// one of them at a time (a key is marked running under the queue's lock
// when a consumer takes it, whatever the consumer is called).
func (q *MemoryQueue) Consume(ctx context.Context, _ string, h Handler) error {
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		m, ok, wait, wake := q.next(time.Now())
		if ok {
			err := h(ctx, m)
			q.done(ctx, m, err, err != nil && ctx.Err() != nil)
			continue
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// DeadLetters implements Queue.
func (q *MemoryQueue) DeadLetters(context.Context) ([]Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.dead), nil
}

// Replay implements Queue: the dead letter goes back to the end of its
// key's messages with its attempts reset, its id, header and enqueue time
// kept.
func (q *MemoryQueue) Replay(ctx context.Context, id string) error {
	m, ok := q.replay(id)
	if !ok {
		return ErrNotFound
	}
	if o := q.opts.Observer; o != nil {
		o.Event(ctx, observe.Event{Kind: observe.KindReplayed, Queue: memoryQueueName, Key: m.Key, MessageID: id, Attempt: m.Attempts})
	}
	return nil
}

// replay moves the dead letter id back to the queue; it returns the dead
// letter as it was.
func (q *MemoryQueue) replay(id string) (Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, m := range q.dead {
		if m.ID == id {
			q.dead = slices.Delete(q.dead, i, i+1)
			again := m
			again.Attempts, again.Err = 0, ""
			q.push(again, time.Now())
			return m, true
		}
	}
	return Message{}, false
}

// Stats implements QueueInspector. A key's first message is Running while
// a consumer runs it, or Retrying while it waits for its retry delay; the
// key's later messages, and every message of the other keys, are Pending.
// OldestPending counts from a message's Enqueue, or its Replay for a
// replayed dead letter. It walks the keys that have messages (not the
// messages) under the queue's lock.
func (q *MemoryQueue) Stats(context.Context) (QueueStats, error) {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	var st QueueStats
	var oldest time.Time
	for _, k := range q.keys {
		kq := q.pending[k]
		n := len(kq.msgs)
		switch {
		case kq.running:
			st.Running++
			n--
		case kq.notBefore.After(now):
			st.Retrying++
			n--
		}
		st.Pending += n
		if at := kq.msgs[0].at; oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	st.Dead = len(q.dead)
	st.Paused = q.paused
	if !oldest.IsZero() {
		st.OldestPending = max(now.Sub(oldest), 1)
	}
	return st, nil
}

// binding is the bot a memory store serves, for Bind.
type binding struct {
	mu  sync.Mutex
	bot string
}

func (b *binding) bind(bot string) error {
	if bot == "" {
		return fmt.Errorf("store: Bind needs a bot identity")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.bot {
	case "":
		b.bot = bot
	case bot:
	default:
		return ErrSharedStore
	}
	return nil
}

// Bind implements Binder: a MemoryDeduplicator serves one bot; handlers of
// that bot (the same platform and credential) may share it.
func (d *MemoryDeduplicator) Bind(bot string) error { return d.bound.bind(bot) }

// Bind implements Binder: a MemoryQueue serves one bot, since its
// consumers run whatever message comes next; handlers of that bot (the
// same platform and credential) may share it.
func (q *MemoryQueue) Bind(bot string) error { return q.bound.bind(bot) }

var (
	_ Binder         = (*MemoryDeduplicator)(nil)
	_ Binder         = (*MemoryQueue)(nil)
	_ QueueInspector = (*MemoryQueue)(nil)
	_ QueueAdmin     = (*MemoryQueue)(nil)
)

// listLimit is ListOptions.Limit with its default and bound applied.
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
var errBadCursor = errors.New("store: list: not a cursor of this queue")

// memCursor is a position in a MemoryQueue listing: a message's time and
// sequence number. The encoded form is "<unix ns>.<seq>".
type memCursor struct {
	at  int64
	seq int
}

func (c memCursor) String() string { return strconv.FormatInt(c.at, 10) + "." + strconv.Itoa(c.seq) }

func (c memCursor) less(d memCursor) bool { return c.at < d.at || c.at == d.at && c.seq < d.seq }

func parseMemCursor(s string) (memCursor, error) {
	a, b, ok := strings.Cut(s, ".")
	at, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return memCursor{}, errBadCursor
	}
	return memCursor{at, seq}, nil
}

// listed is a message of a listing with its position.
type listed struct {
	pos memCursor
	m   Message
}

// List implements QueueAdmin. Pending messages come oldest first by when
// they were put on the queue (their Enqueue, or their Replay for a
// replayed dead letter; Enqueued keeps the first enqueue), dead letters
// oldest first by Enqueued. A pending message's Attempts are the runs
// started so far (the running one included) and Err its last failed
// attempt's error. The cursor is a position, so a page is neither
// repeated nor skipped when messages come and go between pages. Each page
// walks and sorts every message of the state under the queue's lock.
func (q *MemoryQueue) List(_ context.Context, opts ListOptions) (Page, error) {
	var after memCursor
	var from bool
	if opts.Cursor != "" {
		c, err := parseMemCursor(opts.Cursor)
		if err != nil {
			return Page{}, err
		}
		after, from = c, true
	}
	limit := listLimit(opts.Limit)
	var all []listed
	q.mu.Lock()
	switch opts.State {
	case StatePending:
		for _, k := range q.keys {
			for _, e := range q.pending[k].msgs {
				m := e.Message
				m.Err = e.lastErr
				all = append(all, listed{memCursor{e.at.UnixNano(), seqOf(m.ID)}, m})
			}
		}
	case StateDead:
		for _, m := range q.dead {
			all = append(all, listed{memCursor{m.Enqueued.UnixNano(), seqOf(m.ID)}, m})
		}
	default:
		q.mu.Unlock()
		return Page{}, fmt.Errorf("store: list: unknown state %q", opts.State)
	}
	q.mu.Unlock()
	slices.SortFunc(all, func(a, b listed) int {
		if a.pos.less(b.pos) {
			return -1
		}
		if b.pos.less(a.pos) {
			return 1
		}
		return 0
	})
	var page Page
	for _, l := range all {
		if from && !after.less(l.pos) {
			continue
		}
		if len(page.Messages) == limit {
			page.Next = after.String()
			break
		}
		m := l.m
		m.Header = maps.Clone(m.Header)
		if opts.Payload {
			m.Payload = slices.Clone(m.Payload)
		} else {
			m.Payload = nil
		}
		page.Messages = append(page.Messages, m)
		after = l.pos
	}
	return page, nil
}

// seqOf is the sequence number of a MemoryQueue id.
func seqOf(id string) int {
	n, _ := strconv.Atoi(id)
	return n
}

// Message implements QueueAdmin: the pending message or dead letter id,
// with its payload.
func (q *MemoryQueue) Message(_ context.Context, id string) (Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, k := range q.keys {
		for _, e := range q.pending[k].msgs {
			if e.ID == id {
				m := e.Message
				m.Err = e.lastErr
				m.Payload, m.Header = slices.Clone(m.Payload), maps.Clone(m.Header)
				return m, nil
			}
		}
	}
	for _, m := range q.dead {
		if m.ID == id {
			m.Payload, m.Header = slices.Clone(m.Payload), maps.Clone(m.Header)
			return m, nil
		}
	}
	return Message{}, ErrNotFound
}

// ReplayAll implements QueueAdmin: every dead letter is replayed, oldest
// first, as Replay does.
func (q *MemoryQueue) ReplayAll(ctx context.Context) (int, error) {
	dead, _ := q.DeadLetters(ctx)
	slices.SortStableFunc(dead, func(a, b Message) int { return a.Enqueued.Compare(b.Enqueued) })
	n := 0
	for _, m := range dead {
		switch err := q.Replay(ctx, m.ID); {
		case err == nil:
			n++
		case !errors.Is(err, ErrNotFound): // replayed or deleted meanwhile
			return n, err
		}
	}
	return n, nil
}

// DeleteDead implements QueueAdmin.
func (q *MemoryQueue) DeleteDead(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, m := range q.dead {
		if m.ID == id {
			q.dead = slices.Delete(q.dead, i, i+1)
			return nil
		}
	}
	return ErrNotFound
}

// DeleteAllDead implements QueueAdmin.
func (q *MemoryQueue) DeleteAllDead(context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.dead)
	q.dead = nil
	return n, nil
}

// Pause implements QueueAdmin: the queue's consumers take no message
// until Resume; a message running goes on.
func (q *MemoryQueue) Pause(context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.paused = true
	return nil
}

// Resume implements QueueAdmin: the consumers take messages again at
// once.
func (q *MemoryQueue) Resume(context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.paused {
		q.paused = false
		q.changed()
	}
	return nil
}

// Paused implements QueueAdmin.
func (q *MemoryQueue) Paused(context.Context) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.paused, nil
}
