package inbound

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// syncBuffer is a log sink the renewal timer may write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func deliver(d *Dedup, key string, serve func(http.ResponseWriter)) (*httptest.ResponseRecorder, time.Duration) {
	w := httptest.NewRecorder()
	start := time.Now()
	d.Serve(w, httptest.NewRequest(http.MethodPost, "/", nil), key, serve)
	return w, time.Since(start)
}

// A callback that outlasts the lease keeps its claim: the lease is renewed
// while it runs, so a redelivery waits for its answer instead of running
// the callback a second time.
func TestServeRenewsTheClaimWhileTheCallbackRuns(t *testing.T) {
	d := &Dedup{Store: store.NewMemoryDeduplicator(), Vendor: "v", Logger: quiet(),
		Lease: 150 * time.Millisecond, Wait: 3 * time.Second}
	var runs atomic.Int32
	started := make(chan struct{})
	serve := func(w http.ResponseWriter) {
		if runs.Add(1) == 1 {
			close(started)
		}
		time.Sleep(600 * time.Millisecond) // four leases
		_, _ = io.WriteString(w, "first")
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { w, _ := deliver(d, "k", serve); done <- w }()
	<-started
	second, _ := deliver(d, "k", serve)
	first := <-done
	assert.Equal(t, int32(1), runs.Load(), "the redelivery ran the callback while the first still ran")
	assert.Equal(t, 200, first.Code)
	assert.Equal(t, 200, second.Code)
	assert.Equal(t, "first", second.Body.String(), "the redelivery replays the first answer")
}

// A redelivery that finds its key busy waits at most the budget, then
// answers 503; the callback it waited for is not disturbed.
func TestServeWaitsAtMostTheBudget(t *testing.T) {
	const budget = 300 * time.Millisecond
	d := &Dedup{Store: store.NewMemoryDeduplicator(), Vendor: "v", Logger: quiet(), Wait: budget}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		w, _ := deliver(d, "k", func(w http.ResponseWriter) {
			close(started)
			<-release
			_, _ = io.WriteString(w, "first")
		})
		done <- w
	}()
	<-started
	w, took := deliver(d, "k", func(http.ResponseWriter) { t.Error("the redelivery ran the callback") })
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.GreaterOrEqual(t, took, budget/2, "gave up before the budget")
	assert.Less(t, took, 2*budget, "waited past the budget")
	close(release)
	assert.Equal(t, 200, (<-done).Code)
	w, _ = deliver(d, "k", func(http.ResponseWriter) { t.Error("a completed key ran again") })
	assert.Equal(t, "first", w.Body.String())
}

// stalled is a store whose calls block until their context ends, the way
// a Redis client built with ContextTimeoutEnabled behaves while Redis is
// paused. It records the calls' deadlines and tokens.
type stalled struct {
	mu        sync.Mutex
	claims    []string
	releases  []string
	deadlines []bool
}

func (s *stalled) Claim(ctx context.Context, _, token string, _ time.Duration) (store.Claim, error) {
	s.mu.Lock()
	s.claims = append(s.claims, token)
	_, ok := ctx.Deadline()
	s.deadlines = append(s.deadlines, ok)
	s.mu.Unlock()
	<-ctx.Done()
	return store.Claim{}, ctx.Err()
}

func (s *stalled) Renew(ctx context.Context, _, _ string, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *stalled) Complete(ctx context.Context, _, _ string, _ []byte, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *stalled) Release(_ context.Context, _, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases = append(s.releases, token)
	return nil // the stall ended
}

// A store that stalls costs a delivery its budget, not more: the claim
// runs under a deadline, the handler answers 503 within the budget, and
// the claim (which the store may have applied) is released with its own
// token in the background.
func TestServeAnswers503WithinTheBudgetWhenTheStoreStalls(t *testing.T) {
	const budget = 200 * time.Millisecond
	st := &stalled{}
	d := &Dedup{Store: st, Vendor: "v", Logger: quiet(), Wait: budget}
	w, took := deliver(d, "k", func(http.ResponseWriter) { t.Error("ran without a claim") })
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Less(t, took, 2*budget)
	require.Eventually(t, func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.releases) == 1
	}, 2*time.Second, 10*time.Millisecond, "the timed-out claim was not released")
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.Equal(t, []bool{true}, st.deadlines, "the claim ran without a deadline")
	assert.Equal(t, st.claims, st.releases, "released with another token than the claim's")
	assert.Len(t, st.claims[0], 24)
}

// lateApply is a Deduplicator whose first claim is applied but its reply
// lost: the call blocks until its deadline, the claim stands.
type lateApply struct {
	store.Deduplicator
	first atomic.Bool
}

func (l *lateApply) Claim(ctx context.Context, key, token string, lease time.Duration) (store.Claim, error) {
	c, err := l.Deduplicator.Claim(ctx, key, token, lease)
	if l.first.CompareAndSwap(false, true) {
		<-ctx.Done()
		return store.Claim{}, ctx.Err()
	}
	return c, err
}

// A claim that timed out on the client but was applied in the store does
// not hold the key for its lease (a minute here): the next redelivery runs
// at once.
func TestServeFreesAClaimThatTimedOut(t *testing.T) {
	const budget = 200 * time.Millisecond
	d := &Dedup{Store: &lateApply{Deduplicator: store.NewMemoryDeduplicator()}, Vendor: "v", Logger: quiet(),
		Lease: time.Minute, Wait: budget}
	w, _ := deliver(d, "k", func(http.ResponseWriter) { t.Error("ran without a claim") })
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	runs := 0
	w, took := deliver(d, "k", func(w http.ResponseWriter) { runs++; _, _ = io.WriteString(w, "ok") })
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, 1, runs)
	assert.Less(t, took, 2*budget, "the redelivery waited for the claim that timed out")
}

// lostRenewals is a Deduplicator that has lost every claim when renewed.
type lostRenewals struct {
	store.Deduplicator
	renewals atomic.Int32
}

func (l *lostRenewals) Renew(context.Context, string, string, time.Duration) error {
	l.renewals.Add(1)
	return store.ErrClaimLost
}

// A renewal that finds the claim lost is logged, once; the callback goes
// on and its answer is sent.
func TestServeLogsALostClaim(t *testing.T) {
	var log syncBuffer
	st := &lostRenewals{Deduplicator: store.NewMemoryDeduplicator()}
	d := &Dedup{Store: st, Vendor: "v", Logger: slog.New(slog.NewTextHandler(&log, nil)), Lease: 60 * time.Millisecond}
	w, _ := deliver(d, "k", func(w http.ResponseWriter) {
		time.Sleep(200 * time.Millisecond)
		_, _ = io.WriteString(w, "done anyway")
	})
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "done anyway", w.Body.String())
	assert.Contains(t, log.String(), "claim lost")
	assert.Equal(t, int32(1), st.renewals.Load(), "a lost claim is not renewed again")
}

// countRenewals counts renewals, and the time left on each.
type countRenewals struct {
	store.Deduplicator
	renewals atomic.Int32
	limit    atomic.Int64
}

func (c *countRenewals) Renew(ctx context.Context, key, token string, lease time.Duration) error {
	c.renewals.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		c.limit.Store(int64(time.Until(dl)))
	}
	return c.Deduplicator.Renew(ctx, key, token, lease)
}

// Renewals run every lease/3 under a deadline while the callback runs,
// and stop with it.
func TestServeRenewsUntilTheCallbackReturns(t *testing.T) {
	const lease = 90 * time.Millisecond
	st := &countRenewals{Deduplicator: store.NewMemoryDeduplicator()}
	d := &Dedup{Store: st, Vendor: "v", Logger: quiet(), Lease: lease}
	w, _ := deliver(d, "k", func(http.ResponseWriter) { time.Sleep(10 * lease / 3) })
	assert.Equal(t, 200, w.Code)
	n := st.renewals.Load()
	assert.GreaterOrEqual(t, n, int32(5), "renewals while a callback of ten renewal periods ran")
	assert.LessOrEqual(t, n, int32(11))
	assert.Positive(t, st.limit.Load(), "a renewal ran without a deadline")
	assert.LessOrEqual(t, time.Duration(st.limit.Load()), lease/3)
	time.Sleep(2 * lease)
	assert.Equal(t, n, st.renewals.Load(), "renewed after the callback returned")
}

// slowFinish is a Deduplicator whose Complete and Release stall.
type slowFinish struct{ store.Deduplicator }

func (slowFinish) Complete(ctx context.Context, _, _ string, _ []byte, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (slowFinish) Release(ctx context.Context, _, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

// Recording the answer runs under the budget too: a store that stalls
// after the callback does not hold the answer back for longer.
func TestServeBoundsCompleteAndRelease(t *testing.T) {
	const budget = 200 * time.Millisecond
	d := &Dedup{Store: slowFinish{store.NewMemoryDeduplicator()}, Vendor: "v", Logger: quiet(), Wait: budget}
	for _, status := range []int{200, 500} {
		_, took := deliver(d, "k", func(w http.ResponseWriter) { w.WriteHeader(status) })
		assert.Less(t, took, 2*budget, "status %d", status)
	}
}

// The options of WithDeduplication: zero fields take the defaults, later
// options win, and a handler's own deadline (Botcopy) caps the budget.
func TestNewDedupOptions(t *testing.T) {
	assert.Nil(t, NewDedup(nil, 0))
	d := NewDedup(store.NewMemoryDeduplicator(), time.Hour)
	assert.Equal(t, DefaultDedupLease, d.lease())
	assert.Equal(t, DefaultDedupWait, d.budget())
	assert.Less(t, DefaultDedupWait, 5*time.Second, "Botcopy drops an answer after 5 s")
	assert.Greater(t, DefaultDedupLease, DefaultDedupWait, "a lease shorter than the wait frees a live claim under a stall")
	d = NewDedup(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: 2 * time.Second, Wait: time.Second}, store.DedupOptions{Wait: 3 * time.Second})
	assert.Equal(t, 2*time.Second, d.lease())
	assert.Equal(t, 3*time.Second, d.budget())
	d.Deadline = 2 * time.Second
	assert.Equal(t, 1800*time.Millisecond, d.budget())
	d.Wait = time.Second
	assert.Equal(t, time.Second, d.budget())
}

// A store that fails at once answers 503 at once, and its claim is
// released in the background all the same.
func TestServeReleasesAFailedClaim(t *testing.T) {
	st := &failing{}
	d := &Dedup{Store: st, Vendor: "v", Logger: quiet()}
	w, took := deliver(d, "k", func(http.ResponseWriter) { t.Error("ran without a claim") })
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Less(t, took, time.Second)
	require.Eventually(t, func() bool { return st.releases.Load() >= 1 }, 2*time.Second, 10*time.Millisecond)
}

type failing struct{ releases atomic.Int32 }

var errDown = errors.New("connection refused")

func (*failing) Claim(context.Context, string, string, time.Duration) (store.Claim, error) {
	return store.Claim{}, errDown
}
func (*failing) Renew(context.Context, string, string, time.Duration) error { return errDown }
func (*failing) Complete(context.Context, string, string, []byte, time.Duration) error {
	return errDown
}
func (f *failing) Release(context.Context, string, string) error {
	f.releases.Add(1)
	return nil
}

// A callback that panics stops the renewals: its claim frees after the
// lease instead of being renewed for as long as the process lives.
func TestServeStopsRenewingWhenTheCallbackPanics(t *testing.T) {
	const lease = 90 * time.Millisecond
	st := &countRenewals{Deduplicator: store.NewMemoryDeduplicator()}
	d := &Dedup{Store: st, Vendor: "v", Logger: quiet(), Lease: lease}
	func() {
		defer func() { assert.NotNil(t, recover()) }()
		deliver(d, "k", func(http.ResponseWriter) { panic("callback") })
	}()
	time.Sleep(3 * lease)
	assert.Zero(t, st.renewals.Load())
	c, err := st.Claim(context.Background(), "v:k", "next", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Acquired, c.State)
}
