package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/tap"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// Userlike (a webhook header), Ultimate (basic auth) and Botcopy (the
// Authorization token, and its legacy body token) deliveries captured in
// production replay to local bots with the local credentials only.
func TestReplayUserlikeUltimateBotcopy(t *testing.T) {
	const prod, local = "prod-credential-4711", "local-credential-0815"
	file := filepath.Join(t.TempDir(), "deliveries.jsonl")
	tp, err := tap.NewFile(file, 1<<20, 1)
	require.NoError(t, err)

	noop := ultimate.ChatCallbacks{OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil }}
	prodUL, err := userlike.NewHandler(func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
		userlike.WithWebhookHeader("API-SECURITY-TOKEN", prod), userlike.WithTap(tp))
	require.NoError(t, err)
	prodUT, err := ultimate.NewChatHandler(noop, ultimate.WithBasicAuth("ultimate", prod), ultimate.WithTap(tp))
	require.NoError(t, err)
	prodBC, err := botcopy.NewHandler(prod, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.PauseFor(1), nil
	}, botcopy.WithTap(tp))
	require.NoError(t, err)
	ul, _ := fixture("userlike", "message")
	ut, _ := fixture("ultimate", "webhook_sendMessage_text")
	bc, _ := fixture("botcopy", "webhook_step_two")
	capture(t, prodUL, "/userlike", ul, http.Header{"Api-Security-Token": {prod}})
	capture(t, prodUT, "/ultimate", ut, http.Header{"Authorization": {"Basic " + basicAuth("ultimate", prod)}})
	capture(t, prodBC, "/botcopy", bc, http.Header{"Authorization": {prod}})
	require.NoError(t, tp.Close())

	var mu sync.Mutex
	var got []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}
	localUL, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, _ *userlike.Reply) error {
		note("userlike " + e.Packet.Name)
		return nil
	}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", local))
	require.NoError(t, err)
	localUT, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{OnMessage: func(_ context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
		note("ultimate " + m.Text)
		return nil
	}}, ultimate.WithBasicAuth("ultimate", local))
	require.NoError(t, err)
	localBC, err := botcopy.NewHandler(local, func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		note("botcopy " + string(r.Kind()))
		return botcopy.PauseFor(1), nil
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/userlike", localUL)
	mux.Handle("/ultimate", localUT)
	mux.Handle("/botcopy", localBC)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, c := range []struct {
		n    string
		args []string
	}{
		{"1", []string{"--to", srv.URL + "/userlike", "--header", "API-SECURITY-TOKEN", "--secret", local}},
		{"2", []string{"--to", srv.URL + "/ultimate", "--user", "ultimate", "--password", local}},
		{"3", []string{"--to", srv.URL + "/botcopy", "--secret", local}},
	} {
		code, out, errOut := botwire(t, "", append([]string{"replay", file + "#" + c.n}, c.args...)...)
		require.Equal(t, 0, code, "#%s: %s%s", c.n, out, errOut)
		assert.Contains(t, out, "< 200", "#%s", c.n)
		assert.NotContains(t, out+errOut, local, "#%s", c.n)
		assert.NotContains(t, out+errOut, prod, "#%s", c.n)
	}
	mu.Lock()
	require.Len(t, got, 3, "%v", got)
	assert.Equal(t, "userlike message", got[0])
	assert.Contains(t, got[1], "ultimate ")
	assert.Equal(t, "botcopy "+string(botcopy.KindUserMessage), got[2])
	mu.Unlock()

	// With the production credential gone, the recorded one is not reused.
	for _, args := range [][]string{
		{"replay", file + "#1", "--to", srv.URL + "/userlike", "--header", "API-SECURITY-TOKEN", "--secret", "wrong-credential-1"},
		{"replay", file + "#2", "--to", srv.URL + "/ultimate", "--user", "ultimate", "--password", "wrong-credential-1"},
		{"replay", file + "#3", "--to", srv.URL + "/botcopy", "--secret", "wrong-credential-1"},
	} {
		code, out, _ := botwire(t, "", args...)
		assert.Equal(t, 1, code, "%v: %s", args, out)
	}
	mu.Lock()
	assert.Len(t, got, 3, "a wrongly authenticated replay reached a callback")
	mu.Unlock()
}
