package easydialog

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
	const key, budget = "budget-key", 300 * time.Millisecond
	gate := deduptest.NewGate()
	var runs atomic.Int32
	h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) {
		runs.Add(1)
		gate.Pass()
		return Reply(NewTextMessage("once")), nil
	}, WithLogger(logger(nil)),
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: time.Second, Wait: budget}))
	require.NoError(t, err)
	body := []byte(`{"dialogUuid":"d1","message":{"providerMsgID":5645395498720000001,"body":{"textMessage":{"content":"t"}}}}`)
	deduptest.Budget(t, h, deduptest.Delivery{Body: body, Header: http.Header{SignatureHeader: {Sign(body, key)}}}, budget, gate)
	assert.Equal(t, int32(1), runs.Load())
}
