package botcopy

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
		h, err := NewHandler(accessToken, func(_ context.Context, r *HandoverRequest) (Decision, error) {
			mu.Lock()
			calls[r.Text()]++
			n := calls[r.Text()]
			mu.Unlock()
			return PauseFor(n), nil // a second run would answer another decision
		}, WithDeduplication(shared, 0), WithLogger(testLogger(nil)))
		require.NoError(t, err)
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		ds = append(ds, deduptest.Delivery{
			Body:   []byte(fmt.Sprintf(`{"userId":"u%d","botId":"b","queryInput":{"text":{"text":"q%d"}}}`, i%4, i)),
			Header: http.Header{"Authorization": {accessToken}},
		})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	require.Len(t, calls, 100)
	for q, n := range calls {
		assert.Equal(t, 1, n, q)
	}
}
