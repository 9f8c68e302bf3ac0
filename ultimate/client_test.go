package ultimate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const (
	testKey   = "api-key-0123456789"
	testBotID = "618a30beee4e8e87d2f94015"
)

func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := NewClient(testKey, testBotID, opts...)
	require.NoError(t, err)
	return c, mt
}

func TestClientRequests(t *testing.T) {
	ctx := context.Background()
	calls := map[string]struct {
		url  string
		call func(*Client) error
	}{
		"start_session": {DefaultBaseURL + ConversePath, func(c *Client) error {
			return c.StartSession(ctx, "00000001", MetaData{Key: "userId", Value: "54321"}, MetaData{Key: "email", Value: "a@b.c", Sanitize: true})
		}},
		"send_text":     {DefaultBaseURL + ConversePath, func(c *Client) error { return c.SendText(ctx, "00000001", "I want to make a refund") }},
		"select_card":   {DefaultBaseURL + ConversePath, func(c *Client) error { return c.SelectCard(ctx, "00000001", "secondCardButton", 1) }},
		"select_card_0": {DefaultBaseURL + ConversePath, func(c *Client) error { return c.SelectCard(ctx, "00000001", "firstCardButton", 0) }},
		"send_metadata": {DefaultBaseURL + ConversePath, func(c *Client) error {
			return c.SendMetadata(ctx, "00000001", MetaData{Key: "plan", Value: "gold"})
		}},
		"end_session": {DefaultBaseURL + ConversePath, func(c *Client) error { return c.EndSession(ctx, "00000001") }},
		"widget_escalation_success": {DefaultBaseURL + WidgetMessagePath, func(c *Client) error {
			return c.SendToWidget(ctx, WidgetUpdate{PlatformConversationID: "123456789", EventType: WidgetEscalationSuccess,
				Agent: "John Smith", AgentAvatar: "https://example.com/avatar/john-smith.png"})
		}},
		"widget_message": {DefaultBaseURL + WidgetMessagePath, func(c *Client) error {
			return c.SendToWidget(ctx, WidgetUpdate{PlatformConversationID: "123456789", EventType: WidgetTextMessage, Text: "Hi, I'm John.", Agent: "John Smith"})
		}},
		"widget_queue_update": {DefaultBaseURL + WidgetMessagePath, func(c *Client) error {
			return c.SendToWidget(ctx, WidgetUpdate{PlatformConversationID: "123456789", EventType: WidgetEscalationQueueUpdate, QueuePosition: "3", WaitingTime: "120"})
		}},
	}
	for name, tc := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			var body []byte
			mt.RegisterResponder(http.MethodPost, tc.url, func(r *http.Request) (*http.Response, error) {
				assert.Equal(t, testKey, r.Header.Get("Authorization"), "raw key, no Bearer")
				assert.Equal(t, testBotID, r.Header.Get("botid"))
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				body, _ = io.ReadAll(r.Body)
				return httpmock.NewStringResponse(200, ""), nil
			})
			require.NoError(t, tc.call(c))
			assert.Equal(t, 1, mt.GetTotalCallCount())
			golden.JSON(t, "ultimate/golden/client_"+name+".json", body)
		})
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{{400, ErrBadRequest}, {401, ErrUnauthorized}, {404, ErrBotNotFound}}
	for _, tt := range tests {
		c, mt := newMockClient(t)
		mt.RegisterResponder(http.MethodPost, DefaultBaseURL+ConversePath, httpmock.NewStringResponder(tt.status, `{"message":"nope"}`))
		err := c.SendText(context.Background(), "c", "hi")
		assert.ErrorIs(t, err, tt.want)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, tt.status, apiErr.StatusCode)
		assert.Equal(t, 1, mt.GetTotalCallCount(), "4xx is never retried")
		assert.NotContains(t, err.Error(), testKey)
	}
}

func TestClientRetryPolicy(t *testing.T) {
	ctx := context.Background()
	dial := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	status := func(code int) httpmock.Responder { return httpmock.NewStringResponder(code, "") }
	tests := []struct {
		name     string
		call     func(*Client) error
		resp     httpmock.Responder
		attempts int
	}{
		{"500 on a message is not retried", func(c *Client) error { return c.SendText(ctx, "c", "hi") }, status(500), 1},
		{"500 on startSession is not retried", func(c *Client) error { return c.StartSession(ctx, "c") }, status(500), 1},
		{"500 on endSession is retried", func(c *Client) error { return c.EndSession(ctx, "c") }, status(500), 4},
		{"500 on metadata is retried", func(c *Client) error { return c.SendMetadata(ctx, "c", MetaData{Key: "k", Value: "v"}) }, status(500), 4},
		{"503 on a message is retried", func(c *Client) error { return c.SendText(ctx, "c", "hi") }, status(503), 4},
		{"429 on a message is retried", func(c *Client) error { return c.SendText(ctx, "c", "hi") }, status(429), 4},
		{"dial error on a message is retried", func(c *Client) error { return c.SendText(ctx, "c", "hi") }, dial, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			mt.RegisterNoResponder(tt.resp)
			require.Error(t, tt.call(c))
			assert.Equal(t, tt.attempts, mt.GetTotalCallCount())
		})
	}
}

func TestClientValidatesOffline(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterNoResponder(httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	assert.ErrorIs(t, c.SendText(ctx, "c", ""), ErrInvalidRequest)
	assert.ErrorIs(t, c.SelectCard(ctx, "c", "b", -1), ErrInvalidRequest)
	assert.ErrorIs(t, c.StartSession(ctx, ""), ErrInvalidRequest)
	assert.ErrorIs(t, c.SendMetadata(ctx, "c"), ErrInvalidRequest)
	assert.ErrorIs(t, c.SendToWidget(ctx, WidgetUpdate{PlatformConversationID: "c", EventType: "chat"}), ErrInvalidRequest)
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestClientContextCancel(t *testing.T) {
	c, mt := newMockClient(t, WithRetryWait(time.Second, time.Second))
	mt.RegisterNoResponder(httpmock.NewStringResponder(503, ""))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	err := c.SendText(ctx, "c", "hi")
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
}

func TestNewClient(t *testing.T) {
	_, err := NewClient("", testBotID)
	assert.ErrorIs(t, err, ErrNoAPIKey)
	_, err = NewClient(testKey, "")
	assert.ErrorIs(t, err, ErrNoBotID)
	_, err = NewClient(testKey, testBotID, WithBaseURL("api.ultimate.ai"))
	assert.Error(t, err)
	_, err = NewClient(testKey, testBotID, WithBasicAuth("u", "p"))
	assert.ErrorContains(t, err, "NewClient does not take WithBasicAuth")
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "http://localhost:9/base/converse/chat", httpmock.NewStringResponder(200, ""))
	c, err := NewClient(testKey, testBotID, WithBaseURL("http://localhost:9/base/"), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	require.NoError(t, c.EndSession(context.Background(), "c"))
	for _, f := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(f, c), testKey)
		assert.NotContains(t, fmt.Sprintf(f, *c), testKey)
	}
}

// A Zendesk org-wide key goes with an organizationid header; WithHeader
// sends what the docs add later, and cannot replace the client's own.
func TestClientOrganizationIDAndHeaders(t *testing.T) {
	c, mt := newMockClient(t, WithOrganizationID("org-77"), WithHeader("X-Trace", "t1"))
	var got http.Header
	mt.RegisterResponder(http.MethodPost, DefaultBaseURL+ConversePath, func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return httpmock.NewStringResponse(200, ""), nil
	})
	require.NoError(t, c.SendText(context.Background(), "00000001", "hi"))
	assert.Equal(t, "org-77", got.Get("organizationid"))
	assert.Equal(t, "t1", got.Get("X-Trace"))
	assert.Equal(t, testKey, got.Get("Authorization"))
	assert.Equal(t, testBotID, got.Get("botid"))

	for _, name := range []string{"Authorization", "BOTID", "content-type"} {
		_, err := NewClient(testKey, testBotID, WithHeader(name, "x"))
		assert.Error(t, err, name)
	}
	_, err := NewClient(testKey, testBotID, WithOrganizationID(""))
	assert.Error(t, err)
	_, err = NewChatHandler(ChatCallbacks{}, WithoutAuthentication(), WithOrganizationID("org"))
	assert.Error(t, err, "a client option on a handler is refused")
}
