package userlike

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

const (
	hookHeader = "API-SECURITY-TOKEN"
	hookToken  = "d8facdb0-7510-495c-9d6e-8c22b9260e7a"
)

func testLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func hook(body string, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/userlike", strings.NewReader(body))
	if token != "" {
		r.Header.Set(hookHeader, token)
	}
	return r
}

func TestHandlerBehaviourTable(t *testing.T) {
	msg := string(golden.Read(t, "userlike/external/inbound_message_aliz-ai_hello.json"))
	tests := []struct {
		name       string
		req        *http.Request
		maxBody    int64
		cb         func(*Event, *Reply) error
		wantStatus int
		wantCalls  int
		wantBody   string // JSON, or "" for an empty body
	}{
		{name: "GET is 405", req: httptest.NewRequest(http.MethodGet, "/", nil), wantStatus: 405},
		{name: "missing header is 401", req: hook(msg, ""), wantStatus: 401},
		{name: "wrong header is 401", req: hook(msg, "nope"), wantStatus: 401},
		{name: "over the limit is 413", req: hook(msg, hookToken), maxBody: 50, wantStatus: 413},
		{name: "malformed JSON is 400", req: hook(`{"info":`, hookToken), wantStatus: 400},
		{name: "no cid is 400", req: hook(`{"info":{},"packet":{"name":"message"}}`, hookToken), wantStatus: 400},
		{name: "unknown event is 200 without callback", req: hook(`{"info":{"cid":"c"},"packet":{"name":"typing"}}`, hookToken), wantStatus: 200},
		{name: "callback error is 500", req: hook(msg, hookToken), wantStatus: 500, wantCalls: 1,
			cb: func(*Event, *Reply) error { return errors.New("nlu down") }},
		{name: "invalid action is 500", req: hook(msg, hookToken), wantStatus: 500, wantCalls: 1,
			cb: func(_ *Event, r *Reply) error { r.Add(Bubbles("b", "", Choice{ID: "a", Label: "A"})); return nil }},
		{name: "no actions is an empty 200", req: hook(msg, hookToken), wantStatus: 200, wantCalls: 1},
		{name: "actions are the response", req: hook(msg, hookToken), wantStatus: 200, wantCalls: 1,
			cb: func(e *Event, r *Reply) error {
				r.Add(Message("You said: " + e.Text()))
				return r.SetContext(map[string]string{"step": "greeted"})
			},
			wantBody: `[{"info":{"cid":"` + docCID + `","context":{"step":"greeted"}},
				"packet":{"name":"message","payload":{"body":"You said: Hello, I have a question about my balance."}}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var logs bytes.Buffer
			opts := []Option{WithWebhookHeader(hookHeader, hookToken), WithLogger(testLogger(&logs))}
			if tt.maxBody > 0 {
				opts = append(opts, WithMaxBodyBytes(tt.maxBody))
			}
			h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
				calls++
				if tt.cb != nil {
					return tt.cb(e, r)
				}
				return nil
			}, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, tt.wantCalls, calls)
			if tt.wantStatus == 200 {
				if tt.wantBody == "" {
					assert.Empty(t, rec.Body.String())
				} else {
					golden.JSONEq(t, []byte(tt.wantBody), rec.Body.Bytes())
					assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				}
			}
			assert.NotContains(t, logs.String(), hookToken)
			assert.NotContains(t, rec.Body.String(), hookToken)
		})
	}
}

func TestHandlerListBody(t *testing.T) {
	h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
		r.Add(Message(e.Info.CID + ": " + e.Text()))
		return nil
	}, WithoutAuthentication())
	require.NoError(t, err)
	body := `[{"info":{"cid":"a"},"packet":{"name":"message","payload":{"body":"one"}}},
		{"info":{"cid":"b"},"packet":{"name":"unknown_thing"}},
		{"info":{"cid":"c"},"packet":{"name":"click","payload":{"value":{"id":"human","label":"Talk to a human"}}}}]`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(body, ""))
	require.Equal(t, 200, rec.Code)
	var out []OutboundEvent
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	require.Len(t, out, 2)
	assert.Equal(t, "a", out[0].Info.CID)
	assert.Equal(t, "c: Talk to a human", out[1].Packet.Payload.(*MessageAction).Body)
}

func TestHandlerWarningsAndLostContext(t *testing.T) {
	var logs bytes.Buffer
	h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
		if e.Packet.Name == EventStart {
			many := make([]Choice, 12)
			for i := range many {
				many[i] = Choice{ID: fmt.Sprint(i), Label: "ok"}
			}
			r.Add(Bubbles("b", "f", many...))
			return nil
		}
		return r.SetContext(map[string]int{"n": 1})
	}, WithoutAuthentication(), WithLogger(testLogger(&logs)))
	require.NoError(t, err)
	h.ServeHTTP(httptest.NewRecorder(), hook(`{"info":{"cid":"c"},"packet":{"name":"start"}}`, ""))
	assert.Contains(t, logs.String(), "whatsapp_business")
	assert.NotContains(t, logs.String(), "facebook", "12 options fit Facebook's 13")
	h.ServeHTTP(httptest.NewRecorder(), hook(`{"info":{"cid":"c"},"packet":{"name":"message","payload":{"body":"x"}}}`, ""))
	assert.Contains(t, logs.String(), "context set without an action")
}

func TestNewHandlerFailsClosed(t *testing.T) {
	fn := func(context.Context, *Event, *Reply) error { return nil }
	_, err := NewHandler(fn)
	assert.ErrorIs(t, err, ErrNoAuthentication)
	_, err = NewHandler(fn, WithWebhookHeader("X", ""))
	assert.Error(t, err)
	_, err = NewHandler(fn, WithWebhookHeader("X", "v"), WithoutAuthentication())
	assert.Error(t, err)
	_, err = NewHandler(fn, WithWebhookHeader("X", "v"), WithRateLimitWait(false))
	assert.ErrorContains(t, err, "NewHandler does not take WithRateLimitWait")
	h, err := NewHandler(fn, WithWebhookHeader("X-Token", "top-secret"))
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(f, h), "top-secret")
		assert.NotContains(t, fmt.Sprintf(f, *h), "top-secret")
	}
}

func TestHandlerTwoHeaders(t *testing.T) {
	h, err := NewHandler(func(context.Context, *Event, *Reply) error { return nil },
		WithWebhookHeader("X-A", "1"), WithWebhookHeader("X-B", "2"))
	require.NoError(t, err)
	r := hook(`{"info":{"cid":"c"},"packet":{"name":"start"}}`, "")
	r.Header.Set("X-A", "1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 401, rec.Code, "both headers are required")
	r = hook(`{"info":{"cid":"c"},"packet":{"name":"start"}}`, "")
	r.Header.Set("X-A", "1")
	r.Header.Set("X-B", "2")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 200, rec.Code)
}

// A modelled payload of the wrong shape is refused with a 400 naming the
// field before the callback runs: with the natural callback
// (m, err := e.Message(); return err) it used to be a 500, which Userlike
// redelivers although it can never succeed.
func TestMalformedKnownPayloadIs400(t *testing.T) {
	tests := []struct{ name, body, field string }{
		{"message body a number", `{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":5}}}`, "packet.payload.body"},
		{"click value a string", `{"info":{"cid":"c1"},"packet":{"name":"click","payload":{"value":"x"}}}`, "packet.payload.value"},
		{"payload not an object", `{"info":{"cid":"c1"},"packet":{"name":"media","payload":[1]}}`, "packet.payload"},
		{"second event of a list", `[{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":"hi"}}},
			{"info":{"cid":"c1"},"packet":{"name":"start","payload":{"body":true}}}]`, "[1].packet.payload.body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			h, err := NewHandler(func(_ context.Context, e *Event, _ *Reply) error {
				calls++
				_, err := e.Message()
				return err
			}, WithWebhookHeader(hookHeader, hookToken), WithLogger(testLogger(nil)))
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, hook(tt.body, hookToken))
			assert.Equal(t, 400, rec.Code)
			assert.Zero(t, calls)
			assert.Contains(t, rec.Body.String(), tt.field)
		})
	}

	// An unmodelled event keeps any payload raw and reaches WithOnUnknown.
	var got json.RawMessage
	h, err := NewHandler(func(context.Context, *Event, *Reply) error { return nil },
		WithWebhookHeader(hookHeader, hookToken), WithLogger(testLogger(nil)),
		WithOnUnknown(func(_ context.Context, e *Event, _ *Reply) error { got = e.Packet.Payload; return nil }))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(`{"info":{"cid":"c1"},"packet":{"name":"survey","payload":{"body":5}}}`, hookToken))
	assert.Equal(t, 200, rec.Code)
	assert.JSONEq(t, `{"body":5}`, string(got))
}

// info.contact's shape is a guess: a guessed field of another type must not
// reject the webhook. What decodes is kept, numbers keep their digits, the
// raw object stays whole, and the mismatch is logged at debug.
func TestContactOfUnexpectedShapeIsTolerated(t *testing.T) {
	body := `{"info":{"cid":"c1","contact":{"name":"Ada","custom_fields":[],"mobile_number":4915112345678,
		"email":{"primary":"a@example.com"},"extra":1}},"packet":{"name":"message","payload":{"body":"hi"}}}`
	var logs bytes.Buffer
	var c *Contact
	h, err := NewHandler(func(_ context.Context, e *Event, _ *Reply) error { c = e.Info.Contact; return nil },
		WithWebhookHeader(hookHeader, hookToken),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hook(body, hookToken))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.NotNil(t, c)
	assert.Equal(t, "Ada", c.Name)
	assert.Equal(t, "4915112345678", c.MobileNumber)
	assert.Empty(t, c.CustomFields)
	assert.Empty(t, c.Email)
	assert.Contains(t, string(c.Raw), `"extra":1`)
	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "custom_fields")
	assert.Contains(t, logs.String(), "email")

	// An info.contact that is not an object at all is still malformed.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, hook(`{"info":{"cid":"c1","contact":"Ada"},"packet":{"name":"start"}}`, hookToken))
	assert.Equal(t, 400, rec.Code)
}

// The location and media payload fields are guesses (the doc lost their
// tables): a guessed field of another type must not lose the event. What
// decodes is kept, a number where a string was guessed keeps its digits, a
// coordinate sent as a numeric string is read as the number, the payload
// stays whole, and the fields left empty are logged at debug.
func TestInferredPayloadOfUnexpectedShapeIsTolerated(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		check      func(t *testing.T, e *Event)
		wantLogged []string // fields named in the debug log; nil: no log
	}{
		{name: "location with string coordinates",
			body: `{"info":{"cid":"c1"},"packet":{"name":"location","payload":{"latitude":"52.5","longitude":"-13.25","name":"Office"}}}`,
			check: func(t *testing.T, e *Event) {
				l, err := e.Location()
				require.NoError(t, err)
				assert.Empty(t, cmp.Diff(&LocationPayload{Latitude: 52.5, Longitude: -13.25, Name: "Office"}, l))
			}},
		{name: "location with a coordinate that is not a number",
			body: `{"info":{"cid":"c1"},"packet":{"name":"location","payload":{"latitude":"north","longitude":13.4,"address":{"street":"Unter den Linden"}}}}`,
			check: func(t *testing.T, e *Event) {
				l, err := e.Location()
				require.NoError(t, err)
				assert.Empty(t, cmp.Diff(&LocationPayload{Longitude: 13.4}, l))
				assert.Contains(t, string(e.Packet.Payload), "Unter den Linden")
			},
			wantLogged: []string{"address", "latitude"}},
		{name: "media with an object url and a numeric name",
			body: `{"info":{"cid":"c1"},"packet":{"name":"media","payload":{"url":{"href":"https://x/y.png"},"name":7,"mime_type":"image/png"}}}`,
			check: func(t *testing.T, e *Event) {
				m, err := e.Media()
				require.NoError(t, err)
				assert.Empty(t, cmp.Diff(&MediaPayload{Name: "7", MimeType: "image/png"}, m))
				assert.Contains(t, string(e.Packet.Payload), `"href":"https://x/y.png"`)
			},
			wantLogged: []string{"url"}},
		{name: "start with a media upload of another shape",
			body: `{"info":{"cid":"c1"},"packet":{"name":"start","payload":{"body":"hi","link":["https://x/y.png"]}}}`,
			check: func(t *testing.T, e *Event) {
				s, err := e.Start()
				require.NoError(t, err)
				assert.Equal(t, "hi", s.Body)
				assert.Equal(t, "hi", e.Text())
				assert.Empty(t, s.MediaURL())
			},
			wantLogged: []string{"link"}},
		{name: "second event of a list",
			body: `[{"info":{"cid":"c1"},"packet":{"name":"message","payload":{"body":"hi"}}},
				{"info":{"cid":"c1"},"packet":{"name":"media","payload":{"link":"https://x/y.png","mime_type":5}}}]`,
			check: func(t *testing.T, e *Event) {
				if e.Packet.Name != EventMedia {
					return
				}
				m, err := e.Media()
				require.NoError(t, err)
				assert.Empty(t, cmp.Diff(&MediaPayload{Link: "https://x/y.png", MimeType: "5"}, m))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			calls := 0
			h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
				calls++
				tt.check(t, e)
				r.Add(Message("got " + e.Packet.Name))
				return nil
			}, WithWebhookHeader(hookHeader, hookToken),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, hook(tt.body, hookToken))
			require.Equal(t, 200, rec.Code, rec.Body.String())
			assert.Equal(t, strings.Count(tt.body, `"cid"`), calls)
			if tt.wantLogged == nil {
				assert.NotContains(t, logs.String(), "unexpected type")
				return
			}
			assert.Contains(t, logs.String(), "level=DEBUG")
			assert.Contains(t, logs.String(), "packet.payload fields of an unexpected type")
			want := fmt.Sprint(tt.wantLogged)
			if len(tt.wantLogged) > 1 {
				want = fmt.Sprintf("%q", want) // slog quotes a value with a space
			}
			assert.Contains(t, logs.String(), "fields="+want)
		})
	}
}

// The accessors tolerate the same shapes on an event built by hand (no
// parse-time decoding): the payload is decoded when asked for.
func TestInferredPayloadAccessorsOnBuiltEvents(t *testing.T) {
	e := &Event{Packet: Packet{Name: EventLocation, Payload: json.RawMessage(`{"latitude":"1.5","longitude":{"deg":2}}`)}}
	l, err := e.Location()
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(&LocationPayload{Latitude: 1.5}, l))

	e = &Event{Packet: Packet{Name: EventMedia, Payload: json.RawMessage(`{"url":"https://x/y.png","name":12}`)}}
	m, err := e.Media()
	require.NoError(t, err)
	assert.Equal(t, "https://x/y.png", m.MediaURL())
	assert.Equal(t, "12", m.Name)

	e = &Event{Packet: Packet{Name: EventStart, Payload: json.RawMessage(`{"body":"hello","url":false}`)}}
	s, err := e.Start()
	require.NoError(t, err)
	assert.Equal(t, "hello", s.Body)

	// A documented field of the wrong type is still an error.
	e = &Event{Packet: Packet{Name: EventStart, Payload: json.RawMessage(`{"body":true}`)}}
	_, err = e.Start()
	assert.Error(t, err)
	e = &Event{Packet: Packet{Name: EventMedia, Payload: json.RawMessage(`"https://x/y.png"`)}}
	_, err = e.Media()
	assert.Error(t, err)
}
