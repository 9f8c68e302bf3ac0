package ultimate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
)

const (
	rotUser   = "ultimate"
	rotHeader = "X-Ultimate-Token"
	rotNew    = "ult-hook-new-7d20c4b19e"
	rotOld    = "ult-hook-old-e6a1f03c58"
	rotOlder  = "ult-hook-older-90b2d7aa"
	rotBotID  = "618a30beee4e8e87d2f94015"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// recorder holds callbacks for both webhooks that keep, per message text or
// action name, the CredentialIndex their context carried (-1: none).
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func newRecorder() *recorder { return &recorder{seen: map[string]int{}} }

func (c *recorder) note(ctx context.Context, key string) {
	i, ok := ultimate.CredentialIndex(ctx)
	if !ok {
		i = -1
	}
	c.mu.Lock()
	c.seen[key] = i
	c.mu.Unlock()
}

func (c *recorder) index(key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.seen[key]
	return i, ok
}

func (c *recorder) chat() ultimate.ChatCallbacks {
	return ultimate.ChatCallbacks{OnMessage: func(ctx context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
		c.note(ctx, m.Text)
		return nil
	}}
}

func (c *recorder) action(ctx context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
	c.note(ctx, r.Name)
	return []ultimate.ActionResult{{Key: "done", Value: r.Name}}, nil
}

func chatBody(text string) string {
	return `{"botId":"` + rotBotID + `","data":{"eventType":"sendMessage","platformConversationId":"s1","type":"text","text":"` + text + `"}}`
}

func actionBody(name string) string {
	return `{"botId":"` + rotBotID + `","platformConversationId":"s1","name":"` + name + `","data":[]}`
}

func rotPost(h http.Handler, body string, auth func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/ultimate", strings.NewReader(body))
	if auth != nil {
		auth(r)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func header(value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(rotHeader, value) }
}

// rotations are the two credentials a handler can roll, each with its
// options and how a caller presents a value.
var rotations = []struct {
	name    string
	opts    []ultimate.Option
	present func(string) func(*http.Request)
	// refused are wrong presentations beyond the ones derived from values.
	refused map[string]func(*http.Request)
}{
	{
		name: "basic auth",
		opts: []ultimate.Option{ultimate.WithBasicAuth(rotUser, rotNew),
			ultimate.WithPreviousBasicAuthPasswords(rotOld), ultimate.WithPreviousBasicAuthPasswords(rotOlder)},
		present: func(v string) func(*http.Request) { return basic(rotUser, v) },
		refused: map[string]func(*http.Request){
			"another user with the old password": basic("other", rotOld),
			"another user with the new password": basic("other", rotNew),
			"a bearer token":                     func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+rotNew) },
			"not base64":                         func(r *http.Request) { r.Header.Set("Authorization", "Basic !!") },
			"the old password as the user": func(r *http.Request) {
				r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rotOld+":"+rotNew)))
			},
		},
	},
	{
		name: "header",
		opts: []ultimate.Option{ultimate.WithWebhookHeader(rotHeader, rotNew),
			ultimate.WithPreviousWebhookHeader(rotHeader, rotOld), ultimate.WithPreviousWebhookHeader(strings.ToLower(rotHeader), rotOlder)},
		present: header,
		refused: map[string]func(*http.Request){
			"both values joined": header(rotNew + "," + rotOld),
			"another header":     func(r *http.Request) { r.Header.Set("X-Other", rotNew) },
		},
	},
}

// The current credential and the previous ones are all accepted by both
// webhooks and the callback learns which one it was; anything else is one
// and the same 401, whichever credential it came close to.
func TestRotationAcceptsCurrentAndPrevious(t *testing.T) {
	flip := func(s string) string { return s[:len(s)-1] + string(s[len(s)-1]^1) }
	for _, rot := range rotations {
		t.Run(rot.name, func(t *testing.T) {
			rec := newRecorder()
			opts := append([]ultimate.Option{ultimate.WithLogger(quiet())}, rot.opts...)
			chat, err := ultimate.NewChatHandler(rec.chat(), opts...)
			require.NoError(t, err)
			actions, err := ultimate.NewActionHandler(rec.action, opts...)
			require.NoError(t, err)
			webhooks := map[string]struct {
				h    http.Handler
				body func(string) string
			}{"chat": {chat, chatBody}, "actions": {actions, actionBody}}

			var first *httptest.ResponseRecorder
			for wname, wh := range webhooks {
				for i, v := range []string{rotNew, rotOld, rotOlder} {
					key := fmt.Sprintf("%s-cred-%d", wname, i)
					res := rotPost(wh.h, wh.body(key), rot.present(v))
					require.Equal(t, http.StatusOK, res.Code, "%s: credential %d", wname, i)
					got, ran := rec.index(key)
					require.True(t, ran, "%s: credential %d: the callback ran", wname, i)
					assert.Equal(t, i, got, "%s: CredentialIndex of credential %d", wname, i)
				}
				refused := map[string]func(*http.Request){
					"close to the new value": rot.present(flip(rotNew)),
					"close to the old value": rot.present(flip(rotOld)),
					"prefix of the new":      rot.present(rotNew[:len(rotNew)-1]),
					"old with a suffix":      rot.present(rotOld + "x"),
					"empty":                  rot.present(""),
					"missing":                nil,
				}
				for name, auth := range rot.refused {
					refused[name] = auth
				}
				for name, auth := range refused {
					key := wname + " refused " + name
					res := rotPost(wh.h, wh.body(key), auth)
					assert.Equal(t, http.StatusUnauthorized, res.Code, key)
					assert.Equal(t, "{\"error\":\"unauthorized\"}\n", res.Body.String(), key)
					_, ran := rec.index(key)
					assert.False(t, ran, "%s: the callback ran", key)
					if first == nil {
						first = res
						continue
					}
					assert.Equal(t, first.Body.Bytes(), res.Body.Bytes(), "%s: the 401 body tells the cases apart", key)
					assert.Equal(t, first.Header(), res.Header(), "%s: the 401 headers tell the cases apart", key)
				}
			}
		})
	}
}

// With a header and basic auth both required, both must pass, and the
// index is the highest any of them matched.
func TestRotationOfTwoChecks(t *testing.T) {
	rec := newRecorder()
	h, err := ultimate.NewChatHandler(rec.chat(), ultimate.WithLogger(quiet()),
		ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld),
		ultimate.WithWebhookHeader(rotHeader, "hdr-new"), ultimate.WithPreviousWebhookHeader(rotHeader, "hdr-old-1"),
		ultimate.WithPreviousWebhookHeader(rotHeader, "hdr-old-2"))
	require.NoError(t, err)
	both := func(pass, hdr string) func(*http.Request) {
		return func(r *http.Request) { basic(rotUser, pass)(r); header(hdr)(r) }
	}
	for _, tc := range []struct {
		pass, hdr string
		want      int
	}{{rotNew, "hdr-new", 0}, {rotOld, "hdr-new", 1}, {rotNew, "hdr-old-2", 2}, {rotOld, "hdr-old-1", 1}} {
		key := tc.pass + "/" + tc.hdr
		require.Equal(t, http.StatusOK, rotPost(h, chatBody(key), both(tc.pass, tc.hdr)).Code, key)
		got, _ := rec.index(key)
		assert.Equal(t, tc.want, got, key)
	}
	assert.Equal(t, http.StatusUnauthorized, rotPost(h, chatBody("x"), both(rotOld, "nope")).Code)
	assert.Equal(t, http.StatusUnauthorized, rotPost(h, chatBody("x"), both("nope", "hdr-old-1")).Code)
}

// The deduplication path carries the index; a handler without
// authentication carries none.
func TestCredentialIndexInEveryMode(t *testing.T) {
	t.Run("deduplication", func(t *testing.T) {
		rec := newRecorder()
		d := store.NewMemoryDeduplicator()
		opts := []ultimate.Option{ultimate.WithLogger(quiet()), ultimate.WithDeduplication(d, 0),
			ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld)}
		chat, err := ultimate.NewChatHandler(rec.chat(), opts...)
		require.NoError(t, err)
		actions, err := ultimate.NewActionHandler(rec.action, opts...)
		require.NoError(t, err)
		for _, tc := range []struct {
			h    http.Handler
			body func(string) string
		}{{chat, chatBody}, {actions, actionBody}} {
			for i, pass := range []string{rotNew, rotOld} {
				key := fmt.Sprintf("dedup-%d", i)
				first := rotPost(tc.h, tc.body(key), basic(rotUser, pass))
				require.Equal(t, http.StatusOK, first.Code)
				got, _ := rec.index(key)
				assert.Equal(t, i, got, key)
				// The redelivery with the other credential gets the stored answer.
				again := rotPost(tc.h, tc.body(key), basic(rotUser, []string{rotOld, rotNew}[i]))
				assert.Equal(t, first.Body.String(), again.Body.String())
			}
		}
	})
	t.Run("without authentication", func(t *testing.T) {
		rec := newRecorder()
		chat, err := ultimate.NewChatHandler(rec.chat(), ultimate.WithLogger(quiet()), ultimate.WithoutAuthentication())
		require.NoError(t, err)
		actions, err := ultimate.NewActionHandler(rec.action, ultimate.WithLogger(quiet()), ultimate.WithoutAuthentication())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rotPost(chat, chatBody("open"), nil).Code)
		require.Equal(t, http.StatusOK, rotPost(actions, actionBody("open-action"), nil).Code)
		for _, key := range []string{"open", "open-action"} {
			got, _ := rec.index(key)
			assert.Equal(t, -1, got, "%s: no credential index without authentication", key)
		}
	})
	_, ok := ultimate.CredentialIndex(context.Background())
	assert.False(t, ok)
}

func TestPreviousCredentialsRefused(t *testing.T) {
	for name, opts := range map[string][]ultimate.Option{
		"a header name not configured": {ultimate.WithWebhookHeader(rotHeader, rotNew), ultimate.WithPreviousWebhookHeader("X-Other", rotOld)},
		"an empty header value":        {ultimate.WithWebhookHeader(rotHeader, rotNew), ultimate.WithPreviousWebhookHeader(rotHeader, "")},
		"a header without a header":    {ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousWebhookHeader(rotHeader, rotOld)},
		"an empty password":            {ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld, "")},
		"passwords without basic auth": {ultimate.WithWebhookHeader(rotHeader, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld)},
		"passwords and no auth":        {ultimate.WithoutAuthentication(), ultimate.WithPreviousBasicAuthPasswords(rotOld)},
		"only a previous password":     {ultimate.WithPreviousBasicAuthPasswords(rotOld)},
	} {
		for _, build := range []func() error{
			func() error { _, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{}, opts...); return err },
			func() error { _, err := ultimate.NewActionHandler(newRecorder().action, opts...); return err },
		} {
			err := build()
			require.Error(t, err, name)
			assert.True(t, strings.HasPrefix(err.Error(), "ultimate: "), "%s: %v", name, err)
			assert.NotContains(t, err.Error(), rotOld, name)
			assert.NotContains(t, err.Error(), rotNew, name)
		}
	}
	_, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld, ""))
	assert.EqualError(t, err, "ultimate: WithPreviousBasicAuthPasswords needs non-empty passwords")
	for _, opt := range []ultimate.Option{ultimate.WithPreviousWebhookHeader(rotHeader, rotOld), ultimate.WithPreviousBasicAuthPasswords(rotOld)} {
		_, err := ultimate.NewClient("key", rotBotID, opt)
		assert.ErrorContains(t, err, "does not take WithPrevious")
	}
}

// Replicas mid-rollout, with and without the previous credential, are one
// bot on a deduplicator: the binding follows the current credential only.
func TestRotationKeepsTheStoreBinding(t *testing.T) {
	d := store.NewMemoryDeduplicator()
	_, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithDeduplication(d, 0),
		ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld))
	require.NoError(t, err)
	_, err = ultimate.NewActionHandler(newRecorder().action, ultimate.WithDeduplication(d, 0), ultimate.WithBasicAuth(rotUser, rotNew))
	require.NoError(t, err, "the same bot once the previous password is gone")
	_, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithDeduplication(d, 0), ultimate.WithBasicAuth(rotUser, rotOld))
	require.ErrorIs(t, err, store.ErrSharedStore, "the old password alone is another bot")

	h := store.NewMemoryDeduplicator()
	_, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithDeduplication(h, 0),
		ultimate.WithWebhookHeader(rotHeader, rotNew), ultimate.WithPreviousWebhookHeader(rotHeader, rotOld))
	require.NoError(t, err)
	_, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithDeduplication(h, 0), ultimate.WithWebhookHeader(rotHeader, rotNew))
	require.NoError(t, err, "the same bot once the previous value is gone")
}

// A rotation with deliveries in flight, through the fake: while the chat
// webhook takes both passwords, deliveries with either (concurrent,
// interleaved) all succeed, including some still running when the handler
// is swapped for one that takes the new password only; after the swap the
// old password is refused and the new one accepted.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	const n, heldPerKind = 50, 5
	rec := newRecorder()
	held, release := make(chan string, 2*heldPerKind), make(chan struct{})
	cb := ultimate.ChatCallbacks{OnMessage: func(ctx context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
		rec.note(ctx, m.Text)
		if strings.HasPrefix(m.Text, "hold") {
			held <- m.Text
			<-release
		}
		return nil
	}}
	both, err := ultimate.NewChatHandler(cb, ultimate.WithLogger(quiet()),
		ultimate.WithBasicAuth(rotUser, rotNew), ultimate.WithPreviousBasicAuthPasswords(rotOld))
	require.NoError(t, err)
	newOnly, err := ultimate.NewChatHandler(cb, ultimate.WithLogger(quiet()), ultimate.WithBasicAuth(rotUser, rotNew))
	require.NoError(t, err)

	var current atomic.Pointer[http.Handler]
	swap := func(h http.Handler) { current.Store(&h) }
	swap(both)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }))
	defer bot.Close()
	fakes := map[string]*ultimatetest.Server{}
	for kind, pass := range map[string]string{"old": rotOld, "new": rotNew} {
		fakes[kind] = ultimatetest.NewServer(ultimatetest.Config{APIKey: "key", BotID: rotBotID, BotURL: bot.URL,
			WebhookUser: rotUser, WebhookPassword: pass})
		defer fakes[kind].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type result struct {
		kind, text string
		status     int
		err        error
	}
	deliverAll := func(phase string, hold int, running *sync.WaitGroup) chan result {
		out := make(chan result, 2*n)
		for i := range n {
			for _, kind := range []string{"old", "new"} { // interleaved
				text := fmt.Sprintf("%s-%s-%d", phase, kind, i)
				if i < hold {
					text = "hold-" + text
				}
				running.Add(1)
				go func() {
					defer running.Done()
					d, err := fakes[kind].Deliver(ctx, map[string]any{"eventType": ultimate.EventSendMessage,
						"platformConversationId": "conv-" + text, "type": ultimate.MessageText, "text": text})
					r := result{kind: kind, text: text, err: err}
					if d != nil {
						r.status = d.StatusCode
					}
					out <- r
				}()
			}
		}
		return out
	}

	// Phase 1: both passwords accepted; 2*heldPerKind deliveries are still
	// in their callback when the handler is swapped.
	var phase1 sync.WaitGroup
	results := deliverAll("p1", heldPerKind, &phase1)
	var got []result
	for len(got) < 2*(n-heldPerKind) {
		select {
		case r := <-results:
			require.False(t, strings.HasPrefix(r.text, "hold"), "a held delivery returned before its release")
			got = append(got, r)
		case <-ctx.Done():
			t.Fatal("phase 1 did not finish")
		}
	}
	for range 2 * heldPerKind {
		select {
		case <-held:
		case <-ctx.Done():
			t.Fatal("the held deliveries did not reach their callback")
		}
	}
	swap(newOnly)
	close(release)
	phase1.Wait()
	close(results)
	for r := range results {
		got = append(got, r)
	}
	require.Len(t, got, 2*n)
	for _, r := range got {
		require.NoError(t, r.err, r.text)
		assert.Equal(t, http.StatusOK, r.status, "phase 1: %s refused", r.text)
		want := map[string]int{"old": 1, "new": 0}[r.kind]
		idx, ran := rec.index(r.text)
		assert.True(t, ran, r.text)
		assert.Equal(t, want, idx, "CredentialIndex of %s", r.text)
	}

	// Phase 2: the new password only.
	var phase2 sync.WaitGroup
	results = deliverAll("p2", 0, &phase2)
	phase2.Wait()
	close(results)
	count := 0
	for r := range results {
		count++
		require.NoError(t, r.err, r.text)
		idx, ran := rec.index(r.text)
		if r.kind == "old" {
			assert.Equal(t, http.StatusUnauthorized, r.status, "phase 2: %s", r.text)
			assert.False(t, ran, "phase 2: the callback ran for %s", r.text)
			continue
		}
		assert.Equal(t, http.StatusOK, r.status, "phase 2: %s", r.text)
		assert.True(t, ran, r.text)
		assert.Equal(t, 0, idx, r.text)
	}
	assert.Equal(t, 2*n, count)
}

// A call with a previous credential writes one debug line, without a
// secret; with the current one, nothing; a refused one logs nothing at any
// level, so the log does not tell which credential a caller came close to.
func TestPreviousCredentialLogsAtDebug(t *testing.T) {
	for _, rot := range rotations {
		t.Run(rot.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := newRecorder()
			opts := append([]ultimate.Option{ultimate.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))},
				rot.opts...)
			chat, err := ultimate.NewChatHandler(rec.chat(), opts...)
			require.NoError(t, err)
			actions, err := ultimate.NewActionHandler(rec.action, opts...)
			require.NoError(t, err)

			require.Equal(t, http.StatusOK, rotPost(chat, chatBody("new"), rot.present(rotNew)).Code)
			require.Equal(t, http.StatusOK, rotPost(actions, actionBody("new"), rot.present(rotNew)).Code)
			require.Equal(t, http.StatusUnauthorized, rotPost(chat, chatBody("bad"), rot.present(rotOld+"x")).Code)
			assert.Empty(t, logs.String(), "the current credential or a refused call is logged")

			for _, call := range []func() int{
				func() int { return rotPost(chat, chatBody("old"), rot.present(rotOld)).Code },
				func() int { return rotPost(actions, actionBody("older"), rot.present(rotOlder)).Code },
			} {
				require.Equal(t, http.StatusOK, call())
			}
			lines := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
			require.Len(t, lines, 2, logs.String())
			for i, line := range lines {
				assert.Contains(t, line, "level=DEBUG")
				assert.Contains(t, line, "ultimate: authenticated with a previous credential")
				assert.Contains(t, line, fmt.Sprintf("credential=%d", i+1))
			}
			for _, secret := range []string{rotNew, rotOld, rotOlder} {
				assert.NotContains(t, logs.String(), secret)
				assert.NotContains(t, logs.String(), secret[len(secret)-8:], "a piece of a secret")
			}
		})
	}
}
