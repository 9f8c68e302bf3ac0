package onetalk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
)

const tenants = 100

func tenantSecret(i int) string { return fmt.Sprintf("tenant-secret-%03d-5b1f", i) }

// lookup knows tenant-000 … tenant-099; tenant-007 is mid-rotation (its
// old secret still accepted); "broken" fails like a database that is down.
func lookup(_ context.Context, id string) (onetalk.Credentials, error) {
	if id == "broken" {
		return onetalk.Credentials{}, errors.New("database down")
	}
	var i int
	if _, err := fmt.Sscanf(id, "tenant-%03d", &i); err != nil || i < 0 || i >= tenants || id != fmt.Sprintf("tenant-%03d", i) {
		return onetalk.Credentials{}, fmt.Errorf("%q: %w", id, tenant.ErrUnknown)
	}
	c := onetalk.Credentials{Secret: tenantSecret(i)}
	if i == 7 {
		c.Previous = []string{"tenant-007-old-secret"}
	}
	return c, nil
}

type tenantRun struct{ tenant, caseID, text string }

func tenantServer(t *testing.T, opts ...onetalk.Option) (*httptest.Server, *onetalk.Handler, func() []tenantRun) {
	t.Helper()
	var mu sync.Mutex
	var runs []tenantRun
	h, err := onetalk.NewTenantHandler(onetalk.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: lookup},
		func(ctx context.Context, req *onetalk.InboundRequest) error {
			id, _ := tenant.FromContext(ctx)
			mu.Lock()
			runs = append(runs, tenantRun{id, req.CaseID, req.Message.Text.Body})
			mu.Unlock()
			return nil
		}, opts...)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /onetalk/{tenant}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, h, func() []tenantRun {
		mu.Lock()
		defer mu.Unlock()
		return append([]tenantRun(nil), runs...)
	}
}

func deliverTo(t *testing.T, url, secret string, in *onetalk.InboundRequest) (int, []byte) {
	t.Helper()
	body, err := onetalktest.Encode(in)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(onetalk.SecretHeader, secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func message(caseID, id, text string) *onetalk.InboundRequest {
	in := onetalktest.Text(caseID, text)
	in.Message.ID = id
	return in
}

// 100 tenants on one handler and one store: every delivery runs with its
// own tenant in the callback's context; one tenant's secret on another's
// path, an unknown tenant and a wrong secret get the same 401; a lookup
// failure is a 503; deduplication keeps two tenants' deliveries with the
// same ids apart; through the queue, each tenant's cases keep their order.
func TestManyTenantsOnOneHandler(t *testing.T) {
	for _, mode := range []string{"sync", "queue"} {
		t.Run(mode, func(t *testing.T) {
			opts := []onetalk.Option{onetalk.WithDeduplication(store.NewMemoryDeduplicator(), 0)}
			if mode == "queue" {
				opts = append(opts, onetalk.WithQueue(store.NewMemoryQueue(store.QueueOptions{}), 4))
			}
			srv, h, runs := tenantServer(t, opts...)
			defer h.Shutdown(context.Background())

			const per = 5
			var wg sync.WaitGroup
			for i := range tenants {
				wg.Go(func() {
					id := fmt.Sprintf("tenant-%03d", i)
					for n := range per {
						// The same case and message ids for every tenant.
						status, _ := deliverTo(t, srv.URL+"/onetalk/"+id, tenantSecret(i), message("C1", fmt.Sprint("m", n), fmt.Sprintf("%s:%d", id, n)))
						assert.Equal(t, http.StatusOK, status, "%s message %d", id, n)
					}
				})
			}
			wg.Wait()
			require.Eventually(t, func() bool { return len(runs()) >= tenants*per }, 10*time.Second, 5*time.Millisecond)
			time.Sleep(20 * time.Millisecond) // a duplicate in flight shows
			got := runs()
			require.Len(t, got, tenants*per, "each tenant's deliveries ran once, none answered from another tenant's")
			next := map[string]int{}
			for _, r := range got {
				prefix, n, _ := strings.Cut(r.text, ":")
				assert.Equal(t, prefix, r.tenant, "the callback's tenant is the delivery's")
				assert.Equal(t, fmt.Sprint(next[r.tenant]), n, "%s: in order", r.tenant)
				next[r.tenant]++
			}

			// Refusals: all the same 401, and the callback does not run.
			_, wrongBody := deliverTo(t, srv.URL+"/onetalk/tenant-002", "wrong", message("C9", "x", "wrong"))
			for _, c := range []struct{ path, secret string }{
				{"tenant-002", tenantSecret(1)}, // another tenant's secret
				{"tenant-100", tenantSecret(1)}, // an unknown tenant
				{"tenant-1", tenantSecret(1)},   // not quite a tenant
				{"tenant-007", tenantSecret(8)}, // a rotating tenant, another's secret
				{"tenant-008", "tenant-007-old-secret"},
			} {
				status, body := deliverTo(t, srv.URL+"/onetalk/"+c.path, c.secret, message("C9", "x", "refused"))
				assert.Equal(t, http.StatusUnauthorized, status, c.path)
				assert.Equal(t, wrongBody, body, c.path)
			}
			status, _ := deliverTo(t, srv.URL+"/onetalk/tenant-007", "tenant-007-old-secret", message("C7", "r", "tenant-007:rotating"))
			assert.Equal(t, http.StatusOK, status, "a tenant's previous secret")
			status, _ = deliverTo(t, srv.URL+"/onetalk/broken", "anything", message("C9", "x", "broken"))
			assert.Equal(t, http.StatusServiceUnavailable, status, "a failed lookup is the platform's to retry")
			require.Eventually(t, func() bool { return len(runs()) == tenants*per+1 }, 5*time.Second, 5*time.Millisecond)
			for _, r := range runs() {
				assert.NotContains(t, []string{"refused", "wrong", "broken"}, r.text)
			}
		})
	}
}

// A single-tenant handler and a tenant handler do not share a store.
func TestTenantHandlerStoreIsItsOwn(t *testing.T) {
	d := store.NewMemoryDeduplicator()
	fn := func(context.Context, *onetalk.InboundRequest) error { return nil }
	_, err := onetalk.NewTenantHandler(onetalk.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: lookup}, fn, onetalk.WithDeduplication(d, 0))
	require.NoError(t, err)
	_, err = onetalk.NewTenantHandler(onetalk.Tenants{Resolve: tenant.Header("X-Tenant"), Lookup: lookup}, fn, onetalk.WithDeduplication(d, 0))
	require.NoError(t, err, "tenant handlers share their store")
	_, err = onetalk.NewHandler("single", fn, onetalk.WithDeduplication(d, 0))
	require.ErrorIs(t, err, store.ErrSharedStore)

	for _, c := range []struct {
		t    onetalk.Tenants
		opts []onetalk.Option
	}{
		{onetalk.Tenants{Lookup: lookup}, nil},
		{onetalk.Tenants{Resolve: tenant.PathValue("tenant")}, nil},
		{onetalk.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: lookup}, []onetalk.Option{onetalk.WithPreviousSecrets("x")}},
	} {
		_, err := onetalk.NewTenantHandler(c.t, fn, c.opts...)
		assert.Error(t, err)
	}
	h, err := onetalk.NewTenantHandler(onetalk.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: lookup}, fn)
	require.NoError(t, err)
	assert.Equal(t, "onetalk.Handler{tenants, maxBody: 1048576, mode: sync}", fmt.Sprint(h))
}

// A failing callback's log line names its tenant.
func TestTenantInTheLog(t *testing.T) {
	var logs bytes.Buffer
	h, err := onetalk.NewTenantHandler(onetalk.Tenants{Resolve: tenant.Header("X-Tenant"), Lookup: lookup},
		func(context.Context, *onetalk.InboundRequest) error { return errors.New("boom") },
		onetalk.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	body, err := onetalktest.Encode(message("C1", "m1", "hi"))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set(onetalk.SecretHeader, tenantSecret(3))
	r.Header.Set("X-Tenant", "tenant-003")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, logs.String(), "tenant=tenant-003")
	assert.NotContains(t, logs.String(), tenantSecret(3))
}
