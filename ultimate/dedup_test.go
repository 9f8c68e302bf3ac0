package ultimate

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

// Action calls answer synchronously: a redelivery gets the first results.
func TestDeduplicationAcrossReplicas(t *testing.T) {
	shared := store.NewMemoryDeduplicator()
	var mu sync.Mutex
	calls := map[string]int{}
	var replicas [2]http.Handler
	for i := range replicas {
		h, err := NewActionHandler(func(_ context.Context, r *ActionRequest) ([]ActionResult, error) {
			mu.Lock()
			calls[r.PlatformConversationID]++
			n := calls[r.PlatformConversationID]
			mu.Unlock()
			return []ActionResult{{Key: "status", Value: fmt.Sprint("run ", n)}}, nil
		}, WithWebhookHeader(benchHeader, benchToken), WithDeduplication(shared, 0))
		require.NoError(t, err)
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		ds = append(ds, deduptest.Delivery{
			Body:   []byte(fmt.Sprintf(`{"botId":"b","conversationId":"u","platformConversationId":"p%d","name":"getOrderStatus","data":[]}`, i)),
			Header: http.Header{benchHeader: {benchToken}},
		})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	require.Len(t, calls, 100)
	for id, n := range calls {
		assert.Equal(t, 1, n, id)
	}
	assert.Equal(t, "message:m-1", chatKey([]byte(`{"data":{"eventType":"sendMessage","messageId":"m-1"}}`)))
}
