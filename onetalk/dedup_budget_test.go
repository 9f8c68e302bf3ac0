package onetalk

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
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { runs.Add(1); gate.Pass(); return nil },
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: time.Second, Wait: budget}),
		WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	deduptest.Budget(t, h, deduptest.Delivery{
		Body:   []byte(`{"caseID":"C1","message":{"id":"m1","type":"text","text":{"body":"hi"}}}`),
		Header: http.Header{SecretHeader: {testSecret}},
	}, budget, gate)
	assert.Equal(t, int32(1), runs.Load())
}
