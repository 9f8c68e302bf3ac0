package onetalk

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// keyRecorder is a Deduplicator that remembers the keys it was asked for.
type keyRecorder struct {
	store.Deduplicator
	mu   sync.Mutex
	keys []string
}

func (k *keyRecorder) Claim(ctx context.Context, key, token string, lease time.Duration) (store.Claim, error) {
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.mu.Unlock()
	return k.Deduplicator.Claim(ctx, key, token, lease)
}

func textBody(t *testing.T, caseID, msgID string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"caseID": caseID,
		"message": map[string]any{"id": msgID, "type": "text", "text": map[string]any{"body": "hi"}}})
	require.NoError(t, err)
	return string(b)
}

// Case "A:message:B" with message "C" and case "A" with message
// "B:message:C" are two deliveries: each runs its callback, and the second
// is not answered with the first one's stored answer.
func TestDeliveryKeysOfDifferentIDsNeverMeet(t *testing.T) {
	pairs := [][2][2]string{
		{{"A:message:B", "C"}, {"A", "B:message:C"}},
		{{`A\`, "B"}, {"A", `\B`}},
		{{"A:", "B"}, {"A", ":B"}},
		{{"A", "B" + strings.Repeat("x", 300)}, {"A", "B" + strings.Repeat("x", 299) + "y"}},
	}
	for _, p := range pairs {
		var mu sync.Mutex
		seen := map[string]int{}
		h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
			mu.Lock()
			seen[r.CaseID+"|"+r.Message.ID]++
			mu.Unlock()
			return nil
		}, WithDeduplication(store.NewMemoryDeduplicator(), 0), WithLogger(quietLogger(nil)))
		require.NoError(t, err)
		for _, d := range p {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, post(textBody(t, d[0], d[1]), testSecret))
			assert.Equal(t, 200, rec.Code)
		}
		assert.Equal(t, map[string]int{p[0][0] + "|" + p[0][1]: 1, p[1][0] + "|" + p[1][1]: 1}, seen,
			"both deliveries run their callback")
	}
}

// A 1 MiB message id does not become a 1 MiB key in the store: every key
// the store sees is bounded, and the id is still deduplicated.
func TestDeliveryKeysAreBounded(t *testing.T) {
	rec := &keyRecorder{Deduplicator: store.NewMemoryDeduplicator()}
	calls := 0
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { calls++; return nil },
		WithDeduplication(rec, 0), WithLogger(quietLogger(nil)), WithMaxBodyBytes(4<<20))
	require.NoError(t, err)
	huge := strings.Repeat("i", 1<<20)
	for _, body := range []string{textBody(t, "C1", huge), textBody(t, huge, "m1"), textBody(t, "C1", huge)} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, post(body, testSecret))
		assert.Equal(t, 200, w.Code)
	}
	assert.Equal(t, 2, calls, "the repeated delivery is still recognised")
	require.Len(t, rec.keys, 3)
	for _, k := range rec.keys {
		assert.LessOrEqual(t, len(k), 256, "key of %d bytes", len(k))
	}
	assert.NotEqual(t, rec.keys[0], rec.keys[1])
	assert.Equal(t, rec.keys[0], rec.keys[2])
}
