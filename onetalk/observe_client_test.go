package onetalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

// The client reports each call with the platform, the method the caller
// called and a URL template without the OneTalk URL's ids, and nothing it
// reports holds the secret key, even when OneTalk echoes it.
func TestClientObserved(t *testing.T) {
	const key = "ot-secret-3b9f21e0"
	srv := ocEcho(`{"success":true,"message":""}`, "refuse-me")
	defer srv.Close()
	rec := observetest.NewRecorder()
	c, err := NewClient(srv.URL+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363", key, WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.SendMessages(ctx, "FBED34A1EF", NewText("hello")))
	require.NoError(t, c.UpdateCase(ctx, "FBED34A1EF", UpdateCase{IsJunk: Bool(false)}))
	require.NoError(t, c.Do(ctx, &WebhookRequest{CaseID: "FBED34A1EF", EventType: EventCloseCase}))
	err = c.SendMessages(ctx, "FBED34A1EF", NewText("refuse-me"))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)

	calls := rec.Calls()
	require.Len(t, calls, 4)
	for i, op := range []string{"SendMessages", "UpdateCase", "Do", "SendMessages"} {
		assert.Equal(t, observe.OneTalk, calls[i].Platform)
		assert.Equal(t, op, calls[i].Operation)
		assert.Equal(t, "{oneTalkURL}", calls[i].URLTemplate)
		assert.Equal(t, 1, calls[i].Attempts)
	}
	assert.Equal(t, 200, calls[0].Status)
	assert.Equal(t, 401, calls[3].Status)
	require.ErrorAs(t, calls[3].Err, &apiErr)
	assert.Contains(t, string(apiErr.Body), "[REDACTED]", "OneTalk echoed the key")
	host, port := ocTarget(t, srv)
	a := rec.Attempts()[0]
	assert.Equal(t, []any{0, host, port, 200}, []any{a.N, a.Host, a.Port, a.Status})
	ocNoSecret(t, rec, key)
}

// The client encodes a request as json.Marshal does, byte for byte, for
// every kind of message (it skips OutboundMessage.MarshalJSON, for speed).
func TestClientWireEncoding(t *testing.T) {
	msgs := []OutboundMessage{
		NewText("hi <b> & \u00e9"), NewDocument("https://x.test/a.pdf", "a.pdf", "the doc"),
		NewImage("https://x.test/a.png", "an image"), NewVideo("https://x.test/a.mp4", "a video"),
		NewReplyButtons("pick", ReplyButton{ID: "/a", Title: "A"}, ReplyButton{ID: "/b", Title: "B"}),
		NewList("list", "open", Section{Title: "s", Rows: []Row{{ID: "r1", Title: "one", Description: "d"}}}),
		NewFlow("flow", "123", "go"), NewRequestContactInfo("who?"), {Type: "custom"},
	}
	for i := range msgs {
		for _, r := range []*WebhookRequest{
			{CaseID: "C1", EventType: EventMessages, Messages: msgs[i : i+1]},
			{CaseID: "C1", EventType: EventMessages, Messages: msgs[:i+1]},
		} {
			want, err := json.Marshal(r)
			require.NoError(t, err)
			got, err := json.Marshal(wire(r))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		}
	}
	r := &WebhookRequest{CaseID: "C1", EventType: EventCloseCase, CloseCase: &CloseCase{SendClosingMessage: true}}
	assert.Same(t, r, wire(r), "without messages the request is encoded as it is")
}

// ocNoSecret fails if a field of any record prints one of secrets (with
// %+v, and an *APIError's body and header in full).
func ocNoSecret(t *testing.T, rec *observetest.Recorder, secrets ...string) {
	t.Helper()
	recs := rec.Records()
	require.NotEmpty(t, recs)
	for _, r := range recs {
		var parts []any
		var errs []error
		switch {
		case r.Call != nil:
			parts, errs = append(parts, *r.Call), append(errs, r.Call.Err)
		case r.Attempt != nil:
			parts, errs = append(parts, *r.Attempt, *r.Attempt.Call), append(errs, r.Attempt.Err)
		case r.Event != nil:
			parts, errs = append(parts, *r.Event), append(errs, r.Event.Err)
		}
		s := fmt.Sprintf("%+v %+v", r, parts)
		for _, err := range errs {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				s += fmt.Sprintf(" %+v %s %v", *apiErr, apiErr.Body, apiErr.Header)
			}
		}
		for _, secret := range secrets {
			assert.NotContains(t, s, secret, "%s", r.Op)
		}
	}
}

// ocEcho answers 200 with ok, or, for a request whose path ends in
// "/refuse" or that carries refuse in its body, 401 with every request
// header value echoed, as a platform that prints the key it refused.
func ocEcho(ok string, refuse string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if refuse != "" && strings.Contains(string(b), refuse) {
			var echo []string
			for _, vs := range r.Header {
				echo = append(echo, vs...)
			}
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"error":"refused %s"}`, strings.Join(echo, " "))
			return
		}
		_, _ = io.WriteString(w, ok)
	}))
}

// ocTarget returns the host and port of srv.
func ocTarget(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), port
}
