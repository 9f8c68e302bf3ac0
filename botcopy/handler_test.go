package botcopy

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const accessToken = "BOT_ACCESS_TOKEN"

func testLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func hook(body, auth string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/botcopy", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestHandlerBehaviourTable(t *testing.T) {
	step1 := string(golden.Read(t, "botcopy/doc/webhook_step_one.json"))
	step2 := string(golden.Read(t, "botcopy/doc/webhook_step_two.json"))
	noBodyToken := `{"userId":"u","botId":"b","queryInput":{"text":{"text":"hi"}}}`
	tests := []struct {
		name     string
		req      *http.Request
		decision Decision
		cbErr    error
		maxBody  int64
		status   int
		body     string
		calls    int
	}{
		{name: "GET is 405", req: httptest.NewRequest(http.MethodGet, "/", nil), status: 405},
		{name: "over the limit is 413", req: hook(step1, accessToken), maxBody: 100, status: 413},
		{name: "wrong Authorization is 401", req: hook(step1, "nope"), status: 401},
		{name: "no header and no body token is 401", req: hook(noBodyToken, ""), status: 401},
		{name: "legacy body token is accepted", req: hook(step2, ""), decision: PauseFor(5), status: 200, body: `{"paused":true,"minutesPaused":5}`, calls: 1},
		{name: "Bearer prefix is tolerated", req: hook(step2, "Bearer "+accessToken), decision: Continue(), status: 200, body: `{"paused":false}`, calls: 1},
		{name: "malformed JSON after auth is 400", req: hook(`{"userId":`, accessToken), status: 400},
		{name: "typing event is 200 without callback", req: hook(`{"userId":"u","botId":"b","eventType":"user_typing"}`, accessToken), status: 200, body: `{}`},
		{name: "unknown event is 200 without callback", req: hook(`{"userId":"u","eventType":"user_left"}`, accessToken), status: 200, body: `{}`},
		{name: "callback error on a trigger is 500", req: hook(step1, accessToken), cbErr: errors.New("ticket system down"), status: 500, calls: 1},
		{name: "callback error on a user message answers the fallback", req: hook(step2, accessToken), cbErr: errors.New("ticket system down"),
			status: 200, body: `{"paused":true,"minutesPaused":10}`, calls: 1},
		{name: "trigger answers the decision", req: hook(step1, accessToken), decision: PauseFor(10), status: 200, body: `{"paused":true,"minutesPaused":10}`, calls: 1},
		{name: "end live chat", req: hook(step2, accessToken), decision: EndLiveChat(), status: 200, body: `{"paused":false,"minutesPaused":0}`, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var logs bytes.Buffer
			opts := []Option{WithLogger(testLogger(&logs))}
			if tt.maxBody > 0 {
				opts = append(opts, WithMaxBodyBytes(tt.maxBody))
			}
			h, err := NewHandler(accessToken, func(_ context.Context, r *HandoverRequest) (Decision, error) {
				calls++
				assert.Equal(t, "user-123", r.UserID)
				return tt.decision, tt.cbErr
			}, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, tt.calls, calls)
			if tt.body != "" {
				golden.JSONEq(t, []byte(tt.body), rec.Body.Bytes())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
			assert.NotContains(t, logs.String(), accessToken)
			assert.NotContains(t, rec.Body.String(), accessToken)
		})
	}
}

func TestCustomHeader(t *testing.T) {
	h, err := NewHandler(accessToken, func(context.Context, *HandoverRequest) (Decision, error) { return PauseFor(1), nil },
		WithCustomHeader("X-Proxy-Key", "custom-value"))
	require.NoError(t, err)
	body := string(golden.Read(t, "botcopy/doc/webhook_step_two.json"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(body, accessToken))
	assert.Equal(t, 401, rec.Code, "the custom header is required once configured")
	r := hook(body, accessToken)
	r.Header.Set("X-Proxy-Key", "custom-value")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 200, rec.Code)
}

func TestDeadlineAnswersFallback(t *testing.T) {
	var cancelled atomic.Bool
	release := make(chan struct{})
	var logs bytes.Buffer
	h, err := NewHandler(accessToken, func(ctx context.Context, r *HandoverRequest) (Decision, error) {
		select {
		case <-ctx.Done():
			cancelled.Store(true)
		case <-release:
		}
		return Continue(), nil
	}, WithResponseDeadline(20*time.Millisecond), WithFallbackDecision(PauseFor(3)), WithLogger(testLogger(&logs)))
	require.NoError(t, err)
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(string(golden.Read(t, "botcopy/doc/webhook_step_one.json")), accessToken))
	elapsed := time.Since(start)
	close(release)
	assert.Equal(t, 200, rec.Code)
	golden.JSONEq(t, []byte(`{"paused":true,"minutesPaused":3}`), rec.Body.Bytes())
	assert.Less(t, elapsed, 2*time.Second, "the handler must answer at the deadline, not wait for the callback")
	assert.Eventually(t, cancelled.Load, 2*time.Second, time.Millisecond, "the late callback's context is cancelled")
	assert.Contains(t, logs.String(), "missed the response deadline")
}

func TestDefaultFallbackIsPause(t *testing.T) {
	h, err := NewHandler(accessToken, func(ctx context.Context, r *HandoverRequest) (Decision, error) {
		<-ctx.Done()
		return Decision{}, ctx.Err()
	}, WithResponseDeadline(10*time.Millisecond), WithLogger(testLogger(nil)))
	require.NoError(t, err)
	assert.Equal(t, DefaultResponseDeadline, 4500*time.Millisecond)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(string(golden.Read(t, "botcopy/doc/webhook_step_two.json")), accessToken))
	golden.JSONEq(t, []byte(`{"paused":true,"minutesPaused":10}`), rec.Body.Bytes())
}

// A failing callback has no decision to give. For a paused user message a
// 500 would not be one either: "If Botcopy receives { paused: false } or a
// response after five seconds, we forward the user message in the request
// to Dialogflow", so the bot would answer inside the human conversation.
// The handler answers the fallback instead, as at the deadline. A trigger
// keeps its 500: "otherwise the bot will not pause the conversation", and
// with the desk down no human would take over a paused bot.
func TestCallbackErrorAnswersFallback(t *testing.T) {
	step1 := string(golden.Read(t, "botcopy/doc/webhook_step_one.json"))
	step2 := string(golden.Read(t, "botcopy/doc/webhook_step_two.json"))
	legacy1 := string(golden.Read(t, "botcopy/external/webhook_step1_trigger_legacy-2023-02.json"))
	legacy2 := string(golden.Read(t, "botcopy/external/webhook_step2_user_message_legacy-2023-02.json"))
	withEvent := `{"userId":"user-123","botId":"b","sessionId":"s","eventType":"message","queryInput":{"text":{"text":"hi"}}}`
	deskDown := errors.New("ticket system down")
	fails := func(context.Context, *HandoverRequest) (Decision, error) { return PauseFor(1), deskDown }
	panics := func(context.Context, *HandoverRequest) (Decision, error) { panic("boom") }
	tests := []struct {
		name     string
		body     string
		fn       HandlerFunc
		fallback *Decision
		status   int
		answer   string // "" when the answer is not a decision
		log      string
	}{
		{"user message, error", step2, fails, nil, 200, `{"paused":true,"minutesPaused":10}`, "ticket system down"},
		{"user message, panic", step2, panics, nil, 200, `{"paused":true,"minutesPaused":10}`, "boom"},
		{"user message with eventType, error", withEvent, fails, nil, 200, `{"paused":true,"minutesPaused":10}`, "ticket system down"},
		{"legacy user message, error", legacy2, fails, nil, 200, `{"paused":true,"minutesPaused":10}`, "ticket system down"},
		{"user message, configured fallback", step2, fails, &[]Decision{PauseFor(3)}[0], 200, `{"paused":true,"minutesPaused":3}`, "ticket system down"},
		{"user message, fallback ends the chat", step2, fails, &[]Decision{EndLiveChat()}[0], 200, `{"paused":false,"minutesPaused":0}`, "ticket system down"},
		{"trigger, error", step1, fails, nil, 500, "", "ticket system down"},
		{"trigger, panic", step1, panics, nil, 500, "", "boom"},
		{"legacy trigger, error", legacy1, fails, nil, 500, "", "ticket system down"},
		{"trigger, configured fallback is not used", step1, fails, &[]Decision{PauseFor(3)}[0], 500, "", "ticket system down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := []Option{WithLogger(testLogger(&logs))}
			if tt.fallback != nil {
				opts = append(opts, WithFallbackDecision(*tt.fallback))
			}
			h, err := NewHandler(accessToken, tt.fn, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, hook(tt.body, accessToken))
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.answer != "" {
				golden.JSONEq(t, []byte(tt.answer), rec.Body.Bytes())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
			assert.Contains(t, logs.String(), "callback failed")
			assert.Contains(t, logs.String(), tt.log, "the error goes to the logger")
			assert.NotContains(t, logs.String(), "missed the response deadline", "an error is not a late answer")
			assert.NotContains(t, logs.String(), accessToken)
		})
	}
}

func TestTypingCallback(t *testing.T) {
	var got string
	h, err := NewHandler(accessToken, func(context.Context, *HandoverRequest) (Decision, error) {
		t.Error("decision callback called for typing")
		return Continue(), nil
	}, WithOnUserTyping(func(_ context.Context, r *HandoverRequest) error { got = r.UserID; return nil }))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(`{"userId":"u7","botId":"b","sessionId":"s","eventType":"user_typing"}`, accessToken))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "u7", got)
}

func TestNewHandlerFailsClosed(t *testing.T) {
	fn := func(context.Context, *HandoverRequest) (Decision, error) { return Continue(), nil }
	_, err := NewHandler("", fn)
	assert.ErrorIs(t, err, ErrNoAccessToken)
	_, err = NewHandler("t", nil)
	assert.Error(t, err)
	_, err = NewHandler("t", fn, WithCustomHeader("X", ""))
	assert.Error(t, err)
	_, err = NewHandler("t", fn, WithMinutesPaused(3))
	assert.ErrorContains(t, err, "NewHandler does not take WithMinutesPaused")
	h, err := NewHandler("token-xyz", fn, WithCustomHeader("X-C", "value-xyz"))
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v"} {
		s := fmt.Sprintf(f, h) + fmt.Sprintf(f, *h)
		assert.NotContains(t, s, "token-xyz")
		assert.NotContains(t, s, "value-xyz")
	}
}

// Botcopy reads the whole answer within 5 s: the fallback must be complete
// on the wire at the deadline, even while a callback that ignores its
// context is still running. Before the fallback declared its length it went
// out chunked and its last chunk left only when the callback returned.
func TestDeadlineFallbackIsCompleteOverTCP(t *testing.T) {
	release := make(chan struct{})
	h, err := NewHandler(accessToken, func(context.Context, *HandoverRequest) (Decision, error) {
		<-release // slow work that ignores ctx
		return Continue(), nil
	}, WithResponseDeadline(50*time.Millisecond), WithLogger(testLogger(nil)))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)

	step1 := golden.Read(t, "botcopy/doc/webhook_step_one.json")
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(step1))
	require.NoError(t, err)
	req.Header.Set("Authorization", accessToken)
	// The callback is released only by the deferred close, after this read:
	// a body that waits for the callback hits the client timeout instead.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the whole fallback must arrive while the callback still runs")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, []string(nil), resp.TransferEncoding, "not chunked")
	assert.Equal(t, int64(len(body)), resp.ContentLength)
	assert.JSONEq(t, `{"paused":true,"minutesPaused":10}`, string(body))
	assert.False(t, resp.Close, "the connection stays reusable")
}

// A Dialogflow response whose common fields have the wrong type is a 400
// naming the field, before the callback: read lazily in the callback it was
// a 500 that Botcopy would retry forever.
func TestMalformedDialogflowResponseIs400(t *testing.T) {
	calls := 0
	h, err := NewHandler(accessToken, func(_ context.Context, r *HandoverRequest) (Decision, error) {
		calls++
		_, err := r.Dialogflow()
		return Continue(), err
	}, WithLogger(testLogger(nil)))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(`{"userId":"u","botId":"b","dialogflowResponse":{"queryResult":{"intent":{"displayName":7}}}}`, accessToken))
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), "dialogflowResponse.queryResult.intent.displayName")
	assert.Zero(t, calls)

	// A well-formed one is read once and handed over.
	var view *DialogflowView
	h, err = NewHandler(accessToken, func(_ context.Context, r *HandoverRequest) (Decision, error) {
		view, err = r.Dialogflow()
		return Continue(), err
	}, WithLogger(testLogger(nil)))
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, hook(string(golden.Read(t, "botcopy/doc/webhook_step_one.json")), accessToken))
	require.Equal(t, 200, rec.Code)
	require.NotNil(t, view)
}
