package onetalktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
)

func client(t *testing.T, fake *onetalktest.Server, secret string, opts ...onetalk.Option) *onetalk.Client {
	t.Helper()
	opts = append([]onetalk.Option{onetalk.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := onetalk.NewClient(fake.URL, secret, opts...)
	require.NoError(t, err)
	return c
}

func TestRecordsAndChecksAuth(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "right"})
	defer fake.Close()
	ctx := context.Background()

	require.NoError(t, client(t, fake, "right").SendMessages(ctx, "C1", onetalk.NewText("hi")))
	err := client(t, fake, "wrong").SendMessages(ctx, "C1", onetalk.NewText("hi"))
	var apiErr *onetalk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)

	reqs := fake.Received()
	require.Len(t, reqs, 2)
	assert.Equal(t, 200, reqs[0].Status)
	assert.Equal(t, "hi", reqs[0].Request.Messages[0].Text.Body)
	assert.Equal(t, 401, reqs[1].Status)
	golden.JSONEq(t, []byte(`{"caseID":"C1","eventType":"messages","messages":[{"type":"text","text":{"body":"hi"}}]}`), reqs[0].Body)
}

func TestValidatesLikeOneTalk(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	// A raw body the client would refuse to send: four buttons.
	body := `{"caseID":"C1","eventType":"messages","messages":[{"type":"whatsappba","whatsappba":{"type":"interactive",
	"interactive":{"type":"button","body":{"text":"b"},"buttonAction":{"buttons":[
	{"type":"reply","reply":{"id":"1","title":"A"}},{"type":"reply","reply":{"id":"2","title":"B"}},
	{"type":"reply","reply":{"id":"3","title":"C"}},{"type":"reply","reply":{"id":"4","title":"D"}}]}}}}]}`
	req, _ := http.NewRequest(http.MethodPost, fake.URL, strings.NewReader(body))
	req.Header.Set("Secret-Key", "s")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	assert.ErrorIs(t, fake.Received()[0].Err, onetalk.ErrInvalidRequest)
}

// The doc marks handoverCase and closeCase "Optional": the fake accepts
// both events without them, as "botwire fake onetalk" serves them too.
func TestAcceptsEventsWithoutOptionalDetails(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	tests := []struct {
		name, body string
		status     int
	}{
		{"close_case", `{"caseID":"C1","eventType":"close_case"}`, http.StatusOK},
		{"handover_case", `{"caseID":"C1","eventType":"handover_case"}`, http.StatusOK},
		{"update_case", `{"caseID":"C1","eventType":"update_case"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			req, _ := http.NewRequest(http.MethodPost, fake.URL, strings.NewReader(tt.body))
			req.Header.Set("Secret-Key", "s")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			require.Len(t, fake.Received(), 1)
			if tt.status == http.StatusOK {
				assert.NoError(t, fake.Received()[0].Err)
			}
		})
	}
}

// "The document's file URL", "The image or video's file URL": the fake
// refuses what OneTalk could not fetch.
func TestRefusesRelativeMediaURL(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	body := `{"caseID":"C1","eventType":"messages","messages":[{"type":"document","document":{"url":"Receipt.pdf","filename":"Receipt.pdf"}}]}`
	req, _ := http.NewRequest(http.MethodPost, fake.URL, strings.NewReader(body))
	req.Header.Set("Secret-Key", "s")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.ErrorContains(t, fake.Received()[0].Err, "messages[0].document.url: must be an absolute http(s) URL")
}

func TestFaults(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	ctx := context.Background()
	c := client(t, fake, "s")

	fake.FailNext(2, http.StatusServiceUnavailable)
	require.NoError(t, c.SendMessages(ctx, "C1", onetalk.NewText("hi")))
	assert.Len(t, fake.Received(), 3, "two 503s then success")

	fake.Reset()
	fake.FailNext(1, http.StatusInternalServerError)
	err := c.SendMessages(ctx, "C1", onetalk.NewText("hi"))
	var apiErr *onetalk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 500, apiErr.StatusCode)
	assert.Len(t, fake.Received(), 1, "a message is not re-sent after a 500")

	fake.Reset()
	fake.DropNext(1)
	err = c.SendMessages(ctx, "C1", onetalk.NewText("hi"))
	require.Error(t, err, "a dropped connection after sending is ambiguous: not retried")
	assert.Len(t, fake.Received(), 1)
	fake.Reset()
	fake.DropNext(1)
	require.NoError(t, c.UpdateCase(ctx, "C1", onetalk.UpdateCase{IsJunk: onetalk.Bool(true)}))
	assert.Len(t, fake.Received(), 2, "an update is retried after a drop")

	fake.Reset()
	fake.DelayNext(1, 300*time.Millisecond)
	slow := client(t, fake, "s", onetalk.WithTimeout(50*time.Millisecond), onetalk.WithMaxRetries(0))
	err = slow.SendMessages(ctx, "C1", onetalk.NewText("hi"))
	require.Error(t, err)
	assert.False(t, errors.As(err, &apiErr), "a timeout is not an APIError")
}

func TestDeliver(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	got := make(chan *onetalk.InboundRequest, 8)
	bot, err := onetalk.NewHandler("s", func(_ context.Context, r *onetalk.InboundRequest) error {
		got <- r
		return nil
	})
	require.NoError(t, err)

	ctx := context.Background()
	_, err = fake.Deliver(ctx, onetalktest.Text("C1", "hi"))
	assert.ErrorIs(t, err, onetalktest.ErrNoBot, "no bot set yet")
	fake.SetBot(bot)
	d, err := fake.Deliver(ctx, onetalktest.ButtonReply("C1", "/agent", "Talk to agent"))
	require.NoError(t, err)
	assert.Equal(t, 200, d.StatusCode)
	assert.Positive(t, d.Latency)
	in := <-got
	assert.Equal(t, "/agent", in.Message.ReplyID())
	assert.Equal(t, "Talk to agent", in.Message.Body())
	assert.False(t, in.Message.Timestamp.Time().IsZero())

	srv := httptest.NewServer(bot)
	defer srv.Close()
	fake.SetBotURL(srv.URL)
	d, err = fake.Deliver(ctx, onetalktest.Video("C1", "https://v/1.mp4", "clip"))
	require.NoError(t, err)
	assert.Equal(t, 200, d.StatusCode)
	in = <-got
	require.NotNil(t, in.Message.Video, "the fake sends a video under \"image\"; the handler must still find it")
	assert.Equal(t, "https://v/1.mp4", in.Message.Video.URL)
	var raw struct{ Message map[string]json.RawMessage }
	require.NoError(t, json.Unmarshal(in.Raw, &raw))
	assert.Contains(t, raw.Message, "image")

	for _, r := range []*onetalk.InboundRequest{
		onetalktest.Text("C1", "hi"), onetalktest.Image("C1", "u", ""), onetalktest.Document("C1", "u", "f.pdf", ""),
		onetalktest.Location("C1", -6.2, 106.8, "", ""), onetalktest.ListReply("C1", "/r", "Row", "d"),
		onetalktest.TemplateButton("C1", "reschedule", "Reschedule"),
	} {
		d, err := fake.Deliver(ctx, r)
		require.NoError(t, err)
		assert.Equal(t, 200, d.StatusCode)
		in := <-got
		assert.True(t, in.Message.Known(), in.Message.Type)
	}

	wrong := onetalktest.NewServer(onetalktest.Config{Secret: "not-s", Bot: bot})
	defer wrong.Close()
	d, err = wrong.Deliver(ctx, onetalktest.Text("C1", "hi"))
	require.NoError(t, err)
	assert.Equal(t, 401, d.StatusCode)
}

func TestWaitFor(t *testing.T) {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "s"})
	defer fake.Close()
	c := client(t, fake, "s")
	go func() { _ = c.SendMessages(context.Background(), "C1", onetalk.NewText("later")) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reqs, err := fake.WaitFor(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, reqs, 1)

	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	_, err = fake.WaitFor(short, 5)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
