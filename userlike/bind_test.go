package userlike

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// A Userlike bot is its webhook header (name and value): two bots on one
// deduplicator are refused at NewHandler; replicas of one bot, whatever
// the order or case of their header options, share it.
func TestDeduplicatorServesOneBot(t *testing.T) {
	fn := func(context.Context, *Event, *Reply) error { return nil }
	d := store.NewMemoryDeduplicator()
	_, err := NewHandler(fn, WithDeduplication(d, 0), WithWebhookHeader("X-Bot", "a"), WithWebhookHeader("X-Env", "prod"))
	require.NoError(t, err)
	_, err = NewHandler(fn, WithDeduplication(d, 0), WithWebhookHeader("x-env", "prod"), WithWebhookHeader("x-bot", "a"))
	require.NoError(t, err, "the same headers in another order and case")
	for name, opt := range map[string]Option{
		"another value":          WithWebhookHeader("X-Bot", "b"),
		"without authentication": WithoutAuthentication(),
	} {
		_, err = NewHandler(fn, WithDeduplication(d, 0), opt)
		require.ErrorIs(t, err, store.ErrSharedStore, name)
		assert.Contains(t, err.Error(), "userlike: the store passed to WithDeduplication already serves another bot", name)
	}

	// Without authentication there is nothing to tell bots apart: they are
	// one bot.
	open := store.NewMemoryDeduplicator()
	for range 2 {
		_, err = NewHandler(fn, WithDeduplication(open, 0), WithoutAuthentication())
		require.NoError(t, err)
	}
}
