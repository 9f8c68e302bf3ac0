package ultimate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// An Ultimate bot is its webhook credential (basic auth user and password,
// or header name and value): its chat and action webhooks share a
// deduplicator, another bot is refused at construction.
func TestDeduplicatorServesOneBot(t *testing.T) {
	action := func(context.Context, *ActionRequest) ([]ActionResult, error) { return nil, nil }
	d := store.NewMemoryDeduplicator()
	_, err := NewChatHandler(ChatCallbacks{}, WithDeduplication(d, 0), WithBasicAuth("bot", "pass-a"))
	require.NoError(t, err)
	_, err = NewActionHandler(action, WithDeduplication(d, 0), WithBasicAuth("bot", "pass-a"))
	require.NoError(t, err, "the action webhook of the same bot")
	for name, opt := range map[string]Option{
		"another password": WithBasicAuth("bot", "pass-b"),
		"another user":     WithBasicAuth("bot2", "pass-a"),
		"a header":         WithWebhookHeader("bot", "pass-a"),
	} {
		_, err = NewChatHandler(ChatCallbacks{}, WithDeduplication(d, 0), opt)
		require.ErrorIs(t, err, store.ErrSharedStore, name)
		assert.Contains(t, err.Error(), "ultimate: the store passed to WithDeduplication already serves another bot", name)
		assert.NotContains(t, err.Error(), "pass-", name)
	}
}
