package ultimatetest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
)

const key, botID = "k", "618a30beee4e8e87d2f94015"

type recorder struct {
	mu   sync.Mutex
	msgs []*ultimate.Message
}

func (r *recorder) callbacks(escalateErr error) ultimate.ChatCallbacks {
	return ultimate.ChatCallbacks{
		OnMessage: func(_ context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.msgs = append(r.msgs, m)
			return nil
		},
		OnEscalate:   func(context.Context, *ultimate.ChatEvent, *ultimate.Escalation) error { return escalateErr },
		OnTeamOnline: func(context.Context, *ultimate.ChatEvent, *ultimate.TeamOnlineQuery) (bool, error) { return true, nil },
	}
}

func (r *recorder) last() *ultimate.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[len(r.msgs)-1]
}

func setup(t *testing.T, escalateErr error) (*ultimatetest.Server, *ultimate.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	chat, err := ultimate.NewChatHandler(rec.callbacks(escalateErr), ultimate.WithWebhookHeader("X-Hook", "h"))
	require.NoError(t, err)
	actions, err := ultimate.NewActionHandler(func(_ context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
		return []ultimate.ActionResult{{Key: "status", Value: "packed (" + r.String("orderId") + ")"}}, nil
	}, ultimate.WithWebhookHeader("X-Hook", "h"))
	require.NoError(t, err)
	fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: key, BotID: botID, Bot: chat, ActionBot: actions,
		WebhookHeader: "X-Hook", WebhookToken: "h"})
	t.Cleanup(fake.Close)
	c, err := ultimate.NewClient(key, botID, ultimate.WithBaseURL(fake.URL), ultimate.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	return fake, c, rec
}

func wait(t *testing.T, fake *ultimatetest.Server, n int) []ultimatetest.Delivery {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := fake.WaitDeliveries(ctx, n)
	require.NoError(t, err)
	return ds
}

func TestScriptedAgent(t *testing.T) {
	fake, c, rec := setup(t, nil)
	ctx := context.Background()
	require.NoError(t, c.StartSession(ctx, "conv1"))
	wait(t, fake, 1)
	assert.Len(t, rec.last().Buttons, 3)

	require.NoError(t, c.SendText(ctx, "conv1", "Products"))
	wait(t, fake, 2)
	assert.Equal(t, ultimate.MessageCarousel, rec.last().Type)
	require.NoError(t, c.SelectCard(ctx, "conv1", "Tell me more", 0))
	wait(t, fake, 3)
	assert.Equal(t, "You picked MacBook Air (Tell me more).", rec.last().Text)

	require.NoError(t, c.SendText(ctx, "conv1", "Order status"))
	require.NoError(t, c.SendText(ctx, "conv1", "A-7"))
	ds := wait(t, fake, 6)
	assert.Equal(t, "actions", ds[4].Webhook)
	assert.Equal(t, "Order A-7: packed (A-7).", rec.last().Text)

	require.NoError(t, c.SendText(ctx, "conv1", "Talk to a human"))
	ds = wait(t, fake, 8)
	assert.Equal(t, ultimate.EventIsTeamOnline, ds[6].EventType)
	assert.Equal(t, ultimate.EventEscalate, ds[7].EventType)
	assert.Equal(t, 200, ds[7].StatusCode)

	require.NoError(t, c.SendText(ctx, "conv1", "hello"))
	wait(t, fake, 9)
	assert.Equal(t, "You said: hello", rec.last().Text)
	for _, call := range fake.Received() {
		assert.Equal(t, key, call.RawHeader().Get("Authorization"))
		assert.Equal(t, "[REDACTED]", call.Header.Get("Authorization"), "masked in what a test prints")
		assert.Equal(t, 200, call.Status)
	}
}

func TestFailedEscalationIsReported(t *testing.T) {
	fake, c, rec := setup(t, ultimate.WithStatus(http.StatusServiceUnavailable, errors.New("no agents")))
	require.NoError(t, c.SendText(context.Background(), "conv1", "Talk to a human"))
	ds := wait(t, fake, 3)
	assert.Equal(t, 503, ds[1].StatusCode)
	assert.Equal(t, "Sorry, I could not reach a human. Please try again.", rec.last().Text)
}

func TestAPIChecks(t *testing.T) {
	fake, c, _ := setup(t, nil)
	ctx := context.Background()
	other, err := ultimate.NewClient(key, "000000000000000000000000", ultimate.WithBaseURL(fake.URL))
	require.NoError(t, err)
	assert.ErrorIs(t, other.SendText(ctx, "c", "hi"), ultimate.ErrBotNotFound)
	wrong, err := ultimate.NewClient("bad", botID, ultimate.WithBaseURL(fake.URL))
	require.NoError(t, err)
	assert.ErrorIs(t, wrong.SendText(ctx, "c", "hi"), ultimate.ErrUnauthorized)

	fake.FailNext(1, 503)
	require.NoError(t, c.EndSession(ctx, "c"), "a 503 is retried")
	require.NoError(t, c.SendToWidget(ctx, ultimate.WidgetUpdate{PlatformConversationID: "c", EventType: ultimate.WidgetEscalationSuccess, Agent: "Ann"}))
	calls := fake.Received()
	assert.Equal(t, ultimate.WidgetEscalationSuccess, calls[len(calls)-1].Widget.EventType)

	req, _ := http.NewRequest(http.MethodPost, fake.URL+ultimate.ConversePath, bytes.NewReader(golden.Read(t, "ultimate/doc/request_body_draft.json")))
	req.Header.Set("Authorization", key)
	req.Header.Set("botid", botID)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode, "the draft's body is refused")
}

// Both APIs have an eventType "message": the fake tells a widget call from
// a converse call by the path it was posted to, not by its body.
func TestReceivedByPath(t *testing.T) {
	fake, c, _ := setup(t, nil)
	ctx := context.Background()
	type call struct {
		Path     string
		Converse *ultimate.ConverseRequest
		Widget   *ultimate.WidgetUpdate
		Status   int
	}
	agentText := ultimate.WidgetUpdate{PlatformConversationID: "c", EventType: ultimate.WidgetTextMessage, Text: "Hi, Ann here", Agent: "Ann"}
	success := ultimate.WidgetUpdate{PlatformConversationID: "c", EventType: ultimate.WidgetEscalationSuccess, Agent: "Ann"}
	tests := []struct {
		name string
		send func() error
		want call
	}{
		{"converse message", func() error { return c.SendText(ctx, "c", "hi") },
			call{Path: ultimate.ConversePath, Converse: &ultimate.ConverseRequest{PlatformConversationID: "c",
				EventType: ultimate.ConverseMessage, Text: "hi"}, Status: 200}},
		{"widget message", func() error { return c.SendToWidget(ctx, agentText) },
			call{Path: ultimate.WidgetMessagePath, Widget: &agentText, Status: 200}},
		{"widget escalationSuccess", func() error { return c.SendToWidget(ctx, success) },
			call{Path: ultimate.WidgetMessagePath, Widget: &success, Status: 200}},
		{"widget body posted to converse", func() error {
			req, _ := http.NewRequest(http.MethodPost, fake.URL+ultimate.ConversePath,
				bytes.NewReader([]byte(`{"platformConversationId":"c","eventType":"escalationSuccess"}`)))
			req.Header.Set("Authorization", key)
			req.Header.Set("botid", botID)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}, call{Path: ultimate.ConversePath, Converse: &ultimate.ConverseRequest{PlatformConversationID: "c",
			EventType: "escalationSuccess"}, Status: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			require.NoError(t, tt.send())
			recs := fake.Received()
			require.Len(t, recs, 1)
			r := recs[0]
			got := call{Path: r.Path, Converse: r.Converse, Widget: r.Widget, Status: r.Status}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Received() mismatch (-want +got):\n%s", diff)
			}
			for _, h := range []http.Header{r.Header, r.RawHeader()} {
				for name := range h {
					assert.NotContains(t, strings.ToLower(name), "ultimatetest", "the fake's own bookkeeping leaks into the headers")
				}
			}
		})
	}
}

func TestWebhookURL(t *testing.T) {
	rec := &recorder{}
	chat, err := ultimate.NewChatHandler(rec.callbacks(nil), ultimate.WithBasicAuth("u", "p"))
	require.NoError(t, err)
	srv := httptest.NewServer(chat)
	defer srv.Close()
	fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: key, BotID: botID, BotURL: srv.URL, WebhookUser: "u", WebhookPassword: "p"})
	defer fake.Close()
	c, err := ultimate.NewClient(key, botID, ultimate.WithBaseURL(fake.URL))
	require.NoError(t, err)
	require.NoError(t, c.StartSession(context.Background(), "x"))
	ds := wait(t, fake, 1)
	assert.Equal(t, 200, ds[0].StatusCode)
	assert.Equal(t, "x", rec.last().PlatformConversationID)
}
