package botcopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

// The client reports each push with the platform, the method the caller
// called and the push path, and nothing it reports holds the API key, even
// when Botcopy echoes it.
func TestClientObserved(t *testing.T) {
	const key = "bc-apikey-c0ffee42"
	srv := ocEcho(`{}`, "refuse-me")
	defer srv.Close()
	rec := observetest.NewRecorder()
	c, err := NewClient(key, WithBaseURL(srv.URL), WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	to := Target{UserID: "u-123", BotID: "b-456"}
	require.NoError(t, c.SendMessage(ctx, to, "hello"))
	require.NoError(t, c.Typing(ctx, to))
	require.NoError(t, c.Resume(ctx, to, UnpauseNone))
	require.NoError(t, c.Push(ctx, &PushEvent{EventType: PushTyping, UserID: to.UserID, BotID: to.BotID, Paused: true, MinutesPaused: 5}))
	c.every = time.Hour
	c.KeepTyping(ctx, to)()
	err = c.SendMessage(ctx, to, "refuse-me")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)

	calls := rec.Calls()
	require.Len(t, calls, 6)
	for i, op := range []string{"SendMessage", "Typing", "Resume", "Push", "KeepTyping", "SendMessage"} {
		assert.Equal(t, observe.Botcopy, calls[i].Platform)
		assert.Equal(t, op, calls[i].Operation)
		assert.Equal(t, PushPath, calls[i].URLTemplate)
		assert.Equal(t, 1, calls[i].Attempts)
	}
	assert.Equal(t, 200, calls[0].Status)
	assert.Equal(t, 401, calls[5].Status)
	require.ErrorAs(t, calls[5].Err, &apiErr)
	assert.Contains(t, string(apiErr.Body), "[REDACTED]", "Botcopy echoed the key")
	host, port := ocTarget(t, srv)
	a := rec.Attempts()[0]
	assert.Equal(t, []any{0, host, port, 200}, []any{a.N, a.Host, a.Port, a.Status})
	ocNoSecret(t, rec, key)
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
