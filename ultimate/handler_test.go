package ultimate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const (
	hookUser = "ultimate"
	hookPass = "s3cret-pass"
)

func testLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func call(body string, authed bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/ultimate/chat", strings.NewReader(body))
	if authed {
		r.SetBasicAuth(hookUser, hookPass)
	}
	return r
}

func TestChatHandlerBehaviourTable(t *testing.T) {
	msg := string(golden.Read(t, "ultimate/doc/webhook_sendMessage_buttons.json"))
	esc := string(golden.Read(t, "ultimate/external/webhook_escalate_zendesk-doc.json"))
	online := string(golden.Read(t, "ultimate/external/webhook_isTeamOnline_zendesk-doc.json"))
	widget := string(golden.Read(t, "ultimate/external/webhook_converse_widgetMessage_template-postman.json"))
	type result struct {
		status int
		body   string
		calls  int
	}
	tests := []struct {
		name    string
		req     *http.Request
		cb      func(calls *int) ChatCallbacks
		maxBody int64
		want    result
	}{
		{name: "GET is 405", req: httptest.NewRequest(http.MethodGet, "/", nil), want: result{status: 405}},
		{name: "no credentials is 401", req: call(msg, false), want: result{status: 401}},
		{name: "wrong password is 401", req: func() *http.Request {
			r := call(msg, false)
			r.SetBasicAuth(hookUser, "guess")
			return r
		}(), want: result{status: 401}},
		{name: "over the limit is 413", req: call(msg, true), maxBody: 64, want: result{status: 413}},
		{name: "malformed JSON is 400", req: call(`{"botId":`, true), want: result{status: 400}},
		{name: "no data is 400", req: call(`{"botId":"b"}`, true), want: result{status: 400}},
		{name: "unknown event is 200", req: call(`{"botId":"b","data":{"eventType":"typing"}}`, true), want: result{status: 200}},
		{name: "message is acknowledged", req: call(msg, true), want: result{status: 200, calls: 1}},
		{name: "message callback error is 500", req: call(msg, true), want: result{status: 500, calls: 1},
			cb: func(n *int) ChatCallbacks {
				return ChatCallbacks{OnMessage: func(context.Context, *ChatEvent, *Message) error { *n++; return errors.New("socket closed") }}
			}},
		{name: "escalation success is 200", req: call(esc, true), want: result{status: 200, calls: 1}},
		{name: "escalation failure takes the callback's status", req: call(esc, true), want: result{status: 409, calls: 1},
			cb: func(n *int) ChatCallbacks {
				return ChatCallbacks{OnEscalate: func(context.Context, *ChatEvent, *Escalation) error {
					*n++
					return WithStatus(http.StatusConflict, errors.New("no agent"))
				}}
			}},
		{name: "escalation without a callback is 501", req: call(esc, true), want: result{status: 501},
			cb: func(*int) ChatCallbacks { return ChatCallbacks{} }},
		{name: "team online answers isOnline", req: call(online, true), want: result{status: 200, body: `{"isOnline":true}`, calls: 1}},
		{name: "team offline answers isOnline false", req: call(online, true), want: result{status: 200, body: `{"isOnline":false}`, calls: 1},
			cb: func(n *int) ChatCallbacks {
				return ChatCallbacks{OnTeamOnline: func(context.Context, *ChatEvent, *TeamOnlineQuery) (bool, error) { *n++; return false, nil }}
			}},
		{name: "widget event reaches its callback", req: call(widget, true), want: result{status: 200, calls: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			cb := ChatCallbacks{
				OnMessage: func(_ context.Context, e *ChatEvent, m *Message) error {
					calls++
					assert.Equal(t, "session1", m.PlatformConversationID)
					return nil
				},
				OnEscalate:   func(context.Context, *ChatEvent, *Escalation) error { calls++; return nil },
				OnTeamOnline: func(context.Context, *ChatEvent, *TeamOnlineQuery) (bool, error) { calls++; return true, nil },
				OnWidgetEvent: func(_ context.Context, _ *ChatEvent, w *WidgetEvent) error {
					calls++
					assert.Equal(t, "theWidgetTeam", w.Text)
					return nil
				},
			}
			if tt.cb != nil {
				cb = tt.cb(&calls)
			}
			var logs bytes.Buffer
			opts := []Option{WithBasicAuth(hookUser, hookPass), WithLogger(testLogger(&logs))}
			if tt.maxBody > 0 {
				opts = append(opts, WithMaxBodyBytes(tt.maxBody))
			}
			h, err := NewChatHandler(cb, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.want.status, rec.Code, rec.Body.String())
			assert.Equal(t, tt.want.calls, calls)
			if tt.want.body != "" {
				golden.JSONEq(t, []byte(tt.want.body), rec.Body.Bytes())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
			if tt.want.status == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
			assert.NotContains(t, logs.String(), hookPass)
		})
	}
}

func TestActionHandler(t *testing.T) {
	body := string(golden.Read(t, "ultimate/external/webhook_action_template-postman.json"))
	h, err := NewActionHandler(func(_ context.Context, r *ActionRequest) ([]ActionResult, error) {
		switch r.Name {
		case "updateUserBalanace":
			return []ActionResult{{Key: "newBalance", Value: r.String("balance")}, {Key: "user", Value: r.String("userId"), Sanitize: true}}, nil
		case "fail":
			return nil, WithStatus(http.StatusBadGateway, errors.New("core banking down"))
		}
		return nil, nil
	}, WithWebhookHeader("X-Ultimate-Token", "tok"))
	require.NoError(t, err)
	post := func(b string, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/ultimate/actions", strings.NewReader(b))
		r.Header.Set("X-Ultimate-Token", token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	rec := post(body, "tok")
	require.Equal(t, 200, rec.Code)
	golden.JSONEq(t, []byte(`{"results":[{"key":"newBalance","value":"1234.56"},{"key":"user","value":"aaaaaa123","sanitize":true}]}`), rec.Body.Bytes())
	rec = post(`{"name":"other","data":[]}`, "tok")
	golden.JSONEq(t, []byte(`{"results":[]}`), rec.Body.Bytes())
	assert.Equal(t, 502, post(`{"name":"fail","data":[]}`, "tok").Code)
	assert.Equal(t, 401, post(body, "nope").Code)
	assert.Equal(t, 400, post(`[1]`, "tok").Code)
	assert.Equal(t, 400, post(`{"data":{}}`, "tok").Code)
}

func TestHandlersFailClosed(t *testing.T) {
	_, err := NewChatHandler(ChatCallbacks{})
	assert.ErrorIs(t, err, ErrNoAuthentication)
	_, err = NewActionHandler(func(context.Context, *ActionRequest) ([]ActionResult, error) { return nil, nil })
	assert.ErrorIs(t, err, ErrNoAuthentication)
	_, err = NewChatHandler(ChatCallbacks{}, WithBasicAuth("u", ""))
	assert.Error(t, err)
	_, err = NewChatHandler(ChatCallbacks{}, WithBasicAuth("u", "p"), WithoutAuthentication())
	assert.Error(t, err)
	_, err = NewChatHandler(ChatCallbacks{}, WithoutAuthentication(), WithBaseURL("https://x"))
	assert.ErrorContains(t, err, "does not take WithBaseURL")
	h, err := NewChatHandler(ChatCallbacks{}, WithBasicAuth("u", "very-secret"), WithWebhookHeader("X-T", "also-secret"))
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v"} {
		for _, s := range []string{fmt.Sprintf(f, h), fmt.Sprintf(f, *h)} {
			assert.NotContains(t, s, "very-secret")
			assert.NotContains(t, s, "also-secret")
		}
	}
}

func TestChatHandlerPanicIs500(t *testing.T) {
	h, err := NewChatHandler(ChatCallbacks{OnMessage: func(context.Context, *ChatEvent, *Message) error { panic("boom") }},
		WithoutAuthentication(), WithLogger(testLogger(nil)))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, call(string(golden.Read(t, "ultimate/doc/webhook_sendMessage_text.json")), false))
	assert.Equal(t, 500, rec.Code)
}
