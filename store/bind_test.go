package store_test

import (
	"testing"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/storetest"
)

func TestMemoryBinder(t *testing.T) {
	t.Run("deduplicator", func(t *testing.T) {
		storetest.Binder(t, func(*testing.T) store.Binder { return store.NewMemoryDeduplicator() })
	})
	t.Run("queue", func(t *testing.T) {
		storetest.Binder(t, func(*testing.T) store.Binder { return store.NewMemoryQueue(store.QueueOptions{}) })
	})
}
