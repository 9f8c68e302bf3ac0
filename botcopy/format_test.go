package botcopy_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/internal/secrettest"
	"github.com/botwire/botwire/internal/version"
)

// No formatting verb on a value or a pointer of a client, a handler, a
// request, the fake or its config shows a credential or a digest of one.
func TestNoVerbShowsTheCredentials(t *testing.T) {
	const token, apiKey, custom = "bc-access-token-0d93", "bc-api-key-77ac21", "bc-custom-6612fe"
	// A rotation's previous credentials are never shown either.
	const prevToken, prevCustom = "bc-old-token-5e21aa", "bc-old-custom-c08d"
	cfg := botcopytest.Config{AccessToken: token, APIKey: apiKey, CustomHeader: "X-Custom", CustomValue: custom}
	fake := botcopytest.NewServer(cfg)
	defer fake.Close()
	c, err := botcopy.NewClient(apiKey, botcopy.WithBaseURL(fake.URL))
	if err != nil {
		t.Fatal(err)
	}
	h, err := botcopy.NewHandler(token, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.Continue(), nil
	}, botcopy.WithCustomHeader("X-Custom", custom),
		botcopy.WithPreviousAccessTokens(prevToken), botcopy.WithPreviousCustomHeaderValues(prevCustom))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Typing(context.Background(), botcopy.Target{UserID: "u", BotID: "b"}); err != nil {
		t.Fatal(err)
	}
	req, err := botcopy.ParseRequest([]byte(`{"accessToken":"` + token + `","userId":"u","botId":"b","queryInput":{"text":{"text":"hi"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	pushes := fake.Received()
	// One release number for every package, in every default User-Agent.
	if ua := pushes[0].RawHeader().Get("User-Agent"); ua != "botwire-botcopy/"+version.Version || botcopy.Version != version.Version {
		t.Errorf("User-Agent %q, Version %q; want botwire-botcopy/%s", ua, botcopy.Version, version.Version)
	}
	for _, secret := range []string{token, apiKey, custom, prevToken, prevCustom} {
		secrettest.Check(t, secret, c, h, req, fake, &cfg, &pushes[0], &pushes)
	}

	// A logger never sees the legacy body token: the request is a
	// slog.LogValuer, for the JSON handler too.
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("handover", "req", req)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("handover", "req", req, "value", *req)
	if strings.Contains(logs.String(), token) {
		t.Errorf("the log shows the token: %s", logs.String())
	}
	if !strings.Contains(logs.String(), `"userId":"u"`) {
		t.Errorf("the log lost the request's fields: %s", logs.String())
	}
}
