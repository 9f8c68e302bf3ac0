package onetalk_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/observecheck"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
)

const observedSecret = "sk-observed-7f3a9c21"

func observedRequest(t *testing.T, body, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/onetalk", bytes.NewReader([]byte(body)))
	r.Header.Set(onetalk.SecretHeader, secret)
	return r
}

func observedText(t *testing.T, secret string) *http.Request {
	in := onetalktest.Text("case-41", "hello")
	in.Message.ID = "msg-7"
	b, err := onetalktest.Encode(in)
	require.NoError(t, err)
	return observedRequest(t, string(b), secret)
}

func behave(b observecheck.Behaviour) error {
	switch b {
	case observecheck.Fail:
		return errors.New("the bot failed")
	case observecheck.Panic:
		panic("the bot panicked")
	}
	return nil
}

func TestObserverRows(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.OneTalk, Endpoint: "webhook",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			h, err := onetalk.NewHandler(observedSecret, func(context.Context, *onetalk.InboundRequest) error { return behave(b) },
				onetalk.WithObserver(obs), onetalk.WithLogger(discard()))
			require.NoError(t, err)
			return h
		},
		Request: func(t *testing.T) *http.Request { return observedText(t, observedSecret) },
		Wrong:   func(t *testing.T) *http.Request { return observedText(t, "sk-wrong-1") },
		Malformed: func(t *testing.T) *http.Request {
			return observedRequest(t, `{"caseID":`, observedSecret)
		},
		Unknown: func(t *testing.T) *http.Request {
			return observedRequest(t, `{"caseID":"C1","channelType":"telegram","sender":{"contactName":"A"},"message":{"id":"m","type":"sticker","sticker":{}}}`, observedSecret)
		},
		Conversation: "case-41", MessageID: "msg-7", Type: "text",
		Secrets: []string{observedSecret},
	})
}

// A delivery acknowledged through WithQueue is one trace from the webhook
// to the queued callback and the client call it makes: the queue's
// message carries the trace in its header.
func TestObserverQueueIsOneTrace(t *testing.T) {
	rec := observetest.NewRecorder()
	fake := onetalktest.NewServer(onetalktest.Config{Secret: observedSecret})
	defer fake.Close()
	client, err := onetalk.NewClient(fake.URL, observedSecret, onetalk.WithObserver(rec))
	require.NoError(t, err)
	q := store.NewMemoryQueue(store.QueueOptions{})
	h, err := onetalk.NewHandler(observedSecret, func(ctx context.Context, in *onetalk.InboundRequest) error {
		return client.SendMessages(ctx, in.CaseID, onetalk.NewText("echo"))
	}, onetalk.WithQueue(q, 1), onetalk.WithObserver(rec), onetalk.WithLogger(discard()))
	require.NoError(t, err)
	defer h.Shutdown(context.Background())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, observedText(t, observedSecret))
	require.Equal(t, http.StatusOK, w.Code)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, rec.Wait(ctx, func(recs []observetest.Record) bool {
		return len(rec.Calls()) == 1 && len(rec.Callbacks()) == 1
	}), "records: %+v", rec.Records())
	d := rec.Deliveries()[0]
	assert.Equal(t, observe.OutcomeQueued, d.Outcome)
	enq := rec.Enqueues()
	require.Len(t, enq, 1)
	assert.Equal(t, "onetalk.queue", enq[0].Queue)
	assert.Equal(t, "case-41", enq[0].Conversation)
	assert.NotEmpty(t, enq[0].QueueMessageID)
	assert.NotEmpty(t, enq[0].Header[observetest.Header], "the message header carries the trace")
	cb := rec.Callbacks()[0]
	assert.True(t, cb.Queued)
	assert.Equal(t, 1, cb.Attempt)
	assert.Equal(t, enq[0].QueueMessageID, cb.QueueMessageID)

	traces := map[string]bool{}
	for _, r := range rec.Records() {
		traces[r.Trace] = true
	}
	assert.Len(t, traces, 1, "webhook, enqueue, queued callback and client call are one trace")
	observecheck.NoSecrets(t, rec, observedSecret)
}

// Deduplication reports what it did: the first delivery acquires its key,
// a redelivery of it replays the stored answer.
func TestObserverDeduplication(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := onetalk.NewHandler(observedSecret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithDeduplication(store.NewMemoryDeduplicator(), time.Hour), onetalk.WithObserver(rec))
	require.NoError(t, err)
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, observedText(t, observedSecret))
		require.Equal(t, http.StatusOK, w.Code)
	}
	ds := rec.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, observe.OutcomeAnswered, ds[0].Outcome)
	assert.Equal(t, observe.OutcomeReplayed, ds[1].Outcome)
	assert.Equal(t, observe.ReasonDuplicate, ds[1].Reason)
	assert.Len(t, rec.Events(observe.KindDedupAcquired), 1)
	assert.Len(t, rec.Events(observe.KindDedupReplayed), 1)
	assert.Len(t, rec.Callbacks(), 1)
}

// A previous secret is reported as such.
func TestObserverPreviousCredential(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := onetalk.NewHandler(observedSecret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithPreviousSecrets("sk-previous-0001"), onetalk.WithObserver(rec))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, observedText(t, "sk-previous-0001"))
	require.Equal(t, http.StatusOK, w.Code)
	require.Len(t, rec.Events(observe.KindAuthenticated), 1)
	assert.Equal(t, 1, rec.Events(observe.KindAuthenticated)[0].Credential)
	assert.Equal(t, 1, rec.Deliveries()[0].Credential)
	observecheck.NoSecrets(t, rec, observedSecret, "sk-previous-0001")
}
