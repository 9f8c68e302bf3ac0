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
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/internal/rotationtest"
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

// rotationRequest is a call whose user id is id: a trigger, or for the
// "bearer" form a user message; the token goes where form says (the
// Authorization header, as a bearer token, the legacy body field) and the
// custom value, if any, in the custom header.
func rotationRequest(form, id, token, custom string) *http.Request {
	body := botcopytest.TriggerRequest("", id, "b")
	var header []string
	switch form {
	case "body":
		body.AccessToken = botcopy.Token(token)
	case "bearer":
		body = botcopytest.UserMessageRequest("", id, "b", "hi")
		if token != "" {
			header = []string{"Authorization", "Bearer " + token}
		}
	default:
		if token != "" {
			header = []string{"Authorization", token}
		}
	}
	if custom != "" {
		header = append(header, customName, custom)
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/botcopy", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// rotationBuild builds the handler of a rotationtest.Platform: its
// callback reports the user id of the kind of call the form makes, and
// pauses the bot for 5 minutes. The deadline is far above a test's run: a
// call held in its callback is in flight, not late.
func rotationBuild(t *testing.T, bot rotationtest.Bot, form, token string, opts ...botcopy.Option) http.Handler {
	kind := map[bool]botcopy.Kind{false: botcopy.KindTrigger, true: botcopy.KindUserMessage}[form == "bearer"]
	h, err := botcopy.NewHandler(token, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		id := r.UserID
		if r.Kind() != kind {
			id = fmt.Sprintf("a %s call, not a %s, for %s", r.Kind(), kind, id)
		}
		bot.Callback(ctx, id)
		return botcopy.PauseFor(5), nil
	}, append([]botcopy.Option{botcopy.WithLogger(bot.Logger), botcopy.WithResponseDeadline(time.Minute)}, opts...)...)
	require.NoError(t, err)
	return h
}

// paused is what a decision pausing the bot for 5 minutes says, with its
// keys sorted.
func paused(string) string { return `{"minutesPaused":5,"paused":true}` }

func decode(body []byte) string {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// tokenRotation is Botcopy for rotationtest rolling the access token,
// presented the form's way, deduplicated or not, with a custom header
// rolling too (the new value presented) or none.
func tokenRotation(form string, dedup, custom bool) rotationtest.Platform {
	return rotationtest.Platform{
		Name:            "botcopy",
		Credentials:     []string{newToken, oldToken, olderToken},
		CredentialIndex: botcopy.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			var opts []botcopy.Option
			for _, p := range previous {
				opts = append(opts, botcopy.WithPreviousAccessTokens(p))
			}
			if dedup {
				opts = append(opts, botcopy.WithDeduplication(store.NewMemoryDeduplicator(), time.Minute))
			}
			if custom {
				opts = append(opts, botcopy.WithCustomHeader(customName, newCustom), botcopy.WithPreviousCustomHeaderValues(oldCustom))
			}
			return rotationBuild(t, bot, form, current, opts...)
		},
		Request: func(id, token string) *http.Request {
			return rotationRequest(form, id, token, map[bool]string{true: newCustom}[custom])
		},
		Fake: func(t *testing.T, bot http.Handler, token string) rotationtest.Sender {
			f := botcopytest.NewServer(botcopytest.Config{AccessToken: token, Bot: bot, Deadline: time.Minute})
			t.Cleanup(f.Close)
			return func(ctx context.Context, id string) (rotationtest.Answer, error) {
				d, err := f.Trigger(ctx, id, "b")
				if err != nil {
					return rotationtest.Answer{}, err
				}
				return rotationtest.Answer{Status: d.StatusCode, Header: d.Header, Body: d.Body}, nil
			}
		},
		Decode:  decode,
		Reply:   paused,
		Secrets: secrets,
	}
}

// secrets are every credential of both rotations, for DebugLog.
func secrets([]byte) []string { return []string{newToken, oldToken, olderToken, newCustom, oldCustom} }

// customRotation is Botcopy for rotationtest rolling the custom header's
// value, the new token presented (the old ones previous).
func customRotation() rotationtest.Platform {
	return rotationtest.Platform{
		Name:            "botcopy",
		Credentials:     []string{newCustom, oldCustom},
		CredentialIndex: botcopy.CredentialIndex,
		Build: func(t *testing.T, bot rotationtest.Bot, current string, previous ...string) http.Handler {
			return rotationBuild(t, bot, "header", newToken, botcopy.WithPreviousAccessTokens(oldToken, olderToken),
				botcopy.WithCustomHeader(customName, current), botcopy.WithPreviousCustomHeaderValues(previous...))
		},
		Request: func(id, custom string) *http.Request { return rotationRequest("header", id, newToken, custom) },
		Decode:  decode,
		Reply:   paused,
		Secrets: secrets,
	}
}

// Every token of a rotation is accepted wherever Botcopy puts it
// (Authorization, Bearer, the legacy body field), and the callback learns
// which one came, deduplicated or not; a wrong token gets one 401
// whichever token it resembles, wherever it is.
func TestPreviousAccessTokensAccepted(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		t.Run(fmt.Sprint("dedup=", dedup), func(t *testing.T) {
			var first rotationtest.Answer
			for _, form := range []string{"header", "bearer", "body"} {
				p := tokenRotation(form, dedup, false)
				rotationtest.Accepted(t, p)
				refused := rotationtest.IdenticalRefusals(t, p, rotationtest.Refusals{
					"near the new token": p.Presenting(newToken[:len(newToken)-1] + "X"),
					"near the old token": p.Presenting(oldToken[:len(oldToken)-1] + "X"),
				})
				if form == "header" {
					first = refused
					continue
				}
				assert.Equal(t, first.Body, refused.Body, "%s: the 401 body tells where the token was", form)
				assert.Equal(t, first.Header, refused.Header, "%s: the 401 headers tell where the token was", form)
			}
		})
	}
}

// The typing and unknown-event callbacks learn the index too.
func TestPreviousAccessTokensOnEveryEvent(t *testing.T) {
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
			for token, want := range map[string]int{newToken: 0, oldToken: 1, olderToken: 2} {
				for _, event := range []string{botcopy.EventUserTyping, "something_new"} {
					rec := call(t, h, map[string]string{"userId": user(), "botId": "b", "eventType": event}, "Authorization", token)
					require.Equal(t, http.StatusOK, rec.Code)
					kind := map[string]string{botcopy.EventUserTyping: "typing", "something_new": "unknown"}[event]
					select {
					case s := <-got:
						assert.Equal(t, fmt.Sprint(kind, " ", want), s)
					case <-time.After(5 * time.Second):
						t.Fatal("no callback")
					}
				}
			}
		})
	}
}

// The custom header rolls on its own; with both rolling, the index is the
// larger of the two, and a wrong token or a wrong value gets the same 401.
func TestPreviousCustomHeaderValuesAccepted(t *testing.T) {
	p := customRotation()
	rotationtest.Accepted(t, p)
	got := make(chan int, 1)
	h := p.Build(t, rotationtest.Bot{Logger: discard(), Callback: func(ctx context.Context, _ string) { got <- credential(ctx) }},
		newCustom, oldCustom)
	for _, c := range []struct {
		token, custom string
		want          int
	}{
		{newToken, newCustom, 0}, {newToken, oldCustom, 1}, {oldToken, newCustom, 1},
		{oldToken, oldCustom, 1}, {olderToken, newCustom, 2}, {olderToken, oldCustom, 2},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rotationRequest("header", user(), c.token, c.custom))
		require.Equal(t, http.StatusOK, rec.Code, "%+v", c)
		assert.Equal(t, c.want, <-got, "%s / %s", c.token, c.custom)
	}

	both := func(token, custom string) func(string) *http.Request {
		return func(id string) *http.Request { return rotationRequest("header", id, token, custom) }
	}
	rotationtest.IdenticalRefusals(t, p, rotationtest.Refusals{
		"the old token, a wrong value": both(oldToken, "nope"),
		"near the new token":           both(newToken+"x", newCustom),
		"near the old token":           both(oldToken+"x", oldCustom),
		"no token, the new value":      both("", newCustom),
		"a wrong token, a wrong value": both("nope", "nope"),
		"the older token, no value":    both(olderToken, ""),
		"the new token less a byte":    both(newToken[:len(newToken)-1], newCustom),
	})
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

// A rotation with calls in flight, through the fakes of the old and the
// new token: the calls running when the handler is swapped finish with
// their decision.
func TestRotationWithCallsInFlight(t *testing.T) {
	rotationtest.InFlight(t, tokenRotation("header", false, false))
}

// A call with a previous credential, the token's or the custom value's, is
// logged at debug, without any credential; above debug nothing tells a
// previous credential from the current one or one wrong credential from
// another.
func TestRotationDebugLog(t *testing.T) {
	t.Run("token", func(t *testing.T) { rotationtest.DebugLog(t, tokenRotation("header", false, true)) })
	t.Run("custom header", func(t *testing.T) { rotationtest.DebugLog(t, customRotation()) })
}
