package userliketest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
