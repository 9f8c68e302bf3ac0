package botcopy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/internal/observecheck"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/tenant"
)

const (
	obsToken  = "bc-observed-token-5e81d0"
	obsCustom = "bc-observed-custom-a417"
	obsUser   = "user-observed-1"
)

// obsSecrets are every credential the tests of this file present.
var obsSecrets = []string{obsToken, obsCustom, "bc-wrong-token-0000", bcToken(3)}

// obsBehave is the callback's decision for an observecheck behaviour.
func obsBehave(b observecheck.Behaviour) (botcopy.Decision, error) {
	switch b {
	case observecheck.Fail:
		return botcopy.Decision{}, errors.New("the bot failed")
	case observecheck.Panic:
		panic("the bot panicked")
	}
	return botcopy.PauseFor(5), nil
}

// obsPost is a call of body with token as a bearer token and the custom
// header's value.
func obsPost(body, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/botcopy", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set(customName, obsCustom)
	return r
}

// obsCall is a call of req, as obsPost sends it.
func obsCall(t *testing.T, req *botcopy.HandoverRequest, token string) *http.Request {
	b, err := json.Marshal(req)
	require.NoError(t, err)
	return obsPost(string(b), token)
}

func obsMessage(t *testing.T, token string) *http.Request {
	return obsCall(t, botcopytest.UserMessageRequest("", obsUser, "b", "hello?"), token)
}

func obsHandler(t *testing.T, obs observe.Observer, fn botcopy.HandlerFunc, opts ...botcopy.Option) *botcopy.Handler {
	h, err := botcopy.NewHandler(obsToken, fn, append([]botcopy.Option{botcopy.WithCustomHeader(customName, obsCustom),
		botcopy.WithObserver(obs), botcopy.WithLogger(discard())}, opts...)...)
	require.NoError(t, err)
	return h
}

func TestObserverRows(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.Botcopy, Endpoint: "handover",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			return obsHandler(t, obs, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) { return obsBehave(b) })
		},
		Request:   func(t *testing.T) *http.Request { return obsMessage(t, obsToken) },
		Wrong:     func(t *testing.T) *http.Request { return obsMessage(t, "bc-wrong-token-0000") },
		Malformed: func(t *testing.T) *http.Request { return obsPost(`{"eventType":`, obsToken) },
		Unknown: func(t *testing.T) *http.Request {
			return obsPost(`{"eventType":"user_waved","userId":"`+obsUser+`","botId":"b"}`, obsToken)
		},
		Conversation: obsUser, Type: string(botcopy.KindUserMessage),
		// A failing callback on a user message answers the fallback (a 500
		// would make Botcopy forward the message to Dialogflow).
		FailStatus: http.StatusOK, FailOutcome: observe.OutcomeFallback,
		Secrets: obsSecrets,
	})
}

// A trigger whose callback fails answers 500, not the fallback: the bot
// is not paused.
func TestObserverTriggerFails(t *testing.T) {
	rec := observetest.NewRecorder()
	h := obsHandler(t, rec, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.Decision{}, errors.New("the desk is down")
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, obsCall(t, botcopytest.TriggerRequest("", obsUser, "b"), obsToken))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, observe.OutcomeFailed, d.Outcome)
	assert.Equal(t, observe.ReasonCallbackError, d.Reason)
	assert.Equal(t, string(botcopy.KindTrigger), d.Type)
	assert.EqualError(t, d.Err, "the desk is down")
	assert.Empty(t, rec.Events(observe.KindFallbackSent), "a trigger gets no fallback")
	cbs := rec.Callbacks()
	require.Len(t, cbs, 1)
	assert.Equal(t, string(botcopy.KindTrigger), cbs[0].Type)
	assert.Equal(t, observe.ReasonCallbackError, cbs[0].Reason)
	observecheck.NoSecrets(t, rec, obsSecrets...)
}

// A callback slower than the response deadline: the fallback is answered
// at the deadline while the callback still runs (FallbackSent), and once
// the callback returns its decision is discarded (LateCallback); the
// delivery ends as a fallback for the deadline, all in one trace.
func TestObserverDeadline(t *testing.T) {
	const deadline = 50 * time.Millisecond
	rec := observetest.NewRecorder()
	release := make(chan struct{})
	h := obsHandler(t, rec, func(ctx context.Context, _ *botcopy.HandoverRequest) (botcopy.Decision, error) {
		<-release
		return botcopy.Continue(), ctx.Err()
	}, botcopy.WithResponseDeadline(deadline), botcopy.WithFallbackDecision(botcopy.PauseFor(7)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	r := obsMessage(t, obsToken)
	req, err := http.NewRequest(http.MethodPost, srv.URL, r.Body)
	require.NoError(t, err)
	req.Header = r.Header
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"paused":true,"minutesPaused":7}`, string(body), "the fallback decision")
	assert.Less(t, time.Since(start), 5*time.Second)

	// The answer is out; the callback still runs.
	fb := rec.Events(observe.KindFallbackSent)
	require.Len(t, fb, 1, "the fallback is reported when it is sent: %+v", rec.Records())
	assert.Equal(t, observe.ReasonDeadline, fb[0].Reason)
	assert.Equal(t, observe.Botcopy, fb[0].Platform)
	assert.Equal(t, "handover", fb[0].Endpoint)
	assert.Empty(t, rec.Events(observe.KindLateCallback), "the callback has not returned")
	assert.Empty(t, rec.Deliveries(), "ServeHTTP waits for the callback")

	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, rec.Wait(ctx, func([]observetest.Record) bool { return len(rec.Deliveries()) == 1 }), "records: %+v", rec.Records())

	late := rec.Events(observe.KindLateCallback)
	require.Len(t, late, 1)
	assert.GreaterOrEqual(t, late[0].Duration, deadline)
	assert.ErrorIs(t, late[0].Err, context.Canceled, "the late callback's context was cancelled at the deadline")
	assert.Len(t, rec.Events(observe.KindFallbackSent), 1, "one fallback")
	d := rec.Deliveries()[0]
	assert.Equal(t, http.StatusOK, d.Status)
	assert.Equal(t, observe.OutcomeFallback, d.Outcome)
	assert.Equal(t, observe.ReasonDeadline, d.Reason)
	assert.NoError(t, d.Err)
	assert.Equal(t, obsUser, d.Conversation)
	assert.GreaterOrEqual(t, d.Duration, late[0].Duration)
	cbs := rec.Callbacks()
	require.Len(t, cbs, 1)
	assert.GreaterOrEqual(t, cbs[0].Duration, deadline)

	var ops []string
	traces := map[string]bool{}
	for _, r := range rec.Records() {
		ops = append(ops, r.Op)
		traces[r.Trace] = true
	}
	assert.Equal(t, "DeliveryStart", ops[0])
	assert.Equal(t, "DeliveryEnd", ops[len(ops)-1])
	assert.Len(t, traces, 1, "records %v", ops)
	observecheck.NoSecrets(t, rec, obsSecrets...)
}

// A tenant handler names the tenant on the delivery, the Authenticated
// event and the callback; a lookup that fails answers 503 for it.
func TestObserverTenant(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := botcopy.NewTenantHandler(botcopy.Tenants{Resolve: tenant.JSONField("botId"), Lookup: bcLookup},
		func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
			return botcopy.PauseFor(5), nil
		},
		botcopy.WithObserver(rec), botcopy.WithLogger(discard()))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, obsCall(t, botcopytest.UserMessageRequest("", obsUser, "bot-003", "hi"), bcToken(3)))
	require.Equal(t, http.StatusOK, w.Code)
	d := rec.Deliveries()[0]
	assert.Equal(t, "bot-003", d.Tenant)
	assert.Equal(t, observe.OutcomeAnswered, d.Outcome)
	auth := rec.Events(observe.KindAuthenticated)
	require.Len(t, auth, 1)
	assert.Equal(t, "bot-003", auth[0].Tenant)
	require.Len(t, rec.Callbacks(), 1)
	assert.Equal(t, "bot-003", rec.Callbacks()[0].Tenant)

	rec.Reset()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, obsCall(t, botcopytest.UserMessageRequest("", obsUser, "broken", "hi"), bcToken(3)))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, observe.OutcomeBusy, ds[0].Outcome)
	assert.Equal(t, observe.ReasonTenantLookup, ds[0].Reason)
	assert.Error(t, ds[0].Err)
	assert.Equal(t, -1, ds[0].Credential)
	assert.Empty(t, rec.Events(observe.KindAuthenticated))
	assert.Empty(t, rec.Callbacks())
	observecheck.NoSecrets(t, rec, obsSecrets...)
}
