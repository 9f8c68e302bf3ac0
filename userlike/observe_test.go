package userlike_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/observecheck"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/tenant"
	"github.com/botwire/botwire/userlike"
)

const (
	obsHeader = "X-Userlike-Hook"
	obsValue  = "ul-observed-value-b93e27"
	obsWrong  = "ul-wrong-value-0000"
	obsCID    = "chatbot::258:a56785fb6fb84edd890905913b0c0821"
)

// obsSecrets are every credential the tests of this file present.
var obsSecrets = []string{obsValue, obsWrong, ulValue(3)}

// obsPost is a delivery of body with the webhook header set to value.
func obsPost(body, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/userlike", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(obsHeader, value)
	return r
}

func obsBehave(b observecheck.Behaviour, reply *userlike.Reply) error {
	switch b {
	case observecheck.Fail:
		return errors.New("the bot failed")
	case observecheck.Panic:
		panic("the bot panicked")
	}
	reply.Add(userlike.Message("hello back"))
	return nil
}

func obsHandler(t *testing.T, obs observe.Observer, fn userlike.HandlerFunc) *userlike.Handler {
	h, err := userlike.NewHandler(fn, userlike.WithWebhookHeader(obsHeader, obsValue),
		userlike.WithObserver(obs), userlike.WithLogger(quiet()))
	require.NoError(t, err)
	return h
}

func TestObserverRows(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.Userlike, Endpoint: "webhook",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			return obsHandler(t, obs, func(_ context.Context, _ *userlike.Event, reply *userlike.Reply) error { return obsBehave(b, reply) })
		},
		Request:   func(t *testing.T) *http.Request { return obsPost(rotEvent(obsCID, "hello"), obsValue) },
		Wrong:     func(t *testing.T) *http.Request { return obsPost(rotEvent(obsCID, "hello"), obsWrong) },
		Malformed: func(t *testing.T) *http.Request { return obsPost(`{"info":{"cid":`, obsValue) },
		Unknown: func(t *testing.T) *http.Request {
			return obsPost(`{"info":{"cid":"`+obsCID+`"},"packet":{"name":"sticker_sent","payload":{}}}`, obsValue)
		},
		Conversation: obsCID, Type: userlike.EventMessage,
		Secrets: obsSecrets,
	})
}

// A body holding a list of events runs one callback per event, each
// reported with its own conversation and type, inside the one delivery;
// an unknown event among them is reported and skipped, and the delivery
// is still answered.
func TestObserverEventList(t *testing.T) {
	rec := observetest.NewRecorder()
	h := obsHandler(t, rec, func(_ context.Context, e *userlike.Event, reply *userlike.Reply) error {
		reply.Add(userlike.Message("seen " + e.Packet.Name))
		return nil
	})
	body := `[` + rotEvent("cid-first", "hello") +
		`,{"info":{"cid":"cid-unknown"},"packet":{"name":"sticker_sent","payload":{}}}` +
		`,{"info":{"cid":"cid-second"},"packet":{"name":"start","payload":{}}}]`
	w := httptest.NewRecorder()
	h.ServeHTTP(w, obsPost(body, obsValue))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	cbs := rec.Callbacks()
	require.Len(t, cbs, 2)
	assert.Equal(t, "cid-first", cbs[0].Conversation)
	assert.Equal(t, userlike.EventMessage, cbs[0].Type)
	assert.Equal(t, "cid-second", cbs[1].Conversation)
	assert.Equal(t, userlike.EventStart, cbs[1].Type)
	for _, c := range cbs {
		assert.Equal(t, observe.Userlike, c.Platform)
		assert.Equal(t, "webhook", c.Endpoint)
		assert.Equal(t, 1, c.Attempt)
		assert.NoError(t, c.Err)
	}
	assert.Len(t, rec.Events(observe.KindUnknownType), 1)
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, observe.OutcomeAnswered, ds[0].Outcome, "an unknown event among known ones does not make the delivery ignored")
	assert.Equal(t, "cid-first", ds[0].Conversation, "the delivery is its first event's")
	assert.Equal(t, 0, ds[0].Credential)

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

// The second of two events fails: both callbacks are reported, the second
// with its error, and the delivery ends failed.
func TestObserverEventListFails(t *testing.T) {
	rec := observetest.NewRecorder()
	h := obsHandler(t, rec, func(_ context.Context, e *userlike.Event, _ *userlike.Reply) error {
		if e.Info.CID == "cid-second" {
			return errors.New("the bot failed")
		}
		return nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, obsPost(`[`+rotEvent("cid-first", "a")+`,`+rotEvent("cid-second", "b")+`]`, obsValue))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	cbs := rec.Callbacks()
	require.Len(t, cbs, 2)
	assert.NoError(t, cbs[0].Err)
	assert.Error(t, cbs[1].Err)
	assert.Equal(t, "cid-second", cbs[1].Conversation)
	assert.Equal(t, observe.ReasonCallbackError, cbs[1].Reason)
	d := rec.Deliveries()[0]
	assert.Equal(t, observe.OutcomeFailed, d.Outcome)
	assert.Equal(t, observe.ReasonCallbackError, d.Reason)
}

// A tenant handler names the tenant on the delivery, the Authenticated
// event and the callback; a lookup that fails answers 503 for it.
func TestObserverTenant(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := userlike.NewTenantHandler(userlike.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: ulLookup},
		func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
		userlike.WithObserver(rec), userlike.WithLogger(quiet()))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /userlike/{tenant}", h)
	deliver := func(id string) int {
		r := httptest.NewRequest(http.MethodPost, "/userlike/"+id, strings.NewReader(rotEvent(obsCID, "hi")))
		r.Header.Set("API-SECURITY-TOKEN", ulValue(3))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusOK, deliver("t003"))
	d := rec.Deliveries()[0]
	assert.Equal(t, "t003", d.Tenant)
	assert.Equal(t, observe.OutcomeAnswered, d.Outcome)
	auth := rec.Events(observe.KindAuthenticated)
	require.Len(t, auth, 1)
	assert.Equal(t, "t003", auth[0].Tenant)
	require.Len(t, rec.Callbacks(), 1)
	assert.Equal(t, "t003", rec.Callbacks()[0].Tenant)

	rec.Reset()
	require.Equal(t, http.StatusServiceUnavailable, deliver("broken"))
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, observe.OutcomeBusy, ds[0].Outcome)
	assert.Equal(t, observe.ReasonTenantLookup, ds[0].Reason)
	assert.Error(t, ds[0].Err)
	assert.Empty(t, rec.Events(observe.KindAuthenticated))
	assert.Empty(t, rec.Callbacks())
	observecheck.NoSecrets(t, rec, obsSecrets...)
}
