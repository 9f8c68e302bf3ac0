package ultimate_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/internal/secrettest"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
)

// No formatting verb on a value or a pointer of a client, a handler, the
// fake or its config shows a credential or a digest of one.
func TestNoVerbShowsTheCredentials(t *testing.T) {
	const key, hookPass, prevPass, prevToken = "ult-api-key-4e81f2", "ult-hook-pass-a90c3b", "ult-prev-pass-3b7d11", "ult-prev-token-c04e9a"
	cfg := ultimatetest.Config{APIKey: key, BotID: "618a30beee4e8e87d2f94015", WebhookUser: "u", WebhookPassword: hookPass}
	fake := ultimatetest.NewServer(cfg)
	defer fake.Close()
	c, err := ultimate.NewClient(key, cfg.BotID, ultimate.WithBaseURL(fake.URL))
	if err != nil {
		t.Fatal(err)
	}
	chat, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{}, ultimate.WithBasicAuth("u", hookPass),
		ultimate.WithPreviousBasicAuthPasswords(prevPass))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := ultimate.NewActionHandler(func(context.Context, *ultimate.ActionRequest) ([]ultimate.ActionResult, error) { return nil, nil },
		ultimate.WithWebhookHeader("X-Token", hookPass), ultimate.WithPreviousWebhookHeader("X-Token", prevToken))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EndSession(context.Background(), "conv1"); err != nil {
		t.Fatal(err)
	}
	calls := fake.Received()
	// One release number for every package, in every default User-Agent.
	if ua := calls[0].RawHeader().Get("User-Agent"); ua != "botwire-ultimate/"+version.Version || ultimate.Version != version.Version {
		t.Errorf("User-Agent %q, Version %q; want botwire-ultimate/%s", ua, ultimate.Version, version.Version)
	}
	for _, secret := range []string{key, hookPass, prevPass, prevToken} {
		secrettest.Check(t, secret, c, chat, actions, fake, &cfg, &calls[0], &calls)
	}
}
