package userlike

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
)

// ErrRateLimited is returned by Send with WithRateLimitWait(false) when the
// cid has no request left in the current minute.
var ErrRateLimited = errors.New("userlike: rate limit of the cid reached")

// Userlike's API limit: "you can only send 20 requests per minute that use
// the same cid".
const (
	DefaultRateLimit  = 20
	DefaultRatePeriod = time.Minute
	// DefaultRateMargin is added to the period before a slot frees (see
	// WithRateMargin). Slots are stamped when they are taken and Userlike
	// counts arrivals: a request that spent longer on its way (a new TLS
	// connection, a slow hop, a retry's backoff ending late) arrives closer
	// to the next window's first than they were taken. Three replicas on
	// loopback already arrived up to 156 ms closer; over the Internet a TLS
	// handshake alone takes hundreds of milliseconds. A second keeps the
	// limit at a cost of 1/61 of the throughput of one cid.
	DefaultRateMargin = time.Second
	// maxTrackedCIDs bounds the limiter's memory whatever the number of
	// sessions: past it, the least recently used cid is forgotten.
	maxTrackedCIDs = 10_000
)

// limiter keeps, per cid, the times of its last n requests (a sliding
// window), so no 60-second window ever holds more than n. Entries whose
// newest request left the window are useless and are dropped; the LRU list
// bounds the map even when many cids are active at once.
type limiter struct {
	n      int
	per    time.Duration
	noWait bool
	max    int

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	// shared, when set, keeps the windows instead (WithRateLimiter).
	shared store.RateLimiter
	// scope starts the shared limiter's keys: the Userlike account the
	// client's token belongs to (a fingerprint, never the token), so two
	// tenants' clients on one store count their conversations apart.
	scope string

	// obs, when set, sees every wait for a slot (KindRateLimited) and every
	// failure of the shared limiter (KindStoreError): the client's
	// observer (WithObserver).
	obs observe.Observer

	mu   sync.Mutex
	cids map[string]*list.Element // of *window
	lru  *list.List               // front = most recently used
}

type window struct {
	cid   string
	times []time.Time // ring of the last n request times
	next  int
	count int
}

// newLimiter keeps n requests per period per cid; a slot frees margin
// after the period (margin < 0: none), for the transit between the sender
// and Userlike.
func newLimiter(n int, per, margin time.Duration, noWait bool, shared store.RateLimiter) *limiter {
	if n <= 0 {
		n = DefaultRateLimit
	}
	if per <= 0 {
		per = DefaultRatePeriod
	}
	return &limiter{
		n: n, per: per + max(margin, 0), noWait: noWait, max: maxTrackedCIDs, shared: shared, scope: "userlike",
		now: time.Now, sleep: sleepCtx,
		cids: map[string]*list.Element{}, lru: list.New(),
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait reserves a request slot for cid, waiting for one if needed (or
// failing with ErrRateLimited in no-wait mode, or with ctx's error). op is
// the client's operation, for the observer.
func (l *limiter) wait(ctx context.Context, op, cid string) error {
	if l.shared != nil {
		return l.waitShared(ctx, op, cid)
	}
	r, err := l.reserve(cid)
	if err != nil {
		l.limited(ctx, op, observe.SourceLocal, r.wait, err)
		return err
	}
	if r.wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < r.wait { // deadlines are wall-clock
		l.cancel(cid, r)
		err := fmt.Errorf("%w: next slot in %s, after the context deadline", ErrRateLimited, r.wait.Round(time.Millisecond))
		l.limited(ctx, op, observe.SourceLocal, r.wait, err)
		return err
	}
	l.limited(ctx, op, observe.SourceLocal, r.wait, nil)
	if err := l.sleep(ctx, r.wait); err != nil {
		l.cancel(cid, r)
		return err
	}
	return nil
}

// reservation is a slot taken in a cid's window: the time it was taken for
// and the entry it replaced, so an abandoned wait can give it back.
type reservation struct {
	at   time.Time
	prev time.Time
	wait time.Duration
}

// reserve records a request for cid at the earliest allowed time and
// returns how long to wait for it. In no-wait mode a full window is an
// error wrapping ErrRateLimited, with the wait it would have taken.
func (l *limiter) reserve(cid string) (reservation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.window(cid, now)
	at := now
	if w.count == l.n {
		oldest := w.times[w.next] // the ring is full: next is the oldest
		if free := oldest.Add(l.per); free.After(now) {
			if l.noWait {
				wait := free.Sub(now)
				return reservation{wait: wait}, fmt.Errorf("%w: next slot in %s", ErrRateLimited, wait.Round(time.Millisecond))
			}
			at = free
		}
	}
	r := reservation{at: at, prev: w.times[w.next], wait: at.Sub(now)}
	w.times[w.next] = at
	w.next = (w.next + 1) % l.n
	w.count = min(w.count+1, l.n)
	return r, nil
}

// cancel gives back reservation r of cid when it is still the newest (a
// wait that was abandoned never reached Userlike). If another request
// reserved after it, the slot stays taken: that only errs on the safe side.
func (l *limiter) cancel(cid string, r reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.cids[cid]
	if !ok {
		return
	}
	w := e.Value.(*window)
	last := (w.next - 1 + l.n) % l.n
	if w.count == 0 || !w.times[last].Equal(r.at) {
		return
	}
	w.next = last
	w.times[last] = r.prev
	if r.prev.IsZero() {
		w.count--
	}
}

func (l *limiter) window(cid string, now time.Time) *window {
	if e, ok := l.cids[cid]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*window)
	}
	l.evict(now)
	w := &window{cid: cid, times: make([]time.Time, l.n)}
	l.cids[cid] = l.lru.PushFront(w)
	return w
}

// evict drops windows from the back of the LRU list while they are idle
// (their newest request left the period, so they constrain nothing) or the
// map is full. The list is ordered by last use, which is also the order of
// newest requests, so the first busy window from the back ends the scan.
func (l *limiter) evict(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		w := e.Value.(*window)
		idle := now.Sub(w.times[(w.next-1+l.n)%l.n]) >= l.per
		if !idle && len(l.cids) < l.max {
			return
		}
		l.lru.Remove(e)
		delete(l.cids, w.cid)
	}
}

// tracked returns how many cids the limiter remembers (for tests).
func (l *limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cids)
}

// waitShared takes a slot of cid's window in the shared limiter, waiting
// (or failing in no-wait mode) while the window is full. A store error
// ends the call: sending without a slot could break the limit.
func (l *limiter) waitShared(ctx context.Context, op, cid string) error {
	for {
		ok, wait, err := l.shared.Take(ctx, l.scope+":cid:"+cid, l.n, l.per)
		switch {
		case err != nil:
			if l.obs != nil {
				l.obs.Event(ctx, observe.Event{Kind: observe.KindStoreError, Platform: observe.Userlike, Operation: op,
					Store: observe.StoreRateLimit, Op: "take", Err: err})
			}
			return fmt.Errorf("userlike: rate limiter: %w", err)
		case ok:
			return nil
		case l.noWait:
			err := fmt.Errorf("%w: next slot in %s", ErrRateLimited, wait.Round(time.Millisecond))
			l.limited(ctx, op, observe.SourceShared, wait, err)
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			err := fmt.Errorf("%w: next slot in %s, after the context deadline", ErrRateLimited, wait.Round(time.Millisecond))
			l.limited(ctx, op, observe.SourceShared, wait, err)
			return err
		}
		l.limited(ctx, op, observe.SourceShared, wait, nil)
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// limited reports a wait of the rate limit to the observer: the limiter
// waits for wait, or, with err (wrapping ErrRateLimited), refused to (no-wait
// mode, or a slot after the context's deadline).
func (l *limiter) limited(ctx context.Context, op string, src observe.Source, wait time.Duration, err error) {
	if l.obs == nil {
		return
	}
	l.obs.Event(ctx, observe.Event{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: op,
		Source: src, Wait: wait, Err: err})
}
