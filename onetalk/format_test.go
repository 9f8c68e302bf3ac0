package onetalk_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/internal/secrettest"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
)

// No formatting verb on a value or a pointer of a client, a handler or the
// fake shows the secret or a digest of it.
func TestNoVerbShowsTheSecret(t *testing.T) {
	const secret = "sk-onetalk-7f3a9c1e"
	const previous = "sk-onetalk-old-2b8d" // a rotation's: never shown either
	cfg := onetalktest.Config{Secret: secret}
	fake := onetalktest.NewServer(cfg)
	defer fake.Close()
	c, err := onetalk.NewClient(fake.URL, secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithPreviousSecrets(previous))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMessages(context.Background(), "C1", onetalk.NewText("hi")); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Received()
	// One release number for every package, in every default User-Agent.
	if ua := reqs[0].RawHeader().Get("User-Agent"); ua != "botwire-onetalk/"+version.Version || onetalk.Version != version.Version {
		t.Errorf("User-Agent %q, Version %q; want botwire-onetalk/%s", ua, onetalk.Version, version.Version)
	}
	secrettest.Check(t, secret, c, h, fake, &cfg, &reqs[0], &reqs)
	secrettest.Check(t, previous, h)
}
