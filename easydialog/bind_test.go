package easydialog

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// Two Easy Dialog bots (two signature keys) on one deduplicator could
// answer each other's replays when their delivery keys met: the second is
// refused at NewHandler; replicas of one bot share it.
func TestDeduplicatorServesOneBot(t *testing.T) {
	fn := func(context.Context, *Request) (*Response, error) { return nil, nil }
	d := store.NewMemoryDeduplicator()
	for range 2 {
		_, err := NewHandler("key-of-bot-a", fn, WithDeduplication(d, 0))
		require.NoError(t, err)
	}
	_, err := NewHandler("key-of-bot-b", fn, WithDeduplication(d, 0))
	require.ErrorIs(t, err, store.ErrSharedStore)
	assert.Contains(t, err.Error(), "easydialog: the store passed to WithDeduplication already serves another bot")
	assert.NotContains(t, err.Error(), "key-of-bot")
	_, err = NewHandler("key-of-bot-b", fn, WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err, "a store of its own")
}
