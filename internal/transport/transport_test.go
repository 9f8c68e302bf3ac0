package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

func TestBackoffBounds(t *testing.T) {
	for attempt := range 40 {
		d := backoff(200*time.Millisecond, 5*time.Second, attempt, nil)
		assert.GreaterOrEqual(t, d, 200*time.Millisecond)
		assert.LessOrEqual(t, d, 5*time.Second)
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}}
	assert.Equal(t, 3*time.Second, backoff(time.Millisecond, time.Millisecond, 0, resp))
	resp.Header.Set("Retry-After", "3600")
	assert.Equal(t, MaxRetryAfter, backoff(time.Millisecond, time.Millisecond, 0, resp), "Retry-After is capped")
	resp.StatusCode = 500
	assert.Equal(t, time.Millisecond, backoff(time.Millisecond, time.Millisecond, 0, resp), "Retry-After only for 429/503")
}

func TestRetryAfterForms(t *testing.T) {
	h := func(v string) *http.Response { return &http.Response{Header: http.Header{"Retry-After": {v}}} }
	assert.Equal(t, 7*time.Second, retryAfter(h("7")))
	assert.Zero(t, retryAfter(h("-1")))
	assert.Zero(t, retryAfter(h("soon")))
	assert.Zero(t, retryAfter(nil))
	d := retryAfter(h(time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)))
	assert.InDelta(t, 30, d.Seconds(), 2)
}

func TestNotSent(t *testing.T) {
	assert.True(t, NotSent(&net.DNSError{Err: "no such host", Name: "x"}))
	assert.True(t, NotSent(fmt.Errorf("wrapped: %w", &net.OpError{Op: "dial", Err: errors.New("refused")})))
	assert.False(t, NotSent(&net.OpError{Op: "read", Err: errors.New("reset")}))
	assert.False(t, NotSent(context.DeadlineExceeded))
}

func TestAPIErrorMessage(t *testing.T) {
	e := &APIError{StatusCode: 503, Body: []byte(strings.Repeat("x", 500)), RetryAfter: 2 * time.Second}
	msg := e.Error()
	assert.Contains(t, msg, "503 Service Unavailable")
	assert.Contains(t, msg, "retry after 2s")
	assert.Less(t, len(msg), 300, "body excerpt is bounded")
	sentinel := errors.New("bot not found")
	assert.ErrorIs(t, &APIError{StatusCode: 404, Err: sentinel}, sentinel)
}

func TestPostJSONCapsErrorBody(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://x.test/a", httpmock.NewStringResponder(418, strings.Repeat("y", MaxErrorBody*2)))
	c := New(Config{HTTPClient: &http.Client{Transport: mt}}, "ua/1")
	_, err := c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: map[string]int{"a": 1}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, MaxErrorBody)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "4xx is never retried")
}

func TestPostJSONSendsBytesAsIs(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var got []byte
	mt.RegisterResponder("POST", "https://x.test/a", func(r *http.Request) (*http.Response, error) {
		got = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(got)
		assert.Equal(t, "ua/1", r.Header.Get("User-Agent"))
		return httpmock.NewStringResponse(204, ""), nil
	})
	c := New(Config{HTTPClient: &http.Client{Transport: mt}}, "ua/1")
	resp, err := c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: []byte(`{"a":"\/"}`)})
	require.NoError(t, err)
	assert.Equal(t, 204, resp.StatusCode)
	golden.JSONEq(t, []byte(`{"a":"/"}`), got)
	assert.Equal(t, `{"a":"\/"}`, string(got))
}

func TestRetryPolicyString(t *testing.T) {
	assert.Equal(t, "RetryAlways", RetryAlways.String())
	assert.Equal(t, "RetryPolicy(9)", RetryPolicy(9).String())
}

// When the context ends during the wait before a retry, the caller used to
// get only "context deadline exceeded"; the platform's answer is kept too.
func TestContextEndDuringBackoffKeepsTheAnswer(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://x.test/a", func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(503, `{"error":"maintenance"}`)
		return r, nil
	})
	c := New(Config{HTTPClient: &http.Client{Transport: mt}, WaitMin: time.Second, WaitMax: time.Second}, "ua/1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.PostJSON(ctx, Request{URL: "https://x.test/a", Body: []byte(`{}`)})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, `{"error":"maintenance"}`, string(apiErr.Body))
	assert.Contains(t, err.Error(), "maintenance")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// A platform that echoes the key must not put it in an error string, a log
// line or the stored body: the client knows its credentials and redacts
// them, raw and in their Bearer form.
func TestAPIErrorRedactsCredentials(t *testing.T) {
	const key = "sk_live_8f3a9c1e77"
	for _, header := range []http.Header{{"Authorization": {"Bearer " + key}}, {"Secret-Key": {key}}} {
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder("POST", "https://x.test/a", httpmock.NewStringResponder(401,
			`{"error":"invalid key `+key+`","hint":"Bearer `+key+`"}`))
		c := New(Config{HTTPClient: &http.Client{Transport: mt}, Header: header}, "ua/1")
		_, err := c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: []byte(`{}`)})
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.NotContains(t, err.Error(), key)
		assert.NotContains(t, string(apiErr.Body), key)
		assert.Contains(t, string(apiErr.Body), "invalid key [REDACTED]")
	}
	// The kept answer of a retried status is redacted as well.
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://x.test/a", httpmock.NewStringResponder(503, `token `+key+` overloaded`))
	c := New(Config{HTTPClient: &http.Client{Transport: mt}, Header: http.Header{"Secret-Key": {key}},
		WaitMin: time.Second, WaitMax: time.Second}, "ua/1")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.PostJSON(ctx, Request{URL: "https://x.test/a", Body: []byte(`{}`)})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
}

// BeforeAttempt runs before every attempt that reaches the platform,
// retries included (Userlike's limiter counts each).
func TestBeforeAttemptRunsForEveryAttempt(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://x.test/a", httpmock.NewStringResponder(429, ``))
	c := New(Config{HTTPClient: &http.Client{Transport: mt}, WaitMin: time.Millisecond, WaitMax: time.Millisecond}, "ua/1")
	hooks := 0
	_, err := c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: []byte(`{}`),
		BeforeAttempt: func(context.Context) error { hooks++; return nil }})
	require.Error(t, err)
	assert.Equal(t, 4, mt.GetTotalCallCount())
	assert.Equal(t, 4, hooks)

	// Its error ends the call without another attempt.
	mt.ZeroCallCounters()
	stop := errors.New("rate limited")
	hooks = 0
	_, err = c.PostJSON(context.Background(), Request{URL: "https://x.test/a", Body: []byte(`{}`),
		BeforeAttempt: func(context.Context) error {
			hooks++
			if hooks == 2 {
				return stop
			}
			return nil
		}})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// An answer longer than what the client reads used to close its
// connection; 20 sends with 100 KiB answers now use one connection.
func TestLongAnswersKeepTheConnection(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	for _, status := range []int{200, 400} {
		var conns atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, big)
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		c := New(Config{}, "ua/1")
		for range 20 {
			_, err := c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`)})
			if status == 200 {
				require.NoError(t, err)
			}
		}
		assert.Equal(t, int32(1), conns.Load(), "status %d", status)
		srv.Close()
	}
}

// The default transport keeps enough idle connections for concurrent
// senders: net/http keeps 2 per host, so of 16 concurrent calls 14 opened a
// new connection each time. Three rounds of 16 calls held open together by
// the server: net/http's pool must open at least 16 + 14 + 14; the default
// reuses its 16 (a little slack for a connection not yet back in the pool).
func TestConcurrentSendersReuseConnections(t *testing.T) {
	const senders = 16
	load := func(c *Client) int32 {
		var conns atomic.Int32
		var arrived sync.WaitGroup
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			arrived.Done()
			arrived.Wait() // all 16 calls are in flight at once
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		defer srv.Close()
		for range 3 {
			arrived.Add(senders)
			var wg sync.WaitGroup
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := c.PostJSON(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`)})
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
		}
		return conns.Load()
	}
	netDefault := http.DefaultTransport.(*http.Transport).Clone()
	defer netDefault.CloseIdleConnections()
	before := load(New(Config{HTTPClient: &http.Client{Transport: netDefault}}, "ua/1"))
	after := load(New(Config{}, "ua/1"))
	t.Logf("3 rounds of 16 concurrent calls: %d connections with net/http's pool, %d with the default", before, after)
	assert.GreaterOrEqual(t, before, int32(16+14+14))
	assert.LessOrEqual(t, after, int32(20))

	// A caller's client is used as it is, never given the default transport.
	mine := &http.Client{}
	_ = New(Config{HTTPClient: mine}, "ua/1")
	assert.Nil(t, mine.Transport)
}
