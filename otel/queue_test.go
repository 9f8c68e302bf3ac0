package botwireotel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inspector struct {
	mu    sync.Mutex
	stats store.QueueStats
	err   error
	calls int
}

func (q *inspector) Stats(ctx context.Context) (store.QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if _, ok := ctx.Deadline(); !ok {
		return store.QueueStats{}, errors.New("no deadline")
	}
	return q.stats, q.err
}

func TestObserveQueue(t *testing.T) {
	h := newHarness(t)
	a := &inspector{stats: store.QueueStats{Pending: 3, Running: 1, Retrying: 2, Dead: 1, OldestPending: 1500 * time.Millisecond}}
	b := &inspector{err: errors.New("redis down")}
	unregisterA, err := h.obs.ObserveQueue("onetalk.queue", a)
	require.NoError(t, err)
	_, err = h.obs.ObserveQueue("userlike.queue", b)
	require.NoError(t, err)
	h.golden("queue_gauges")

	// Unregistered, a stops being read.
	require.NoError(t, unregisterA())
	calls := a.calls
	h.metrics()
	assert.Equal(t, calls, a.calls)

	_, err = h.obs.ObserveQueue("", a)
	assert.Error(t, err)
	_, err = h.obs.ObserveQueue("x", nil)
	assert.Error(t, err)
}

func TestMemoryQueueStats(t *testing.T) {
	q := store.NewMemoryQueue(store.QueueOptions{})
	qi, ok := any(q).(store.QueueInspector)
	if !ok {
		t.Skip("store.MemoryQueue does not implement store.QueueInspector yet")
	}
	h := newHarness(t)
	_, err := q.Enqueue(context.Background(), store.Message{Key: "case", Payload: []byte("{}")})
	require.NoError(t, err)
	_, err = h.obs.ObserveQueue("onetalk.queue", qi)
	require.NoError(t, err)
	assert.Contains(t, renderMetrics(h.metrics()), `{botwire.queue.name="onetalk.queue", botwire.queue.state="pending"} 1`)
}
