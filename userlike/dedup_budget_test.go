package userlike

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/deduptest"
	"github.com/botwire/botwire/store"
)

// A redelivery while the first delivery runs answers 503 within the
// budget set by WithDeduplication's options.
func TestDeduplicationBudget(t *testing.T) {
	const budget = 300 * time.Millisecond
	gate := deduptest.NewGate()
	var runs atomic.Int32
	h, err := NewHandler(func(_ context.Context, _ *Event, r *Reply) error {
		runs.Add(1)
		gate.Pass()
		r.Add(Message("once"))
		return nil
	}, WithWebhookHeader(hookHeader, hookToken), WithLogger(testLogger(nil)),
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: time.Second, Wait: budget}))
	require.NoError(t, err)
	deduptest.Budget(t, h, deduptest.Delivery{
		Body:   []byte(`{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":"q"}}}`),
		Header: http.Header{hookHeader: {hookToken}},
	}, budget, gate)
	assert.Equal(t, int32(1), runs.Load())
}
