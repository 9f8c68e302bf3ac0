package ultimate_test

import (
	"context"
	"encoding/base64"
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

	"github.com/botwire/botwire/internal/rotationtest"
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

// rotation is Ultimate for rotationtest, rolling the basic auth password
// or the webhook header's value (every other previous value configured
// with the header name in lower case: names are case-insensitive), on the
// chat webhook (a message whose text is the delivery's id) or the actions
// one (an action named by it).
func rotation(credential, webhook string) rotationtest.Platform {
	present := func(v string) func(*http.Request) { return basic(rotUser, v) }
	if credential == "header" {
		present = header
	}
	body := map[string]func(string) string{"chat": chatBody, "actions": actionBody}[webhook]
	return rotationtest.Platform{
		Name:            "ultimate",
		Credentials:     []string{rotNew, rotOld, rotOlder},
		CredentialIndex: ultimate.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			opts := []ultimate.Option{ultimate.WithLogger(bot.Logger)}
			if credential == "header" {
				opts = append(opts, ultimate.WithWebhookHeader(rotHeader, current))
			} else {
				opts = append(opts, ultimate.WithBasicAuth(rotUser, current))
			}
			for i, p := range previous {
				switch {
				case credential != "header":
					opts = append(opts, ultimate.WithPreviousBasicAuthPasswords(p))
				case i%2 == 1:
					opts = append(opts, ultimate.WithPreviousWebhookHeader(strings.ToLower(rotHeader), p))
				default:
					opts = append(opts, ultimate.WithPreviousWebhookHeader(rotHeader, p))
				}
			}
			var h http.Handler
			var err error
			if webhook == "chat" {
				h, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{OnMessage: func(ctx context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
					bot.Callback(ctx, m.Text)
					return nil
				}}, opts...)
			} else {
				h, err = ultimate.NewActionHandler(func(ctx context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
					bot.Callback(ctx, r.Name)
					return []ultimate.ActionResult{{Key: "done", Value: r.Name}}, nil
				}, opts...)
			}
			require.NoError(t, err)
			return h
		},
		Request: func(id, value string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/ultimate", strings.NewReader(body(id)))
			if value != "" {
				present(value)(r)
			}
			return r
		},
		Fake: func(t *testing.T, bot http.Handler, password string) rotationtest.Sender {
			if credential != "basic auth" || webhook != "chat" {
				t.Fatal("the fake delivers chat events with basic auth")
			}
			srv := httptest.NewServer(bot)
			t.Cleanup(srv.Close)
			f := ultimatetest.NewServer(ultimatetest.Config{APIKey: "key", BotID: rotBotID, BotURL: srv.URL,
				WebhookUser: rotUser, WebhookPassword: password})
			t.Cleanup(f.Close)
			return func(ctx context.Context, id string) (rotationtest.Answer, error) {
				d, err := f.Deliver(ctx, map[string]any{"eventType": ultimate.EventSendMessage,
					"platformConversationId": "conv-" + id, "type": ultimate.MessageText, "text": id})
				if d == nil {
					return rotationtest.Answer{}, err
				}
				return rotationtest.Answer{Status: d.StatusCode, Header: d.Header, Body: d.Body}, err
			}
		},
		Held: 5,
	}
}

// refusals are the wrong presentations of each credential beyond the ones
// rotationtest derives from the values.
var refusals = map[string]map[string]func(*http.Request){
	"basic auth": {
		"an empty password":                  basic(rotUser, ""),
		"another user with the old password": basic("other", rotOld),
		"another user with the new password": basic("other", rotNew),
		"a bearer token":                     func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+rotNew) },
		"not base64":                         func(r *http.Request) { r.Header.Set("Authorization", "Basic !!") },
		"the old password as the user": func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rotOld+":"+rotNew)))
		},
	},
	"header": {
		"an empty value": header(""),
		"another header": func(r *http.Request) { r.Header.Set("X-Other", rotNew) },
	},
}

// The current credential and the previous ones are all accepted by both
// webhooks and the callback learns which one it was; anything else is one
// and the same 401, whichever credential it came close to, whichever
// webhook.
func TestRotationAcceptsCurrentAndPrevious(t *testing.T) {
	for _, credential := range []string{"basic auth", "header"} {
		t.Run(credential, func(t *testing.T) {
			var first rotationtest.Answer
			for _, webhook := range []string{"chat", "actions"} {
				p := rotation(credential, webhook)
				rotationtest.Accepted(t, p)
				extra := rotationtest.Refusals{}
				for name, present := range refusals[credential] {
					extra[name] = func(id string) *http.Request {
						r := p.Request(id, "")
						present(r)
						return r
					}
				}
				refused := rotationtest.IdenticalRefusals(t, p, extra)
				if webhook == "chat" {
					first = refused
					continue
				}
				assert.Equal(t, first.Body, refused.Body, "the 401 body tells the webhooks apart")
				assert.Equal(t, first.Header, refused.Header, "the 401 headers tell the webhooks apart")
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
	rotationtest.InFlight(t, rotation("basic auth", "chat"))
}

// A call with a previous credential writes one debug line, without a
// secret; with the current one, nothing; a refused one logs nothing at any
// level, so the log does not tell which credential a caller came close to.
func TestPreviousCredentialLogsAtDebug(t *testing.T) {
	for _, credential := range []string{"basic auth", "header"} {
		for _, webhook := range []string{"chat", "actions"} {
			t.Run(credential+"/"+webhook, func(t *testing.T) { rotationtest.DebugLog(t, rotation(credential, webhook)) })
		}
	}
}
