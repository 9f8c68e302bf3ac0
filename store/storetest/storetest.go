// Package storetest is the contract of package store as tests: any
// Deduplicator, RateLimiter or Queue implementation runs them to show it
// behaves as the botwire handlers and clients expect.
//
//	func TestContract(t *testing.T) {
//		storetest.Deduplicator(t, func(t *testing.T) store.Deduplicator { return myDedup(t) })
//		storetest.RateLimiter(t, func(t *testing.T) store.RateLimiter { return myLimiter(t) })
//		storetest.Queue(t, func(t *testing.T, o store.QueueOptions) store.Queue { return myQueue(t, o) })
//	}
//
// Each factory returns a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// Deduplicator checks the Deduplicator contract.
func Deduplicator(t *testing.T, newDedup func(t *testing.T) store.Deduplicator) {
	t.Run("claim, complete, replay", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		cl, err := d.Claim(c, "k1", "t1", time.Minute)
		must(t, err)
		want(t, cl.State, store.Acquired)
		again, err := d.Claim(c, "k1", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Busy)
		must(t, d.Complete(c, "k1", "t1", []byte(`{"messages":[]}`), time.Minute))
		done, err := d.Claim(c, "k1", "t3", time.Minute)
		must(t, err)
		want(t, done.State, store.Done)
		want(t, string(done.Answer), `{"messages":[]}`)
		mine, err := d.Claim(c, "k1", "t1", time.Minute)
		must(t, err)
		want(t, mine.State, store.Done)
		other, err := d.Claim(c, "k2", "t4", time.Minute)
		must(t, err)
		want(t, other.State, store.Acquired)
	})
	t.Run("release lets a redelivery run again", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "k", "t1"))
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("another token changes nothing", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "k", "t2"))
		must(t, d.Complete(c, "k", "t2", []byte("x"), time.Minute))
		if err := d.Renew(c, "k", "t2", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew with another token: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "k", "t3", time.Minute)
		must(t, err)
		want(t, again.State, store.Busy)
	})
	t.Run("a claim with the holder's token is acquired again", func(t *testing.T) {
		// A claim whose reply was lost (a timeout, a reset) and is tried
		// again must not find its own claim Busy.
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 100*time.Millisecond)
		must(t, err)
		again, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
		time.Sleep(200 * time.Millisecond) // past the first lease: the second restarted it
		other, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, other.State, store.Busy)
		must(t, d.Release(c, "k", "t1"))
		other, err = d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, other.State, store.Acquired)
	})
	t.Run("an empty token is refused", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		if _, err := d.Claim(c, "k", "", time.Minute); err == nil {
			t.Fatal("Claim with an empty token succeeded")
		}
	})
	t.Run("a lease that runs out frees the key", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 50*time.Millisecond)
		must(t, err)
		time.Sleep(120 * time.Millisecond)
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("renew keeps the claim past its lease", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 200*time.Millisecond)
		must(t, err)
		for range 4 { // 280 ms in all, past the first lease
			time.Sleep(70 * time.Millisecond)
			must(t, d.Renew(c, "k", "t1", 200*time.Millisecond))
		}
		busy, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, busy.State, store.Busy)
		time.Sleep(300 * time.Millisecond)
		if err := d.Renew(c, "k", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew after the lease ran out: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("renew of a completed or released key reports it lost", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "done", "t1", time.Minute)
		must(t, err)
		must(t, d.Complete(c, "done", "t1", []byte("a"), time.Minute))
		if err := d.Renew(c, "done", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew of a completed key: %v, want ErrClaimLost", err)
		}
		_, err = d.Claim(c, "gone", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "gone", "t1"))
		if err := d.Renew(c, "gone", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew of a released key: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "gone", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("a completed key expires after its ttl", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Complete(c, "k", "t1", []byte("a"), 50*time.Millisecond))
		time.Sleep(120 * time.Millisecond)
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("of concurrent claims one is acquired", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		var acquired atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl, err := d.Claim(c, "same", fmt.Sprint("t", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if cl.State == store.Acquired {
					acquired.Add(1)
				}
			}()
		}
		wg.Wait()
		want(t, acquired.Load(), int32(1))
	})
}

// RateLimiter checks the RateLimiter contract.
func RateLimiter(t *testing.T, newLimiter func(t *testing.T) store.RateLimiter) {
	t.Run("limit per window and per key", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		for i := range 5 {
			ok, _, err := l.Take(c, "cid-1", 5, time.Minute)
			must(t, err)
			if !ok {
				t.Fatalf("take %d refused under the limit", i+1)
			}
		}
		ok, wait, err := l.Take(c, "cid-1", 5, time.Minute)
		must(t, err)
		if ok || wait <= 0 || wait > time.Minute {
			t.Fatalf("the 6th take: ok %v, wait %v; want refused with a wait up to a minute", ok, wait)
		}
		ok, _, err = l.Take(c, "cid-2", 5, time.Minute)
		must(t, err)
		want(t, ok, true)
	})
	t.Run("the window slides", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		for range 3 {
			ok, _, err := l.Take(c, "k", 3, 200*time.Millisecond)
			must(t, err)
			want(t, ok, true)
		}
		ok, wait, err := l.Take(c, "k", 3, 200*time.Millisecond)
		must(t, err)
		want(t, ok, false)
		time.Sleep(wait + 20*time.Millisecond)
		ok, _, err = l.Take(c, "k", 3, 200*time.Millisecond)
		must(t, err)
		want(t, ok, true)
	})
	t.Run("concurrent takes never pass the limit", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := l.Take(c, "hot", 20, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					taken.Add(1)
				}
			}()
		}
		wg.Wait()
		want(t, taken.Load(), int32(20))
	})
}

// Queue checks the Queue contract. newQueue gets the options to use (a
// short lease and retry delay, a small attempt limit, or a long retry
// delay where a test needs one, and an Observer, which the queue must
// report its events to). The Stats test runs when the queue implements
// store.QueueInspector, and is skipped otherwise; so are the QueueAdmin
// tests when it does not implement store.QueueAdmin.
//
// A key is a case, like an SQS FIFO message group or a Service Bus
// session: its messages run in order and one at a time, across every
// consumer; a case whose message fails (and waits its retry delay) or runs
// long delays only its own later messages, and every other case keeps its
// latency, whatever the implementation shares between keys (a partition,
// a stream, a lease).
func Queue(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	opts := store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 300 * time.Millisecond}
	t.Run("every message once, in order per key", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		const keys, per = 4, 25
		for i := range per {
			for k := range keys {
				enqueue(t, c, q, fmt.Sprint("case-", k), fmt.Sprint(i))
			}
		}
		var mu sync.Mutex
		seen := map[string][]string{}
		total := 0
		done := make(chan struct{})
		consume := func(name string) {
			_ = q.Consume(c, name, func(_ context.Context, m store.Message) error {
				mu.Lock()
				defer mu.Unlock()
				seen[m.Key] = append(seen[m.Key], string(m.Payload))
				if total++; total == keys*per {
					close(done)
				}
				return nil
			})
		}
		cc, cancel := context.WithCancel(c)
		defer cancel()
		c = cc
		go consume("a")
		go consume("b")
		waitFor(t, done)
		cancel()
		for k := range keys {
			got := seen[fmt.Sprint("case-", k)]
			if len(got) != per {
				t.Fatalf("case-%d: %d messages, want %d", k, len(got), per)
			}
			for i, p := range got {
				if p != fmt.Sprint(i) {
					t.Fatalf("case-%d out of order: %v", k, got)
				}
			}
		}
	})
	t.Run("a failing message is retried, then dead, then replayed", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		enqueue(t, c, q, "k", "poison")
		enqueue(t, c, q, "k", "after")
		var attempts atomic.Int32
		fail := atomic.Bool{}
		fail.Store(true)
		got := make(chan string, 10)
		cc, cancel := context.WithCancel(c)
		defer cancel()
		go func() {
			_ = q.Consume(cc, "a", func(_ context.Context, m store.Message) error {
				if string(m.Payload) == "poison" && fail.Load() {
					attempts.Add(1)
					return errors.New("cannot process")
				}
				got <- string(m.Payload)
				return nil
			})
		}()
		want(t, recv(t, got), "after") // the poison message went dead first: order kept
		want(t, attempts.Load(), int32(opts.MaxAttempts))
		dead, err := q.DeadLetters(c)
		must(t, err)
		if len(dead) != 1 || string(dead[0].Payload) != "poison" || dead[0].Err == "" {
			t.Fatalf("dead letters = %+v", dead)
		}
		fail.Store(false)
		must(t, q.Replay(c, dead[0].ID))
		want(t, recv(t, got), "poison")
		dead, err = q.DeadLetters(c)
		must(t, err)
		want(t, len(dead), 0)
		if err := q.Replay(c, "no-such-id"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Replay of an unknown id: %v", err)
		}
	})
	t.Run("consumers with the same name never run a message twice", func(t *testing.T) { sameName(t, newQueue) })
	t.Run("a consumer that stops mid-message hands it to another", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		enqueue(t, c, q, "k", "m1")
		enqueue(t, c, q, "k", "m2")
		started := make(chan struct{})
		first, stop := context.WithCancel(c)
		go func() {
			_ = q.Consume(first, "dies", func(ctx context.Context, m store.Message) error {
				close(started)
				<-ctx.Done() // dies in the middle of m1
				return ctx.Err()
			})
		}()
		waitFor(t, started)
		stop()
		got := make(chan string, 10)
		cc, cancel := context.WithCancel(c)
		defer cancel()
		go func() {
			_ = q.Consume(cc, "survives", func(_ context.Context, m store.Message) error {
				got <- string(m.Payload)
				return nil
			})
		}()
		want(t, recv(t, got), "m1")
		want(t, recv(t, got), "m2")
	})
	t.Run("every message once, in order per key, one at a time across four consumers", func(t *testing.T) { oneAtATime(t, newQueue) })
	t.Run("attempts count the runs of a message", func(t *testing.T) { attemptsCount(t, newQueue) })
	t.Run("a failing case does not delay another", func(t *testing.T) {
		t.Run("one consumer", func(t *testing.T) { failingCase(t, newQueue, 1) })
		t.Run("two consumers", func(t *testing.T) { failingCase(t, newQueue, 2) })
	})
	t.Run("a slow case does not delay another", func(t *testing.T) { slowCase(t, newQueue) })
	t.Run("the header and the enqueue time travel with the message", func(t *testing.T) { headerRoundTrip(t, newQueue) })
	t.Run("Enqueue returns the id the consumer gets", func(t *testing.T) { enqueueIDs(t, newQueue) })
	t.Run("Stats counts pending, running, retrying and dead messages", func(t *testing.T) { queueStats(t, newQueue) })
	t.Run("the observer sees retries, the dead letter and the replay", func(t *testing.T) { queueEvents(t, newQueue) })
	t.Run("QueueAdmin", func(t *testing.T) { queueAdmin(t, newQueue) })
}

// A case (a key) is like an SQS FIFO message group or a Service Bus
// session: its messages run in order, one at a time, and a case that
// fails or runs long delays only its own later messages. The tests below
// use enough other cases (otherCases) that, whatever partitioning of the
// keys an implementation uses, many of them share a partition with the
// failing or slow case.
const otherCases = 32

// caseLog records the runs of a queue's handler: per key, each run as
// "payload#attempts" in the order the runs started, and every run that
// started while another of its key was still running.
type caseLog struct {
	mu       sync.Mutex
	runs     map[string][]string
	inFlight map[string]int
	overlaps []string
}

func newCaseLog() *caseLog {
	return &caseLog{runs: map[string][]string{}, inFlight: map[string]int{}}
}

// start records the start of a run of m; the returned func records its end.
func (l *caseLog) start(m store.Message) (end func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	run := fmt.Sprintf("%s#%d", m.Payload, m.Attempts)
	if l.inFlight[m.Key] > 0 {
		l.overlaps = append(l.overlaps, m.Key+":"+run)
	}
	l.inFlight[m.Key]++
	l.runs[m.Key] = append(l.runs[m.Key], run)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.inFlight[m.Key]--
	}
}

// check fails the test for overlapping runs of a key and for every key of
// wanted whose runs differ.
func (l *caseLog) check(t *testing.T, wanted map[string][]string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlaps) > 0 {
		t.Errorf("%d runs started while another message of their key was running: %v", len(l.overlaps), l.overlaps)
	}
	for k, w := range wanted {
		if got := l.runs[k]; !slices.Equal(got, w) {
			t.Errorf("case %s ran %v, want %v", k, got, w)
		}
	}
}

// counter closes done when n distinct messages were counted.
type counter struct {
	mu   sync.Mutex
	seen map[string]bool
	left int
	at   time.Time // when the last one was counted
	done chan struct{}
}

func newCounter(n int) *counter {
	return &counter{seen: map[string]bool{}, left: n, done: make(chan struct{})}
}

func (c *counter) count(m store.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := m.Key + "/" + string(m.Payload)
	if c.seen[id] {
		return
	}
	c.seen[id] = true
	if c.left--; c.left == 0 {
		c.at = time.Now()
		close(c.done)
	}
}

func (c *counter) remaining() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left
}

// consumers runs Consume under names until the returned stop, which
// cancels them and waits (at most 15 s) for every Consume to return.
func consumers(t *testing.T, c context.Context, q store.Queue, h store.Handler, names ...string) (stop func()) {
	cc, cancel := context.WithCancel(c)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = q.Consume(cc, name, h)
		}()
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			returned := make(chan struct{})
			go func() { wg.Wait(); close(returned) }()
			select {
			case <-returned:
			case <-time.After(15 * time.Second):
				t.Error("a Consume did not return within 15 s of its context's end")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// inOrder is the runs of a case's payloads 0..n-1, each run once.
func inOrder(n int) []string {
	runs := make([]string, n)
	for i := range runs {
		runs[i] = fmt.Sprintf("%d#1", i)
	}
	return runs
}

// oneAtATime: with four consumers, every message runs once, in order, and
// never while another message of its key runs in another consumer.
func oneAtATime(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second}), ctx(t)
	const keys, per = 8, 20
	for i := range per {
		for k := range keys {
			enqueue(t, c, q, fmt.Sprint("case-", k), fmt.Sprint(i))
		}
	}
	log, all := newCaseLog(), newCounter(keys*per)
	stop := consumers(t, c, q, func(_ context.Context, m store.Message) error {
		defer log.start(m)()
		time.Sleep(time.Millisecond) // long enough for another consumer to meet it
		all.count(m)
		return nil
	}, "a", "b", "c", "d")
	waitFor(t, all.done)
	stop() // no run in flight
	wanted := map[string][]string{}
	for k := range keys {
		wanted[fmt.Sprint("case-", k)] = inOrder(per)
	}
	log.check(t, wanted)
}

// attemptsCount: a message's Attempts is 1 on its first run and counts
// every failed run, up to the dead letter; a replayed one starts at 1.
func attemptsCount(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second}), ctx(t)
	for _, p := range []string{"flaky", "poison", "after"} {
		enqueue(t, c, q, "k", p)
	}
	log := newCaseLog()
	var mu sync.Mutex
	runs := map[string]int{}
	poisoned := true
	got := make(chan string, 10)
	consumers(t, c, q, func(_ context.Context, m store.Message) error {
		defer log.start(m)()
		p := string(m.Payload)
		mu.Lock()
		runs[p]++
		fail := p == "flaky" && runs[p] == 1 || p == "poison" && poisoned
		mu.Unlock()
		if fail {
			return fmt.Errorf("%s fails", p)
		}
		got <- p
		return nil
	}, "a")
	want(t, recv(t, got), "flaky")
	want(t, recv(t, got), "after")
	log.check(t, map[string][]string{"k": {"flaky#1", "flaky#2", "poison#1", "poison#2", "poison#3", "after#1"}})
	dead, err := q.DeadLetters(c)
	must(t, err)
	if len(dead) != 1 || string(dead[0].Payload) != "poison" || dead[0].Attempts != 3 {
		t.Fatalf("dead letters = %+v, want poison after 3 attempts", dead)
	}
	mu.Lock()
	poisoned = false
	mu.Unlock()
	must(t, q.Replay(c, dead[0].ID))
	want(t, recv(t, got), "poison")
	log.check(t, map[string][]string{"k": {"flaky#1", "flaky#2", "poison#1", "poison#2", "poison#3", "after#1", "poison#1"}})
}

// failingCase: case "bad" fails its first message once and waits a long
// retry delay; the messages of every other case run meanwhile, well within
// that delay, while bad's later message waits for its first to succeed.
func failingCase(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue, nConsumers int) {
	const retry = 3 * time.Second
	q := newQueue(t, store.QueueOptions{MaxAttempts: 10, RetryDelay: retry, Lease: 5 * time.Second})
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const per = 2
	enqueue(t, c, q, "bad", "bad-1")
	for i := range per {
		for k := range otherCases {
			enqueue(t, c, q, fmt.Sprint("case-", k), fmt.Sprint(i))
		}
		if i == 0 {
			enqueue(t, c, q, "bad", "bad-2")
		}
	}
	log, others := newCaseLog(), newCounter(otherCases*per)
	var mu sync.Mutex
	var badRuns int
	var failed, retried time.Time
	leftAtRetry := -1
	badLater := make(chan struct{})
	var badOnce sync.Once
	h := func(_ context.Context, m store.Message) error {
		defer log.start(m)()
		switch {
		case m.Key != "bad":
			others.count(m)
		case string(m.Payload) == "bad-1":
			mu.Lock()
			defer mu.Unlock()
			if badRuns++; badRuns == 1 {
				failed = time.Now()
				return errors.New("bad-1 fails its first run")
			}
			if badRuns == 2 {
				retried, leftAtRetry = time.Now(), others.remaining()
			}
		case string(m.Payload) == "bad-2":
			badOnce.Do(func() { close(badLater) })
		}
		return nil
	}
	started := time.Now()
	names := []string{"a", "b"}[:nConsumers]
	stop := consumers(t, c, q, h, names...)
	select {
	case <-others.done:
		took := others.at.Sub(started)
		t.Logf("the %d messages of other cases ran in %v", otherCases*per, took)
		if took > retry/2 {
			t.Errorf("the other cases took %v to run, with the failing case's retry delay %v: the failing case delayed them", took, retry)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%d of %d messages of other cases did not run in 15 s", others.remaining(), otherCases*per)
	}
	waitFor(t, badLater)
	waitFor(t, others.done) // the ones that waited, if any, before checking their order
	stop()
	mu.Lock()
	if leftAtRetry != 0 {
		t.Errorf("%d of %d messages of other cases were still waiting when bad-1 ran again, %v after it failed: they waited for the failing case", leftAtRetry, otherCases*per, retried.Sub(failed))
	}
	if d := retried.Sub(failed); d < retry/2 {
		t.Errorf("bad-1 ran again %v after it failed, with a retry delay of %v", d, retry)
	}
	mu.Unlock()
	wanted := map[string][]string{"bad": {"bad-1#1", "bad-1#2", "bad-2#1"}}
	for k := range otherCases {
		wanted[fmt.Sprint("case-", k)] = inOrder(per)
	}
	log.check(t, wanted)
}

// slowCase: case "slow" runs a message that blocks until the test lets it
// go; with two consumers the messages of every other case, enqueued after
// it, all run meanwhile, while slow's later message waits for the first.
func slowCase(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	q := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second})
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const per = 2
	enqueue(t, c, q, "slow", "slow-1")
	for i := range per {
		for k := range otherCases {
			enqueue(t, c, q, fmt.Sprint("case-", k), fmt.Sprint(i))
		}
		if i == 0 {
			enqueue(t, c, q, "slow", "slow-2")
		}
	}
	log, others := newCaseLog(), newCounter(otherCases*per)
	slowStarted, release, slowLater := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once1, once2 sync.Once
	h := func(ctx context.Context, m store.Message) error {
		defer log.start(m)()
		switch {
		case m.Key != "slow":
			others.count(m)
		case string(m.Payload) == "slow-1":
			once1.Do(func() { close(slowStarted) })
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		case string(m.Payload) == "slow-2":
			once2.Do(func() { close(slowLater) })
		}
		return nil
	}
	stop := consumers(t, c, q, h, "a", "b")
	waitFor(t, slowStarted)
	select {
	case <-others.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%d of %d messages of other cases did not run in 10 s while slow-1 ran", others.remaining(), otherCases*per)
	}
	select {
	case <-slowLater:
		t.Error("slow-2 ran while slow-1 was still running")
	case <-time.After(100 * time.Millisecond): // a chance to show up
	}
	close(release)
	waitFor(t, slowLater)
	waitFor(t, others.done) // the ones that waited, if any, before checking their order
	stop()
	wanted := map[string][]string{"slow": {"slow-1#1", "slow-2#1"}}
	for k := range otherCases {
		wanted[fmt.Sprint("case-", k)] = inOrder(per)
	}
	log.check(t, wanted)
}

// enqueue puts payload on q under key and returns the message's id.
func enqueue(t *testing.T, c context.Context, q store.Queue, key, payload string) string {
	t.Helper()
	id, err := q.Enqueue(c, store.Message{Key: key, Payload: []byte(payload)})
	must(t, err)
	if id == "" {
		t.Fatal("Enqueue returned no id")
	}
	return id
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing processed in 10 s")
		return ""
	}
}

func waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatal("timed out")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func want[T comparable](t *testing.T, got, wanted T) {
	t.Helper()
	if got != wanted {
		t.Fatalf("got %v, want %v", got, wanted)
	}
}
