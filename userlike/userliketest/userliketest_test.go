package userliketest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

var cfg = userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: "hook", APIToken: "api"}

func counterBot(t *testing.T) http.Handler {
	h, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
		var st struct{ N int }
		if err := e.DecodeContext(&st); err != nil {
			return err
		}
		r.Add(userlike.Message(e.Packet.Name + " " + e.Text()))
		return r.SetContext(map[string]int{"N": st.N + 1})
	}, userlike.WithWebhookHeader(cfg.WebhookHeader, cfg.WebhookToken))
	require.NoError(t, err)
	return h
}

func TestDeliversWithHeaderAndEchoesContext(t *testing.T) {
	fake := userliketest.NewServer(cfg)
	defer fake.Close()
	fake.SetBot(counterBot(t))
	ctx := context.Background()

	res, err := fake.Start(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, []string{"start "}, res.Texts())
	res, err = fake.Message(ctx, "c1", "hello")
	require.NoError(t, err)
	assert.Equal(t, []string{"message hello"}, res.Texts())
	res, err = fake.Click(ctx, "c1", "opt", "Option")
	require.NoError(t, err)
	assert.Equal(t, []string{"click Option"}, res.Texts())
	_, err = fake.Media(ctx, "c1", "https://x/y.png", "image/png")
	require.NoError(t, err)
	golden.JSONEq(t, []byte(`{"N":4}`), fake.Context("c1"))
	assert.Empty(t, fake.Context("c2"))

	srv := httptest.NewServer(counterBot(t))
	defer srv.Close()
	fake.SetBotURL(srv.URL)
	res, err = fake.Message(ctx, "c1", "over http")
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	golden.JSONEq(t, []byte(`{"N":5}`), fake.Context("c1"))

	wrong := userliketest.NewServer(userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: "bad"})
	defer wrong.Close()
	wrong.SetBot(counterBot(t))
	res, err = wrong.Start(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, 401, res.StatusCode)
}

func TestAPIURLChecksTokenBodyAndRate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := cfg
	c.Now = func() time.Time { return now }
	fake := userliketest.NewServer(c)
	defer fake.Close()
	ctx := context.Background()

	client, err := userlike.NewClient(fake.URL, "api", userlike.WithRateLimit(100, time.Minute), userlike.WithMaxRetries(0))
	require.NoError(t, err)
	for range 20 {
		require.NoError(t, client.Send(ctx, "c1", userlike.Message("x")))
	}
	err = client.Send(ctx, "c1", userlike.Message("21st"))
	var apiErr *userlike.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.NoError(t, client.Send(ctx, "c2", userlike.Message("other cid")))
	now = now.Add(time.Minute)
	assert.NoError(t, client.Send(ctx, "c1", userlike.Message("next minute")))

	bad, err := userlike.NewClient(fake.URL, "wrong")
	require.NoError(t, err)
	require.ErrorAs(t, bad.Send(ctx, "c1", userlike.Message("x")), &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)

	req, _ := http.NewRequest(http.MethodPost, fake.URL, jsonBody(t, map[string]any{
		"info": map[string]string{"cid": "c9"}, "packet": map[string]any{"name": "message", "payload": map[string]string{"body": ""}}}))
	req.Header.Set("SECURITY-TOKEN", "api")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode, "an empty message is refused like Userlike would")

	assert.Len(t, fake.SentTexts(), 22)
	fake.FailNext(1, 503)
	require.ErrorAs(t, client.Send(ctx, "c3", userlike.Message("x")), &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	calls := fake.Received()
	assert.Equal(t, 503, calls[len(calls)-1].Status)
}

func jsonBody(t *testing.T, v any) *bytes.Reader {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

// The fake checks what the doc says Userlike checks, and nothing the SDK
// only guessed: Custom exists to send a payload whose inferred keys or
// types differ from the SDK's, and the fake must take it.
func TestAPIURLAcceptsWhatTheDocAllows(t *testing.T) {
	long := strings.Repeat("ü", userlike.MaxMessageLen+1)
	tests := []struct {
		name   string
		action userlike.Action
		want   string // "" accepted; else the 400's error contains it
	}{
		// Inferred keys and types the doc does not fix: accepted.
		{"bubbles with other option keys", userlike.Custom("bubbles", map[string]any{
			"text": "How can I help?", "choices": []any{map[string]any{"id": 1, "title": "Delivery"}}, "fallback": "Answer with a number:"}), ""},
		{"list_template without the inferred button", userlike.Custom("list_template", map[string]any{
			"body": "Topics", "options": []any{map[string]any{"id": "a", "label": "A"}}, "fallback": "f"}), ""},
		{"carousel with numeric ids", userlike.Custom("carousel", map[string]any{
			"options": []any{map[string]any{"id": 7, "image": map[string]string{"url": "https://x/a.png"}}}, "fallback": "f"}), ""},
		{"media with a numeric name", userlike.Custom("media", map[string]any{"link": "https://x/a.png", "name": 7}), ""},
		{"forward_group with another key", userlike.Custom("forward_group", map[string]any{"group_id": 12}), ""},
		{"forward_any with another on_failure", userlike.Custom("forward_any", map[string]any{"on_failure": "unassign"}), ""},
		{"email_dispatch with another key", userlike.Custom("email_dispatch", map[string]any{"recipient": "operator"}), ""},
		{"buttons with other keys", userlike.Custom("buttons", map[string]any{"links": []string{"https://x"}}), ""},
		{"navigate with another key", userlike.Custom("navigate", map[string]any{"link": "https://x"}), ""},
		{"note_create with a numeric id", userlike.Custom("note_create", map[string]any{"note": "VIP", "contact_identity_id": 12345}), ""},
		{"contact_update with a numeric mobile", userlike.Custom("contact_update", map[string]any{"mobile_number": 4915112345678}), ""},
		{"an event the SDK does not model", userlike.Custom("typing_indicator", map[string]any{"on": true}), ""},

		// What the doc states: refused.
		{"message over 5,000 characters", userlike.Custom("message", map[string]any{"body": long}), "packet.payload.body: at most 5000 characters, got 5001"},
		{"message without a body", userlike.Custom("message", map[string]any{"text": "hi"}), "packet.payload.body: required"},
		{"message body not a string", userlike.Custom("message", map[string]any{"body": 5}), "packet.payload.body: must be a string"},
		{"bubbles without fallback", userlike.Custom("bubbles", map[string]any{"options": []any{}}), "packet.payload.fallback: required"},
		{"carousel without fallback", userlike.Custom("carousel", map[string]any{"fallback": ""}), "packet.payload.fallback: required"},
		{"list_template fallback not a string", userlike.Custom("list_template", map[string]any{"fallback": 1}), "packet.payload.fallback: must be a string"},
		{"button_template without fallback", userlike.Custom("button_template", map[string]any{"body": "b"}), "packet.payload.fallback: required"},
		{"button_template without body", userlike.Custom("button_template", map[string]any{"fallback": "f"}), "packet.payload.body: required"},
		{"button_template with 4 options", userlike.Custom("button_template", map[string]any{"body": "b", "fallback": "f",
			"options": []int{1, 2, 3, 4}}), "packet.payload.options: at most 3 options, got 4"},
		{"list_template with 11 options", userlike.Custom("list_template", map[string]any{"fallback": "f",
			"options": make([]struct{}, 11)}), "packet.payload.options: at most 10 options, got 11"},
		{"media without link", userlike.Custom("media", map[string]any{"url": "https://x/a.png"}), "packet.payload.link: required"},
		{"media with a relative link", userlike.Custom("media", map[string]any{"link": "/img/a.png"}), "packet.payload.link: must be an absolute http(s) URL"},
		{"contact_update with nothing", userlike.Custom("contact_update", map[string]any{"nickname": "x"}), "packet.payload: needs one of name"},
		{"conversation_update with nothing", userlike.Custom("conversation_update", map[string]any{"subject": nil}), "packet.payload: needs one of subject"},
	}
	fake := userliketest.NewServer(cfg)
	defer fake.Close()
	client, err := userlike.NewClient(fake.URL, "api", userlike.WithRateLimit(1000, time.Minute), userlike.WithMaxRetries(0))
	require.NoError(t, err)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cid := fmt.Sprintf("c%d", i) // Userlike's 20 a minute is per cid
			err := client.Send(context.Background(), cid, tt.action)
			if tt.want == "" {
				require.NoError(t, err)
				calls := fake.Received()
				last := calls[len(calls)-1]
				require.Len(t, last.Events, 1, "the accepted call is decoded")
				assert.Equal(t, tt.action.Name, last.Events[0].Packet.Name)
				return
			}
			var apiErr *userlike.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
			assert.Contains(t, string(apiErr.Body), tt.want)
		})
	}
}

// A list is checked event by event, paths say which, and the documented
// context rule holds.
func TestAPIURLRefusesByPath(t *testing.T) {
	fake := userliketest.NewServer(cfg)
	defer fake.Close()
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, fake.URL, strings.NewReader(body))
		req.Header.Set("SECURITY-TOKEN", "api")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(`[{"info":{"cid":"c1"},"packet":{"name":"delay","payload":{"duration":2}}},
		{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":"ok"}}}]`)
	assert.Equal(t, 200, status, "a delay under another key than the inferred one: %s", body)
	status, body = post(`[{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":"ok"}}},
		{"info":{"cid":"c1"},"packet":{"name":"bubbles","payload":{"options":[]}}}]`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "[1].packet.payload.fallback: required")
	status, body = post(`{"info":{"cid":"c1"},"packet":{"payload":{}}}`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "packet.name: required")
	status, body = post(`{"info":{"cid":"c1","context":[1]},"packet":{"name":"message","payload":{"body":"x"}}}`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "info.context: must be a JSON object")
	status, body = post(`{"info":{"cid":"c1","context":{"blob":"` + strings.Repeat("x", userlike.MaxContextBytes) + `"}},"packet":{"name":"message","payload":{"body":"x"}}}`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "info.context: at most 10000 bytes")
	status, _ = post(`{"info":{"cid":"c1","context":{}},"packet":{"name":"end"}}`)
	assert.Equal(t, 200, status, "an empty context is ignored, as the doc says")
}

// The bot's webhook answer may hold the same Custom payloads: Deliver
// decodes them (raw where the SDK's typed payload does not fit).
func TestDeliverDecodesCustomPayloads(t *testing.T) {
	fake := userliketest.NewServer(cfg)
	defer fake.Close()
	bot, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
		r.Add(userlike.Custom("media", map[string]any{"link": "https://x/a.png", "name": 7}), userlike.Message("hi"))
		return nil
	}, userlike.WithWebhookHeader(cfg.WebhookHeader, cfg.WebhookToken))
	require.NoError(t, err)
	fake.SetBot(bot)
	res, err := fake.Start(context.Background(), "c1")
	require.NoError(t, err)
	require.Len(t, res.Events, 2)
	golden.JSONEq(t, []byte(`{"link":"https://x/a.png","name":7}`), mustJSON(t, res.Events[0].Packet.Payload))
	assert.Equal(t, []string{"hi"}, res.Texts())
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
