package store_test

import (
	"testing"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Deduplicator(t, func(*testing.T) store.Deduplicator { return store.NewMemoryDeduplicator() })
	storetest.RateLimiter(t, func(*testing.T) store.RateLimiter { return store.NewMemoryRateLimiter() })
	storetest.Queue(t, func(_ *testing.T, o store.QueueOptions) store.Queue { return store.NewMemoryQueue(o) })
}
