package onetalk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const testSecret = "s3cr3t-key"

func quietLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func post(body string, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/onetalk", strings.NewReader(body))
	if secret != "" {
		r.Header.Set(SecretHeader, secret)
	}
	return r
}

func TestHandlerBehaviourTable(t *testing.T) {
	valid := string(golden.Read(t, "onetalk/doc/inbound_request.json"))
	unknown := `{"caseID":"C1","channelType":"telegram","sender":{"contactName":"A"},"message":{"id":"m","type":"sticker","sticker":{}}}`
	tests := []struct {
		name       string
		req        *http.Request
		cbErr      error
		maxBody    int64
		wantStatus int
		wantCalls  int
		wantHeader map[string]string
		wantLog    string
	}{
		{name: "GET is 405", req: httptest.NewRequest(http.MethodGet, "/onetalk", nil),
			wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "body over limit is 413", req: post(valid, testSecret), maxBody: 64, wantStatus: 413},
		{name: "missing secret is 401", req: post(valid, ""), wantStatus: 401},
		{name: "wrong secret is 401", req: post(valid, "nope"), wantStatus: 401},
		{name: "secret with a different length is 401", req: post(valid, testSecret+"x"), wantStatus: 401},
		{name: "malformed JSON is 400", req: post(`{"caseID":`, testSecret), wantStatus: 400},
		{name: "not an object is 400", req: post(`[1,2]`, testSecret), wantStatus: 400},
		{name: "no caseID is 400", req: post(`{"message":{"type":"text"}}`, testSecret), wantStatus: 400},
		{name: "unknown message type is 200 without callback", req: post(unknown, testSecret), wantStatus: 200},
		{name: "callback error is 500", req: post(valid, testSecret), cbErr: errors.New("db down"),
			wantStatus: 500, wantCalls: 1, wantLog: "db down"},
		{name: "success is 200", req: post(valid, testSecret), wantStatus: 200, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			var logs bytes.Buffer
			opts := []Option{WithLogger(quietLogger(&logs))}
			if tt.maxBody > 0 {
				opts = append(opts, WithMaxBodyBytes(tt.maxBody))
			}
			h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
				calls++
				assert.Equal(t, "FBED34A1EF", r.CaseID)
				return tt.cbErr
			}, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, tt.wantCalls, calls)
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, rec.Header().Get(k))
			}
			if tt.wantLog != "" {
				assert.Contains(t, logs.String(), tt.wantLog)
			}
			assert.NotContains(t, rec.Body.String(), testSecret)
			assert.NotContains(t, logs.String(), testSecret)
		})
	}
}

func TestHandlerOnUnknown(t *testing.T) {
	var got string
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error {
		t.Error("main callback called for an unknown type")
		return nil
	}, WithOnUnknown(func(_ context.Context, r *InboundRequest) error {
		got = r.Message.Type
		return nil
	}))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post(`{"caseID":"C","message":{"id":"m","type":"audio","audio":{"url":"u"}}}`, testSecret))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "audio", got)
}

func TestHandlerCallbackPanicIs500(t *testing.T) {
	var logs bytes.Buffer
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { panic("boom") },
		WithLogger(quietLogger(&logs)))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post(string(golden.Read(t, "onetalk/doc/inbound_request.json")), testSecret))
	assert.Equal(t, 500, rec.Code)
	assert.Contains(t, logs.String(), "boom")
}

func TestHandlerRequestOutlivesBuffer(t *testing.T) {
	// The request handed to the callback must not alias the pooled buffer.
	var kept []*InboundRequest
	h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
		kept = append(kept, r)
		return nil
	})
	require.NoError(t, err)
	a := `{"caseID":"AAAAAAAAAA","message":{"id":"1","type":"text","text":{"body":"first"}}}`
	b := `{"caseID":"BBBBBBBBBB","message":{"id":"2","type":"text","text":{"body":"second"}}}`
	h.ServeHTTP(httptest.NewRecorder(), post(a, testSecret))
	h.ServeHTTP(httptest.NewRecorder(), post(b, testSecret))
	require.Len(t, kept, 2)
	assert.Equal(t, a, string(kept[0].Raw))
	assert.Equal(t, "first", kept[0].Message.Body())
}

func TestNewHandlerFailsClosed(t *testing.T) {
	noop := func(context.Context, *InboundRequest) error { return nil }
	_, err := NewHandler("", noop)
	assert.ErrorIs(t, err, ErrNoSecret)
	_, err = NewHandler(testSecret, nil)
	assert.Error(t, err)
	_, err = NewHandler(testSecret, noop, WithTimeout(time.Second))
	assert.ErrorContains(t, err, "NewHandler does not take WithTimeout")
	h, err := NewHandler(testSecret, noop)
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(f, h), testSecret)
		assert.NotContains(t, fmt.Sprintf(f, *h), testSecret)
	}
}

func TestAsyncAcknowledgesThenProcesses(t *testing.T) {
	release := make(chan struct{})
	var done atomic.Int32
	h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
		<-release
		done.Add(1)
		return nil
	}, WithAsync(1, 1), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	body := string(golden.Read(t, "onetalk/doc/inbound_request.json"))

	// The first message occupies the worker, the second fills the queue of
	// one; the third finds the queue full and gets 503 so OneTalk redelivers.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 200, rec.Code)
	require.Eventually(t, func() bool { return h.pool.waitingCount() == 0 }, 5*time.Second, time.Millisecond)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 200, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Equal(t, int32(0), done.Load(), "callback ran before it was released")

	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	assert.Equal(t, int32(2), done.Load(), "shutdown did not drain the queue")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 503, rec.Code, "a shut-down handler must refuse with 503")
}

func TestAsyncShutdownDeadlineCancelsCallbacks(t *testing.T) {
	started := make(chan struct{})
	var once sync.Once
	var cancelled atomic.Bool
	h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
		once.Do(func() { close(started) })
		<-ctx.Done()
		cancelled.Store(true)
		return ctx.Err()
	}, WithAsync(1, 4), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	h.ServeHTTP(httptest.NewRecorder(), post(string(golden.Read(t, "onetalk/doc/inbound_request.json")), testSecret))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, h.Shutdown(ctx), context.DeadlineExceeded)
	require.Eventually(t, cancelled.Load, 5*time.Second, time.Millisecond)
}

func TestAsyncCallbackKeepsRequestValues(t *testing.T) {
	type key struct{}
	got := make(chan any, 1)
	h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
		got <- ctx.Value(key{})
		return ctx.Err()
	}, WithAsync(1, 1))
	require.NoError(t, err)
	req := post(string(golden.Read(t, "onetalk/doc/inbound_request.json")), testSecret)
	ctx, cancel := context.WithCancel(context.WithValue(req.Context(), key{}, "trace-1"))
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
	cancel() // the request ends; the callback must not see that
	assert.Equal(t, "trace-1", <-got)
	require.NoError(t, h.Shutdown(context.Background()))
}

func TestVerifySecret(t *testing.T) {
	assert.NoError(t, VerifySecret("abc", "abc"))
	assert.ErrorIs(t, VerifySecret("", "abc"), ErrMissingSecret)
	assert.ErrorIs(t, VerifySecret("abd", "abc"), ErrInvalidSecret)
	assert.ErrorIs(t, VerifySecret("abc", ""), ErrNoSecret)
	assert.NotContains(t, VerifySecret("abd", "abc").Error(), "abc")
}

// A timestamp that is no time (NaN, Infinity, 1e300) is a 400 naming the
// field; it used to decode as the year -292275055.
func TestHandlerRefusesImpossibleTimestamps(t *testing.T) {
	calls := 0
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { calls++; return nil },
		WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	for _, ts := range []string{`"NaN"`, `"Infinity"`, `"-Infinity"`, `1e300`, `-1e300`, `"9223372036854775807"`, `"soon"`} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, post(`{"caseID":"C1","message":{"id":"m","type":"text","timestamp":`+ts+`,"text":{"body":"hi"}}}`, testSecret))
		assert.Equal(t, 400, rec.Code, ts)
		assert.Contains(t, rec.Body.String(), "message.timestamp", ts)
	}
	assert.Zero(t, calls)
	for _, ts := range []string{`1719934171955`, `"1719934171955"`, `1.719934171955e12`, `null`} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, post(`{"caseID":"C1","message":{"id":"m","type":"text","timestamp":`+ts+`,"text":{"body":"hi"}}}`, testSecret))
		assert.Equal(t, 200, rec.Code, ts)
	}
}

func caseMessage(caseID, text string) *http.Request {
	return post(`{"caseID":"`+caseID+`","message":{"id":"`+text+`","type":"text","text":{"body":"`+text+`"}}}`, testSecret)
}

// WithAsync(4, 256) used to run two messages of one case at once, so
// replies to one customer could leave in the wrong order ([second first]).
// Messages of one case run in arrival order; other cases run meanwhile.
func TestAsyncKeepsOrderWithinACase(t *testing.T) {
	releaseFirst := make(chan struct{})
	var mu sync.Mutex
	var ran []string
	h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
		if r.Message.Body() == "A1" {
			<-releaseFirst
		}
		mu.Lock()
		ran = append(ran, r.Message.Body())
		mu.Unlock()
		return nil
	}, WithAsync(4, 256), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	for _, m := range [][2]string{{"A", "A1"}, {"A", "A2"}, {"B", "B1"}, {"A", "A3"}, {"B", "B2"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, caseMessage(m[0], m[1]))
		require.Equal(t, 200, rec.Code)
	}
	// Case B is not held up by case A's slow first message.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 2 }, 5*time.Second, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"B1", "B2"}, ran, "A2 must wait for A1")
	mu.Unlock()
	close(releaseFirst)
	require.NoError(t, h.Shutdown(context.Background()))
	assert.Equal(t, []string{"B1", "B2", "A1", "A2", "A3"}, ran)

	// Under concurrency: 8 cases x 40 messages delivered in order per case,
	// case deliveries interleaved, each case's callbacks see its order.
	seen := map[string][]int{}
	h, err = NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
		var n int
		fmt.Sscan(r.Message.Body(), &n)
		mu.Lock()
		seen[r.CaseID] = append(seen[r.CaseID], n)
		mu.Unlock()
		return nil
	}, WithAsync(4, 1024), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, caseMessage(fmt.Sprint("case-", c), fmt.Sprint(i)))
				assert.Equal(t, 200, rec.Code)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, h.Shutdown(context.Background()))
	require.Len(t, seen, 8)
	for c, got := range seen {
		want := make([]int, 40)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, got, c)
	}
}
