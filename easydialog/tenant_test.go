package easydialog_test

import (
	"bytes"
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

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
)

const edTenants = 100

func edKey(i int) string { return fmt.Sprintf("easydialog-tenant-key-%03d", i) }

func edLookup(_ context.Context, id string) (easydialog.Credentials, error) {
	if id == "broken" {
		return easydialog.Credentials{}, errors.New("database down")
	}
	var i int
	if _, err := fmt.Sscanf(id, "t%03d", &i); err != nil || id != fmt.Sprintf("t%03d", i) || i >= edTenants {
		return easydialog.Credentials{}, tenant.ErrUnknown
	}
	c := easydialog.Credentials{Key: edKey(i)}
	if i == 7 {
		c.Previous = []string{"t007-old-key"}
	}
	return c, nil
}

// 100 tenants on one handler and one deduplication store: each delivery
// runs with its tenant in the callback's context, even with the same
// dialog and message ids as another tenant's; a signature by another
// tenant's key, an unknown tenant and a wrong signature get the same 401;
// a failed lookup is a 503.
func TestManyTenantsOnOneHandler(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	h, err := easydialog.NewTenantHandler(easydialog.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: edLookup},
		func(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
			id, _ := tenant.FromContext(ctx)
			mu.Lock()
			runs[id+" "+req.Message.Body.Text.Content]++
			mu.Unlock()
			return nil, nil
		}, easydialog.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /easydialog/{tenant}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	same := easydialogtest.Text("dialog-1", "hello") // one dialog and message id for every tenant
	deliver := func(path, key, text string) (int, []byte) {
		req := *same
		req.Message.Body.Text = &easydialog.TextMessage{Content: text}
		body, err := easydialogtest.Encode(&req)
		require.NoError(t, err)
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/easydialog/"+path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(easydialog.SignatureHeader, easydialog.Sign(body, key))
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	for i := range edTenants {
		wg.Go(func() {
			id := fmt.Sprintf("t%03d", i)
			status, _ := deliver(id, edKey(i), id)
			assert.Equal(t, http.StatusOK, status, id)
		})
	}
	wg.Wait()
	for i := range edTenants {
		id := fmt.Sprintf("t%03d", i)
		assert.Equal(t, 1, runs[id+" "+id], "%s ran once, with its own tenant", id)
	}
	require.Len(t, runs, edTenants)

	_, wrong := deliver("t002", "wrong", "x")
	for _, c := range []struct{ path, key string }{
		{"t002", edKey(1)}, {"t100", edKey(1)}, {"", edKey(1)}, {"t008", "t007-old-key"},
	} {
		status, body := deliver(c.path, c.key, "refused")
		if c.path == "" {
			assert.Equal(t, http.StatusNotFound, status) // no route
			continue
		}
		assert.Equal(t, http.StatusUnauthorized, status, c.path)
		assert.Equal(t, wrong, body, c.path)
	}
	status, _ := deliver("t007", "t007-old-key", "rotating")
	assert.Equal(t, http.StatusOK, status, "a tenant's previous key")
	status, _ = deliver("broken", "k", "broken")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	for k := range runs {
		assert.False(t, strings.HasSuffix(k, "refused") || strings.HasSuffix(k, "broken"), k)
	}
	assert.Equal(t, "easydialog.Handler{tenants, maxBody: 1048576}", fmt.Sprint(h))

	_, err = easydialog.NewHandler("single", func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
		easydialog.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	_, err = easydialog.NewTenantHandler(easydialog.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: edLookup}, nil)
	assert.Error(t, err)
	_, err = easydialog.NewTenantHandler(easydialog.Tenants{Lookup: edLookup}, func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil })
	assert.Error(t, err)
}
