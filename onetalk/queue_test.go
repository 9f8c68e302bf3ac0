package onetalk

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

type brokenQueue struct{ store.Queue }

func (brokenQueue) Enqueue(context.Context, store.Message) (string, error) {
	return "", errors.New("READONLY")
}

func TestQueueAcknowledgesOnlyWhatItStored(t *testing.T) {
	q := store.NewMemoryQueue(store.QueueOptions{MaxAttempts: 2, RetryDelay: 10 * time.Millisecond})
	var mu sync.Mutex
	var ran []string
	h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
		mu.Lock()
		defer mu.Unlock()
		if r.Message.Body() == "poison" {
			return errors.New("cannot")
		}
		ran = append(ran, r.CaseID+":"+r.Message.Body())
		return nil
	}, WithQueue(q, 3), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	for i := range 10 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, caseMessage(fmt.Sprint("C", i%2), fmt.Sprint(i)))
		require.Equal(t, 200, rec.Code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, caseMessage("C9", "poison"))
	require.Equal(t, 200, rec.Code)
	require.Eventually(t, func() bool {
		dead, _ := q.DeadLetters(context.Background())
		mu.Lock()
		defer mu.Unlock()
		return len(ran) == 10 && len(dead) == 1
	}, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	var c0, c1 []string
	for _, r := range ran {
		if r[:2] == "C0" {
			c0 = append(c0, r)
		} else {
			c1 = append(c1, r)
		}
	}
	mu.Unlock()
	assert.Equal(t, []string{"C0:0", "C0:2", "C0:4", "C0:6", "C0:8"}, c0, "one case in arrival order")
	assert.Equal(t, []string{"C1:1", "C1:3", "C1:5", "C1:7", "C1:9"}, c1)
	require.NoError(t, h.Shutdown(context.Background()))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, caseMessage("C0", "late"))
	assert.Equal(t, 503, rec.Code, "a shut-down handler stores nothing more")

	// A queue that cannot store answers 503: OneTalk redelivers.
	h, err = NewHandler(testSecret, func(context.Context, *InboundRequest) error { return nil },
		WithQueue(brokenQueue{store.NewMemoryQueue(store.QueueOptions{})}, 1), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, caseMessage("C0", "x"))
	assert.Equal(t, 503, rec.Code)
	require.NoError(t, h.Shutdown(context.Background()))

	_, err = NewHandler(testSecret, func(context.Context, *InboundRequest) error { return nil },
		WithQueue(q, 1), WithAsync(1, 1))
	assert.Error(t, err)
}
