package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	edecho "github.com/botwire/botwire/examples/easydialog-echo/echo"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// A rotation rehearsed with the command: a bot that accepts the new
// credential and the old one answers 200 to a delivery authenticated with
// either, and 401 to a third; the output shows neither credential.
func TestSendRehearsesARotation(t *testing.T) {
	const old = "cli-old-secret-93be21"
	ot, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithPreviousSecrets(old))
	require.NoError(t, err)
	ed, err := easydialog.NewHandler(secret, edecho.Bot, easydialog.WithPreviousKeys(old))
	require.NoError(t, err)
	ul, err := userlike.NewHandler(func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
		userlike.WithWebhookHeader("API-SECURITY-TOKEN", secret), userlike.WithPreviousWebhookHeader("API-SECURITY-TOKEN", old))
	require.NoError(t, err)
	um, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil },
	}, ultimate.WithWebhookHeader("X-Ultimate-Token", secret), ultimate.WithPreviousWebhookHeader("X-Ultimate-Token", old))
	require.NoError(t, err)
	bc, err := botcopy.NewHandler(secret, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.PauseFor(10), nil
	}, botcopy.WithPreviousAccessTokens(old))
	require.NoError(t, err)
	for vendor, b := range map[string]struct {
		h       http.Handler
		fixture string
		extra   []string
	}{
		"onetalk":    {ot, "inbound_request", nil},
		"easydialog": {ed, "request_example", nil},
		"userlike":   {ul, "inbound_message_aliz-ai_hello", []string{"--header", "API-SECURITY-TOKEN"}},
		"ultimate":   {um, "webhook_sendMessage_text", []string{"--header", "X-Ultimate-Token"}},
		"botcopy":    {bc, "webhook_step_two", nil},
	} {
		t.Run(vendor, func(t *testing.T) {
			srv := httptest.NewServer(b.h)
			defer srv.Close()
			for _, c := range []struct {
				cred string
				code int
			}{{old, 0}, {secret, 0}, {"cli-third-secret-0c11", 1}} {
				args := append([]string{"send", vendor, b.fixture, "--to", srv.URL, "--secret", c.cred}, b.extra...)
				code, out, errOut := botwire(t, "", args...)
				assert.Equal(t, c.code, code, "%s\n%s", out, errOut)
				assert.NotContains(t, out+errOut, c.cred)
			}
		})
	}
}
