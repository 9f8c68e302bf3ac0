package botcopy

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// Two Botcopy bots (two access tokens) on one deduplicator are refused at
// NewHandler; replicas of one bot share it.
func TestDeduplicatorServesOneBot(t *testing.T) {
	fn := func(context.Context, *HandoverRequest) (Decision, error) { return Continue(), nil }
	d := store.NewMemoryDeduplicator()
	for range 2 {
		_, err := NewHandler("token-of-bot-a", fn, WithDeduplication(d, 0))
		require.NoError(t, err)
	}
	_, err := NewHandler("token-of-bot-b", fn, WithDeduplication(d, 0))
	require.ErrorIs(t, err, store.ErrSharedStore)
	assert.Contains(t, err.Error(), "botcopy: the store passed to WithDeduplication already serves another bot")
	assert.NotContains(t, err.Error(), "token-of-bot")
}
