package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/store"
)

// clockSlack is how far a queue's clock (a Redis server's) may be from
// the test's when it stamps a message.
const clockSlack = 25 * time.Millisecond

// within fails the test unless at lies in [from, to], with clockSlack
// either side.
func within(t *testing.T, what string, at, from, to time.Time) {
	t.Helper()
	if at.Before(from.Add(-clockSlack)) || at.After(to.Add(clockSlack)) {
		t.Errorf("%s = %v, want between %v and %v", what, at, from, to)
	}
}

func recvMsg(t *testing.T, ch <-chan store.Message) store.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("nothing processed in 10 s")
		return store.Message{}
	}
}

// headerRoundTrip: a message's header and its enqueue time reach the
// consumer, every attempt, the dead letters and the replayed message; the
// id Enqueue returns is the one the consumer and the dead letters show.
func headerRoundTrip(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 2, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second}), ctx(t)
	header := map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":  "botwire=1,other=x",
		"odd name:{}": "ü \x00 ,;=",
	}
	sent := maps.Clone(header)
	before := time.Now()
	withID, err := q.Enqueue(c, store.Message{Key: "k", Payload: []byte("with"), Header: header})
	after := time.Now()
	must(t, err)
	header["traceparent"] = "changed after Enqueue" // the queue keeps what it was given
	plainBefore := time.Now()
	plainID := enqueue(t, c, q, "k", "plain")
	plainAfter := time.Now()
	if withID == "" || withID == plainID {
		t.Fatalf("Enqueue returned ids %q and %q, want two different ids", withID, plainID)
	}
	time.Sleep(150 * time.Millisecond) // runs start well after the enqueue times

	var failing atomic.Bool
	failing.Store(true)
	runs := make(chan store.Message, 16)
	consumers(t, c, q, func(_ context.Context, m store.Message) error {
		runs <- m
		if string(m.Payload) == "with" && failing.Load() {
			return errors.New("with fails")
		}
		return nil
	}, "a")

	first := recvMsg(t, runs)
	want(t, string(first.Payload), "with")
	want(t, first.ID, withID)
	if !maps.Equal(first.Header, sent) {
		t.Errorf("the consumer got header %q, want %q", first.Header, sent)
	}
	within(t, "Enqueued", first.Enqueued, before, after)
	second := recvMsg(t, runs)
	want(t, string(second.Payload), "with")
	want(t, second.Attempts, 2)
	want(t, second.ID, withID)
	if !maps.Equal(second.Header, sent) || !second.Enqueued.Equal(first.Enqueued) {
		t.Errorf("the second attempt got header %q and Enqueued %v, want %q and %v", second.Header, second.Enqueued, sent, first.Enqueued)
	}
	plain := recvMsg(t, runs)
	want(t, string(plain.Payload), "plain")
	want(t, plain.ID, plainID)
	if len(plain.Header) != 0 {
		t.Errorf("a message enqueued without a header has header %q", plain.Header)
	}
	within(t, "Enqueued of a message without a header", plain.Enqueued, plainBefore, plainAfter)

	dead, err := q.DeadLetters(c)
	must(t, err)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1: %+v", len(dead), dead)
	}
	d := dead[0]
	want(t, d.ID, withID)
	want(t, d.Attempts, 2)
	if !maps.Equal(d.Header, sent) || !d.Enqueued.Equal(first.Enqueued) {
		t.Errorf("the dead letter has header %q and Enqueued %v, want %q and %v", d.Header, d.Enqueued, sent, first.Enqueued)
	}

	time.Sleep(100 * time.Millisecond) // the replay is well after the enqueue
	failing.Store(false)
	must(t, q.Replay(c, d.ID))
	again := recvMsg(t, runs)
	want(t, string(again.Payload), "with")
	want(t, again.Attempts, 1)
	if !maps.Equal(again.Header, sent) {
		t.Errorf("the replayed message has header %q, want %q", again.Header, sent)
	}
	if !again.Enqueued.Equal(first.Enqueued) {
		t.Errorf("the replayed message has Enqueued %v, want its first enqueue's %v", again.Enqueued, first.Enqueued)
	}
}

// enqueueIDs: every message's Enqueue returns its own id, the one the
// consumer gets.
func enqueueIDs(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second}), ctx(t)
	const n = 30
	ids := map[string]string{} // payload → id
	seen := map[string]bool{}
	for i := range n {
		p := fmt.Sprint("m", i)
		id := enqueue(t, c, q, fmt.Sprint("case-", i%4), p)
		if seen[id] {
			t.Fatalf("Enqueue returned id %q twice", id)
		}
		seen[id] = true
		ids[p] = id
	}
	var mu sync.Mutex
	got := map[string]string{}
	all := newCounter(n)
	consumers(t, c, q, func(_ context.Context, m store.Message) error {
		mu.Lock()
		got[string(m.Payload)] = m.ID
		mu.Unlock()
		all.count(m)
		return nil
	}, "a", "b")
	waitFor(t, all.done)
	mu.Lock()
	defer mu.Unlock()
	for p, id := range ids {
		if got[p] != id {
			t.Errorf("message %s: the consumer got id %q, Enqueue returned %q", p, got[p], id)
		}
	}
}

// queueStats: Stats counts the messages waiting, running, waiting for
// their retry delay and dead, and the age of the oldest one not yet
// acknowledged.
//
// A consumer may hold a case's later messages while the case's first one
// runs (the Redis queue reads them ahead); an implementation counts those
// as Pending or as Running, and the test accepts either split.
func queueStats(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	const retry = 2 * time.Second
	q := newQueue(t, store.QueueOptions{MaxAttempts: 2, RetryDelay: retry, Lease: 5 * time.Second})
	in, ok := q.(store.QueueInspector)
	if !ok {
		t.Skipf("%T does not implement store.QueueInspector", q)
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stats := func() store.QueueStats {
		t.Helper()
		st, err := in.Stats(c)
		must(t, err)
		return st
	}
	if st := stats(); st != (store.QueueStats{}) {
		t.Fatalf("an empty queue's Stats = %+v, want zero", st)
	}

	t0 := time.Now()
	enqueue(t, c, q, "run", "run-1")
	t1 := time.Now()
	enqueue(t, c, q, "run", "run-2")
	enqueue(t, c, q, "retry", "retry-1")
	enqueue(t, c, q, "dead", "dead-1")
	enqueue(t, c, q, "done", "done-1")
	time.Sleep(100 * time.Millisecond)
	from := time.Now()
	st := stats()
	to := time.Now()
	if st.Pending != 5 || st.Running != 0 || st.Retrying != 0 || st.Dead != 0 {
		t.Errorf("with 5 messages and no consumer, Stats = %+v, want 5 pending", st)
	}
	oldestIn(t, st, from.Sub(t1), to.Sub(t0))

	runStarted, release := make(chan struct{}), make(chan struct{})
	deadFailed, retryFailed, retried := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once1, once2, once3, once4 sync.Once
	var retryRuns atomic.Int32
	var failedAt atomic.Int64
	h := func(ctx context.Context, m store.Message) error {
		switch string(m.Payload) {
		case "run-1":
			once1.Do(func() { close(runStarted) })
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		case "dead-1":
			if m.Attempts >= 2 {
				once2.Do(func() { close(deadFailed) })
			}
			return errors.New("dead-1 always fails")
		case "retry-1":
			if retryRuns.Add(1) == 1 {
				select { // fail once dead-1 is dead: then all four are there
				case <-deadFailed:
				case <-ctx.Done():
					return ctx.Err()
				}
				failedAt.Store(time.Now().UnixNano())
				once3.Do(func() { close(retryFailed) })
				return errors.New("retry-1 fails once")
			}
			once4.Do(func() { close(retried) })
		}
		return nil
	}
	stop := consumers(t, c, q, h, "a", "b", "c")
	waitFor(t, runStarted)
	waitFor(t, retryFailed)

	// All four now, until retry-1's delay passes: run-1 runs, run-2
	// waits behind it, retry-1 waits for its retry delay, dead-1 is dead
	// (or about to be: the queue writes it), done-1 is done.
	deadline := time.Unix(0, failedAt.Load()).Add(retry * 3 / 4)
	var last store.QueueStats
	for {
		from := time.Now()
		last = stats()
		to := time.Now()
		good := last.Dead == 1 && last.Retrying == 1 && last.Running >= 1 && last.Running <= 2 &&
			last.Pending+last.Running == 2
		if good {
			oldestIn(t, last, from.Sub(t1), to.Sub(t0))
			t.Logf("running, waiting, retrying and dead: %+v", last)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with a message running and one behind it, one waiting for its retry delay and one dead, Stats = %+v, "+
				"want Dead 1, Retrying 1, Running 1 or 2 and Pending + Running 2", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if time.Now().After(deadline) {
		t.Fatalf("Stats answered past retry-1's delay: the test is too slow to tell")
	}

	close(release)
	waitFor(t, retried)
	deadline = time.Now().Add(10 * time.Second)
	for {
		last = stats()
		if last == (store.QueueStats{Dead: 1}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with every message acknowledged but one dead letter, Stats = %+v, want only Dead 1", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
}

// oldestIn fails the test unless st.OldestPending lies in [lo, hi], with
// clockSlack either side.
func oldestIn(t *testing.T, st store.QueueStats, lo, hi time.Duration) {
	t.Helper()
	if st.OldestPending < lo-clockSlack || st.OldestPending > hi+clockSlack {
		t.Errorf("OldestPending = %v, want between %v and %v (the oldest message's age)", st.OldestPending, lo, hi)
	}
}

// queueEvents: the queue's observer (QueueOptions.Observer) sees every
// retry and its attempt, the dead letter and the replay.
func queueEvents(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	rec := observetest.NewRecorder()
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second, Observer: rec}), ctx(t)
	errPoison := errors.New("poison fails")
	poisonID := enqueue(t, c, q, "k", "poison")
	okID := enqueue(t, c, q, "other", "ok")
	var failing atomic.Bool
	failing.Store(true)
	ran := make(chan string, 16)
	consumers(t, c, q, func(_ context.Context, m store.Message) error {
		if string(m.Payload) == "poison" && failing.Load() {
			return fmt.Errorf("attempt %d: %w", m.Attempts, errPoison)
		}
		ran <- string(m.Payload)
		return nil
	}, "a")
	isDead := func(recs []observetest.Record) bool {
		for _, r := range recs {
			if r.Event != nil && r.Event.Kind == observe.KindDeadLettered {
				return true
			}
		}
		return false
	}
	wc, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	if err := rec.Wait(wc, isDead); err != nil {
		t.Fatalf("no KindDeadLettered event in 10 s; events: %+v", rec.Events())
	}
	want(t, recv(t, ran), "ok")

	check := func(e observe.Event, kind observe.Kind, attempt int) {
		t.Helper()
		if e.Kind != kind || e.Attempt != attempt || e.MessageID != poisonID || e.Key != "k" || e.Queue == "" {
			t.Errorf("event %+v, want %v of message %s (key k) with Attempt %d and the queue's name", e, kind, poisonID, attempt)
		}
	}
	retries := rec.Events(observe.KindQueueRetry)
	slices.SortFunc(retries, func(a, b observe.Event) int { return a.Attempt - b.Attempt })
	dead := rec.Events(observe.KindDeadLettered)
	if len(retries) != 2 || len(dead) != 1 {
		t.Fatalf("%d KindQueueRetry and %d KindDeadLettered events, want 2 and 1: %+v", len(retries), len(dead), rec.Events())
	}
	check(retries[0], observe.KindQueueRetry, 1)
	check(retries[1], observe.KindQueueRetry, 2)
	check(dead[0], observe.KindDeadLettered, 3)
	for _, e := range append(retries, dead...) {
		if !errors.Is(e.Err, errPoison) {
			t.Errorf("%v event has Err %v, want the handler's error", e.Kind, e.Err)
		}
		if e.MessageID == okID {
			t.Errorf("an event for the message that succeeded: %+v", e)
		}
	}

	failing.Store(false)
	must(t, q.Replay(c, poisonID))
	want(t, recv(t, ran), "poison")
	replayed := rec.Events(observe.KindReplayed)
	if len(replayed) != 1 {
		t.Fatalf("%d KindReplayed events, want 1: %+v", len(replayed), replayed)
	}
	check(replayed[0], observe.KindReplayed, 3)
	if n := len(rec.Events(observe.KindQueueRetry, observe.KindDeadLettered)); n != 3 {
		t.Errorf("%d retry and dead-letter events after the replayed message succeeded, want still 3", n)
	}
}
