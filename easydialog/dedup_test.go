package easydialog

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/deduptest"
	"github.com/botwire/botwire/store"
)

// Two replicas sharing one store, 50 goroutines delivering the same 100
// messages: each callback runs once, and every redelivery gets the first
// answer byte for byte (Easy Dialog reads the reply from the answer).
func TestDeduplicationAcrossReplicas(t *testing.T) {
	const key = "dedup-key"
	shared := store.NewMemoryDeduplicator()
	var mu sync.Mutex
	calls := map[string]int{}
	var replicas [2]http.Handler
	for i := range replicas {
		h, err := NewHandler(key, func(_ context.Context, r *Request) (*Response, error) {
			mu.Lock()
			calls[r.Message.ProviderMsgID.String()]++
			n := calls[r.Message.ProviderMsgID.String()]
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return Reply(NewTextMessage(fmt.Sprintf("answer %d of %s", n, r.Message.Text()))), nil
		}, WithDeduplication(shared, 0), WithLogger(logger(nil)))
		require.NoError(t, err)
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		body := []byte(fmt.Sprintf(`{"dialogUuid":"d%d","message":{"providerMsgID":%d,"body":{"textMessage":{"content":"t%d"}}}}`, i%9, 5645395498720000000+i, i))
		ds = append(ds, deduptest.Delivery{Body: body, Header: http.Header{SignatureHeader: {Sign(body, key)}}})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	require.Len(t, calls, 100)
	for id, n := range calls {
		assert.Equal(t, 1, n, id)
	}
	assert.True(t, strings.HasPrefix(deliveryKey(ds[0].Body), "dialog:d0:message:"), deliveryKey(ds[0].Body))
	assert.True(t, strings.HasPrefix(deliveryKey([]byte(`{"message":{}}`)), "sha256:"))
}
