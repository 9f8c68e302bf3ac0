package onetalk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const testURL = "https://onetalk-api.taptalk.io/api/visitor/v1/webhook/chatbot/custom/2178/2619482363"

// newMockClient returns a client on an httpmock transport (not the global
// one, so tests run in parallel) with millisecond backoff.
func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := NewClient(testURL, testSecret, opts...)
	require.NoError(t, err)
	return c, mt
}

func status(code int, header ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(code, `{"success":false,"message":"status `+fmt.Sprint(code)+`"}`)
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	}
}

func TestClientRequests(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(c *Client) error{
		"send_messages": func(c *Client) error {
			return c.SendMessages(ctx, "FBED34A1EF", NewText("Hi, what's your name?"),
				NewReplyButtons("Pick one", ReplyButton{ID: "/a", Title: "A"}))
		},
		"handover_case": func(c *Client) error {
			return c.HandoverCase(ctx, "FBED34A1EF", HandoverCase{TopicID: 123, ChatbotHandoverSummary: "refund"})
		},
		"close_case": func(c *Client) error {
			return c.CloseCase(ctx, "FBED34A1EF", CloseCase{SendClosingMessage: true})
		},
		// The doc marks handoverCase and closeCase "Optional".
		"handover_case_bare": func(c *Client) error {
			return c.Do(ctx, &WebhookRequest{CaseID: "FBED34A1EF", EventType: EventHandoverCase})
		},
		"close_case_bare": func(c *Client) error {
			return c.Do(ctx, &WebhookRequest{CaseID: "FBED34A1EF", EventType: EventCloseCase})
		},
		"update_case": func(c *Client) error {
			return c.UpdateCase(ctx, "FBED34A1EF", UpdateCase{AgentRemark: String(""), IsJunk: Bool(false)})
		},
		"update_contact": func(c *Client) error {
			return c.UpdateContact(ctx, "FBED34A1EF", UpdateContact{FullName: String("John Doe"), Alias: String(""),
				CustomFields: map[string]string{"birthday": "2000-12-31"}})
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			var body []byte
			mt.RegisterResponder(http.MethodPost, testURL, func(r *http.Request) (*http.Response, error) {
				assert.Equal(t, testSecret, r.Header.Get("Secret-Key"))
				assert.Empty(t, r.Header.Get("X-Secret-Key"), "X-Secret-Key is the inbound header")
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "botwire-onetalk/"))
				body, _ = io.ReadAll(r.Body)
				return httpmock.NewStringResponse(200, `{"success":true,"message":""}`), nil
			})
			require.NoError(t, call(c))
			assert.Equal(t, 1, mt.GetTotalCallCount())
			golden.JSON(t, "onetalk/golden/client_"+name+".json", body)
		})
	}
}

func TestClientRetryPolicy(t *testing.T) {
	ctx := context.Background()
	send := func(c *Client) error { return c.SendMessages(ctx, "C1", NewText("hi")) }
	update := func(c *Client) error { return c.UpdateContact(ctx, "C1", UpdateContact{Alias: String("J")}) }
	closeQuiet := func(c *Client) error { return c.CloseCase(ctx, "C1", CloseCase{}) }
	closeBare := func(c *Client) error { return c.Do(ctx, &WebhookRequest{CaseID: "C1", EventType: EventCloseCase}) }
	closeLoud := func(c *Client) error { return c.CloseCase(ctx, "C1", CloseCase{SendClosingMessage: true}) }
	handoverBare := func(c *Client) error { return c.Do(ctx, &WebhookRequest{CaseID: "C1", EventType: EventHandoverCase}) }
	dialErr := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	resetErr := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	tests := []struct {
		name      string
		call      func(*Client) error
		responder httpmock.Responder
		opts      []Option
		attempts  int
		status    int // of the final *APIError; 0 when none
	}{
		{"503 is retried for a message", send, status(503), nil, 4, 503},
		{"429 is retried for a message", send, status(429), nil, 4, 429},
		{"500 on a message send is not retried", send, status(500), nil, 1, 500},
		{"502 on a message send is not retried", send, status(502), nil, 1, 502},
		{"500 on update_contact is retried", update, status(500), nil, 4, 500},
		{"500 on a quiet close_case is retried", closeQuiet, status(500), nil, 4, 500},
		{"500 on a close_case without closeCase is retried", closeBare, status(500), nil, 4, 500},
		{"500 on a close_case with a closing message is not retried", closeLoud, status(500), nil, 1, 500},
		{"500 on a handover_case without handoverCase is not retried", handoverBare, status(500), nil, 1, 500},
		{"400 is never retried", update, status(400), nil, 1, 400},
		{"dial error is retried for a message", send, dialErr, nil, 4, 0},
		{"reset after sending a message is not retried", send, resetErr, nil, 1, 0},
		{"reset on update_contact is retried", update, resetErr, nil, 4, 0},
		{"RetryAlways retries a message on 500", send, status(500), []Option{WithRetryPolicy(RetryAlways)}, 4, 500},
		{"RetryNever does not retry 503", send, status(503), []Option{WithRetryPolicy(RetryNever)}, 1, 503},
		{"WithMaxRetries(1)", send, status(503), []Option{WithMaxRetries(1)}, 2, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t, tt.opts...)
			mt.RegisterResponder(http.MethodPost, testURL, tt.responder)
			err := tt.call(c)
			require.Error(t, err)
			assert.Equal(t, tt.attempts, mt.GetTotalCallCount(), "attempts")
			var apiErr *APIError
			if tt.status != 0 {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				assert.Contains(t, string(apiErr.Body), "status")
			} else {
				assert.False(t, errors.As(err, &apiErr))
			}
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestClientRecoversAfterRetry(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, testURL, httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewStringResponse(503, ""),
		httpmock.NewStringResponse(200, `{"success":true}`),
	}))
	require.NoError(t, c.SendMessages(context.Background(), "C1", NewText("hi")))
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestClientHonoursRetryAfter(t *testing.T) {
	c, mt := newMockClient(t)
	first := true
	mt.RegisterResponder(http.MethodPost, testURL, func(r *http.Request) (*http.Response, error) {
		if first {
			first = false
			return status(429, "Retry-After", "1")(r)
		}
		return httpmock.NewStringResponse(200, ""), nil
	})
	start := time.Now()
	require.NoError(t, c.SendMessages(context.Background(), "C1", NewText("hi")))
	assert.Equal(t, 2, mt.GetTotalCallCount())
	// The backoff range is 1-2 ms; only Retry-After explains a wait of ~1 s.
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

func TestClientRetryAfterBeyondDeadline(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, testURL, status(503, "Retry-After", "120"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := c.SendMessages(ctx, "C1", NewText("hi"))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 120*time.Second, apiErr.RetryAfter)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "a wait past the deadline must not start")
	assert.NoError(t, ctx.Err(), "the client returned at once instead of sleeping")
}

func TestClientContextCancel(t *testing.T) {
	c, mt := newMockClient(t, WithRetryWait(time.Second, time.Second))
	mt.RegisterResponder(http.MethodPost, testURL, status(503))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := c.SendMessages(ctx, "C1", NewText("hi"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "the backoff wait did not end with ctx")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestClientRefusesInvalidRequestOffline(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterNoResponder(status(200))
	err := c.SendMessages(context.Background(), "C1", NewReplyButtons("b",
		ReplyButton{"1", "A"}, ReplyButton{"2", "B"}, ReplyButton{"3", "C"}, ReplyButton{"4", "D"}))
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.ErrorContains(t, err, "messages[0].whatsappba.interactive.buttonAction.buttons: at most 3 buttons")
	assert.ErrorIs(t, c.SendMessages(context.Background(), "", NewText("x")), ErrInvalidRequest)
	assert.ErrorIs(t, c.Do(context.Background(), nil), ErrInvalidRequest)
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestClientRejected(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, testURL, httpmock.NewStringResponder(200, `{"success":false,"message":"case is closed"}`))
	err := c.SendMessages(context.Background(), "C1", NewText("hi"))
	assert.ErrorIs(t, err, ErrRejected)
	assert.ErrorContains(t, err, "case is closed")

	// The analog answer of the custom-channel API is a success.
	mt.RegisterResponder(http.MethodPost, testURL, httpmock.NewBytesResponder(200,
		golden.Read(t, "onetalk/external/customchannel_oneTalkURL_response_analog.json")))
	assert.NoError(t, c.SendMessages(context.Background(), "C1", NewText("hi")))
	// So is any body that does not say otherwise.
	mt.RegisterResponder(http.MethodPost, testURL, httpmock.NewStringResponder(200, `OK`))
	assert.NoError(t, c.SendMessages(context.Background(), "C1", NewText("hi")))
}

func TestNewClient(t *testing.T) {
	_, err := NewClient(testURL, "")
	assert.ErrorIs(t, err, ErrNoSecret)
	for _, u := range []string{"", "onetalk-api.taptalk.io/x", "ftp://x/y", "http://"} {
		_, err = NewClient(u, testSecret)
		assert.Error(t, err, u)
	}
	_, err = NewClient(testURL, testSecret, WithAsync(1, 1))
	assert.ErrorContains(t, err, "NewClient does not take WithAsync")
	c, err := NewClient(testURL, testSecret)
	require.NoError(t, err)
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c)} {
		assert.NotContains(t, s, testSecret)
	}
}

func TestClientDoesNotMutateHTTPClient(t *testing.T) {
	hc := &http.Client{Transport: httpmock.NewMockTransport()}
	_, err := NewClient(testURL, testSecret, WithHTTPClient(hc), WithTimeout(time.Second))
	require.NoError(t, err)
	assert.Zero(t, hc.Timeout)
}
