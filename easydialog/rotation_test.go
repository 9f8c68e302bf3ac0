package easydialog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
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

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/internal/rotationtest"
	"github.com/botwire/botwire/store"
)

// The keys of a rotation: the new one is current, the old ones previous.
const (
	newKey   = "ed-new-key-8f3a61"
	oldKey   = "ed-old-key-27c1d9"
	olderKey = "ed-older-key-9d04e2"
)

var rotationKeys = []string{newKey, oldKey, olderKey}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func rotationBody(text string) []byte {
	return []byte(`{"dialogUuid":"d1","message":{"providerMsgID":"` + text + `","body":{"textMessage":{"content":"` + text + `"}}}}`)
}

// signed posts body with the signature sign makes of it ("" for none).
func signed(body []byte, sign func(body []byte) string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/easydialog", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig := sign(body); sig != "" {
		r.Header.Set(easydialog.SignatureHeader, sig)
	}
	return r
}

func signWith(key string) func([]byte) string {
	return func(body []byte) string {
		if key == "" {
			return ""
		}
		return easydialog.Sign(body, key)
	}
}

// flipped is the MAC of body under key with its last bit flipped: a
// signature as close to key's as a wrong one can be.
func flipped(body []byte, key string) string {
	mac, _ := base64.StdEncoding.DecodeString(easydialog.Sign(body, key))
	mac[len(mac)-1] ^= 1
	return base64.StdEncoding.EncodeToString(mac)
}

// text is a delivery of a text message as Easy Dialog encodes it, fresh.
func text(id string) []byte {
	b, err := easydialogtest.Encode(easydialogtest.Text("dialog-"+id, id))
	if err != nil {
		panic(err)
	}
	return b
}

// rotation is Easy Dialog for rotationtest: a text message whose content
// is the delivery's id, signed with the key; the bot answers "You said: "
// and the text.
func rotation() rotationtest.Platform {
	return rotationtest.Platform{
		Name:            "easydialog",
		Credentials:     rotationKeys,
		CredentialIndex: easydialog.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			h, err := easydialog.NewHandler(current, func(ctx context.Context, r *easydialog.Request) (*easydialog.Response, error) {
				bot.Callback(ctx, r.Message.Text())
				return easydialog.Reply(easydialog.NewTextMessage("You said: " + r.Message.Text())), nil
			}, easydialog.WithLogger(bot.Logger), easydialog.WithPreviousKeys(previous...))
			require.NoError(t, err)
			return h
		},
		Request: func(id, key string) *http.Request { return signed(text(id), signWith(key)) },
		Fake: func(t *testing.T, bot http.Handler, key string) rotationtest.Sender {
			srv := httptest.NewServer(bot)
			t.Cleanup(srv.Close)
			f := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: key, BotURL: srv.URL, Client: srv.Client()})
			return func(ctx context.Context, id string) (rotationtest.Answer, error) {
				d, err := f.Deliver(ctx, easydialogtest.Text("dialog-"+id, id))
				if d == nil {
					return rotationtest.Answer{}, err
				}
				return rotationtest.Answer{Status: d.StatusCode, Header: d.Header, Body: d.Body}, err
			}
		},
		Decode: func(body []byte) string {
			var r easydialog.Response
			if err := json.Unmarshal(body, &r); err != nil {
				return "not a reply: " + err.Error()
			}
			var texts []string
			for _, m := range r.Messages {
				if m.Body.Text != nil {
					texts = append(texts, m.Body.Text.Content)
				}
			}
			return strings.Join(texts, "\n")
		},
		Reply: func(id string) string { return "You said: " + id },
		Secrets: func(body []byte) []string {
			var macs []string
			for _, key := range rotationKeys {
				macs = append(macs, easydialog.Sign(body, key))
			}
			return macs
		},
	}
}

// Keys are tried in order: the current key is index 0, the previous ones
// 1.. in the order WithPreviousKeys got them; without the previous key the
// old one is refused.
func TestPreviousKeysAcceptedWithTheirIndex(t *testing.T) {
	rotationtest.Accepted(t, rotation())
}

// A wrong signature gets the same answer, byte for byte, whichever key it
// is close to.
func TestRotationRefusalsAreIdentical(t *testing.T) {
	p := rotation()
	sig := func(sign func(body []byte) string) func(string) *http.Request {
		return func(id string) *http.Request { return signed(text(id), sign) }
	}
	rotationtest.IdenticalRefusals(t, p, rotationtest.Refusals{
		"new MAC, one bit flipped":   sig(func(b []byte) string { return flipped(b, newKey) }),
		"old MAC, one bit flipped":   sig(func(b []byte) string { return flipped(b, oldKey) }),
		"older MAC, one bit flipped": sig(func(b []byte) string { return flipped(b, olderKey) }),
		"new MAC, truncated":         sig(func(b []byte) string { return easydialog.Sign(b, newKey)[:40] }),
		"old MAC, truncated":         sig(func(b []byte) string { return easydialog.Sign(b, oldKey)[:40] }),
	})
}

func TestVerifySignatureWithPreviousKeys(t *testing.T) {
	body := rotationBody("hi")
	for _, key := range rotationKeys {
		assert.NoError(t, easydialog.VerifySignature(body, easydialog.Sign(body, key), newKey, oldKey, olderKey))
	}
	assert.NoError(t, easydialog.VerifySignature(body, easydialog.Sign(body, newKey), newKey), "the existing call still works")
	assert.ErrorIs(t, easydialog.VerifySignature(body, easydialog.Sign(body, oldKey), newKey), easydialog.ErrInvalidSignature)
	var errs []string
	for _, sig := range []string{easydialog.Sign(body, newKey+"x"), easydialog.Sign(body, oldKey+"x"), flipped(body, newKey), flipped(body, oldKey)} {
		err := easydialog.VerifySignature(body, sig, newKey, oldKey)
		require.ErrorIs(t, err, easydialog.ErrInvalidSignature)
		errs = append(errs, err.Error())
		for _, s := range []string{newKey, oldKey, sig} {
			assert.NotContains(t, err.Error(), s)
		}
	}
	assert.Equal(t, []string{errs[0], errs[0], errs[0], errs[0]}, errs, "the error does not tell which key came close")

	// An empty key is refused wherever it is: its HMAC anybody can compute.
	assert.ErrorIs(t, easydialog.VerifySignature(body, easydialog.Sign(body, ""), newKey, ""), easydialog.ErrNoKey)
	assert.ErrorIs(t, easydialog.VerifySignature(body, easydialog.Sign(body, oldKey), "", oldKey), easydialog.ErrNoKey)
}

func TestWithPreviousKeysRefusesAnEmptyKey(t *testing.T) {
	fn := func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil }
	_, err := easydialog.NewHandler(newKey, fn, easydialog.WithPreviousKeys(oldKey, ""))
	require.ErrorIs(t, err, easydialog.ErrNoKey)
	assert.Contains(t, err.Error(), "WithPreviousKeys")
	assert.NotContains(t, err.Error(), oldKey)
	_, err = easydialog.NewHandler("", fn, easydialog.WithPreviousKeys(oldKey))
	assert.ErrorIs(t, err, easydialog.ErrNoKey, "a previous key does not stand in for the current one")
	_, err = easydialog.NewHandler(newKey, fn, easydialog.WithPreviousKeys())
	assert.NoError(t, err, "no previous key is no rotation")
}

// A delivery signed with a previous key is logged at debug level, without
// a key or the signature; one signed with the current key is not, and
// nothing is logged above debug.
func TestPreviousKeyIsLoggedAtDebug(t *testing.T) {
	rotationtest.DebugLog(t, rotation())
}

type seenIndex struct {
	index int
	ok    bool
}

// The index reaches the callback on every path: through deduplication and
// through WithOnUnknown.
func TestCredentialIndexOnEveryPath(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]seenIndex{}
	record := func(ctx context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		i, ok := easydialog.CredentialIndex(ctx)
		mu.Lock()
		defer mu.Unlock()
		seen[r.Message.Text()+string(r.Message.Body.Unknown["stickerMessage"])] = seenIndex{i, ok}
		return nil, nil
	}
	h, err := easydialog.NewHandler(newKey, record, easydialog.WithLogger(quiet()), easydialog.WithMaxAge(-1),
		easydialog.WithPreviousKeys(oldKey), easydialog.WithOnUnknown(record),
		easydialog.WithDeduplication(store.NewMemoryDeduplicator(), time.Hour))
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
		h.ServeHTTP(rec, signed(body, signWith(keys[name])))
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
	fn := func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil }
	d := store.NewMemoryDeduplicator()
	_, err := easydialog.NewHandler(newKey, fn, easydialog.WithDeduplication(d, 0), easydialog.WithPreviousKeys(oldKey))
	require.NoError(t, err)
	_, err = easydialog.NewHandler(newKey, fn, easydialog.WithDeduplication(d, 0))
	require.NoError(t, err, "the same bot after the rotation")
	_, err = easydialog.NewHandler(newKey, fn, easydialog.WithDeduplication(d, 0), easydialog.WithPreviousKeys(olderKey, oldKey))
	require.NoError(t, err)
	_, err = easydialog.NewHandler(oldKey, fn, easydialog.WithDeduplication(d, 0), easydialog.WithPreviousKeys(newKey))
	assert.ErrorIs(t, err, store.ErrSharedStore, "another current key is another bot")
}
