package userlike

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

// The client reports each request with the platform, the method the caller
// called and a URL template without the API URL's ids, and nothing it
// reports holds the security token, even when Userlike echoes it.
func TestClientObserved(t *testing.T) {
	const token = "ul-token-51c7aa90"
	srv := ocEcho(``, "refuse-me")
	defer srv.Close()
	rec := observetest.NewRecorder()
	c, err := NewClient(srv.URL+"/api/chatbot/v1/bot/42", token, WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "cid-9", Message("hello")))
	require.NoError(t, c.SendWithContext(ctx, "cid-9", map[string]string{"order": "A1"}, Message("again")))
	require.NoError(t, c.Do(ctx, "cid-9", nil, Message("raw")))
	err = c.Send(ctx, "cid-9", Message("refuse-me"))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)

	calls := rec.Calls()
	require.Len(t, calls, 4)
	for i, op := range []string{"Send", "SendWithContext", "Do", "Send"} {
		assert.Equal(t, observe.Userlike, calls[i].Platform)
		assert.Equal(t, op, calls[i].Operation)
		assert.Equal(t, "{apiURL}", calls[i].URLTemplate)
		assert.Equal(t, 1, calls[i].Attempts)
	}
	assert.Equal(t, 200, calls[0].Status)
	assert.Equal(t, 401, calls[3].Status)
	require.ErrorAs(t, calls[3].Err, &apiErr)
	assert.Contains(t, string(apiErr.Body), "[REDACTED]", "Userlike echoed the token")
	host, port := ocTarget(t, srv)
	a := rec.Attempts()[0]
	assert.Equal(t, []any{0, host, port, 200}, []any{a.N, a.Host, a.Port, a.Status})
	assert.Empty(t, rec.Events(observe.KindRateLimited), "no wait under the limit")
	ocNoSecret(t, rec, token)
}

// The limiter's waits reach the client's observer: the local window's
// wait, and its refusal in no-wait mode.
func TestClientObservedLocalLimit(t *testing.T) {
	rec := observetest.NewRecorder()
	c, mt, clock := newTestClient(t, WithObserver(rec), WithRateLimit(1, time.Minute), WithRateMargin(-1))
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "c1", Message("first")))
	clock.advance(15 * time.Second)
	require.NoError(t, c.Send(ctx, "c1", Message("second")))
	assert.Equal(t, []observe.Event{{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: "Send",
		Source: observe.SourceLocal, Wait: 45 * time.Second}}, rec.Events())
	assert.Equal(t, []time.Duration{45 * time.Second}, clock.slept)

	rec = observetest.NewRecorder()
	c, mt, _ = newTestClient(t, WithObserver(rec), WithRateLimit(1, time.Minute), WithRateMargin(-1), WithRateLimitWait(false))
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	require.NoError(t, c.Send(ctx, "c1", Message("first")))
	err := c.Send(ctx, "c1", Message("second"))
	require.ErrorIs(t, err, ErrRateLimited)
	ev := rec.Events(observe.KindRateLimited)
	require.Len(t, ev, 1)
	assert.Equal(t, time.Minute, ev[0].Wait, "the wait it would have taken")
	assert.ErrorIs(t, ev[0].Err, ErrRateLimited)
	assert.Empty(t, rec.Events(observe.KindGaveUp), "a refusal is not a retry given up")
	calls := rec.Calls()
	require.Len(t, calls, 2)
	assert.Zero(t, calls[1].Attempts, "refused before any attempt")
	assert.ErrorIs(t, calls[1].Err, ErrRateLimited)
}

// ocShared is a store.RateLimiter that answers from a script.
type ocShared struct {
	mu     sync.Mutex
	script []ocTake
	keys   []string
}

type ocTake struct {
	ok   bool
	wait time.Duration
	err  error
}

func (s *ocShared) Take(_ context.Context, key string, _ int, _ time.Duration) (bool, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	if len(s.script) == 0 {
		return true, 0, nil
	}
	next := s.script[0]
	s.script = s.script[1:]
	return next.ok, next.wait, next.err
}

// The shared limiter's waits and failures reach the client's observer.
func TestClientObservedSharedLimit(t *testing.T) {
	const token = "ul-token-shared-77e1"
	storeErr := errors.New("redis: connection refused")
	shared := &ocShared{script: []ocTake{{wait: 5 * time.Millisecond}, {ok: true}, {err: storeErr}}}
	rec := observetest.NewRecorder()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, apiURL, httpmock.NewStringResponder(200, ""))
	c, err := NewClient(apiURL, token, WithHTTPClient(&http.Client{Transport: mt}), WithObserver(rec), WithRateLimiter(shared))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, "c1", Message("waits")))
	err = c.Send(ctx, "c1", Message("store down"))
	require.ErrorIs(t, err, storeErr)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "no slot, no request")

	assert.Equal(t, []observe.Event{
		{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: "Send", Source: observe.SourceShared, Wait: 5 * time.Millisecond},
		{Kind: observe.KindStoreError, Platform: observe.Userlike, Operation: "Send", Store: observe.StoreRateLimit, Op: "take",
			Err: storeErr},
	}, rec.Events())
	ocNoSecret(t, rec, token)
}

// The client encodes events as json.Marshal does, byte for byte, for every
// kind of action (it skips Action.MarshalJSON, for speed).
func TestClientWireEncoding(t *testing.T) {
	actions := []Action{
		Message("hi <b> & \u00e9"), MarkdownMessage("**x**"), Bubbles("b", "f", Choice{}),
		Button("l", "https://x.test"), Media("https://x.test/a.png"), Navigate("https://x.test"),
		Abort(), End(), ForwardAny("fail"), Delay(time.Second), NoteCreate("n", "id"),
		Custom("custom", nil), Custom("raw", json.RawMessage(`{"a":[1, 2]}`)), Custom("map", map[string]int{"b": 2, "a": 1}),
	}
	for _, ctxJSON := range []json.RawMessage{nil, json.RawMessage(`{"order":"A1"}`)} {
		evs := events("cid-1", ctxJSON, actions)
		for i := range evs {
			want, err := json.Marshal(&evs[i])
			require.NoError(t, err)
			got, err := json.Marshal(wireEvent(&evs[i]))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		}
		want, err := json.Marshal(evs)
		require.NoError(t, err)
		got, err := json.Marshal(wireEvents(evs))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

// ocNoSecret fails if a field of any record prints one of secrets (with
// %+v, and an *APIError's body and header in full).
func ocNoSecret(t *testing.T, rec *observetest.Recorder, secrets ...string) {
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

// ocEcho answers 200 with ok, or, for a request whose path ends in
// "/refuse" or that carries refuse in its body, 401 with every request
// header value echoed, as a platform that prints the key it refused.
func ocEcho(ok string, refuse string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if refuse != "" && strings.Contains(string(b), refuse) {
			var echo []string
			for _, vs := range r.Header {
				echo = append(echo, vs...)
			}
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"error":"refused %s"}`, strings.Join(echo, " "))
			return
		}
		_, _ = io.WriteString(w, ok)
	}))
}

// ocTarget returns the host and port of srv.
func ocTarget(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), port
}
