package botcopy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
)

func bcToken(i int) string { return fmt.Sprintf("botcopy-tenant-token-%03d", i) }

func bcLookup(_ context.Context, id string) (botcopy.Credentials, error) {
	if id == "broken" {
		return botcopy.Credentials{}, errors.New("database down")
	}
	var i int
	if _, err := fmt.Sscanf(id, "bot-%03d", &i); err != nil || id != fmt.Sprintf("bot-%03d", i) || i >= 100 {
		return botcopy.Credentials{}, tenant.ErrUnknown
	}
	c := botcopy.Credentials{AccessToken: bcToken(i)}
	if i == 7 {
		c.Previous = []string{"bot-007-old-token"}
	}
	return c, nil
}

// 100 tenants named by the botId Botcopy sends: every call is decided with
// its tenant in the context, the same session and text for each tenant
// deduplicated per tenant; another tenant's token, an unknown botId and a
// wrong token get the same 401; a failed lookup is a 503.
func TestManyTenantsByBotID(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	h, err := botcopy.NewTenantHandler(botcopy.Tenants{Resolve: tenant.JSONField("botId"), Lookup: bcLookup},
		func(ctx context.Context, req *botcopy.HandoverRequest) (botcopy.Decision, error) {
			id, _ := tenant.FromContext(ctx)
			mu.Lock()
			runs[id]++
			mu.Unlock()
			return botcopy.PauseFor(5), nil
		}, botcopy.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	call := func(botID, token string) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"eventType": "message", "userId": "user-1", "botId": botID, "sessionId": "s1",
			"queryInput": map[string]any{"text": map[string]any{"text": "agent please", "languageCode": "en"}}})
		r, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", token)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			status, _ := call(fmt.Sprintf("bot-%03d", i), bcToken(i))
			assert.Equal(t, http.StatusOK, status, i)
		})
	}
	wg.Wait()
	require.Len(t, runs, 100)
	for id, n := range runs {
		assert.Equal(t, 1, n, id)
	}
	_, wrong := call("bot-002", "wrong")
	for _, c := range []struct{ bot, token string }{
		{"bot-002", bcToken(1)}, {"bot-100", bcToken(1)}, {"", bcToken(1)}, {"bot-008", "bot-007-old-token"},
	} {
		status, body := call(c.bot, c.token)
		assert.Equal(t, http.StatusUnauthorized, status, c.bot)
		assert.Equal(t, wrong, body, c.bot)
	}
	status, _ := call("bot-007", "bot-007-old-token")
	assert.Equal(t, http.StatusOK, status, "a tenant's previous token (a redelivery of bot-007's call, answered from the store)")
	status, _ = call("broken", "x")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Len(t, runs, 100)
	assert.NotContains(t, fmt.Sprint(h), bcToken(1))

	_, err = botcopy.NewTenantHandler(botcopy.Tenants{Resolve: tenant.JSONField("botId"), Lookup: bcLookup},
		func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
			return botcopy.PauseFor(1), nil
		},
		botcopy.WithPreviousAccessTokens("x"))
	assert.Error(t, err)
}

// Tenants named by a header send identical bodies: deduplication still
// keeps them apart.
func TestTenantDeduplicationWithIdenticalBodies(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	h, err := botcopy.NewTenantHandler(botcopy.Tenants{Resolve: tenant.Header("X-Tenant"), Lookup: bcLookup},
		func(ctx context.Context, req *botcopy.HandoverRequest) (botcopy.Decision, error) {
			id, _ := tenant.FromContext(ctx)
			mu.Lock()
			runs[id]++
			mu.Unlock()
			return botcopy.PauseFor(5), nil
		}, botcopy.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	body := []byte(`{"eventType":"message","userId":"u","botId":"same","sessionId":"s","queryInput":{"text":{"text":"hi","languageCode":"en"}}}`)
	for i := range 3 {
		for range 2 { // a redelivery too
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Header.Set("Authorization", bcToken(i))
			r.Header.Set("X-Tenant", fmt.Sprintf("bot-%03d", i))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code)
		}
	}
	assert.Equal(t, map[string]int{"bot-000": 1, "bot-001": 1, "bot-002": 1}, runs)
}
