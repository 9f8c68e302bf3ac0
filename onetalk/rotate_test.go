package onetalk_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/rotationtest"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
)

const (
	newSecret   = "sk-new-5d1e0c7b9a"
	oldSecret   = "sk-old-48f2a6c3e1"
	olderSecret = "sk-older-90b7d4f2"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// deliver posts a text message of case caseID with key in X-Secret-Key.
func deliver(t *testing.T, h http.Handler, caseID, body, key string) *httptest.ResponseRecorder {
	t.Helper()
	b, err := onetalktest.Encode(onetalktest.Text(caseID, body))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/onetalk", bytes.NewReader(b))
	if key != "" {
		r.Header.Set(onetalk.SecretHeader, key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// credential is what CredentialIndex says in ctx, -1 for "not an
// authenticated delivery".
func credential(ctx context.Context) int {
	i, ok := onetalk.CredentialIndex(ctx)
	if !ok {
		return -1
	}
	return i
}

// rotationModes are the modes that run the callback for the delivery: each
// returns the options of one handler (a deduplicator of its own).
var rotationModes = []struct {
	name  string
	async bool
	opts  func() []onetalk.Option
}{
	{"sync", false, func() []onetalk.Option { return nil }},
	{"async", true, func() []onetalk.Option { return []onetalk.Option{onetalk.WithAsync(2, 16)} }},
	{"dedup", false, func() []onetalk.Option {
		return []onetalk.Option{onetalk.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute)}
	}},
	{"async+dedup", true, func() []onetalk.Option {
		return []onetalk.Option{onetalk.WithAsync(2, 16), onetalk.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute)}
	}},
}

// rotationPlatform is OneTalk for rotationtest: a text message whose case
// and body are the delivery's id, the key in X-Secret-Key, each previous
// key in a WithPreviousSecrets of its own.
func rotationPlatform(async bool, mode func() []onetalk.Option) rotationtest.Platform {
	return rotationtest.Platform{
		Name:            "onetalk",
		Credentials:     []string{newSecret, oldSecret, olderSecret},
		CredentialIndex: onetalk.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			opts := []onetalk.Option{onetalk.WithLogger(bot.Logger)}
			for _, p := range previous {
				opts = append(opts, onetalk.WithPreviousSecrets(p))
			}
			h, err := onetalk.NewHandler(current, func(ctx context.Context, in *onetalk.InboundRequest) error {
				bot.Callback(ctx, in.Message.Body())
				return nil
			}, append(opts, mode()...)...)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, h.Shutdown(context.Background())) })
			return h
		},
		Request: func(id, key string) *http.Request {
			b, err := onetalktest.Encode(onetalktest.Text(id, id))
			if err != nil {
				panic(err)
			}
			r := httptest.NewRequest(http.MethodPost, "/onetalk", bytes.NewReader(b))
			if key != "" {
				r.Header.Set(onetalk.SecretHeader, key)
			}
			return r
		},
		Fake: func(t *testing.T, bot http.Handler, key string) rotationtest.Sender {
			f := onetalktest.NewServer(onetalktest.Config{Secret: key, Bot: bot})
			t.Cleanup(f.Close)
			return func(ctx context.Context, id string) (rotationtest.Answer, error) {
				d, err := f.Deliver(ctx, onetalktest.Text(id, id))
				if err != nil {
					return rotationtest.Answer{}, err
				}
				return rotationtest.Answer{Status: d.StatusCode, Header: d.Header, Body: d.Body}, nil
			}
		},
		Async: async,
	}
}

// Every key of a rotation is accepted, and the callback learns which one
// came, in every mode that runs the callback for the delivery; a wrong key
// gets one 401 whichever key it resembles.
func TestPreviousSecretsAcceptedInEveryMode(t *testing.T) {
	for _, m := range rotationModes {
		t.Run(m.name, func(t *testing.T) {
			p := rotationPlatform(m.async, m.opts)
			rotationtest.Accepted(t, p)
			rotationtest.IdenticalRefusals(t, p, rotationtest.Refusals{
				"near the new key": p.Presenting(newSecret[:len(newSecret)-1] + "X"),
				"near the old key": p.Presenting(oldSecret[:len(oldSecret)-1] + "X"),
			})
		})
	}
}

// The unknown-type callback sees the index too.
func TestPreviousSecretsOnUnknown(t *testing.T) {
	got := make(chan int, 1)
	h, err := onetalk.NewHandler(newSecret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithPreviousSecrets(oldSecret), onetalk.WithLogger(discard()),
		onetalk.WithOnUnknown(func(ctx context.Context, _ *onetalk.InboundRequest) error {
			got <- credential(ctx)
			return nil
		}))
	require.NoError(t, err)
	body := `{"caseID":"C1","channelType":"telegram","sender":{"contactName":"A"},"message":{"id":"m","type":"sticker","sticker":{}}}`
	r := httptest.NewRequest(http.MethodPost, "/onetalk", strings.NewReader(body))
	r.Header.Set(onetalk.SecretHeader, oldSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, 1, <-got)
}

// A message run from WithQueue is not the delivery's: CredentialIndex says
// so instead of guessing.
func TestPreviousSecretsQueueHasNoCredential(t *testing.T) {
	got := make(chan int, 2)
	h, err := onetalk.NewHandler(newSecret, func(ctx context.Context, _ *onetalk.InboundRequest) error {
		got <- credential(ctx)
		return nil
	}, onetalk.WithPreviousSecrets(oldSecret), onetalk.WithLogger(discard()),
		onetalk.WithQueue(store.NewMemoryQueue(store.QueueOptions{}), 1))
	require.NoError(t, err)
	defer func() { require.NoError(t, h.Shutdown(context.Background())) }()
	require.Equal(t, http.StatusOK, deliver(t, h, "C1", "hi", oldSecret).Code)
	require.Equal(t, http.StatusOK, deliver(t, h, "C1", "hi", newSecret).Code)
	require.Equal(t, http.StatusUnauthorized, deliver(t, h, "C1", "hi", "nope").Code)
	for range 2 {
		select {
		case idx := <-got:
			assert.Equal(t, -1, idx)
		case <-time.After(5 * time.Second):
			t.Fatal("queued message did not run")
		}
	}
}

// An empty previous key is refused like an empty current one.
func TestPreviousSecretsRefusesEmpty(t *testing.T) {
	fn := func(context.Context, *onetalk.InboundRequest) error { return nil }
	_, err := onetalk.NewHandler(newSecret, fn, onetalk.WithPreviousSecrets(oldSecret, ""))
	require.ErrorIs(t, err, onetalk.ErrNoSecret)
	assert.Contains(t, err.Error(), "WithPreviousSecrets")
	_, err = onetalk.NewClient("https://example.invalid/webhook", newSecret, onetalk.WithPreviousSecrets(oldSecret))
	require.Error(t, err, "the client sends one key: the option is the handler's")
	assert.Contains(t, err.Error(), "WithPreviousSecrets")
	_, err = onetalk.NewHandler(newSecret, fn, onetalk.WithPreviousSecrets())
	require.NoError(t, err, "no previous key is no rotation")
}

// A rotation with deliveries in flight, through the fakes of the old and
// the new key, in both modes: in async mode the deliveries are
// acknowledged before the swap and their callbacks, held, run after it.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	t.Run("sync", func(t *testing.T) { rotationtest.InFlight(t, rotationPlatform(false, rotationModes[0].opts)) })
	t.Run("async", func(t *testing.T) {
		rotationtest.InFlight(t, rotationPlatform(true, func() []onetalk.Option {
			return []onetalk.Option{onetalk.WithAsync(4, 200)} // room for every delivery held
		}))
	})
}

// A delivery with a previous key is logged at debug (an operator sees when
// the old key is no longer used), without any key; above debug nothing
// tells a previous key from the current one or one wrong key from another.
func TestRotationDebugLog(t *testing.T) {
	rotationtest.DebugLog(t, rotationPlatform(false, rotationModes[0].opts))
}
