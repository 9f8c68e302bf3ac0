package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

// observed is a client of srv reporting to a new Recorder.
func observed(t *testing.T, cfg Config) (*Client, *observetest.Recorder) {
	t.Helper()
	rec := observetest.NewRecorder()
	cfg.Observer = rec
	cfg.Platform = "test"
	if cfg.WaitMin == 0 {
		cfg.WaitMin, cfg.WaitMax = time.Millisecond, time.Millisecond
	}
	return New(cfg, "ua/1"), rec
}

func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	p, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), p
}

func ops(rec *observetest.Recorder) []string {
	var out []string
	for _, r := range rec.Records() {
		op := r.Op
		if r.Event != nil {
			op += ":" + r.Event.Kind.String()
		}
		out = append(out, op)
	}
	return out
}

func TestObserveOneAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c, rec := observed(t, Config{})
	_, err := c.PostJSON(context.Background(), Request{URL: srv.URL + "/v1/cases/C-981/messages", Body: []byte(`{}`),
		Operation: "SendMessage", URLTemplate: "/v1/cases/{caseID}/messages"})
	require.NoError(t, err)

	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "CallEnd"}, ops(rec))
	host, port := hostPort(t, srv.URL)
	a := rec.Attempts()
	require.Len(t, a, 1)
	assert.Equal(t, 0, a[0].N)
	assert.Equal(t, http.MethodPost, a[0].Method)
	assert.Equal(t, "http", a[0].Scheme)
	assert.Equal(t, host, a[0].Host)
	assert.Equal(t, port, a[0].Port)
	assert.Equal(t, 200, a[0].Status)
	assert.NoError(t, a[0].Err)
	assert.Positive(t, a[0].Duration)
	assert.False(t, a[0].Start.IsZero())

	calls := rec.Calls()
	require.Len(t, calls, 1)
	call := calls[0]
	assert.Equal(t, "test", call.Platform)
	assert.Equal(t, "SendMessage", call.Operation)
	assert.Equal(t, "/v1/cases/{caseID}/messages", call.URLTemplate)
	assert.Equal(t, 1, call.Attempts)
	assert.Equal(t, 200, call.Status)
	assert.NoError(t, call.Err)
	assert.GreaterOrEqual(t, call.Duration, a[0].Duration)
	assert.Same(t, a[0].Call, rec.Records()[1].Attempt.Call, "an attempt points to its call")
}

func TestObserveRetryAfter(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c, rec := observed(t, Config{})
	start := time.Now()
	_, err := c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), Operation: "Send"})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second)

	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "Event:retry", "Event:rate_limited",
		"AttemptStart", "AttemptEnd", "CallEnd"}, ops(rec))
	a := rec.Attempts()
	require.Len(t, a, 2)
	assert.Equal(t, []int{0, 503}, []int{a[0].N, a[0].Status})
	assert.Equal(t, []int{1, 200}, []int{a[1].N, a[1].Status})
	ev := rec.Events()
	assert.Equal(t, observe.Event{Kind: observe.KindRetry, Platform: "test", Operation: "Send",
		Reason: observe.ReasonStatus503, Source: observe.SourceServer, Attempt: 0, Wait: time.Second}, ev[0])
	assert.Equal(t, observe.Event{Kind: observe.KindRateLimited, Platform: "test", Operation: "Send",
		Source: observe.SourceServer, Reason: observe.ReasonStatus503, Attempt: 0, Wait: time.Second}, ev[1])
	call := rec.Calls()[0]
	assert.Equal(t, 2, call.Attempts)
	assert.Equal(t, 200, call.Status)
}

// A 500 on a send is not retried under RetryIdempotent: the call ends with
// its *APIError after one attempt, and no KindGaveUp, which is kept for a
// failure botwire would have retried (retries exhausted, a context end, a
// Retry-After past the deadline). The same 500 on an idempotent operation
// is retried, and the call gives up when the retries run out.
func TestObserveServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, rec := observed(t, Config{})
	_, err := c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), Operation: "SendMessage"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "CallEnd"}, ops(rec))
	call := rec.Calls()[0]
	assert.Equal(t, 1, call.Attempts)
	assert.Equal(t, 500, call.Status)
	assert.Equal(t, err, call.Err)
	assert.NoError(t, rec.Attempts()[0].Err, "a status is not an attempt error")

	rec.Reset()
	c, rec = observed(t, Config{MaxRetries: 1, retriesSet: true})
	_, err = c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), Operation: "UpdateCase", Idempotent: true})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "Event:retry",
		"AttemptStart", "AttemptEnd", "Event:gave_up", "CallEnd"}, ops(rec))
	ev := rec.Events()
	assert.Equal(t, observe.ReasonStatus5xx, ev[0].Reason)
	assert.Equal(t, observe.Event{Kind: observe.KindGaveUp, Platform: "test", Operation: "UpdateCase",
		Reason: observe.ReasonStatus5xx, Attempt: 2, Err: err}, ev[1])
}

// deadPort returns a loopback address nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestObserveDialFailureRetried(t *testing.T) {
	addr := deadPort(t)
	c, rec := observed(t, Config{MaxRetries: 2, retriesSet: true})
	_, err := c.PostJSON(context.Background(), Request{URL: "http://" + addr + "/x", Body: []byte(`{}`), Operation: "SendMessage"})
	require.Error(t, err)
	require.True(t, NotSent(err), "%v", err)

	a := rec.Attempts()
	require.Len(t, a, 3)
	for i, at := range a {
		assert.Equal(t, i, at.N)
		assert.Zero(t, at.Status)
		assert.Error(t, at.Err)
	}
	retries := rec.Events(observe.KindRetry)
	require.Len(t, retries, 2)
	for i, e := range retries {
		assert.Equal(t, observe.ReasonNotSent, e.Reason)
		assert.Equal(t, i, e.Attempt)
		assert.Equal(t, time.Millisecond, e.Wait, "the wait botwire slept")
		assert.Error(t, e.Err)
	}
	gave := rec.Events(observe.KindGaveUp)
	require.Len(t, gave, 1)
	assert.Equal(t, 3, gave[0].Attempt)
	assert.Equal(t, observe.ReasonNotSent, gave[0].Reason)
	call := rec.Calls()[0]
	assert.Equal(t, 3, call.Attempts)
	assert.Zero(t, call.Status, "no answer arrived")
	assert.Equal(t, err, call.Err)
}

// cancelOnRetry cancels the call's context when a retry is announced: the
// call is then waiting.
type cancelOnRetry struct {
	*observetest.Recorder
	cancel context.CancelFunc
}

func (o cancelOnRetry) Event(ctx context.Context, e observe.Event) {
	o.Recorder.Event(ctx, e)
	if e.Kind == observe.KindRetry {
		o.cancel()
	}
}

func TestObserveContextEndsWhileWaiting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := observetest.NewRecorder()
	c := New(Config{Observer: cancelOnRetry{rec, cancel}, Platform: "test", WaitMin: time.Minute, WaitMax: time.Minute}, "ua/1")
	start := time.Now()
	_, err := c.PostJSON(ctx, Request{URL: srv.URL, Body: []byte(`{}`), Operation: "SendMessage"})
	assert.Less(t, time.Since(start), 10*time.Second, "the wait ended with the context")
	require.ErrorIs(t, err, context.Canceled)
	var waitErr *WaitError
	require.ErrorAs(t, err, &waitErr)

	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "Event:retry", "Event:gave_up", "CallEnd"}, ops(rec))
	retry := rec.Events(observe.KindRetry)[0]
	assert.GreaterOrEqual(t, retry.Wait, time.Minute)
	gave := rec.Events(observe.KindGaveUp)[0]
	assert.ErrorIs(t, gave.Err, context.Canceled)
	assert.Equal(t, err, gave.Err)
	assert.Equal(t, 1, gave.Attempt)
	assert.Equal(t, observe.ReasonStatus503, gave.Reason)
	assert.Equal(t, err, rec.Calls()[0].Err)
}

// A context that ends during an attempt gives up too, even on the first.
func TestObserveContextEndsDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		cancel()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	c, rec := observed(t, Config{})
	_, err := c.PostJSON(ctx, Request{URL: srv.URL, Body: []byte(`{}`), Operation: "SendMessage"})
	require.ErrorIs(t, err, context.Canceled)
	gave := rec.Events(observe.KindGaveUp)
	require.Len(t, gave, 1)
	assert.Equal(t, 1, gave[0].Attempt)
	assert.ErrorIs(t, gave[0].Err, context.Canceled)
	assert.ErrorIs(t, rec.Attempts()[0].Err, context.Canceled)
}

type ctxKey struct{}

// markAttempts is an observer whose AttemptStart returns a context of its
// own, as a tracer's span does.
type markAttempts struct {
	observe.Base
	n atomic.Int32
}

func (m *markAttempts) AttemptStart(ctx context.Context, a *observe.Attempt) context.Context {
	m.n.Add(1)
	return context.WithValue(ctx, ctxKey{}, "attempt-"+strconv.Itoa(a.N))
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The request of each attempt carries the context AttemptStart returned,
// so a transport below (otelhttp) sees the attempt's span as its parent,
// and the attempt belongs to the call's trace.
func TestObserveAttemptContext(t *testing.T) {
	var seen []any
	var calls int
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Context().Value(ctxKey{}))
		calls++
		code := 200
		if calls == 1 {
			code = 503
		}
		return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
	})
	m := &markAttempts{}
	rec := observetest.NewRecorder()
	c := New(Config{HTTPClient: &http.Client{Transport: rt}, Observer: observe.Multi(rec, m),
		WaitMin: time.Millisecond, WaitMax: time.Millisecond}, "ua/1")
	_, err := c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: []byte(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, []any{"attempt-0", "attempt-1"}, seen)

	var callTrace string
	for _, r := range rec.Records() {
		require.NotEmpty(t, r.Trace, r.Op)
		if r.Op == "CallStart" {
			callTrace = r.Trace
		}
		assert.Equal(t, callTrace, r.Trace, "%s is in the call's trace", r.Op)
	}
	host, port := "x.test", 443
	a := rec.Attempts()
	assert.Equal(t, []any{"https", host, port}, []any{a[0].Scheme, a[0].Host, a[0].Port})
}

// Nothing an observer receives holds a credential: not the request's
// headers, not a platform's answer that echoes the key.
func TestObserveHoldsNoCredential(t *testing.T) {
	const key = "sk_live_obs_5f1e2d"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/retry" {
			w.WriteHeader(http.StatusTooManyRequests)
		} else {
			w.WriteHeader(http.StatusUnauthorized)
		}
		_, _ = io.WriteString(w, `{"error":"invalid key `+r.Header.Get("Secret-Key")+`"}`)
	}))
	defer srv.Close()
	c, rec := observed(t, Config{Header: http.Header{"Secret-Key": {key}}, MaxRetries: 1, retriesSet: true})
	for _, path := range []string{"/auth", "/retry"} {
		_, err := c.PostJSON(context.Background(), Request{URL: srv.URL + path, Body: []byte(`{}`), Operation: "Send"})
		require.Error(t, err)
	}
	_, err := c.PostJSON(context.Background(), Request{URL: "http://" + deadPort(t), Body: []byte(`{}`)})
	require.Error(t, err)
	require.NotEmpty(t, rec.Events(observe.KindRetry))
	var apiErr *APIError
	require.ErrorAs(t, rec.Calls()[0].Err, &apiErr)
	assert.Contains(t, string(apiErr.Body), "invalid key [REDACTED]", "the platform echoed the key")
	assertNoSecret(t, rec, key)
}

// assertNoSecret fails if any field of any record prints one of secrets
// (with %+v, and an *APIError's body and header in full).
func assertNoSecret(t *testing.T, rec *observetest.Recorder, secrets ...string) {
	t.Helper()
	recs := rec.Records()
	require.NotEmpty(t, recs)
	for _, r := range recs {
		var parts []any
		var errs []error
		switch {
		case r.Call != nil:
			parts, errs = append(parts, *r.Call), append(errs, r.Call.Err)
		case r.Attempt != nil:
			parts, errs = append(parts, *r.Attempt, *r.Attempt.Call), append(errs, r.Attempt.Err)
		case r.Event != nil:
			parts, errs = append(parts, *r.Event), append(errs, r.Event.Err)
		}
		s := fmt.Sprintf("%+v %+v", r, parts)
		for _, err := range errs {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				s += fmt.Sprintf(" %+v %s %v", *apiErr, apiErr.Body, apiErr.Header)
			}
		}
		for _, secret := range secrets {
			assert.NotContains(t, s, secret, "%s", r.Op)
		}
	}
}

// A Retry-After past the context's deadline hands the answer back at once:
// the call gives up without a retry.
func TestObserveRetryAfterPastDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, rec := observed(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.PostJSON(ctx, Request{URL: srv.URL, Body: []byte(`{}`), Operation: "Send"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.Equal(t, []string{"CallStart", "AttemptStart", "AttemptEnd", "Event:gave_up", "CallEnd"}, ops(rec))
	gave := rec.Events()[0]
	assert.Equal(t, observe.ReasonStatus429, gave.Reason)
	assert.Equal(t, 1, gave.Attempt)
}

// An attempt that passes the client's timeout fails as a timeout (not as
// the caller's deadline) and is retried like any ambiguous network error:
// for an idempotent operation only.
func TestObserveAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release)
	c, rec := observed(t, Config{Timeout: 50 * time.Millisecond, MaxRetries: 1, retriesSet: true})
	_, err := c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), Operation: "UpdateCase", Idempotent: true})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "attempt timeout 50ms exceeded")
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	assert.True(t, netErr.Timeout())
	retries := rec.Events(observe.KindRetry)
	require.Len(t, retries, 1)
	assert.Equal(t, observe.ReasonNetwork, retries[0].Reason)
	assert.Len(t, rec.Attempts(), 2)
	assert.Len(t, rec.Events(observe.KindGaveUp), 1)

	rec.Reset()
	_, err = c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), Operation: "SendMessage"})
	require.Error(t, err)
	assert.Len(t, rec.Attempts(), 1, "a send that may have arrived is not retried")
	assert.Empty(t, rec.Events(observe.KindRetry))
}
