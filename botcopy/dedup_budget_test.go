package botcopy

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
	h, err := NewHandler(accessToken, func(context.Context, *HandoverRequest) (Decision, error) {
		runs.Add(1)
		gate.Pass()
		return PauseFor(3), nil
	}, WithLogger(testLogger(nil)),
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Lease: time.Second, Wait: budget}))
	require.NoError(t, err)
	deduptest.Budget(t, h, deduptest.Delivery{
		Body:   []byte(`{"userId":"u1","botId":"b","queryInput":{"text":{"text":"q"}}}`),
		Header: http.Header{"Authorization": {accessToken}},
	}, budget, gate)
	assert.Equal(t, int32(1), runs.Load())
}

// Botcopy ignores an answer after 5 s: whatever Wait says, a redelivery
// gives up a tenth before the response deadline, in time for its 503 to
// count.
func TestDeduplicationWaitStaysUnderTheResponseDeadline(t *testing.T) {
	const deadline = time.Second
	gate := deduptest.NewGate()
	h, err := NewHandler(accessToken, func(context.Context, *HandoverRequest) (Decision, error) {
		gate.Pass()
		return PauseFor(3), nil
	}, WithLogger(testLogger(nil)), WithResponseDeadline(deadline),
		WithDeduplication(store.NewMemoryDeduplicator(), 0, store.DedupOptions{Wait: time.Minute}))
	require.NoError(t, err)
	// Capped at Wait, the redelivery would wait a minute for the first,
	// whose callback is held until the redelivery has answered.
	deduptest.Budget(t, h, deduptest.Delivery{
		Body:   []byte(`{"userId":"u1","botId":"b","queryInput":{"text":{"text":"q"}}}`),
		Header: http.Header{"Authorization": {accessToken}},
	}, deadline-deadline/10, gate)
}
