package userlike_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
	"github.com/botwire/botwire/userlike"
)

func ulValue(i int) string { return fmt.Sprintf("userlike-tenant-value-%03d", i) }

func ulLookup(_ context.Context, id string) (userlike.Credentials, error) {
	if id == "broken" {
		return userlike.Credentials{}, errors.New("database down")
	}
	var i int
	if _, err := fmt.Sscanf(id, "t%03d", &i); err != nil || id != fmt.Sprintf("t%03d", i) || i >= 100 {
		return userlike.Credentials{}, tenant.ErrUnknown
	}
	c := userlike.Credentials{Header: "API-SECURITY-TOKEN", Value: ulValue(i)}
	if i == 7 {
		c.Previous = []string{"t007-old-value"}
	}
	return c, nil
}

// 100 tenants on one handler and one deduplication store, each sending the
// same body: every tenant's event runs once with its tenant in the
// context; another tenant's value, an unknown tenant and a wrong value get
// the same 401; a failed lookup is a 503.
func TestManyTenantsOnOneHandler(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	h, err := userlike.NewTenantHandler(userlike.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: ulLookup},
		func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
			id, _ := tenant.FromContext(ctx)
			mu.Lock()
			runs[id]++
			mu.Unlock()
			return nil
		}, userlike.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /userlike/{tenant}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const body = `{"info":{"cid":"chatbot::258:a56785fb6fb84edd890905913b0c0821"},"packet":{"name":"message","payload":{"body":"hello"}}}`
	deliver := func(path, value string) (int, string) {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/userlike/"+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("API-SECURITY-TOKEN", value)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			status, _ := deliver(fmt.Sprintf("t%03d", i), ulValue(i))
			assert.Equal(t, http.StatusOK, status, i)
		})
	}
	wg.Wait()
	require.Len(t, runs, 100)
	for id, n := range runs {
		assert.Equal(t, 1, n, id)
	}
	_, wrong := deliver("t002", "wrong")
	for _, c := range []struct{ path, value string }{
		{"t002", ulValue(1)}, {"t100", ulValue(1)}, {"t008", "t007-old-value"},
	} {
		status, b := deliver(c.path, c.value)
		assert.Equal(t, http.StatusUnauthorized, status, c.path)
		assert.Equal(t, wrong, b, c.path)
	}
	status, _ := deliver("t007", "t007-old-value")
	assert.Equal(t, http.StatusOK, status, "a tenant's previous value (t007's delivery again, answered from the store)")
	status, _ = deliver("broken", "x")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Len(t, runs, 100)
	assert.Equal(t, "userlike.Handler{auth: per tenant, maxBody: 1048576}", fmt.Sprint(h))

	_, err = userlike.NewTenantHandler(userlike.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: ulLookup},
		func(context.Context, *userlike.Event, *userlike.Reply) error { return nil }, userlike.WithWebhookHeader("X", "y"))
	assert.Error(t, err, "authentication options do not apply")
}
