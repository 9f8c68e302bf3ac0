package onetalk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/deduptest"
	"github.com/botwire/botwire/store"
)

// Two replicas sharing one store, 50 goroutines delivering the same 100
// messages: each callback runs exactly once, every answer is 200.
func TestDeduplicationAcrossReplicas(t *testing.T) {
	shared := store.NewMemoryDeduplicator()
	var mu sync.Mutex
	calls := map[string]int{}
	var replicas [2]http.Handler
	for i := range replicas {
		h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
			mu.Lock()
			calls[r.Message.ID]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return nil
		}, WithDeduplication(shared, 0), WithLogger(quietLogger(nil)))
		require.NoError(t, err)
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		ds = append(ds, deduptest.Delivery{
			Body:   []byte(fmt.Sprintf(`{"caseID":"C%d","message":{"id":"m%d","type":"text","text":{"body":"hi"}}}`, i%7, i)),
			Header: http.Header{SecretHeader: {testSecret}},
		})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	require.Len(t, calls, 100)
	for id, n := range calls {
		assert.Equal(t, 1, n, id)
	}
}

type failingStore struct{ store.Deduplicator }

func (failingStore) Claim(context.Context, string, string, time.Duration) (store.Claim, error) {
	return store.Claim{}, errors.New("connection refused")
}

func (failingStore) Release(context.Context, string, string) error {
	return errors.New("connection refused")
}

func TestDeduplicationFailureAndRetry(t *testing.T) {
	calls := 0
	fail := true
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error {
		calls++
		if fail {
			return errors.New("downstream down")
		}
		return nil
	}, WithDeduplication(store.NewMemoryDeduplicator(), 0), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	body := `{"caseID":"C1","message":{"id":"m1","type":"text","text":{"body":"hi"}}}`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 500, rec.Code)
	fail = false
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 200, rec.Code, "a failed callback releases its key: the redelivery runs")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, 2, calls, "the completed delivery does not run again")

	// When the store fails: 503, and the callback does not run.
	h, err = NewHandler(testSecret, func(context.Context, *InboundRequest) error { calls++; return nil },
		WithDeduplication(failingStore{}, 0), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post(body, testSecret))
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, 2, calls)
}
