package easydialog

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// The keys of a rotation: the new one is current, the old ones previous.
const (
	newKey   = "ed-new-key-8f3a61"
	oldKey   = "ed-old-key-27c1d9"
	olderKey = "ed-older-key-9d04e2"
)

var rotationKeys = []string{newKey, oldKey, olderKey}

func rotationBody(text string) []byte {
	return []byte(`{"dialogUuid":"d1","message":{"providerMsgID":"` + text + `","body":{"textMessage":{"content":"` + text + `"}}}}`)
}

func withSignature(body []byte, sig string) *http.Request {
	r := signedPost(body, "")
	if sig != "" {
		r.Header.Set(SignatureHeader, sig)
	}
	return r
}

// flipped is the MAC of body under key with its last bit flipped: a
// signature as close to key's as a wrong one can be.
func flipped(body []byte, key string) string {
	mac, _ := base64.StdEncoding.DecodeString(Sign(body, key))
	mac[len(mac)-1] ^= 1
	return base64.StdEncoding.EncodeToString(mac)
}

type seenIndex struct {
	index int
	ok    bool
}

// Keys are tried in order: the current key is index 0, the previous ones
// 1.. in the order WithPreviousKeys got them.
func TestPreviousKeysAcceptedWithTheirIndex(t *testing.T) {
	var seen []seenIndex
	h, err := NewHandler(newKey, func(ctx context.Context, _ *Request) (*Response, error) {
		i, ok := CredentialIndex(ctx)
		seen = append(seen, seenIndex{i, ok})
		return Reply(NewTextMessage("ok")), nil
	}, WithLogger(logger(nil)), WithMaxAge(-1), WithPreviousKeys(oldKey), WithPreviousKeys(olderKey))
	require.NoError(t, err)
	for want, key := range rotationKeys {
		seen = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedPost(rotationBody("hi"), key))
		require.Equal(t, http.StatusOK, rec.Code, "key %d: %s", want, rec.Body)
		assert.Equal(t, []seenIndex{{want, true}}, seen, "key %d", want)
	}

	seen = nil
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost(rotationBody("hi"), "ed-other-key"))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `{"error":"unauthorized"}`+"\n", rec.Body.String())
	assert.Empty(t, seen, "the callback must not run")

	// Without the previous key the old one is refused.
	only, err := NewHandler(newKey, func(context.Context, *Request) (*Response, error) { return nil, nil },
		WithLogger(logger(nil)), WithMaxAge(-1))
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	only.ServeHTTP(rec, signedPost(rotationBody("hi"), oldKey))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)

	// Outside a delivery there is no index.
	_, ok := CredentialIndex(context.Background())
	assert.False(t, ok)
}

// A wrong signature gets the same answer, byte for byte, whichever key it
// is close to.
func TestRotationRefusalsAreIdentical(t *testing.T) {
	h, err := NewHandler(newKey, func(context.Context, *Request) (*Response, error) {
		t.Error("the callback ran for a wrong signature")
		return nil, nil
	}, WithLogger(logger(nil)), WithMaxAge(-1), WithPreviousKeys(oldKey, olderKey))
	require.NoError(t, err)
	body := rotationBody("hi")
	wrong := map[string]string{
		"key close to the new one":   Sign(body, newKey+"x"),
		"key close to the old one":   Sign(body, oldKey+"x"),
		"key close to the older one": Sign(body, strings.TrimSuffix(olderKey, "2")),
		"new MAC, one bit flipped":   flipped(body, newKey),
		"old MAC, one bit flipped":   flipped(body, oldKey),
		"older MAC, one bit flipped": flipped(body, olderKey),
		"new MAC, truncated":         Sign(body, newKey)[:40],
		"old MAC, truncated":         Sign(body, oldKey)[:40],
		"missing":                    "",
	}
	var first *httptest.ResponseRecorder
	for name, sig := range wrong {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, withSignature(body, sig))
		require.Equal(t, http.StatusUnauthorized, rec.Code, name)
		if first == nil {
			first = rec
			assert.Equal(t, `{"error":"unauthorized"}`+"\n", rec.Body.String())
			continue
		}
		assert.Equal(t, first.Header(), rec.Header(), name)
		assert.True(t, bytes.Equal(first.Body.Bytes(), rec.Body.Bytes()), "%s: %q", name, rec.Body)
	}
}

func TestVerifySignatureWithPreviousKeys(t *testing.T) {
	body := rotationBody("hi")
	for _, key := range rotationKeys {
		assert.NoError(t, VerifySignature(body, Sign(body, key), newKey, oldKey, olderKey))
	}
	assert.NoError(t, VerifySignature(body, Sign(body, newKey), newKey), "the existing call still works")
	assert.ErrorIs(t, VerifySignature(body, Sign(body, oldKey), newKey), ErrInvalidSignature)
	var errs []string
	for _, sig := range []string{Sign(body, newKey+"x"), Sign(body, oldKey+"x"), flipped(body, newKey), flipped(body, oldKey)} {
		err := VerifySignature(body, sig, newKey, oldKey)
		require.ErrorIs(t, err, ErrInvalidSignature)
		errs = append(errs, err.Error())
		for _, s := range []string{newKey, oldKey, sig} {
			assert.NotContains(t, err.Error(), s)
		}
	}
	assert.Equal(t, []string{errs[0], errs[0], errs[0], errs[0]}, errs, "the error does not tell which key came close")

	// An empty key is refused wherever it is: its HMAC anybody can compute.
	assert.ErrorIs(t, VerifySignature(body, Sign(body, ""), newKey, ""), ErrNoKey)
	assert.ErrorIs(t, VerifySignature(body, Sign(body, oldKey), "", oldKey), ErrNoKey)
}

func TestWithPreviousKeysRefusesAnEmptyKey(t *testing.T) {
	fn := func(context.Context, *Request) (*Response, error) { return nil, nil }
	_, err := NewHandler(newKey, fn, WithPreviousKeys(oldKey, ""))
	require.ErrorIs(t, err, ErrNoKey)
	assert.Contains(t, err.Error(), "WithPreviousKeys")
	assert.NotContains(t, err.Error(), oldKey)
	_, err = NewHandler("", fn, WithPreviousKeys(oldKey))
	assert.ErrorIs(t, err, ErrNoKey, "a previous key does not stand in for the current one")
	_, err = NewHandler(newKey, fn, WithPreviousKeys())
	assert.NoError(t, err, "no previous key is no rotation")
}

// A delivery signed with a previous key is logged at debug level, without
// a key or the signature; one signed with the current key is not, and
// nothing is logged above debug.
func TestPreviousKeyIsLoggedAtDebug(t *testing.T) {
	var debug, info bytes.Buffer
	both := slog.New(multiHandler{
		slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}),
	})
	h, err := NewHandler(newKey, func(context.Context, *Request) (*Response, error) { return nil, nil },
		WithLogger(both), WithMaxAge(-1), WithPreviousKeys(oldKey, olderKey))
	require.NoError(t, err)
	serve := func(key string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedPost(rotationBody("hi"), key))
		require.Equal(t, http.StatusOK, rec.Code)
	}

	serve(newKey)
	assert.Empty(t, debug.String(), "the current key is not logged")

	serve(olderKey)
	line := debug.String()
	assert.Contains(t, line, "level=DEBUG")
	assert.Contains(t, line, "previous credential")
	assert.Contains(t, line, "credential=2")
	assert.Equal(t, 1, strings.Count(line, "\n"), line)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost(rotationBody("hi"), "ed-other-key"))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, line, debug.String(), "a refusal logs nothing")
	assert.Empty(t, info.String(), "nothing is logged above debug")

	body := rotationBody("hi")
	for _, key := range rotationKeys {
		for _, s := range []string{key, base64.StdEncoding.EncodeToString([]byte(key)), Sign(body, key)} {
			assert.NotContains(t, line, s)
		}
	}
}

type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (m multiHandler) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(a)
	}
	return out
}

func (m multiHandler) WithGroup(g string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(g)
	}
	return out
}

// The index reaches the callback on every path: through deduplication and
// through WithOnUnknown.
func TestCredentialIndexOnEveryPath(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]seenIndex{}
	record := func(ctx context.Context, r *Request) (*Response, error) {
		i, ok := CredentialIndex(ctx)
		mu.Lock()
		defer mu.Unlock()
		seen[r.Message.Text()+string(r.Message.Body.Unknown["stickerMessage"])] = seenIndex{i, ok}
		return nil, nil
	}
	h, err := NewHandler(newKey, record, WithLogger(logger(nil)), WithMaxAge(-1), WithPreviousKeys(oldKey),
		WithOnUnknown(record), WithDeduplication(store.NewMemoryDeduplicator(), time.Hour))
	require.NoError(t, err)
	deliveries := map[string][]byte{
		"dedup-new": rotationBody("dedup-new"),
		"dedup-old": rotationBody("dedup-old"),
		`{"id":1}`:  []byte(`{"dialogUuid":"d1","message":{"providerMsgID":"s1","body":{"stickerMessage":{"id":1}}}}`),
		`{"id":2}`:  []byte(`{"dialogUuid":"d1","message":{"providerMsgID":"s2","body":{"stickerMessage":{"id":2}}}}`),
	}
	keys := map[string]string{"dedup-new": newKey, "dedup-old": oldKey, `{"id":1}`: newKey, `{"id":2}`: oldKey}
	for name, body := range deliveries {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedPost(body, keys[name]))
		require.Equal(t, http.StatusOK, rec.Code, name)
	}
	assert.Equal(t, map[string]seenIndex{
		"dedup-new": {0, true}, "dedup-old": {1, true}, `{"id":1}`: {0, true}, `{"id":2}`: {1, true},
	}, seen)
}

// The deduplication store is bound to the current key only: the handler
// of the rotation (new key, old one previous) and the one after it (new key
// only) are one bot to it, whatever their previous keys.
func TestPreviousKeysDoNotChangeTheStoreBinding(t *testing.T) {
	fn := func(context.Context, *Request) (*Response, error) { return nil, nil }
	d := store.NewMemoryDeduplicator()
	_, err := NewHandler(newKey, fn, WithDeduplication(d, 0), WithPreviousKeys(oldKey))
	require.NoError(t, err)
	_, err = NewHandler(newKey, fn, WithDeduplication(d, 0))
	require.NoError(t, err, "the same bot after the rotation")
	_, err = NewHandler(newKey, fn, WithDeduplication(d, 0), WithPreviousKeys(olderKey, oldKey))
	require.NoError(t, err)
	_, err = NewHandler(oldKey, fn, WithDeduplication(d, 0), WithPreviousKeys(newKey))
	assert.ErrorIs(t, err, store.ErrSharedStore, "another current key is another bot")
}
