package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
)

// The consumers of one Store share a pool: one goroutine that holds the
// Store's share of the partitions, reads their streams in batches when a
// wake-up says there is something to read, and acknowledges in batches;
// the Consume calls are its workers. A case (a message key) is a lane of
// the pool: its messages run one at a time and in order, and a lane whose
// message fails (waiting for the retry delay) or runs long holds only its
// own later messages, as SQS FIFO message groups do. Every other case goes
// on at once on the other workers.
//
// Partitions are shared among the Stores whose consumers run (on every
// replica): each takes about Partitions / (number of Stores) of them, and
// gives back what it holds beyond its share when another Store joins. A
// partition is held with a lease, as before: renewed every third of
// Queue.Lease, taken over after it when its holder dies, and given back at
// once when the holder stops.
//
// Attempts are written to Redis only when a message fails or is taken
// over from another holder: a message read fresh from its stream has had
// no attempt, and the pool counts the rest in memory.

const (
	readBatch  = 64  // entries read from a stream in one command
	readAhead  = 256 // entries waiting for a worker, at most, before reading stops
	ackBatch   = 256 // entries acknowledged in one script call
	rebalance  = "rebalance"
	failedWait = 100 * time.Millisecond // a failed pool's stop waits at most this for Redis
)

// ackScript acknowledges and deletes entries of a partition's stream and
// forgets the attempts, retry times and last errors of those that have
// some recorded (KEYS: the stream, its attempts, its retry set and its
// errors): ARGV[1] is the
// group, ARGV[2] how many of the ids (the first ones) have attempts
// recorded, the rest are entry ids.
var ackScript = redis.NewScript(`
local k = tonumber(ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))
redis.call('XDEL', KEYS[1], unpack(ARGV, 3))
if k > 0 then
  redis.call('HDEL', KEYS[2], unpack(ARGV, 3, 2 + k))
  redis.call('ZREM', KEYS[3], unpack(ARGV, 3, 2 + k))
  redis.call('HDEL', KEYS[4], unpack(ARGV, 3, 2 + k))
end
return 0`)

// failScript counts a failed attempt of entries (KEYS: the partition's
// attempts and retry set; ARGV[1] the retry delay in ms, the rest entry
// ids) and records when each may run again, on the server's clock, for
// Stats. Entries whose retry time has passed are dropped from the set
// (Stats counts only the others; acknowledgements and take-overs remove
// theirs too), so it holds about the entries waiting now.
var failScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = now + tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
for i = 2, #ARGV do
  redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
  redis.call('ZADD', KEYS[2], at, ARGV[i])
end
return 0`)

// failArgs are failScript's arguments for ids.
func (s *Store) failArgs(ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, max(s.opts.Queue.RetryDelay.Milliseconds(), 1))
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// ackKeys are ackScript's keys for partition n.
func (s *Store) ackKeys(n int) []string {
	return []string{s.stream(n), s.attempts(n), s.retryKey(n), s.errorsKey(n)}
}

// ackArgs are ackScript's arguments for the first entries of lanes.
func ackArgs(lanes []*lane) []any {
	args := make([]any, 2, len(lanes)+2)
	args[0] = group
	for _, l := range lanes {
		if e := l.msgs[0]; e.recorded {
			args = append(args, e.id)
		}
	}
	args[1] = len(args) - 2
	for _, l := range lanes {
		if e := l.msgs[0]; !e.recorded {
			args = append(args, e.id)
		}
	}
	return args
}

// membersScript records a Store's heartbeat (ARGV[1] its id, ARGV[2] the
// heartbeat's life in ms), drops expired ones and counts those alive, on
// Redis's clock.
var membersScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])`)

type pool struct {
	s    *Store
	id   string // lease holder and consumer of the streams' group
	ctx  context.Context
	stop context.CancelFunc
	kick chan struct{} // cap 1: the loop has something to do
	tick chan struct{} // cap 1: look at the share of partitions now
	done chan struct{}

	mu       sync.Mutex
	workers  int // Consume calls
	stopping bool
	err      error // the pool failed; its workers return it
	parts    map[int]*part
	lanes    map[string]*lane
	ready    []*lane       // lanes whose next message may run, in order of readiness
	wake     chan struct{} // closed and replaced when a lane is ready or the pool fails
	resweep  bool          // the wake-up channel was (re)subscribed: read every partition
	paused   bool          // the queue is paused (Store.Pause): workers take nothing
	pauseGen uint64        // counts the Pause and Resume messages received
}

type partState int

const (
	partActive   partState = iota
	partDraining           // given back: no more reads, finishing what runs
	partLost               // its lease went to another holder
)

type part struct {
	n        int
	hold     *holding
	unwatch  func() bool // stops watching hold for a lost lease
	state    partState
	claiming bool   // taking over the pending entries first
	cursor   string // of XAUTOCLAIM
	dirty    bool   // may have entries to read
	running  int
	lanes    map[string]*lane
	acks     []*lane    // lanes whose first entry ran and awaits its acknowledgement
	deads    []deadItem // entries out of attempts, to move to the dead letters
	failed   []string   // ids whose failure is not yet counted in Redis
	failErrs []any      // their ids and errors, pairs for the errors hash
}

type deadItem struct {
	lane *lane
	msg  store.Message
	err  error // the last attempt's, for the observer
}

type laneState int

const (
	laneIdle     laneState = iota // in p.ready, or without messages
	laneRunning                   // its first entry runs
	laneAcking                    // its first entry ran; waiting for the acknowledgement
	laneRetrying                  // its first entry failed; waiting for the retry delay
)

type lane struct {
	key   string
	part  *part
	msgs  []*entry
	state laneState
}

type entry struct {
	id       string // the stream entry's
	qid      string // the queue's id of the message (messageID)
	key      string
	payload  []byte
	header   map[string]string
	enqueued time.Time
	counted  int64 // attempts recorded so far: the next run is attempt counted+1
	// recorded says the partition's attempts hash may hold the entry:
	// it failed here, or was taken over.
	recorded bool
}

// Consume implements store.Queue. It runs h for messages until ctx ends:
// every message of a case after the previous one has been acknowledged,
// and different cases at once on the Consume calls of the Store (and on
// the other replicas' Stores, which hold other partitions).
//
// consumer is only a readable prefix: the pool of a Store's consumers has
// an identity of its own, the first consumer's name plus a random suffix,
// as lease holder and as consumer of the streams' group. Replicas that are
// all PID 1 in containers on one host network often pass the same name;
// with the name alone as identity they took one lease at once and ran
// messages twice. When a partition's lease is lost (found another's, or a
// renewal could not be made in time), the handlers running its messages
// see their context end and the messages are left to the new holder.
//
// h's context ends with ctx or when the partition's lease is lost. A
// handler that outlives ctx (a Shutdown letting callbacks finish) keeps
// its partition until it returns, and its success is acknowledged.
// While the queue is paused (Pause, from any replica) the workers take no
// message, and take them again at once on Resume (within half a second
// if the wake-up message was missed); a message running goes on.
// Consume returns nil when ctx ends, and an error when Redis fails under
// the pool (every Consume call of the Store returns it; call Consume again
// after a pause, as the handlers' WithQueue does).
func (s *Store) Consume(ctx context.Context, consumer string, h store.Handler) error {
	if consumer == "" {
		consumer = "consumer"
	}
	return s.join(consumer).work(ctx, h)
}

func (s *Store) join(consumer string) *pool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if p := s.qpool; p != nil {
		p.mu.Lock()
		ok := !p.stopping && p.err == nil
		if ok {
			p.workers++
		}
		p.mu.Unlock()
		if ok {
			return p
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &pool{s: s, id: consumer + "-" + token(), ctx: ctx, stop: stop,
		kick: make(chan struct{}, 1), tick: make(chan struct{}, 1), done: make(chan struct{}),
		workers: 1, parts: map[int]*part{}, lanes: map[string]*lane{}, wake: make(chan struct{})}
	s.qpool = p
	go p.loop()
	return p
}

// poke tells the loop it has something to do.
func (p *pool) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *pool) retick() {
	select {
	case p.tick <- struct{}{}:
	default:
	}
}

// broadcast wakes the workers; p.mu is held.
func (p *pool) broadcast() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// fail ends the pool with err: its workers return it once their handler
// returns. p.mu is held.
func (p *pool) fail(err error) {
	if p.err == nil {
		p.err = err
		p.broadcast()
	}
}

// work is one Consume call: it takes ready lanes' first messages until ctx
// ends or the pool fails.
func (p *pool) work(ctx context.Context, h store.Handler) error {
	defer p.leave()
	for {
		p.mu.Lock()
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return err
		}
		if ctx.Err() != nil {
			p.mu.Unlock()
			return nil
		}
		var l *lane
		if !p.paused {
			l = p.popReady()
		}
		if l == nil {
			wake := p.wake
			p.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
			}
			continue
		}
		e := l.msgs[0]
		l.state = laneRunning
		l.part.running++
		lease := l.part.hold.ctx
		p.mu.Unlock()
		p.poke() // room to read ahead

		hctx, cancel := context.WithCancel(ctx)
		unwatch := context.AfterFunc(lease, cancel) // the lease lost: the new holder runs it
		herr := h(hctx, e.message())
		unwatch()
		cancel()
		if failed := p.finish(l, e, herr, ctx.Err() != nil); failed > 0 && p.s.obs != nil {
			p.s.obs.Event(ctx, observe.Event{Kind: observe.KindQueueRetry, Queue: p.s.opts.Prefix,
				Key: e.key, MessageID: e.qid, Attempt: failed, Err: herr})
		}
	}
}

// message is the entry as the handler gets it, on its next attempt.
func (e *entry) message() store.Message {
	return store.Message{ID: e.qid, Key: e.key, Payload: e.payload, Header: e.header,
		Attempts: int(e.counted) + 1, Enqueued: e.enqueued}
}

// popReady takes the first lane that may run; p.mu is held.
func (p *pool) popReady() *lane {
	for len(p.ready) > 0 {
		l := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		if l.state == laneIdle && len(l.msgs) > 0 && l.part.live() && p.lanes[l.key] == l {
			return l
		}
	}
	return nil
}

// settle puts a lane that is idle again where it belongs: in p.ready when
// it has a message, dropped when it has none; p.mu is held. A lane of a
// partition that is no longer active stays with its partition until the
// partition is closed.
func (p *pool) settle(l *lane) {
	l.state = laneIdle
	switch {
	case !l.part.live():
	case len(l.msgs) == 0:
		delete(p.lanes, l.key)
		delete(l.part.lanes, l.key)
	default:
		p.ready = append(p.ready, l)
		p.broadcast()
	}
}

// finish records the outcome of a lane's first message. When the message
// failed and will run again it returns the failed attempt's number (1 for
// the first run), else 0.
func (p *pool) finish(l *lane, e *entry, herr error, stopped bool) (failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.poke()
	pt := l.part
	pt.running--
	o := p.s.opts.Queue
	switch {
	case herr == nil:
		l.state = laneAcking
		pt.acks = append(pt.acks, l)
	case stopped, pt.state == partLost, pt.hold.lost():
		// Stopped in the middle: not an attempt, the message stays first
		// of its case, for another worker or the next holder. Lost: the
		// new holder runs it (and counts this attempt when it takes it).
		p.settle(l)
	case e.counted+1 >= int64(o.MaxAttempts):
		l.state = laneAcking
		m := e.message()
		m.Err = herr.Error()
		pt.deads = append(pt.deads, deadItem{l, m, herr})
	default:
		e.counted++
		e.recorded = true
		pt.failed = append(pt.failed, e.id)
		pt.failErrs = append(pt.failErrs, e.id, lastError(herr))
		l.state = laneRetrying
		time.AfterFunc(o.RetryDelay, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if l.state == laneRetrying {
				p.settle(l)
			}
		})
		return int(e.counted)
	}
	return 0
}

// leave ends a Consume call; the last one stops the pool.
func (p *pool) leave() {
	p.mu.Lock()
	p.workers--
	last := p.workers == 0
	if last {
		p.stopping = true
	}
	p.mu.Unlock()
	if last {
		p.s.qmu.Lock()
		if p.s.qpool == p {
			p.s.qpool = nil
		}
		p.s.qmu.Unlock()
		p.poke()
	}
}

// loop is the pool's goroutine: heartbeats and the share of partitions,
// reads, acknowledgements, and closing given-back or lost partitions.
func (p *pool) loop() {
	defer close(p.done)
	defer p.stop()
	s := p.s
	sub := s.rdb.Subscribe(p.ctx, s.wakeChannel())
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		p.listen(sub)
	}()
	defer func() {
		_ = sub.Close()
		p.stop()
		<-listening
	}()
	beat := time.NewTicker(max(s.opts.Queue.Lease/3, time.Millisecond))
	defer beat.Stop()
	sweep := time.NewTicker(max(s.opts.Poll, time.Millisecond))
	defer sweep.Stop()
	pausing := time.NewTicker(pausePoll)
	defer pausing.Stop()
	p.readPaused()
	p.share(true)
	for {
		p.mu.Lock()
		stopping := p.stopping || p.err != nil
		if stopping {
			for _, pt := range p.parts {
				if pt.live() {
					p.drain(pt)
				}
			}
		}
		empty := len(p.parts) == 0
		p.mu.Unlock()
		if stopping && empty {
			break
		}
		if p.step() {
			continue // more to do at once (a full batch, a claim going on)
		}
		select {
		case <-p.kick:
		case <-p.tick:
			p.share(false)
		case <-beat.C:
			p.share(false)
		case <-sweep.C:
			p.mu.Lock()
			p.resweep = true
			p.mu.Unlock()
		case <-pausing.C:
			p.readPaused()
		}
	}
	bg, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.rdb.ZRem(bg, s.membersKey(), p.id)
	s.leave(bg, p.id)
}

// listen turns the wake-up channel's messages into reads of held
// partitions and looks at the share when Stores come and go.
func (p *pool) listen(sub *redis.PubSub) {
	backoff := 50 * time.Millisecond
	for {
		msg, err := sub.Receive(p.ctx)
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			p.s.storeError(p.ctx, "subscribe", err)
			select { // Receive reconnects and resubscribes on the next call
			case <-p.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: a wake-up may have been missed meanwhile.
			p.mu.Lock()
			p.resweep = true
			p.mu.Unlock()
			p.poke()
		case *redis.Message:
			switch m.Payload {
			case rebalance:
				p.retick()
				continue
			case pauseMsg, resumeMsg:
				p.pauseMessage(m.Payload == pauseMsg)
				continue
			}
			n, err := strconv.Atoi(m.Payload)
			if err != nil {
				continue
			}
			p.mu.Lock()
			pt := p.parts[n]
			if pt != nil {
				pt.dirty = true
			}
			p.mu.Unlock()
			if pt != nil {
				p.poke()
			}
		}
	}
}

// share records the heartbeat, counts the Stores whose consumers run, and
// takes free partitions up to this Store's share or gives back those
// beyond it. joined says the pool just started: the others are told, so
// they give back at once.
func (p *pool) share(joined bool) {
	s := p.s
	o := s.opts
	ctx, cancel := context.WithTimeout(p.ctx, max(o.Queue.Lease/3, time.Second))
	defer cancel()
	n, err := membersScript.Run(ctx, s.rdb, []string{s.membersKey()}, p.id, max(o.Queue.Lease.Milliseconds(), 1)).Int()
	if err != nil {
		if p.ctx.Err() == nil {
			p.mu.Lock()
			p.fail(fmt.Errorf("redisstore: consumers' heartbeat: %w", err))
			p.mu.Unlock()
			s.storeError(p.ctx, "heartbeat", err)
		}
		return
	}
	if joined {
		s.rdb.Publish(ctx, s.wakeChannel(), rebalance)
	}
	share := (o.Partitions + max(n, 1) - 1) / max(n, 1)

	p.mu.Lock()
	if p.stopping || p.err != nil {
		p.mu.Unlock()
		return
	}
	active := 0
	for _, pt := range p.parts {
		if pt.live() {
			active++
		}
	}
	if active > share {
		// Give back the partitions with the least going on.
		var held []*part
		for _, pt := range p.parts {
			if pt.live() {
				held = append(held, pt)
			}
		}
		slices.SortFunc(held, func(a, b *part) int { return (a.running + len(a.lanes)) - (b.running + len(b.lanes)) })
		for _, pt := range held[:active-share] {
			p.drain(pt)
		}
		p.mu.Unlock()
		p.poke()
		return
	}
	var free []int
	for i := range o.Partitions {
		if p.parts[i] == nil {
			free = append(free, i)
		}
	}
	p.mu.Unlock()
	want := share - active
	if want <= 0 || len(free) == 0 {
		return
	}
	rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	taken := time.Now()
	pipe := s.rdb.Pipeline()
	sets := make([]*redis.BoolCmd, len(free))
	for i, n := range free {
		sets[i] = pipe.SetNX(ctx, s.lease(n), p.id, o.Queue.Lease)
	}
	_, _ = pipe.Exec(ctx)
	var got []int
	for i, c := range sets {
		if ok, err := c.Result(); err == nil && ok {
			got = append(got, free[i])
		}
	}
	if len(got) > want { // more were free than the share: give the rest back
		for _, n := range got[want:] {
			dropLeaseScript.Run(ctx, s.rdb, []string{s.lease(n)}, p.id)
		}
		got = got[:want]
	}
	for _, n := range got {
		p.open(ctx, n, taken)
	}
}

// open starts holding partition n, whose lease was taken at taken.
func (p *pool) open(ctx context.Context, n int, taken time.Time) {
	s := p.s
	err := s.rdb.XGroupCreateMkStream(ctx, s.stream(n), group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		dropLeaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{s.lease(n)}, p.id)
		p.mu.Lock()
		p.fail(fmt.Errorf("redisstore: create consumer group: %w", err))
		p.mu.Unlock()
		s.storeError(p.ctx, "create_group", err)
		return
	}
	s.pruneConsumers(ctx, n)
	pt := &part{n: n, claiming: true, cursor: "0-0", dirty: true, lanes: map[string]*lane{}}
	pt.hold = s.hold(p.ctx, s.lease(n), p.id, taken)
	pt.unwatch = context.AfterFunc(pt.hold.ctx, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if pt.hold.lost() && pt.state != partLost {
			pt.state = partLost
			p.poke()
		}
	})
	p.mu.Lock()
	p.parts[n] = pt
	p.mu.Unlock()
	p.poke()
}

// live reports whether pt is held and active: not given back, and its
// lease not lost (a renewal that found it lost marks it at once, before the
// watch on the lease runs); p.mu is held.
func (pt *part) live() bool {
	if pt.state == partActive && pt.hold.lost() {
		pt.state = partLost
	}
	return pt.state == partActive
}

// drain gives partition pt back once what runs there has finished; p.mu
// is held.
func (p *pool) drain(pt *part) {
	if pt.live() {
		pt.state = partDraining
	}
}

// step does one round of the loop's work in one round trip where it can:
// moves dead letters, then acknowledges, records failures and reads the
// dirty partitions in one pipeline; closes the partitions given back or
// lost once nothing of theirs runs. It reports whether there is more to do
// at once.
func (p *pool) step() (more bool) {
	s := p.s
	ctx := p.ctx
	p.mu.Lock()
	failed := p.err != nil
	if p.resweep {
		p.resweep = false
		for _, pt := range p.parts {
			pt.dirty = true
		}
	}
	var closing []*part
	var deads []deadItem
	for _, pt := range p.parts {
		if !pt.live() && pt.running == 0 && (failed || len(pt.acks)+len(pt.deads) == 0) {
			closing = append(closing, pt)
			delete(p.parts, pt.n)
			continue
		}
		deads = append(deads, pt.deads...)
		pt.deads = nil
	}
	p.mu.Unlock()

	for _, pt := range closing {
		p.close(pt)
	}
	// A dead letter is written before its entry is acknowledged.
	for i, d := range deads {
		b, _ := json.Marshal(d.msg)
		if err := s.rdb.HSet(ctx, s.deadKey(), d.msg.ID, b).Err(); err != nil {
			p.mu.Lock()
			for _, d := range deads[i:] {
				d.lane.part.deads = append(d.lane.part.deads, d)
			}
			p.fail(fmt.Errorf("redisstore: dead letter: %w", err))
			p.mu.Unlock()
			s.storeError(ctx, "dead_letter", err)
			return false
		}
		p.mu.Lock()
		d.lane.part.acks = append(d.lane.part.acks, d.lane)
		p.mu.Unlock()
		if o := s.obs; o != nil {
			o.Event(ctx, observe.Event{Kind: observe.KindDeadLettered, Queue: s.opts.Prefix,
				Key: d.msg.Key, MessageID: d.msg.ID, Attempt: d.msg.Attempts, Err: d.err})
		}
	}

	type ackCall struct {
		pt    *part
		lanes []*lane
		cmd   *redis.Cmd
	}
	type readCall struct {
		pt    *part
		count int
		read  *redis.XStreamSliceCmd
		claim *redis.XAutoClaimCmd
	}
	var acks []ackCall
	var reads []readCall
	pipe := s.rdb.Pipeline()
	p.mu.Lock()
	room := readAhead
	for _, l := range p.ready {
		if l.state == laneIdle {
			room -= len(l.msgs)
		}
	}
	for _, pt := range p.parts {
		if len(pt.failed) > 0 {
			failScript.Eval(ctx, pipe, []string{s.attempts(pt.n), s.retryKey(pt.n)}, s.failArgs(pt.failed)...)
			pipe.HSet(ctx, s.errorsKey(pt.n), pt.failErrs...)
		}
		pt.failed, pt.failErrs = nil, nil
		for len(pt.acks) > 0 {
			n := min(len(pt.acks), ackBatch)
			ls := slices.Clone(pt.acks[:n])
			pt.acks = pt.acks[n:]
			acks = append(acks, ackCall{pt, ls, ackScript.Eval(ctx, pipe, s.ackKeys(pt.n), ackArgs(ls)...)})
		}
		if failed || !pt.live() || !pt.dirty || room <= 0 {
			continue
		}
		n := min(readBatch, room)
		room -= n
		pt.dirty = false
		rc := readCall{pt: pt, count: n}
		if pt.claiming {
			rc.claim = pipe.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.stream(pt.n), Group: group,
				Consumer: p.id, MinIdle: 0, Start: pt.cursor, Count: int64(n)})
		} else {
			rc.read = pipe.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: p.id,
				Streams: []string{s.stream(pt.n), ">"}, Count: int64(n), Block: -1})
		}
		reads = append(reads, rc)
	}
	// The pause flag, read after the streams: an entry enqueued after a
	// Pause returned is read with the flag set.
	var pausedCmd *redis.IntCmd
	pauseGen := p.pauseGen
	if len(reads) > 0 {
		pausedCmd = pipe.Exists(ctx, s.pausedKey())
	}
	p.mu.Unlock()
	if pipe.Len() == 0 {
		return false
	}
	_, _ = pipe.Exec(ctx)

	var errs []storeErr // reported once p.mu is unlocked, the first of each op
	defer func() {
		if len(errs) == 0 {
			return
		}
		seen := map[string]bool{}
		for _, e := range errs {
			if !seen[e.op] {
				seen[e.op] = true
				s.storeError(ctx, e.op, e.err)
			}
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	if pausedCmd != nil {
		if n, err := pausedCmd.Result(); err == nil {
			p.setPaused(n > 0, pauseGen)
		}
	}
	for _, a := range acks {
		if err := a.cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			a.pt.acks = append(a.lanes, a.pt.acks...) // in order, for the next round
			p.fail(fmt.Errorf("redisstore: acknowledge: %w", err))
			errs = append(errs, storeErr{"ack", err})
			continue
		}
		for _, l := range a.lanes {
			l.msgs[0] = nil
			l.msgs = l.msgs[1:]
			p.settle(l)
		}
	}
	var claimed []*entry
	var claimedPart []*part
	for _, r := range reads {
		var msgs []redis.XMessage
		var err error
		if r.claim != nil {
			var next string
			msgs, next, err = r.claim.Result()
			if err == nil {
				r.pt.cursor = next
				if next == "0-0" || next == "" {
					r.pt.claiming = false
				}
				r.pt.dirty = true // the rest of the claim, or the new entries
			}
		} else {
			var res []redis.XStream
			res, err = r.read.Result()
			if len(res) > 0 {
				msgs = res[0].Messages
			}
			if len(msgs) >= r.count {
				r.pt.dirty = true
			}
		}
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		if err != nil {
			r.pt.dirty = true
			p.fail(fmt.Errorf("redisstore: read: %w", err))
			errs = append(errs, storeErr{"read", err})
			continue
		}
		if !r.pt.live() {
			continue // left pending for the next holder
		}
		for _, x := range msgs {
			e := readEntry(r.pt.n, x)
			if r.claim != nil {
				claimed = append(claimed, e)
				claimedPart = append(claimedPart, r.pt)
				continue
			}
			p.push(r.pt, e)
		}
		more = more || r.pt.dirty
	}
	if len(claimed) > 0 {
		// Taken over: the previous holder may have been running them.
		// Count that attempt, then run them (before the new entries, which
		// the claim's dirty flag reads next round), at once: they no
		// longer wait for a retry delay.
		p.mu.Unlock()
		cp := s.rdb.Pipeline()
		counts := make([]*redis.IntCmd, len(claimed))
		for i, e := range claimed {
			counts[i] = cp.HIncrBy(ctx, s.attempts(claimedPart[i].n), e.id, 1)
			cp.ZRem(ctx, s.retryKey(claimedPart[i].n), e.id)
		}
		_, _ = cp.Exec(ctx)
		p.mu.Lock()
		for i, e := range claimed {
			c, err := counts[i].Result()
			if err != nil {
				p.fail(fmt.Errorf("redisstore: attempts: %w", err))
				errs = append(errs, storeErr{"attempts", err})
				return true
			}
			e.counted, e.recorded = c, true
			if claimedPart[i].live() {
				p.push(claimedPart[i], e)
			}
		}
	}
	for _, pt := range p.parts {
		if !pt.live() && pt.running == 0 && (p.err != nil || len(pt.acks)+len(pt.deads) == 0) {
			more = true // to close at once
		}
	}
	return more
}

// storeErr is a failed Redis call of the pool, for the observer.
type storeErr struct {
	op  string
	err error
}

// push appends a read entry to its case's lane; p.mu is held.
func (p *pool) push(pt *part, e *entry) {
	l := p.lanes[e.key]
	if l == nil {
		l = &lane{key: e.key, part: pt}
		p.lanes[e.key] = l
		pt.lanes[e.key] = l
	}
	l.msgs = append(l.msgs, e)
	if l.state == laneIdle && len(l.msgs) == 1 {
		p.ready = append(p.ready, l)
		p.broadcast()
	}
}

// close ends the holding of a partition given back or lost, once nothing
// of it runs: the failures are counted, the entries read and not run are
// uncounted by one (the next holder counts one attempt for every entry it
// takes over, which for these never ran), the lease is given back and the
// others are told.
func (p *pool) close(pt *part) {
	s := p.s
	p.mu.Lock()
	var unrun []string
	acking := map[*lane]bool{}
	for _, l := range pt.acks {
		acking[l] = true
	}
	for _, d := range pt.deads {
		acking[d.lane] = true
	}
	for key, l := range pt.lanes {
		msgs := l.msgs
		if acking[l] && len(msgs) > 0 {
			msgs = msgs[1:] // it ran
		}
		for _, e := range msgs {
			unrun = append(unrun, e.id)
		}
		delete(p.lanes, key)
		l.state = laneIdle
	}
	failed, failErrs := pt.failed, pt.failErrs
	acks := pt.acks
	pt.failed, pt.failErrs, pt.acks, pt.lanes = nil, nil, nil, nil
	p.mu.Unlock()

	pt.unwatch()
	pt.hold.end()
	timeout := time.Second
	if p.err != nil {
		timeout = failedWait
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), timeout)
	defer cancel()
	pipe := s.rdb.Pipeline()
	for _, id := range failed {
		pipe.HIncrBy(ctx, s.attempts(pt.n), id, 1)
	}
	if len(failErrs) > 0 {
		pipe.HSet(ctx, s.errorsKey(pt.n), failErrs...)
	}
	for _, id := range unrun {
		pipe.HIncrBy(ctx, s.attempts(pt.n), id, -1)
	}
	acks = slices.DeleteFunc(acks, func(l *lane) bool { return len(l.msgs) == 0 })
	if len(acks) > 0 { // a failed pool's last try
		ackScript.Eval(ctx, pipe, s.ackKeys(pt.n), ackArgs(acks)...)
	}
	if pt.state == partDraining {
		dropLeaseScript.Eval(ctx, pipe, []string{s.lease(pt.n)}, p.id)
		pipe.Publish(ctx, s.wakeChannel(), rebalance)
	}
	_, _ = pipe.Exec(ctx)
}
