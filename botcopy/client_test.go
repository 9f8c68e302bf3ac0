package botcopy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const apiKey = "botcopy-api-key-123"

var to = Target{UserID: "user-123", BotID: "bot-456"}

func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := NewClient(apiKey, opts...)
	require.NoError(t, err)
	return c, mt
}

func TestClientPushBodies(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(*Client) error{
		"message": func(c *Client) error { return c.SendMessage(ctx, to, "Hi, I'm Jane. How can I help?") },
		"pause": func(c *Client) error {
			return c.Pause(ctx, to, AgentProfile{Name: "Jane", AvatarURL: "https://example.com/jane.png"})
		},
		"pause_no_agent": func(c *Client) error { return c.Pause(ctx, to, AgentProfile{}) },
		"resume":         func(c *Client) error { return c.Resume(ctx, to, UnpauseDefault) },
		"resume_silent":  func(c *Client) error { return c.Resume(ctx, to, UnpauseNone) },
		"resume_event":   func(c *Client) error { return c.Resume(ctx, to, "WELCOME_BACK") },
		"typing":         func(c *Client) error { return c.Typing(ctx, to) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t, WithMinutesPaused(15))
			var body []byte
			mt.RegisterResponder(http.MethodPost, DefaultBaseURL+PushPath, func(r *http.Request) (*http.Response, error) {
				assert.Equal(t, apiKey, r.Header.Get("Authorization"), "raw key, no Bearer")
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				body, _ = io.ReadAll(r.Body)
				return httpmock.NewStringResponse(200, "{}"), nil
			})
			require.NoError(t, call(c))
			golden.JSON(t, "botcopy/golden/client_push_"+name+".json", body)
		})
	}
}

func TestClientRetryPolicy(t *testing.T) {
	ctx := context.Background()
	dial := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	reset := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	status := func(code int) httpmock.Responder { return httpmock.NewStringResponder(code, "") }
	tests := []struct {
		name     string
		call     func(*Client) error
		resp     httpmock.Responder
		attempts int
	}{
		{"500 on a message is not retried", func(c *Client) error { return c.SendMessage(ctx, to, "hi") }, status(500), 1},
		{"reset on a message is not retried", func(c *Client) error { return c.SendMessage(ctx, to, "hi") }, reset, 1},
		{"500 on typing is retried", func(c *Client) error { return c.Typing(ctx, to) }, status(500), 4},
		{"500 on a pause is retried", func(c *Client) error { return c.Pause(ctx, to, AgentProfile{}) }, status(500), 4},
		{"reset on a silent resume is retried", func(c *Client) error { return c.Resume(ctx, to, UnpauseNone) }, reset, 4},
		{"500 on a silent resume is retried", func(c *Client) error { return c.Resume(ctx, to, UnpauseNone) }, status(500), 4},
		// A resume the user sees ("... has left the conversation") or that
		// fires a Dialogflow event (the bot speaks) is a message send.
		{"500 on a default resume is not retried", func(c *Client) error { return c.Resume(ctx, to, UnpauseDefault) }, status(500), 1},
		{"reset on an empty (default) resume is not retried", func(c *Client) error { return c.Resume(ctx, to, "") }, reset, 1},
		{"500 on an event resume is not retried", func(c *Client) error { return c.Resume(ctx, to, "AGENT_LEFT") }, status(500), 1},
		{"503 on an event resume is retried", func(c *Client) error { return c.Resume(ctx, to, "AGENT_LEFT") }, status(503), 4},
		{"503 on a message is retried", func(c *Client) error { return c.SendMessage(ctx, to, "hi") }, status(503), 4},
		{"dial error on a message is retried", func(c *Client) error { return c.SendMessage(ctx, to, "hi") }, dial, 4},
		{"401 is not retried", func(c *Client) error { return c.Typing(ctx, to) }, status(401), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			mt.RegisterNoResponder(tt.resp)
			err := tt.call(c)
			require.Error(t, err)
			assert.Equal(t, tt.attempts, mt.GetTotalCallCount())
			assert.NotContains(t, err.Error(), apiKey)
		})
	}
}

func TestClientValidatesOffline(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterNoResponder(httpmock.NewStringResponder(200, ""))
	ctx := context.Background()
	assert.ErrorIs(t, c.SendMessage(ctx, to, ""), ErrInvalidPush)
	assert.ErrorIs(t, c.Typing(ctx, Target{BotID: "b"}), ErrInvalidPush)
	assert.ErrorIs(t, c.Push(ctx, nil), ErrInvalidPush)
	assert.ErrorIs(t, c.Push(ctx, &PushEvent{EventType: PushMessage, UserID: "u", BotID: "b", Paused: true, Text: "x"}), ErrInvalidPush)
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestKeepTypingCadenceAndStop(t *testing.T) {
	c, mt := newMockClient(t)
	c.every = 5 * time.Millisecond // the real cadence is 9 s
	var sent atomic.Int32
	mt.RegisterResponder(http.MethodPost, DefaultBaseURL+PushPath, func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		assert.Contains(t, string(b), `"eventType":"user_typing"`)
		sent.Add(1)
		return httpmock.NewStringResponse(200, ""), nil
	})
	stop := c.KeepTyping(context.Background(), to)
	require.Eventually(t, func() bool { return sent.Load() >= 3 }, 2*time.Second, time.Millisecond, "re-sent on the interval")
	stop()
	after := sent.Load()
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, after, sent.Load(), "nothing is sent after stop returns")
	stop() // a second stop is harmless

	ctx, cancel := context.WithCancel(context.Background())
	stop2 := c.KeepTyping(ctx, to)
	cancel()
	done := make(chan struct{})
	go func() { stop2(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("KeepTyping did not end with its context")
	}
	assert.Equal(t, TypingInterval, 9*time.Second)
}

func TestNewClient(t *testing.T) {
	_, err := NewClient("")
	assert.ErrorIs(t, err, ErrNoAPIKey)
	_, err = NewClient(apiKey, WithBaseURL("api.botcopy.com"))
	assert.Error(t, err)
	_, err = NewClient(apiKey, WithResponseDeadline(time.Second))
	assert.ErrorContains(t, err, "NewClient does not take WithResponseDeadline")
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "http://localhost:9/webhooks/handover/push", httpmock.NewStringResponder(200, ""))
	c, err := NewClient(apiKey, WithBaseURL("http://localhost:9/"), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	require.NoError(t, c.Typing(context.Background(), to))
	for _, f := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(f, c)+fmt.Sprintf(f, *c), apiKey)
	}
}

// KeepTyping "shows the indicator now": followed at once by stop it used
// to send nothing, since stop cancelled the first push.
func TestKeepTypingStopAtOnceStillShowsTyping(t *testing.T) {
	c, mt := newMockClient(t)
	var sent atomic.Int32
	mt.RegisterResponder(http.MethodPost, DefaultBaseURL+PushPath, func(*http.Request) (*http.Response, error) {
		time.Sleep(5 * time.Millisecond) // a push in flight when stop is called
		sent.Add(1)
		return httpmock.NewStringResponse(200, ""), nil
	})
	for range 5 {
		before := sent.Load()
		c.KeepTyping(context.Background(), to)()
		assert.Equal(t, before+1, sent.Load(), "one push, finished before stop returned")
	}
}
