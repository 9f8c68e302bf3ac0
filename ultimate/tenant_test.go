package ultimate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
	"github.com/botwire/botwire/ultimate"
)

const (
	utTenants = 100
	utHeader  = "X-Ultimate-Token"
)

func utValue(i int) string    { return fmt.Sprintf("ultimate-tenant-value-%03d", i) }
func utUser(i int) string     { return fmt.Sprintf("user-%03d", i) }
func utPassword(i int) string { return fmt.Sprintf("ultimate-tenant-password-%03d", i) }

// utLookup serves tenants bot-000 to bot-099: the even ones authenticate
// with a header, the odd ones with basic auth, every fifth with both.
// bot-007 rotates its password, bot-008 its header value; bot-none has no
// credentials and bot-half a header without a value.
func utLookup(_ context.Context, id string) (ultimate.Credentials, error) {
	switch id {
	case "broken":
		return ultimate.Credentials{}, errors.New("database down")
	case "bot-none":
		return ultimate.Credentials{}, nil
	case "bot-half":
		return ultimate.Credentials{Header: utHeader}, nil
	}
	var i int
	if _, err := fmt.Sscanf(id, "bot-%03d", &i); err != nil || id != fmt.Sprintf("bot-%03d", i) || i >= utTenants {
		return ultimate.Credentials{}, fmt.Errorf("%q: %w", id, tenant.ErrUnknown)
	}
	var c ultimate.Credentials
	if i%2 == 0 || i%5 == 0 {
		c.Header, c.Value = utHeader, utValue(i)
	}
	if i%2 == 1 || i%5 == 0 {
		c.User, c.Password = utUser(i), utPassword(i)
	}
	switch i {
	case 7:
		c.PreviousPasswords = []string{"bot-007-old-password"}
	case 8:
		c.Previous = []string{"bot-008-old-value"}
	}
	return c, nil
}

// utCreds presents tenant i's current credentials.
func utCreds(i int) func(*http.Request) {
	return func(r *http.Request) {
		if i%2 == 0 || i%5 == 0 {
			r.Header.Set(utHeader, utValue(i))
		}
		if i%2 == 1 || i%5 == 0 {
			r.SetBasicAuth(utUser(i), utPassword(i))
		}
	}
}

func utPost(t *testing.T, url string, body []byte, present func(*http.Request)) (int, []byte) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json")
	present(r)
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// syncBuffer is a log destination the handler's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// 100 tenants named by the botId Ultimate sends, on one chat handler and
// one deduplication store, each sending the same conversation and message
// ids: every tenant's delivery runs once (a redelivery is answered from the
// store), with its tenant in the context. Another tenant's credential, an
// unknown or missing botId, a tenant without credentials and a wrong
// credential get the same 401; a rotating tenant's previous credential is
// accepted; a failed lookup is a 503, logged with the tenant.
func TestTenantChatHandler(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}    // tenant of the context → runs
	indexes := map[string]int{} // messageId → CredentialIndex
	var logs syncBuffer
	dedup := store.NewMemoryDeduplicator()
	tenants := ultimate.Tenants{Resolve: tenant.JSONField("botId"), Lookup: utLookup}
	h, err := ultimate.NewTenantChatHandler(tenants, ultimate.ChatCallbacks{
		OnMessage: func(ctx context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
			id, ok := tenant.FromContext(ctx)
			assert.True(t, ok)
			assert.Equal(t, e.BotID, id, "the tenant is the body's botId")
			index, ok := ultimate.CredentialIndex(ctx)
			assert.True(t, ok)
			mu.Lock()
			defer mu.Unlock()
			runs[id]++
			indexes[m.MessageID] = index
			return nil
		},
	}, ultimate.WithDeduplication(dedup, 0), ultimate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	deliver := func(botID, messageID string, present func(*http.Request)) (int, []byte) {
		body, err := json.Marshal(map[string]any{"botId": botID, "channel": "chat", "data": map[string]any{
			"eventType": "sendMessage", "platformConversationId": "conversation-1", "type": "text",
			"text": "hello", "buttons": []any{}, "carouselCards": []any{}, "messageId": messageID}})
		require.NoError(t, err)
		return utPost(t, srv.URL, body, present)
	}

	var wg sync.WaitGroup
	for i := range utTenants {
		for range 2 { // a redelivery too
			wg.Go(func() {
				status, _ := deliver(fmt.Sprintf("bot-%03d", i), "message-1", utCreds(i))
				assert.Equal(t, http.StatusOK, status, i)
			})
		}
	}
	wg.Wait()
	require.Len(t, runs, utTenants, "the same message id of every tenant is a delivery of its own")
	for id, n := range runs {
		assert.Equal(t, 1, n, id)
	}
	assert.Equal(t, 0, indexes["message-1"])

	_, wrong := deliver("bot-002", "refused", func(r *http.Request) { r.Header.Set(utHeader, "wrong") })
	for name, c := range map[string]struct {
		bot     string
		present func(*http.Request)
	}{
		"another tenant's header":      {"bot-002", utCreds(4)},
		"another tenant's basic auth":  {"bot-003", utCreds(1)},
		"a wrong password":             {"bot-003", func(r *http.Request) { r.SetBasicAuth(utUser(3), "wrong") }},
		"half of a two-check tenant":   {"bot-005", func(r *http.Request) { r.SetBasicAuth(utUser(5), utPassword(5)) }},
		"unknown tenant":               {"bot-100", utCreds(1)},
		"no botId":                     {"", utCreds(1)},
		"another tenant's old value":   {"bot-009", func(r *http.Request) { r.SetBasicAuth(utUser(7), "bot-007-old-password") }},
		"a tenant without credentials": {"bot-none", utCreds(0)},
		"a tenant with half a header":  {"bot-half", func(r *http.Request) { r.Header.Set(utHeader, "x") }},
	} {
		status, body := deliver(c.bot, "refused", c.present)
		assert.Equal(t, http.StatusUnauthorized, status, name)
		assert.Equal(t, wrong, body, name)
	}

	status, _ := deliver("bot-007", "rotating-password", func(r *http.Request) { r.SetBasicAuth(utUser(7), "bot-007-old-password") })
	assert.Equal(t, http.StatusOK, status, "a tenant's previous password")
	status, _ = deliver("bot-008", "rotating-header", func(r *http.Request) { r.Header.Set(utHeader, "bot-008-old-value") })
	assert.Equal(t, http.StatusOK, status, "a tenant's previous header value")
	assert.Equal(t, 1, indexes["rotating-password"])
	assert.Equal(t, 1, indexes["rotating-header"])

	status, _ = deliver("broken", "broken", utCreds(0))
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, logs.String(), "tenant=broken")

	assert.NotContains(t, indexes, "refused")
	assert.NotContains(t, indexes, "broken")
	assert.Equal(t, 2, runs["bot-007"], "the rotating tenants ran once more each")
	assert.Equal(t, 2, runs["bot-008"])
	assert.Equal(t, "ultimate.ChatHandler{tenants, maxBody: 1048576}", fmt.Sprint(h))

	// The tenants' chat and action handlers share the store; a single
	// tenant's handler does not.
	_, err = ultimate.NewTenantActionHandler(tenants, func(context.Context, *ultimate.ActionRequest) ([]ultimate.ActionResult, error) { return nil, nil },
		ultimate.WithDeduplication(dedup, 0))
	require.NoError(t, err)
	_, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithWebhookHeader(utHeader, utValue(0)), ultimate.WithDeduplication(dedup, 0))
	assert.ErrorIs(t, err, store.ErrSharedStore)
}

// 100 tenants named by the path, on one actions handler and one
// deduplication store, send identical bodies: each tenant's call runs once
// with its tenant, and a redelivery gets that tenant's own answer.
func TestTenantActionHandler(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	h, err := ultimate.NewTenantActionHandler(ultimate.Tenants{Resolve: tenant.PathValue("tenant"), Lookup: utLookup},
		func(ctx context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
			id, _ := tenant.FromContext(ctx)
			index, _ := ultimate.CredentialIndex(ctx)
			mu.Lock()
			runs[id]++
			mu.Unlock()
			return []ultimate.ActionResult{{Key: "tenant", Value: id}, {Key: "credential", Value: index}}, nil
		}, ultimate.WithDeduplication(store.NewMemoryDeduplicator(), 0))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /ultimate/{tenant}/actions", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	same := []byte(`{"botId":"same","conversationId":"c","platformConversationId":"conversation-1","name":"getOrderStatus","data":[]}`)
	call := func(id string, present func(*http.Request)) (int, []byte) {
		return utPost(t, srv.URL+"/ultimate/"+id+"/actions", same, present)
	}
	answer := func(id string, index int) string {
		return fmt.Sprintf(`{"results":[{"key":"tenant","value":%q},{"key":"credential","value":%d}]}`, id, index)
	}

	var wg sync.WaitGroup
	for i := range utTenants {
		wg.Go(func() {
			id := fmt.Sprintf("bot-%03d", i)
			for range 2 { // a redelivery gets the stored answer, the tenant's own
				status, body := call(id, utCreds(i))
				assert.Equal(t, http.StatusOK, status, id)
				assert.JSONEq(t, answer(id, 0), string(body), id)
			}
		})
	}
	wg.Wait()
	require.Len(t, runs, utTenants, "identical bodies of two tenants are two deliveries")
	for id, n := range runs {
		assert.Equal(t, 1, n, id)
	}

	_, wrong := call("bot-002", func(r *http.Request) { r.Header.Set(utHeader, "wrong") })
	for name, c := range map[string]struct {
		id      string
		present func(*http.Request)
	}{
		"another tenant's header":     {"bot-002", utCreds(4)},
		"another tenant's basic auth": {"bot-003", utCreds(1)},
		"unknown tenant":              {"bot-100", utCreds(1)},
		"another tenant's old value":  {"bot-010", func(r *http.Request) { r.Header.Set(utHeader, "bot-008-old-value") }},
		"no credential":               {"bot-004", func(*http.Request) {}},
	} {
		status, body := call(c.id, c.present)
		assert.Equal(t, http.StatusUnauthorized, status, name)
		assert.Equal(t, wrong, body, name)
	}
	// Another conversation, so bot-007's call runs again.
	status, body := utPost(t, srv.URL+"/ultimate/bot-007/actions", bytes.Replace(same, []byte("conversation-1"), []byte("conversation-2"), 1),
		func(r *http.Request) { r.SetBasicAuth(utUser(7), "bot-007-old-password") })
	assert.Equal(t, http.StatusOK, status, "a tenant's previous password")
	assert.JSONEq(t, answer("bot-007", 1), string(body))
	status, _ = call("broken", utCreds(0))
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, 2, runs["bot-007"])
	assert.Len(t, runs, utTenants)
	assert.Equal(t, "ultimate.ActionHandler{tenants, maxBody: 1048576}", fmt.Sprint(h))
}

// The credentials come from the lookup: NewTenantChatHandler and
// NewTenantActionHandler refuse the authentication options, and need a
// resolver and a lookup.
func TestTenantHandlerOptions(t *testing.T) {
	tenants := ultimate.Tenants{Resolve: tenant.JSONField("botId"), Lookup: utLookup}
	action := func(context.Context, *ultimate.ActionRequest) ([]ultimate.ActionResult, error) { return nil, nil }
	for name, opt := range map[string]ultimate.Option{
		"WithWebhookHeader":              ultimate.WithWebhookHeader(utHeader, "v"),
		"WithPreviousWebhookHeader":      ultimate.WithPreviousWebhookHeader(utHeader, "v"),
		"WithBasicAuth":                  ultimate.WithBasicAuth("u", "p"),
		"WithPreviousBasicAuthPasswords": ultimate.WithPreviousBasicAuthPasswords("p"),
		"WithoutAuthentication":          ultimate.WithoutAuthentication(),
	} {
		_, err := ultimate.NewTenantChatHandler(tenants, ultimate.ChatCallbacks{}, opt)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "Tenants.Lookup", name)
		_, err = ultimate.NewTenantActionHandler(tenants, action, opt)
		assert.Error(t, err, name)
	}
	_, err := ultimate.NewTenantChatHandler(ultimate.Tenants{Lookup: utLookup}, ultimate.ChatCallbacks{})
	assert.Error(t, err)
	_, err = ultimate.NewTenantChatHandler(ultimate.Tenants{Resolve: tenant.JSONField("botId")}, ultimate.ChatCallbacks{})
	assert.Error(t, err)
	_, err = ultimate.NewTenantActionHandler(tenants, nil)
	assert.Error(t, err)
	_, err = ultimate.NewTenantChatHandler(tenants, ultimate.ChatCallbacks{}, ultimate.WithMaxBodyBytes(64))
	require.NoError(t, err)
}

// A tenant named in the body: the body is read (within the limit) before
// the credentials are checked.
func TestTenantInBodyReadsBodyFirst(t *testing.T) {
	h, err := ultimate.NewTenantChatHandler(ultimate.Tenants{Resolve: tenant.JSONField("botId"), Lookup: utLookup},
		ultimate.ChatCallbacks{}, ultimate.WithMaxBodyBytes(64))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"botId":"bot-000","data":{"text":"`+strings.Repeat("x", 100)+`"}}`))
	utCreds(0)(r)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
}
