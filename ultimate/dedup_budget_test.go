package ultimate

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
	h, err := NewActionHandler(func(context.Context, *ActionRequest) ([]ActionResult, error) {
		runs.Add(1)
		gate.Pass()
		return []ActionResult{{Key: "status", Value: "once"}}, nil
	}, WithWebhookHeader(benchHeader, benchToken),
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: time.Second, Wait: budget}))
	require.NoError(t, err)
	deduptest.Budget(t, h, deduptest.Delivery{
		Body:   []byte(`{"botId":"b","conversationId":"u","platformConversationId":"p1","name":"getOrderStatus","data":[]}`),
		Header: http.Header{benchHeader: {benchToken}},
	}, budget, gate)
	assert.Equal(t, int32(1), runs.Load())
}
