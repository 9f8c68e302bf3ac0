package userlike_test

import (
	"bytes"
	"context"
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

// The current value and the previous ones are all accepted and the callback
// learns which one it was; anything else is one and the same 401, whichever
// value it came close to.
func TestRotationAcceptsCurrentAndPrevious(t *testing.T) {
	rec := newRecorder()
	h, err := userlike.NewHandler(rec.fn, userlike.WithLogger(quiet()),
		userlike.WithWebhookHeader(rotHeader, rotNew),
		userlike.WithPreviousWebhookHeader(rotHeader, rotOld),
		userlike.WithPreviousWebhookHeader(strings.ToLower(rotHeader), rotOlder)) // names are case-insensitive
	require.NoError(t, err)

	for i, tok := range []string{rotNew, rotOld, rotOlder} {
		text := fmt.Sprint("cred-", i)
		res := rotPost(h, rotEvent("c1", text), token(tok))
		require.Equal(t, http.StatusOK, res.Code, "credential %d", i)
		assert.Contains(t, res.Body.String(), "ok "+text)
		got, ran := rec.index(text)
		require.True(t, ran, "credential %d: callback ran", i)
		assert.Equal(t, i, got, "CredentialIndex of credential %d", i)
	}

	flip := func(s string) string { return s[:len(s)-1] + string(s[len(s)-1]^1) }
	var first *httptest.ResponseRecorder
	for name, hdr := range map[string]http.Header{
		"close to the new value": token(flip(rotNew)),
		"close to the old value": token(flip(rotOld)),
		"prefix of the new":      token(rotNew[:len(rotNew)-1]),
		"old with a suffix":      token(rotOld + "x"),
		"empty":                  token(""),
		"missing":                {},
		"both values joined":     token(rotNew + "," + rotOld),
	} {
		text := "refused " + name
		res := rotPost(h, rotEvent("c1", text), hdr)
		assert.Equal(t, http.StatusUnauthorized, res.Code, name)
		assert.Equal(t, "{\"error\":\"unauthorized\"}\n", res.Body.String(), name)
		_, ran := rec.index(text)
		assert.False(t, ran, "%s: the callback ran", name)
		if first == nil {
			first = res
			continue
		}
		assert.Equal(t, first.Body.Bytes(), res.Body.Bytes(), "%s: the 401 body tells the cases apart", name)
		assert.Equal(t, first.Header(), res.Header(), "%s: the 401 headers tell the cases apart", name)
	}
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
	const n, heldPerKind = 50, 5
	rec := newRecorder()
	held, release := make(chan string, 2*heldPerKind), make(chan struct{})
	fn := func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
		if err := rec.fn(ctx, e, r); err != nil {
			return err
		}
		if strings.HasPrefix(e.Text(), "hold") {
			held <- e.Text()
			<-release
		}
		return nil
	}
	both, err := userlike.NewHandler(fn, userlike.WithLogger(quiet()),
		userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
	require.NoError(t, err)
	newOnly, err := userlike.NewHandler(fn, userlike.WithLogger(quiet()), userlike.WithWebhookHeader(rotHeader, rotNew))
	require.NoError(t, err)

	var current atomic.Pointer[http.Handler]
	swap := func(h http.Handler) { current.Store(&h) }
	swap(both)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }))
	defer bot.Close()
	fakes := map[string]*userliketest.Server{}
	for kind, tok := range map[string]string{"old": rotOld, "new": rotNew} {
		fakes[kind] = userliketest.NewServer(userliketest.Config{WebhookHeader: rotHeader, WebhookToken: tok, BotURL: bot.URL})
		defer fakes[kind].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type result struct {
		kind, text string
		status     int
		texts      []string
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
					d, err := fakes[kind].Message(ctx, fmt.Sprintf("chatbot::1:%s", text), text)
					r := result{kind: kind, text: text, err: err}
					if d != nil {
						r.status, r.texts = d.StatusCode, d.Texts()
					}
					out <- r
				}()
			}
		}
		return out
	}

	// Phase 1: both values accepted; 2*heldPerKind deliveries are still in
	// their callback when the handler is swapped.
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
		assert.Equal(t, []string{"ok " + r.text}, r.texts, r.text)
		want := map[string]int{"old": 1, "new": 0}[r.kind]
		idx, ran := rec.index(r.text)
		assert.True(t, ran, r.text)
		assert.Equal(t, want, idx, "CredentialIndex of %s", r.text)
	}

	// Phase 2: the new value only.
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

// A delivery with a previous value writes one debug line, without a
// secret; with the current value, nothing; a refused one logs nothing at
// any level, so the log does not tell which value a caller came close to.
func TestPreviousCredentialLogsAtDebug(t *testing.T) {
	var logs bytes.Buffer
	h, err := userlike.NewHandler(newRecorder().fn,
		userlike.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		userlike.WithWebhookHeader(rotHeader, rotNew), userlike.WithPreviousWebhookHeader(rotHeader, rotOld))
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, rotPost(h, rotEvent("c1", "new"), token(rotNew)).Code)
	assert.NotContains(t, logs.String(), "previous credential")
	require.Equal(t, http.StatusUnauthorized, rotPost(h, rotEvent("c1", "bad"), token(rotOld+"x")).Code)
	assert.Empty(t, logs.String(), "a refused call is logged")

	require.Equal(t, http.StatusOK, rotPost(h, rotEvent("c1", "old"), token(rotOld)).Code)
	line := logs.String()
	assert.Equal(t, 1, strings.Count(line, "\n"), line)
	assert.Contains(t, line, "level=DEBUG")
	assert.Contains(t, line, "userlike: authenticated with a previous credential")
	assert.Contains(t, line, "credential=1")
	for _, secret := range []string{rotNew, rotOld} {
		assert.NotContains(t, line, secret)
		assert.NotContains(t, line, secret[len(secret)-10:], "a piece of a secret")
	}
}
