package onetalk_test

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

// Every key of a rotation is accepted, and the callback learns which one
// came, in every mode that runs the callback for the delivery; a wrong key
// gets one 401 whichever key it resembles.
func TestPreviousSecretsAcceptedInEveryMode(t *testing.T) {
	modes := []struct {
		name string
		opts func() []onetalk.Option
	}{
		{"sync", func() []onetalk.Option { return nil }},
		{"async", func() []onetalk.Option { return []onetalk.Option{onetalk.WithAsync(2, 16)} }},
		{"dedup", func() []onetalk.Option {
			return []onetalk.Option{onetalk.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute)}
		}},
		{"async+dedup", func() []onetalk.Option {
			return []onetalk.Option{onetalk.WithAsync(2, 16), onetalk.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute)}
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			got := make(chan int, 16)
			opts := append([]onetalk.Option{onetalk.WithLogger(discard()),
				onetalk.WithPreviousSecrets(oldSecret), onetalk.WithPreviousSecrets(olderSecret)}, m.opts()...)
			h, err := onetalk.NewHandler(newSecret, func(ctx context.Context, in *onetalk.InboundRequest) error {
				got <- credential(ctx)
				return nil
			}, opts...)
			require.NoError(t, err)
			defer func() { require.NoError(t, h.Shutdown(context.Background())) }()

			for i, key := range []string{newSecret, oldSecret, olderSecret, oldSecret, newSecret} {
				want := map[string]int{newSecret: 0, oldSecret: 1, olderSecret: 2}[key]
				rec := deliver(t, h, fmt.Sprint("C", i), "hi", key)
				require.Equal(t, http.StatusOK, rec.Code, "key %d", i)
				select {
				case idx := <-got:
					assert.Equal(t, want, idx, "CredentialIndex for key %d", i)
				case <-time.After(5 * time.Second):
					t.Fatalf("callback did not run for key %d", i)
				}
			}

			// Wrong keys: near the new one, near the old one, absent.
			var answers []*httptest.ResponseRecorder
			for _, key := range []string{newSecret[:len(newSecret)-1] + "X", oldSecret[:len(oldSecret)-1] + "X",
				oldSecret + "x", "", strings.ToUpper(newSecret)} {
				rec := deliver(t, h, "W", "hi", key)
				require.Equal(t, http.StatusUnauthorized, rec.Code)
				answers = append(answers, rec)
			}
			assert.JSONEq(t, `{"error":"unauthorized"}`, answers[0].Body.String())
			for _, a := range answers[1:] {
				assert.Equal(t, answers[0].Body.Bytes(), a.Body.Bytes(), "401 body tells nothing of the key")
				assert.Equal(t, answers[0].Header(), a.Header(), "401 headers tell nothing of the key")
			}
			select {
			case idx := <-got:
				t.Fatalf("callback ran for a wrong key (index %d)", idx)
			case <-time.After(50 * time.Millisecond):
			}
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

// A rotation with deliveries in flight: the fakes of the old and the new key
// deliver concurrently through a handler swapped mid-run. While both keys
// are accepted none is refused, the deliveries that were running when the
// handler was swapped finish with 200, and after the swap the old key gets
// 401 and the new one 200.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) { rotateInFlight(t, mode == "async") })
	}
}

func rotateInFlight(t *testing.T, async bool) {
	const perKey = 50
	var (
		mu       sync.Mutex
		wrong    []string
		ran      = map[string]int{}
		entered  atomic.Int32
		gate     = make(chan struct{})
		gateOnce sync.Once
	)
	release := func() { gateOnce.Do(func() { close(gate) }) }
	defer release()
	check := func(phase string, ctx context.Context, in *onetalk.InboundRequest) {
		want := map[string]int{"new": 0, "old": 1}[in.Message.Body()]
		if got := credential(ctx); got != want {
			mu.Lock()
			wrong = append(wrong, fmt.Sprintf("%s %s %s: CredentialIndex %d, want %d", phase, in.CaseID, in.Message.Body(), got, want))
			mu.Unlock()
		}
		mu.Lock()
		ran[phase+" "+in.Message.Body()]++
		mu.Unlock()
	}
	var modeOpts []onetalk.Option
	if async {
		modeOpts = append(modeOpts, onetalk.WithAsync(4, 4*perKey))
	}
	both, err := onetalk.NewHandler(newSecret, func(ctx context.Context, in *onetalk.InboundRequest) error {
		entered.Add(1)
		<-gate // held until after the swap: these deliveries are in flight across it
		check("rotating", ctx, in)
		return nil
	}, append([]onetalk.Option{onetalk.WithPreviousSecrets(oldSecret), onetalk.WithLogger(discard())}, modeOpts...)...)
	require.NoError(t, err)
	newOnly, err := onetalk.NewHandler(newSecret, func(ctx context.Context, in *onetalk.InboundRequest) error {
		check("rotated", ctx, in)
		return nil
	}, append([]onetalk.Option{onetalk.WithLogger(discard())}, modeOpts...)...)
	require.NoError(t, err)

	var current atomic.Pointer[http.Handler]
	setBot := func(h http.Handler) { current.Store(&h) }
	setBot(both)
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) })
	fakes := map[string]*onetalktest.Server{
		"old": onetalktest.NewServer(onetalktest.Config{Secret: oldSecret, Bot: front}),
		"new": onetalktest.NewServer(onetalktest.Config{Secret: newSecret, Bot: front}),
	}
	for _, f := range fakes {
		defer f.Close()
	}

	// send delivers perKey messages with each key, interleaved, at once.
	send := func(phase string) (statuses map[string][]int, wait func()) {
		statuses = map[string][]int{}
		var smu sync.Mutex
		var wg sync.WaitGroup
		for i := range 2 * perKey {
			key := []string{"old", "new"}[i%2]
			wg.Go(func() {
				d, err := fakes[key].Deliver(context.Background(), onetalktest.Text(fmt.Sprintf("%s-%d", phase, i), key))
				status := -1
				if err == nil {
					status = d.StatusCode
				}
				smu.Lock()
				statuses[key] = append(statuses[key], status)
				smu.Unlock()
			})
		}
		return statuses, wg.Wait
	}
	all := func(status int) []int {
		s := make([]int, perKey)
		for i := range s {
			s[i] = status
		}
		return s
	}

	rotating, waitRotating := send("rotating")
	if async {
		waitRotating() // acknowledged, callbacks held at the gate
	} else {
		require.Eventually(t, func() bool { return entered.Load() == 2*perKey }, 10*time.Second, time.Millisecond,
			"every delivery reaches the callback before the swap")
	}

	setBot(newOnly)
	rotated, waitRotated := send("rotated")
	waitRotated()
	release()
	waitRotating()
	require.NoError(t, both.Shutdown(context.Background()))
	require.NoError(t, newOnly.Shutdown(context.Background()))

	assert.Equal(t, all(200), rotating["old"], "old key during the rotation")
	assert.Equal(t, all(200), rotating["new"], "new key during the rotation")
	assert.Equal(t, all(401), rotated["old"], "old key after the rotation")
	assert.Equal(t, all(200), rotated["new"], "new key after the rotation")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, wrong)
	assert.Equal(t, map[string]int{"rotating old": perKey, "rotating new": perKey, "rotated new": perKey}, ran)
}

// A delivery with a previous key is logged at debug (an operator sees when
// the old key is no longer used), without any key; above debug nothing
// tells a previous key from the current one or one wrong key from another.
func TestRotationDebugLog(t *testing.T) {
	var debug, info bytes.Buffer
	fn := func(context.Context, *onetalk.InboundRequest) error { return nil }
	hd, err := onetalk.NewHandler(newSecret, fn, onetalk.WithPreviousSecrets(oldSecret),
		onetalk.WithLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	hi, err := onetalk.NewHandler(newSecret, fn, onetalk.WithPreviousSecrets(oldSecret),
		onetalk.WithLogger(slog.New(slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, deliver(t, hd, "C1", "hi", newSecret).Code)
	assert.Empty(t, debug.String(), "the current key is not news")
	require.Equal(t, http.StatusOK, deliver(t, hd, "C1", "hi", oldSecret).Code)
	line := debug.String()
	assert.Contains(t, line, "level=DEBUG")
	assert.Contains(t, line, "previous credential")
	assert.Contains(t, line, "credential=1")
	assert.Equal(t, 1, strings.Count(line, "\n"), "one line per delivery")

	for _, key := range []string{newSecret, oldSecret, oldSecret + "x", newSecret + "x", ""} {
		deliver(t, hi, "C1", "hi", key)
		deliver(t, hd, "C1", "hi", key)
	}
	assert.Empty(t, info.String(), "above debug, neither a rotation nor a wrong key is logged")
	for _, s := range []string{newSecret, oldSecret} {
		assert.NotContains(t, debug.String(), s)
		assert.NotContains(t, debug.String(), s[3:], "not even part of a key")
	}
}
