package userlike

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/deduptest"
	"github.com/botwire/botwire/store"
)

func TestDeduplicationAcrossReplicas(t *testing.T) {
	shared := store.NewMemoryDeduplicator()
	var mu sync.Mutex
	calls := map[string]int{}
	var replicas [2]http.Handler
	for i := range replicas {
		h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
			mu.Lock()
			calls[e.Text()]++
			n := calls[e.Text()]
			mu.Unlock()
			r.Add(Message(fmt.Sprintf("answer %d to %s", n, e.Text())))
			return nil
		}, WithWebhookHeader(hookHeader, hookToken), WithDeduplication(shared, 0), WithLogger(testLogger(nil)))
		require.NoError(t, err)
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		ds = append(ds, deduptest.Delivery{
			Body:   []byte(fmt.Sprintf(`{"info":{"cid":"c%d"},"packet":{"name":"message","payload":{"body":"q%d"}}}`, i%5, i)),
			Header: http.Header{hookHeader: {hookToken}},
		})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	require.Len(t, calls, 100)
	for q, n := range calls {
		assert.Equal(t, 1, n, q)
	}
}
