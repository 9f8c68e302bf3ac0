package easydialog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/internal/observecheck"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
)

const (
	obsKey    = "ed-observed-key-61b0c8"
	obsWrong  = "ed-wrong-key-0000"
	obsDialog = "dialog-observed-1"
	obsMsgID  = 1234567890123456789
)

// obsBodies are a delivery of a text message with a fixed message id, and
// one with a body of no type this package models, each encoded once, so
// their signatures are fixed too.
var obsText, obsUnknown = obsEncode(easydialog.Body{Text: &easydialog.TextMessage{Content: "hello"}}), obsEncode(easydialog.Body{})

func obsEncode(body easydialog.Body) []byte {
	req := easydialogtest.NewRequest(obsDialog, body)
	req.Message.ProviderMsgID = easydialog.Number(obsMsgID)
	b, err := easydialogtest.Encode(req)
	if err != nil {
		panic(err)
	}
	return b
}

// obsSecrets are every key the tests of this file sign with, and the
// signatures they send: a signature is derived from its key.
func obsSecrets() []string {
	return []string{obsKey, obsWrong, edKey(3),
		easydialog.Sign(obsText, obsKey), easydialog.Sign(obsText, obsWrong), easydialog.Sign(obsUnknown, obsKey),
		easydialog.Sign(obsText, edKey(3))}
}

func obsBehave(b observecheck.Behaviour) (*easydialog.Response, error) {
	switch b {
	case observecheck.Fail:
		return nil, errors.New("the bot failed")
	case observecheck.Panic:
		panic("the bot panicked")
	}
	return easydialog.Reply(easydialog.NewTextMessage("hello back")), nil
}

func obsHandler(t *testing.T, obs observe.Observer, fn easydialog.HandlerFunc, opts ...easydialog.Option) *easydialog.Handler {
	h, err := easydialog.NewHandler(obsKey, fn, append([]easydialog.Option{easydialog.WithObserver(obs), easydialog.WithLogger(quiet())}, opts...)...)
	require.NoError(t, err)
	return h
}

func TestObserverRows(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.EasyDialog, Endpoint: "webhook",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			return obsHandler(t, obs, func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return obsBehave(b) })
		},
		Request:      func(t *testing.T) *http.Request { return signed(obsText, signWith(obsKey)) },
		Wrong:        func(t *testing.T) *http.Request { return signed(obsText, signWith(obsWrong)) },
		Malformed:    func(t *testing.T) *http.Request { return signed([]byte(`{"dialogUuid":`), signWith(obsKey)) },
		Unknown:      func(t *testing.T) *http.Request { return signed(obsUnknown, signWith(obsKey)) },
		Conversation: obsDialog, MessageID: "1234567890123456789", Type: "textMessage",
		Secrets: obsSecrets(),
	})
}

// WithDeduplication reports what it did: the first delivery acquires its
// key, a redelivery of it replays the stored answer without the callback.
func TestObserverDeduplication(t *testing.T) {
	rec := observetest.NewRecorder()
	h := obsHandler(t, rec, func(context.Context, *easydialog.Request) (*easydialog.Response, error) {
		return obsBehave(observecheck.Succeed)
	}, easydialog.WithDeduplication(store.NewMemoryDeduplicator(), time.Hour))
	var answers []string
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, signed(obsText, signWith(obsKey)))
		require.Equal(t, http.StatusOK, w.Code)
		answers = append(answers, w.Body.String())
	}
	assert.Equal(t, answers[0], answers[1], "the stored answer, replayed")
	ds := rec.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, observe.OutcomeAnswered, ds[0].Outcome)
	assert.Equal(t, observe.OutcomeReplayed, ds[1].Outcome)
	assert.Equal(t, observe.ReasonDuplicate, ds[1].Reason)
	assert.Equal(t, http.StatusOK, ds[1].Status)
	assert.Equal(t, obsDialog, ds[1].Conversation, "a replayed delivery still names its dialog")
	assert.Equal(t, 0, ds[1].Credential)
	acquired := rec.Events(observe.KindDedupAcquired)
	require.Len(t, acquired, 1)
	assert.Equal(t, observe.EasyDialog, acquired[0].Platform)
	replayed := rec.Events(observe.KindDedupReplayed)
	require.Len(t, replayed, 1)
	assert.Equal(t, observe.EasyDialog, replayed[0].Platform)
	assert.Equal(t, "webhook", replayed[0].Endpoint)
	assert.Len(t, rec.Callbacks(), 1, "the redelivery runs no callback")
	observecheck.NoSecrets(t, rec, obsSecrets()...)
}

// obsBrokenStore is a deduplication store whose Claim fails.
type obsBrokenStore struct{}

var errObsStore = errors.New("dedup store: connection refused")

func (obsBrokenStore) Claim(context.Context, string, string, time.Duration) (store.Claim, error) {
	return store.Claim{}, errObsStore
}
func (obsBrokenStore) Renew(context.Context, string, string, time.Duration) error { return nil }
func (obsBrokenStore) Complete(context.Context, string, string, []byte, time.Duration) error {
	return nil
}
func (obsBrokenStore) Release(context.Context, string, string) error { return nil }

// A deduplication store that fails answers 503 (the platform redelivers)
// and reports the store's error.
func TestObserverDedupStoreFails(t *testing.T) {
	rec := observetest.NewRecorder()
	h := obsHandler(t, rec, func(context.Context, *easydialog.Request) (*easydialog.Response, error) {
		return obsBehave(observecheck.Succeed)
	}, easydialog.WithDeduplication(obsBrokenStore{}, time.Hour))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signed(obsText, signWith(obsKey)))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, http.StatusServiceUnavailable, ds[0].Status)
	assert.Equal(t, observe.OutcomeBusy, ds[0].Outcome)
	assert.Equal(t, observe.ReasonStoreUnavailable, ds[0].Reason)
	assert.ErrorIs(t, ds[0].Err, errObsStore)
	se := rec.Events(observe.KindStoreError)
	require.Len(t, se, 1)
	assert.Equal(t, observe.StoreDedup, se[0].Store)
	assert.Equal(t, "claim", se[0].Op)
	assert.Equal(t, observe.EasyDialog, se[0].Platform)
	assert.Equal(t, "webhook", se[0].Endpoint)
	assert.ErrorIs(t, se[0].Err, errObsStore)
	assert.Empty(t, rec.Callbacks())
	assert.Empty(t, rec.Events(observe.KindRejected))
	observecheck.NoSecrets(t, rec, obsSecrets()...)
}

// A tenant handler names the tenant on the delivery, the Authenticated
// event and the callback; a lookup that fails answers 503 for it.
func TestObserverTenant(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := easydialog.NewTenantHandler(easydialog.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: edLookup},
		func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
		easydialog.WithObserver(rec), easydialog.WithLogger(quiet()))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /easydialog/{tenant}", h)
	deliver := func(id string) int {
		r := signed(obsText, signWith(edKey(3)))
		r2 := httptest.NewRequest(http.MethodPost, "/easydialog/"+id, r.Body)
		r2.Header = r.Header
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r2)
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
	observecheck.NoSecrets(t, rec, obsSecrets()...)
}
