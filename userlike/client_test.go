package userlike

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/store"
)

const (
	apiURL   = "https://api.userlike.com/api/chatbot/v1/bot/42"
	apiToken = "api-token-123"
)

// fakeClock drives the limiter without sleeping: sleep advances the clock.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport, *fakeClock) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := NewClient(apiURL, apiToken, opts...)
	require.NoError(t, err)
	clock := &fakeClock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	c.limiter.now, c.limiter.sleep = clock.now, clock.sleep
	return c, mt, clock
}

func TestClientSendsOneEventPerRequest(t *testing.T) {
	c, mt, _ := newTestClient(t)
	var bodies [][]byte
	mt.RegisterResponder(http.MethodPost, apiURL, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, apiToken, r.Header.Get("SECURITY-TOKEN"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
		return httpmock.NewStringResponse(200, ""), nil
	})
	err := c.SendWithContext(context.Background(), docCID, map[string]string{"order": "A1"},
		Message("Your order A1 ships today."), ForwardAny(""))
	require.NoError(t, err)
	require.Len(t, bodies, 2)
	golden.JSON(t, "userlike/golden/client_send_0.json", bodies[0])
	golden.JSON(t, "userlike/golden/client_send_1.json", bodies[1])
}

func TestClientBatch(t *testing.T) {
	c, mt, _ := newTestClient(t, WithBatch(true))
	var body []byte
	mt.RegisterResponder(http.MethodPost, apiURL, func(r *http.Request) (*http.Response, error) {
		body, _ = io.ReadAll(r.Body)
		return httpmock.NewStringResponse(200, ""), nil
	})
	require.NoError(t, c.Send(context.Background(), docCID, Message("a"), Message("b")))
	assert.Equal(t, 1, mt.GetTotalCallCount())
	golden.JSON(t, "userlike/golden/client_send_batch.json", body)
}

func TestClientRetryPolicy(t *testing.T) {
	dial := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	status := func(code int) httpmock.Responder { return httpmock.NewStringResponder(code, `{"error":"x"}`) }
	msg := []Action{Message("hi")}
	update := []Action{ContactUpdate(ContactUpdatePayload{Email: "a@b.c"})}
	tests := []struct {
		name     string
		actions  []Action
		resp     httpmock.Responder
		attempts int
	}{
		{"500 on a message is not retried", msg, status(500), 1},
		{"500 on contact_update is retried", update, status(500), 4},
		{"429 is retried", msg, status(429), 4},
		{"503 is retried", msg, status(503), 4},
		{"dial error is retried", msg, dial, 4},
		{"400 is not retried", update, status(400), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt, _ := newTestClient(t)
			mt.RegisterResponder(http.MethodPost, apiURL, tt.resp)
			err := c.Send(context.Background(), "c1", tt.actions...)
			require.Error(t, err)
			assert.Equal(t, tt.attempts, mt.GetTotalCallCount())
			assert.NotContains(t, err.Error(), apiToken)
		})
	}
}

func TestClientRefusesInvalidOffline(t *testing.T) {
	c, mt, _ := newTestClient(t)
	mt.RegisterNoResponder(httpmock.NewStringResponder(200, ""))
	assert.ErrorIs(t, c.Send(context.Background(), "c1", Message("")), ErrInvalidAction)
	assert.ErrorIs(t, c.Send(context.Background(), "", Message("x")), ErrInvalidAction)
	assert.ErrorIs(t, c.Send(context.Background(), "c1"), ErrInvalidAction)
	assert.ErrorIs(t, c.SendWithContext(context.Background(), "c1", map[string]string{"x": string(make([]byte, MaxContextBytes))}, Message("x")), ErrContextTooLarge)
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestClientRateLimitWaits(t *testing.T) {
	c, mt, clock := newTestClient(t)
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	for i := range 20 {
		require.NoError(t, c.Send(ctx, "c1", Message(fmt.Sprint(i))))
		clock.advance(time.Second)
	}
	assert.Empty(t, clock.slept, "20 requests in 20 s need no wait")
	// The 21st must wait until the first leaves the 60-second window and
	// the margin for transit after it.
	require.NoError(t, c.Send(ctx, "c1", Message("21st")))
	require.Len(t, clock.slept, 1)
	assert.Equal(t, 40*time.Second+DefaultRateMargin, clock.slept[0])
	// Another cid has its own budget.
	require.NoError(t, c.Send(ctx, "c2", Message("other")))
	assert.Len(t, clock.slept, 1)
	assert.Equal(t, 22, mt.GetTotalCallCount())
}

func TestClientRateLimitFailFast(t *testing.T) {
	c, mt, clock := newTestClient(t, WithRateLimitWait(false))
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	for range 20 {
		require.NoError(t, c.Send(ctx, "c1", Message("x")))
	}
	err := c.Send(ctx, "c1", Message("x"))
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, 20, mt.GetTotalCallCount(), "a refused send reaches nobody")
	clock.advance(time.Minute)
	assert.ErrorIs(t, c.Send(ctx, "c1", Message("x")), ErrRateLimited, "the margin for transit is not over")
	clock.advance(DefaultRateMargin)
	assert.NoError(t, c.Send(ctx, "c1", Message("x")))
}

func TestClientRateMargin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		margin time.Duration
		wait   time.Duration
	}{
		{"default", 0, time.Minute + DefaultRateMargin},
		{"set", 250 * time.Millisecond, time.Minute + 250*time.Millisecond},
		{"none", -1, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt, clock := newTestClient(t, WithRateMargin(tc.margin))
			mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
			for range 21 {
				require.NoError(t, c.Send(context.Background(), "c1", Message("x")))
			}
			require.Len(t, clock.slept, 1)
			assert.Equal(t, tc.wait, clock.slept[0])
		})
	}
}

func TestClientRateLimitCancelledWaitGivesSlotBack(t *testing.T) {
	c, mt, _ := newTestClient(t)
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	for range 20 {
		require.NoError(t, c.Send(context.Background(), "c1", Message("x")))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Send(ctx, "c1", Message("x")), context.Canceled)
	w := c.limiter.cids["c1"].Value.(*window)
	assert.Equal(t, 20, w.count, "the abandoned reservation was returned")
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	assert.ErrorIs(t, c.Send(short, "c1", Message("x")), ErrRateLimited, "a wait past the deadline fails at once")
	assert.Equal(t, 20, mt.GetTotalCallCount())
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newLimiter(20, time.Minute, -1, false, nil)
	clock := &fakeClock{t: time.Unix(0, 0)}
	l.now = clock.now
	l.max = 100
	for i := range 1000 {
		_, err := l.reserve(fmt.Sprint("cid-", i))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, l.tracked(), 100, "busy cids beyond the cap are evicted")
	clock.advance(2 * time.Minute)
	_, _ = l.reserve("fresh")
	assert.Equal(t, 1, l.tracked(), "idle windows are dropped")
}

func TestClientContextCancel(t *testing.T) {
	c, mt, _ := newTestClient(t, WithRetryWait(time.Second, time.Second))
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(503, ""))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	err := c.Send(ctx, "c1", Message("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
}

func TestNewClient(t *testing.T) {
	_, err := NewClient(apiURL, "")
	assert.ErrorIs(t, err, ErrNoToken)
	_, err = NewClient("api.userlike.com/x", apiToken)
	assert.Error(t, err)
	_, err = NewClient(apiURL, apiToken, WithWebhookHeader("X", "y"))
	assert.ErrorContains(t, err, "NewClient does not take WithWebhookHeader")
	c, err := NewClient(apiURL, apiToken)
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(f, c), apiToken)
		assert.NotContains(t, fmt.Sprintf(f, *c), apiToken)
	}
}

// Every attempt that reaches Userlike counts against "20 requests per minute
// that use the same cid": against a server answering 429, one Send made 4
// requests while the limiter counted 1.
func TestClientRateLimitCountsRetries(t *testing.T) {
	c, mt, clock := newTestClient(t)
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(429, ""))
	err := c.Send(context.Background(), "c1", Message("x"))
	require.Error(t, err)
	assert.Equal(t, 4, mt.GetTotalCallCount())

	// 16 slots are left for c1 in this minute: 4 more Sends of 4 attempts
	// fit, the next must wait for the window, not reach Userlike.
	mt.ZeroCallCounters()
	for range 4 {
		require.Error(t, c.Send(context.Background(), "c1", Message("x")))
	}
	assert.Equal(t, 16, mt.GetTotalCallCount())
	assert.Empty(t, clock.slept)
	require.Error(t, c.Send(context.Background(), "c1", Message("x")))
	assert.NotEmpty(t, clock.slept, "the 21st attempt waited for the window")

	// Failing fast, the attempt over the limit ends the Send.
	c, mt, _ = newTestClient(t, WithRateLimitWait(false), WithRateLimit(2, time.Minute))
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(429, ""))
	assert.ErrorIs(t, c.Send(context.Background(), "c1", Message("x")), ErrRateLimited)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

// "Delays only affect subsequent messages in the same response/request":
// Send(Message, Delay, Message) used to make three requests, the delay
// alone in one.
func TestClientDelayTravelsWithWhatItDelays(t *testing.T) {
	c, mt, _ := newTestClient(t)
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	err := c.Send(context.Background(), "c1", Message("one"), Delay(2*time.Second), Message("two"))
	assert.ErrorIs(t, err, ErrInvalidAction)
	assert.Contains(t, err.Error(), "WithBatch(true)")
	assert.Zero(t, mt.GetTotalCallCount())

	c, mt, _ = newTestClient(t, WithBatch(true))
	var bodies []string
	mt.RegisterResponder(http.MethodPost, apiURL, func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		return httpmock.NewStringResponse(200, ""), nil
	})
	require.NoError(t, c.Send(context.Background(), "c1", Message("one"), Delay(2*time.Second), Message("two")))
	require.Len(t, bodies, 1)
	assert.Contains(t, bodies[0], `"delay"`)

	err = c.Send(context.Background(), "c1", Message("one"), Delay(time.Second))
	assert.ErrorIs(t, err, ErrInvalidAction, "a trailing delay delays nothing")
	assert.Len(t, bodies, 1)
}

// Client.Do sent any context bytes; the doc's "a JSON object, not bigger
// than 10 KB" holds there too.
func TestClientDoChecksContext(t *testing.T) {
	c, mt, _ := newTestClient(t)
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	for _, bad := range [][]byte{[]byte(`[1]`), []byte(`"x"`), []byte(`{"a":`), []byte(`{"a":"` + strings.Repeat("x", MaxContextBytes) + `"}`)} {
		assert.Error(t, c.Do(ctx, "c1", bad, Message("x")), "%.20s", bad)
	}
	assert.ErrorIs(t, c.Do(ctx, "c1", []byte(`{"a":"`+strings.Repeat("x", MaxContextBytes)+`"}`), Message("x")), ErrContextTooLarge)
	assert.Zero(t, mt.GetTotalCallCount())
	require.NoError(t, c.Do(ctx, "c1", []byte(`{"step":"done"}`), Message("x")))
}

// Three replicas sharing one limiter for one cid never exceed the limit in
// any window seen by Userlike, retries included (the fake answers some
// calls 429, and every attempt that reaches it counts).
func TestSharedRateLimiterAcrossReplicas(t *testing.T) {
	// The window is checked where Userlike would see it, so the period is
	// long enough that transit jitter under -race stays small beside it.
	const limit, period = 20, time.Second
	shared := store.NewMemoryRateLimiter()
	var mu sync.Mutex
	var seen []time.Time
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		calls++
		n := calls
		mu.Unlock()
		if n%7 == 0 {
			w.WriteHeader(http.StatusTooManyRequests) // retried by the client
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	for range 3 {
		c, err := NewClient(srv.URL, apiToken, WithRateLimiter(shared), WithRateLimit(limit, period),
			WithRetryWait(time.Millisecond, 2*time.Millisecond))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				_ = c.Send(context.Background(), "cid-1", Message("x"))
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Greater(t, len(seen), 60)
	for i := range seen {
		n := 0
		for _, ts := range seen[i:] {
			if ts.Sub(seen[i]) < period-150*time.Millisecond { // the server sees a little after the limiter
				n++
			}
		}
		if n > limit {
			t.Fatalf("%d requests within %s from request %d", n, period, i)
		}
	}
}

// Two tenants' clients (two API tokens) on one shared limiter count their
// conversations apart, even with the same cid: 20 a minute is per tenant
// and cid.
func TestSharedLimiterIsPerAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	shared := store.NewMemoryRateLimiter()
	newClient := func(token string) *Client {
		c, err := NewClient(srv.URL, token, WithRateLimiter(shared), WithRateLimit(2, time.Hour), WithRateLimitWait(false))
		require.NoError(t, err)
		return c
	}
	a, a2, b := newClient("tenant-a-token"), newClient("tenant-a-token"), newClient("tenant-b-token")
	ctx := context.Background()
	require.NoError(t, a.Send(ctx, "cid-1", Message("1")))
	require.NoError(t, a2.Send(ctx, "cid-1", Message("2")), "a replica of tenant A's client shares A's window")
	assert.ErrorIs(t, a.Send(ctx, "cid-1", Message("3")), ErrRateLimited)
	require.NoError(t, b.Send(ctx, "cid-1", Message("1")), "tenant B's window is its own")
	require.NoError(t, b.Send(ctx, "cid-1", Message("2")))
	assert.ErrorIs(t, b.Send(ctx, "cid-1", Message("3")), ErrRateLimited)
}
