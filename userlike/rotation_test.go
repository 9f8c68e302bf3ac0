package userlike_test

import (
	"context"
	"encoding/json"
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
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

const (
	rotHeader = "API-SECURITY-TOKEN"
	rotNew    = "ul-hook-new-5c0f9e21a7"
	rotOld    = "ul-hook-old-83d4b6e0f2"
	rotOlder  = "ul-hook-older-1a2b3c4d"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func rotEvent(cid, text string) string {
	return `{"info":{"cid":"` + cid + `"},"packet":{"name":"message","payload":{"body":"` + text + `"}}}`
}

func rotPost(h http.Handler, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/userlike", strings.NewReader(body))
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func token(v string) http.Header { return http.Header{rotHeader: {v}} }

// recorder is a callback that keeps, per message text, the CredentialIndex
// its context carried (-1: none).
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func newRecorder() *recorder { return &recorder{seen: map[string]int{}} }

func (c *recorder) fn(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
	i, ok := userlike.CredentialIndex(ctx)
	if !ok {
		i = -1
	}
	c.mu.Lock()
	c.seen[e.Text()] = i
	c.mu.Unlock()
	r.Add(userlike.Message("ok " + e.Text()))
	return nil
}

func (c *recorder) index(text string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.seen[text]
	return i, ok
}

// rotation is Userlike for rotationtest: a message event whose text is the
// delivery's id, the value in API-SECURITY-TOKEN (every other previous one
// configured with the header name in lower case: names are
// case-insensitive); the bot answers "ok " and the text.
func rotation() rotationtest.Platform {
	return rotationtest.Platform{
		Name:            "userlike",
		Credentials:     []string{rotNew, rotOld, rotOlder},
		CredentialIndex: userlike.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			opts := []userlike.Option{userlike.WithLogger(bot.Logger), userlike.WithWebhookHeader(rotHeader, current)}
			for i, p := range previous {
				name := rotHeader
				if i%2 == 1 {
					name = strings.ToLower(rotHeader)
				}
				opts = append(opts, userlike.WithPreviousWebhookHeader(name, p))
			}
			h, err := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
				bot.Callback(ctx, e.Text())
				r.Add(userlike.Message("ok " + e.Text()))
				return nil
			}, opts...)
			require.NoError(t, err)
			return h
		},
		Request: func(id, value string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/userlike", strings.NewReader(rotEvent("c-"+id, id)))
			if value != "" {
				r.Header.Set(rotHeader, value)
			}
			return r
		},
		Fake: func(t *testing.T, bot http.Handler, value string) rotationtest.Sender {
			srv := httptest.NewServer(bot)
			t.Cleanup(srv.Close)
			f := userliketest.NewServer(userliketest.Config{WebhookHeader: rotHeader, WebhookToken: value, BotURL: srv.URL})
			t.Cleanup(f.Close)
			return func(ctx context.Context, id string) (rotationtest.Answer, error) {
				d, err := f.Message(ctx, "chatbot::1:"+id, id)
				if d == nil {
					return rotationtest.Answer{}, err
				}
				return rotationtest.Answer{Status: d.StatusCode, Header: d.Header, Body: d.Body}, err
			}
		},
		Decode: func(body []byte) string {
			var evs []userlike.OutboundEvent
			if json.Unmarshal(body, &evs) != nil {
				var e userlike.OutboundEvent
				if err := json.Unmarshal(body, &e); err != nil {
					return "not events: " + err.Error()
				}
				evs = []userlike.OutboundEvent{e}
			}
			var texts []string
			for _, e := range evs {
				if m, ok := e.Packet.Payload.(*userlike.MessageAction); ok {
					texts = append(texts, m.Body)
				}
			}
			return strings.Join(texts, "\n")
		},
		Reply: func(id string) string { return "ok " + id },
		Held:  5,
	}
}

// The current value and the previous ones are all accepted and the callback
// learns which one it was; anything else is one and the same 401, whichever
// value it came close to.
func TestRotationAcceptsCurrentAndPrevious(t *testing.T) {
	p := rotation()
	rotationtest.Accepted(t, p)
	rotationtest.IdenticalRefusals(t, p, rotationtest.Refusals{"an empty value": func(id string) *http.Request {
		r := p.Request(id, "")
		r.Header.Set(rotHeader, "")
		return r
	}})
}

// Every event of a list body and the deduplication path carry the index;
// a handler without authentication carries none.
func TestCredentialIndexInEveryMode(t *testing.T) {
	t.Run("list body", func(t *testing.T) {
		rec := newRecorder()
		h, err := userlike.NewHandler(rec.fn, userlike.WithLogger(quiet()),
			userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
		require.NoError(t, err)
		res := rotPost(h, "["+rotEvent("c1", "a")+","+rotEvent("c2", "b")+"]", token(rotOld))
		require.Equal(t, http.StatusOK, res.Code)
		for _, text := range []string{"a", "b"} {
			got, ran := rec.index(text)
			assert.True(t, ran)
			assert.Equal(t, 1, got, text)
		}
	})
	t.Run("deduplication", func(t *testing.T) {
		rec := newRecorder()
		h, err := userlike.NewHandler(rec.fn, userlike.WithLogger(quiet()),
			userlike.WithDeduplication(store.NewMemoryDeduplicator(), 0),
			userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
		require.NoError(t, err)
		first := rotPost(h, rotEvent("c1", "dedup-old"), token(rotOld))
		require.Equal(t, http.StatusOK, first.Code)
		got, _ := rec.index("dedup-old")
		assert.Equal(t, 1, got)
		rotPost(h, rotEvent("c1", "dedup-new"), token(rotNew))
		got, _ = rec.index("dedup-new")
		assert.Equal(t, 0, got)
		// The redelivery with the other credential gets the stored answer.
		again := rotPost(h, rotEvent("c1", "dedup-old"), token(rotNew))
		assert.Equal(t, first.Body.String(), again.Body.String())
	})
	t.Run("without authentication", func(t *testing.T) {
		rec := newRecorder()
		h, err := userlike.NewHandler(rec.fn, userlike.WithLogger(quiet()), userlike.WithoutAuthentication())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rotPost(h, rotEvent("c1", "open"), nil).Code)
		got, _ := rec.index("open")
		assert.Equal(t, -1, got, "no credential index without authentication")
	})
	_, ok := userlike.CredentialIndex(context.Background())
	assert.False(t, ok)
}

func TestPreviousWebhookHeaderRefused(t *testing.T) {
	fn := func(context.Context, *userlike.Event, *userlike.Reply) error { return nil }
	for name, opts := range map[string][]userlike.Option{
		"another header name":    {userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader("X-Other", rotOld)},
		"an empty value":         {userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, "")},
		"without a header":       {userlike.WithoutAuthentication(), userlike.WithPreviousWebhookHeader(rotHeader, rotOld)},
		"without authentication": {userlike.WithPreviousWebhookHeader(rotHeader, rotOld)},
	} {
		_, err := userlike.NewHandler(fn, opts...)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), rotOld, name)
		assert.NotContains(t, err.Error(), rotNew, name)
	}
	_, err := userlike.NewClient("https://example.test/api", "t", userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
	assert.ErrorContains(t, err, "does not take WithPreviousWebhookHeader")
}

// Replicas mid-rollout, with and without the previous value, are one bot
// on a deduplicator: the binding follows the current value only.
func TestRotationKeepsTheStoreBinding(t *testing.T) {
	fn := func(context.Context, *userlike.Event, *userlike.Reply) error { return nil }
	d := store.NewMemoryDeduplicator()
	_, err := userlike.NewHandler(fn, userlike.WithDeduplication(d, 0),
		userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
	require.NoError(t, err)
	_, err = userlike.NewHandler(fn, userlike.WithDeduplication(d, 0), userlike.WithWebhookHeader(rotHeader, rotNew))
	require.NoError(t, err, "the same bot once the previous value is gone")
	_, err = userlike.NewHandler(fn, userlike.WithDeduplication(d, 0), userlike.WithWebhookHeader(rotHeader, rotOld))
	require.ErrorIs(t, err, store.ErrSharedStore, "the old value alone is another bot")
}

// A rotation with deliveries in flight, through the fake: while the handler
// takes both values, deliveries with either (concurrent, interleaved) all
// succeed, including some still running when the handler is swapped for
// one that takes the new value only; after the swap the old value is
// refused and the new one accepted.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	rotationtest.InFlight(t, rotation())
}

// A delivery with a previous value writes one debug line, without a
// secret; with the current value, nothing; a refused one logs nothing at
// any level, so the log does not tell which value a caller came close to.
func TestPreviousCredentialLogsAtDebug(t *testing.T) {
	rotationtest.DebugLog(t, rotation())
}
