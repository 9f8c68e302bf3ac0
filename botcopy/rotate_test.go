package botcopy_test

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/store"
)

const (
	newToken   = "bc-new-token-3f9a61"
	oldToken   = "bc-old-token-c27e08"
	olderToken = "bc-older-token-9d44"
	customName = "X-Proxy-Check"
	newCustom  = "bc-custom-new-71d2"
	oldCustom  = "bc-custom-old-e05b"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// credential is what CredentialIndex says in ctx, -1 for "not an
// authenticated call".
func credential(ctx context.Context) int {
	i, ok := botcopy.CredentialIndex(ctx)
	if !ok {
		return -1
	}
	return i
}

// call posts body with the given headers (name, value, ...).
func call(t *testing.T, h http.Handler, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/botcopy", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

var users atomic.Int64

func user() string { return fmt.Sprint("user-", users.Add(1)) }

func assertSame401(t *testing.T, answers []*httptest.ResponseRecorder) {
	t.Helper()
	for _, a := range answers {
		require.Equal(t, http.StatusUnauthorized, a.Code)
	}
	assert.JSONEq(t, `{"error":"unauthorized"}`, answers[0].Body.String())
	for _, a := range answers[1:] {
		assert.Equal(t, answers[0].Body.Bytes(), a.Body.Bytes(), "401 body tells nothing of the credential")
		assert.Equal(t, answers[0].Header(), a.Header(), "401 headers tell nothing of the credential")
	}
}

// Every token of a rotation is accepted wherever Botcopy puts it
// (Authorization, Bearer, the legacy body field), and every callback learns
// which one came, deduplicated or not; a wrong token gets one 401
// whichever token it resembles.
func TestPreviousAccessTokensAccepted(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		t.Run(fmt.Sprint("dedup=", dedup), func(t *testing.T) {
			got := make(chan string, 8)
			record := func(what string, ctx context.Context) { got <- fmt.Sprint(what, " ", credential(ctx)) }
			opts := []botcopy.Option{botcopy.WithLogger(discard()),
				botcopy.WithPreviousAccessTokens(oldToken), botcopy.WithPreviousAccessTokens(olderToken),
				botcopy.WithOnUserTyping(func(ctx context.Context, _ *botcopy.HandoverRequest) error {
					record("typing", ctx)
					return nil
				}),
				botcopy.WithOnUnknown(func(ctx context.Context, _ *botcopy.HandoverRequest) error {
					record("unknown", ctx)
					return nil
				})}
			if dedup {
				opts = append(opts, botcopy.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute))
			}
			h, err := botcopy.NewHandler(newToken, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
				record(string(r.Kind()), ctx)
				return botcopy.PauseFor(5), nil
			}, opts...)
			require.NoError(t, err)

			next := func() string {
				select {
				case s := <-got:
					return s
				case <-time.After(5 * time.Second):
					t.Fatal("no callback")
					return ""
				}
			}
			for token, want := range map[string]int{newToken: 0, oldToken: 1, olderToken: 2} {
				for _, form := range []string{"header", "bearer", "body"} {
					var body *botcopy.HandoverRequest
					var header []string
					switch form {
					case "header":
						body, header = botcopytest.TriggerRequest("", user(), "b"), []string{"Authorization", token}
					case "bearer":
						body, header = botcopytest.UserMessageRequest("", user(), "b", "hi"), []string{"Authorization", "Bearer " + token}
					case "body":
						body = botcopytest.TriggerRequest(token, user(), "b")
					}
					rec := call(t, h, body, header...)
					require.Equal(t, http.StatusOK, rec.Code, "%s %s", token, form)
					assert.JSONEq(t, `{"paused":true,"minutesPaused":5}`, rec.Body.String())
					assert.Equal(t, fmt.Sprint(body.Kind(), " ", want), next(), "%s %s", token, form)
				}
				for _, event := range []string{botcopy.EventUserTyping, "something_new"} {
					rec := call(t, h, map[string]string{"userId": user(), "botId": "b", "eventType": event}, "Authorization", token)
					require.Equal(t, http.StatusOK, rec.Code)
					kind := map[string]string{botcopy.EventUserTyping: "typing", "something_new": "unknown"}[event]
					assert.Equal(t, fmt.Sprint(kind, " ", want), next())
				}
			}

			// Wrong tokens: near the new one, near the old one, absent, in
			// the header and in the body.
			var answers []*httptest.ResponseRecorder
			for _, token := range []string{newToken[:len(newToken)-1] + "X", oldToken[:len(oldToken)-1] + "X", oldToken + "x",
				strings.ToUpper(newToken), ""} {
				answers = append(answers,
					call(t, h, botcopytest.TriggerRequest("", user(), "b"), "Authorization", token),
					call(t, h, botcopytest.TriggerRequest(token, user(), "b")))
			}
			assertSame401(t, answers)
			select {
			case s := <-got:
				t.Fatalf("callback ran for a wrong token: %s", s)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

// The custom header rolls on its own; with both rolling, the index is the
// larger of the two, and a wrong token or a wrong value gets the same 401.
func TestPreviousCustomHeaderValuesAccepted(t *testing.T) {
	got := make(chan int, 1)
	h, err := botcopy.NewHandler(newToken, func(ctx context.Context, _ *botcopy.HandoverRequest) (botcopy.Decision, error) {
		got <- credential(ctx)
		return botcopy.Continue(), nil
	}, botcopy.WithLogger(discard()), botcopy.WithCustomHeader(customName, newCustom),
		botcopy.WithPreviousCustomHeaderValues(oldCustom), botcopy.WithPreviousAccessTokens(oldToken, olderToken))
	require.NoError(t, err)
	for _, c := range []struct {
		token, custom string
		want          int
	}{
		{newToken, newCustom, 0}, {newToken, oldCustom, 1}, {oldToken, newCustom, 1},
		{oldToken, oldCustom, 1}, {olderToken, newCustom, 2}, {olderToken, oldCustom, 2},
	} {
		rec := call(t, h, botcopytest.TriggerRequest("", user(), "b"), "Authorization", c.token, customName, c.custom)
		require.Equal(t, http.StatusOK, rec.Code, "%+v", c)
		assert.Equal(t, c.want, <-got, "%s / %s", c.token, c.custom)
	}
	var answers []*httptest.ResponseRecorder
	for _, c := range [][2]string{
		{newToken, newCustom + "x"}, {newToken, oldCustom + "x"}, {newToken, ""}, {oldToken, "nope"},
		{newToken + "x", newCustom}, {oldToken + "x", oldCustom}, {"", newCustom}, {"nope", "nope"},
	} {
		answers = append(answers, call(t, h, botcopytest.TriggerRequest("", user(), "b"), "Authorization", c[0], customName, c[1]))
	}
	assertSame401(t, answers)
	assert.Empty(t, got, "no callback for a wrong credential")
}

// Empty previous credentials are refused like empty current ones, and a
// previous custom value needs the custom header.
func TestPreviousCredentialsRefusedWhenEmpty(t *testing.T) {
	fn := func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.Continue(), nil
	}
	_, err := botcopy.NewHandler(newToken, fn, botcopy.WithPreviousAccessTokens(oldToken, ""))
	require.ErrorIs(t, err, botcopy.ErrNoAccessToken)
	assert.Contains(t, err.Error(), "WithPreviousAccessTokens")
	_, err = botcopy.NewHandler(newToken, fn, botcopy.WithCustomHeader(customName, newCustom), botcopy.WithPreviousCustomHeaderValues(""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithPreviousCustomHeaderValues")
	_, err = botcopy.NewHandler(newToken, fn, botcopy.WithPreviousCustomHeaderValues(oldCustom))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs WithCustomHeader")
	_, err = botcopy.NewClient("api-key", botcopy.WithPreviousAccessTokens(oldToken), botcopy.WithPreviousCustomHeaderValues(oldCustom))
	require.Error(t, err, "handler options")
	assert.Contains(t, err.Error(), "WithPreviousAccessTokens, WithPreviousCustomHeaderValues")
	_, err = botcopy.NewHandler(newToken, fn, botcopy.WithPreviousAccessTokens())
	require.NoError(t, err, "no previous token is no rotation")
}

// A rotation with calls in flight: the fakes of the old and the new token
// call concurrently through a handler swapped mid-run. While both tokens are
// accepted none is refused, the calls running when the handler is swapped
// finish with their decision, and after the swap the old token gets 401 and
// the new one its decision.
func TestRotationWithCallsInFlight(t *testing.T) {
	const perToken = 50
	var (
		mu      sync.Mutex
		wrong   []string
		ran     = map[string]int{}
		entered atomic.Int32
		gate    = make(chan struct{})
		once    sync.Once
	)
	release := func() { once.Do(func() { close(gate) }) }
	defer release()
	tokenOf := sync.Map{} // user id -> "old" or "new"
	check := func(phase string, ctx context.Context, r *botcopy.HandoverRequest) {
		key, _ := tokenOf.Load(r.UserID)
		want := map[any]int{"new": 0, "old": 1}[key]
		mu.Lock()
		defer mu.Unlock()
		if got := credential(ctx); got != want {
			wrong = append(wrong, fmt.Sprintf("%s %s (%v): CredentialIndex %d, want %d", phase, r.UserID, key, got, want))
		}
		ran[fmt.Sprint(phase, " ", key)]++
	}
	// A deadline far above the test's run: a call held at the gate is
	// in flight, not late.
	opts := []botcopy.Option{botcopy.WithLogger(discard()), botcopy.WithResponseDeadline(time.Minute)}
	both, err := botcopy.NewHandler(newToken, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		entered.Add(1)
		<-gate
		check("rotating", ctx, r)
		return botcopy.PauseFor(7), nil
	}, append(opts, botcopy.WithPreviousAccessTokens(oldToken))...)
	require.NoError(t, err)
	newOnly, err := botcopy.NewHandler(newToken, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		check("rotated", ctx, r)
		return botcopy.PauseFor(7), nil
	}, opts...)
	require.NoError(t, err)

	var current atomic.Pointer[http.Handler]
	setBot := func(h http.Handler) { current.Store(&h) }
	setBot(both)
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) })
	fakes := map[string]*botcopytest.Server{
		"old": botcopytest.NewServer(botcopytest.Config{AccessToken: oldToken, Bot: front, Deadline: time.Minute}),
		"new": botcopytest.NewServer(botcopytest.Config{AccessToken: newToken, Bot: front, Deadline: time.Minute}),
	}
	for _, f := range fakes {
		defer f.Close()
	}

	type outcome struct {
		status int
		paused bool
	}
	send := func(phase string) (map[string][]outcome, func()) {
		out := map[string][]outcome{}
		var omu sync.Mutex
		var wg sync.WaitGroup
		for i := range 2 * perToken {
			key := []string{"old", "new"}[i%2]
			uid := fmt.Sprintf("%s-%s-%d", phase, key, i)
			tokenOf.Store(uid, key)
			wg.Go(func() {
				o := outcome{status: -1}
				if d, err := fakes[key].Trigger(context.Background(), uid, "b"); err == nil {
					o = outcome{d.StatusCode, d.Paused}
				}
				omu.Lock()
				out[key] = append(out[key], o)
				omu.Unlock()
			})
		}
		return out, wg.Wait
	}
	all := func(o outcome) []outcome {
		s := make([]outcome, perToken)
		for i := range s {
			s[i] = o
		}
		return s
	}

	rotating, waitRotating := send("rotating")
	require.Eventually(t, func() bool { return entered.Load() == 2*perToken }, 10*time.Second, time.Millisecond,
		"every call reaches the callback before the swap")
	setBot(newOnly)
	rotated, waitRotated := send("rotated")
	waitRotated()
	release()
	waitRotating()

	paused, refused := outcome{200, true}, outcome{401, false}
	assert.Equal(t, all(paused), rotating["old"], "old token during the rotation")
	assert.Equal(t, all(paused), rotating["new"], "new token during the rotation")
	assert.Equal(t, all(refused), rotated["old"], "old token after the rotation")
	assert.Equal(t, all(paused), rotated["new"], "new token after the rotation")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, wrong)
	assert.Equal(t, map[string]int{"rotating old": perToken, "rotating new": perToken, "rotated new": perToken}, ran)
}

// A call with a previous credential is logged at debug, without any
// credential; above debug nothing tells a previous credential from the
// current one or one wrong credential from another.
func TestRotationDebugLog(t *testing.T) {
	var debug, info bytes.Buffer
	fn := func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.Continue(), nil
	}
	rotation := []botcopy.Option{botcopy.WithPreviousAccessTokens(oldToken),
		botcopy.WithCustomHeader(customName, newCustom), botcopy.WithPreviousCustomHeaderValues(oldCustom)}
	hd, err := botcopy.NewHandler(newToken, fn, append(rotation,
		botcopy.WithLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))))...)
	require.NoError(t, err)
	hi, err := botcopy.NewHandler(newToken, fn, append(rotation,
		botcopy.WithLogger(slog.New(slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}))))...)
	require.NoError(t, err)

	trigger := func(h http.Handler, token, custom string) int {
		return call(t, h, botcopytest.TriggerRequest("", user(), "b"), "Authorization", token, customName, custom).Code
	}
	require.Equal(t, http.StatusOK, trigger(hd, newToken, newCustom))
	assert.Empty(t, debug.String(), "the current credentials are not news")
	for _, c := range [][2]string{{oldToken, newCustom}, {newToken, oldCustom}} {
		debug.Reset()
		require.Equal(t, http.StatusOK, trigger(hd, c[0], c[1]))
		line := debug.String()
		assert.Contains(t, line, "level=DEBUG")
		assert.Contains(t, line, "previous credential")
		assert.Contains(t, line, "credential=1")
		assert.Equal(t, 1, strings.Count(line, "\n"), "one line per call")
		for _, s := range []string{newToken, oldToken, newCustom, oldCustom} {
			assert.NotContains(t, line, s)
			assert.NotContains(t, line, s[3:], "not even part of a credential")
		}
	}

	for _, c := range [][2]string{{newToken, newCustom}, {oldToken, oldCustom}, {oldToken + "x", newCustom},
		{newToken, oldCustom + "x"}, {"", ""}} {
		trigger(hi, c[0], c[1])
	}
	assert.Empty(t, info.String(), "above debug, neither a rotation nor a wrong credential is logged")
}
