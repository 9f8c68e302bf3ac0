package userlike_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/internal/secrettest"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

// No formatting verb on a value or a pointer of a client, a handler, the
// fake or its config shows a token or a digest of one.
func TestNoVerbShowsTheTokens(t *testing.T) {
	const apiToken, hookToken, prevHookToken = "ul-api-token-93a1d0", "ul-hook-token-c27e44", "ul-prev-hook-token-5e1b07"
	cfg := userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: hookToken, APIToken: apiToken}
	fake := userliketest.NewServer(cfg)
	defer fake.Close()
	c, err := userlike.NewClient(fake.URL, apiToken)
	if err != nil {
		t.Fatal(err)
	}
	h, err := userlike.NewHandler(func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
		userlike.WithWebhookHeader("API-SECURITY-TOKEN", hookToken), userlike.WithPreviousWebhookHeader("API-SECURITY-TOKEN", prevHookToken))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), "c1", userlike.Message("hi")); err != nil {
		t.Fatal(err)
	}
	calls := fake.Received()
	// One release number for every package, in every default User-Agent.
	if ua := calls[0].RawHeader().Get("User-Agent"); ua != "botwire-userlike/"+version.Version || userlike.Version != version.Version {
		t.Errorf("User-Agent %q, Version %q; want botwire-userlike/%s", ua, userlike.Version, version.Version)
	}
	for _, secret := range []string{apiToken, hookToken, prevHookToken} {
		secrettest.Check(t, secret, c, h, fake, &cfg, &calls[0], &calls)
	}
}
