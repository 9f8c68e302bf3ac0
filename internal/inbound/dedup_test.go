package inbound

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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

// Whatever key a vendor passes, the store's key (vendor prefix included)
// has a fixed bound, and different keys stay different.
func TestServeBoundsTheStoreKey(t *testing.T) {
	rec := &keyRecorder{Deduplicator: store.NewMemoryDeduplicator()}
	d := &Dedup{Store: rec, Vendor: "onetalk", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runs := 0
	for _, key := range []string{"short", strings.Repeat("k", 1<<20), strings.Repeat("k", 1<<20-1) + "j", strings.Repeat("k", 1<<20)} {
		w := httptest.NewRecorder()
		d.Serve(w, httptest.NewRequest(http.MethodPost, "/", nil), key, func(w http.ResponseWriter) { runs++; w.WriteHeader(200) })
		assert.Equal(t, 200, w.Code)
	}
	assert.Equal(t, 3, runs, "the repeated long key is still recognised")
	require.Len(t, rec.keys, 4)
	assert.Equal(t, "onetalk:short", rec.keys[0], "a short key keeps its readable form")
	for _, k := range rec.keys {
		assert.LessOrEqual(t, len(k), len("onetalk:")+200)
	}
	assert.NotEqual(t, rec.keys[1], rec.keys[2])
	assert.Equal(t, rec.keys[1], rec.keys[3])
}
