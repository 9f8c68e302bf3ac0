package botcopytest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/internal/golden"
)

func TestHandoverFlowAndPauseState(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", APIKey: "key", Now: func() time.Time { return now }})
	defer fake.Close()
	var seen []*botcopy.HandoverRequest
	h, err := botcopy.NewHandler("tok", func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		seen = append(seen, r)
		if r.Text() == "bye" {
			return botcopy.Continue(), nil
		}
		return botcopy.PauseFor(5), nil
	})
	require.NoError(t, err)
	fake.SetBot(h)
	ctx := context.Background()

	o, err := fake.UserMessage(ctx, "u1", "b1", "before handover")
	require.NoError(t, err)
	assert.True(t, o.ToDialogflow, "not paused yet: the message goes to Dialogflow")
	assert.Empty(t, seen)

	o, err = fake.Trigger(ctx, "u1", "b1")
	require.NoError(t, err)
	assert.True(t, o.Paused)
	require.Len(t, seen, 1)
	assert.Equal(t, botcopy.KindTrigger, seen[0].Kind())
	assert.NotEmpty(t, botcopy.Transcript(seen[0].MessageHistory))
	df, err := seen[0].Dialogflow()
	require.NoError(t, err)
	assert.Equal(t, "Human Handover", df.Intent)

	o, err = fake.UserMessage(ctx, "u1", "b1", "hello agent")
	require.NoError(t, err)
	assert.False(t, o.ToDialogflow)
	assert.Equal(t, botcopy.KindUserMessage, seen[1].Kind())

	now = now.Add(6 * time.Minute) // the 5-minute pause expired
	o, err = fake.UserMessage(ctx, "u1", "b1", "still there?")
	require.NoError(t, err)
	assert.True(t, o.ToDialogflow)
	assert.Len(t, seen, 2)

	_, _ = fake.Trigger(ctx, "u1", "b1")
	o, err = fake.UserMessage(ctx, "u1", "b1", "bye")
	require.NoError(t, err)
	assert.True(t, o.ToDialogflow, "paused: false resumes the bot")
	assert.False(t, fake.Paused("u1"))
}

// A desk that fails on a user message must not let Botcopy forward it to
// Dialogflow: the bot would answer inside the human conversation.
func TestDeskErrorKeepsTheBotPaused(t *testing.T) {
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", APIKey: "key"})
	defer fake.Close()
	deskDown := false
	h, err := botcopy.NewHandler("tok", func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		if deskDown {
			return botcopy.Decision{}, errors.New("desk down")
		}
		return botcopy.PauseFor(5), nil
	}, botcopy.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	fake.SetBot(h)
	ctx := context.Background()

	o, err := fake.Trigger(ctx, "u1", "b1")
	require.NoError(t, err)
	require.True(t, o.Paused)

	deskDown = true
	o, err = fake.UserMessage(ctx, "u1", "b1", "are you there?")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, o.StatusCode)
	assert.False(t, o.ToDialogflow, "the message must not reach Dialogflow")
	assert.True(t, o.Paused, "the fallback keeps the bot paused")

	// A trigger whose desk fails does not pause the bot: no human would come.
	o, err = fake.Trigger(ctx, "u2", "b1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, o.StatusCode)
	assert.False(t, o.Paused)
}

func TestDeadlineIsEnforced(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the caller hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
		time.Sleep(5 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"paused":true,"minutesPaused":10}`))
	})
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", APIKey: "key", Bot: slow, Deadline: 20 * time.Millisecond})
	defer fake.Close()
	o, err := fake.Trigger(context.Background(), "u1", "b1")
	require.NoError(t, err)
	assert.True(t, o.Late)
	assert.Nil(t, o.Decision)
	assert.False(t, o.Paused, "a late answer does not pause the bot")

	srv := httptest.NewServer(slow)
	defer srv.Close()
	fake.SetBotURL(srv.URL)
	o, err = fake.Trigger(context.Background(), "u1", "b1")
	require.NoError(t, err)
	assert.True(t, o.Late)
}

func TestPushEndpoint(t *testing.T) {
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", APIKey: "key"})
	defer fake.Close()
	ctx := context.Background()
	c, err := botcopy.NewClient("key", botcopy.WithBaseURL(fake.URL), botcopy.WithMinutesPaused(7),
		botcopy.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	to := botcopy.Target{UserID: "u1", BotID: "b1"}
	require.NoError(t, c.Pause(ctx, to, botcopy.AgentProfile{Name: "Jane"}))
	assert.True(t, fake.Paused("u1"), "a push with a pause extends it")
	require.NoError(t, c.SendMessage(ctx, to, "hi"))
	require.NoError(t, c.Resume(ctx, to, botcopy.UnpauseNone))
	assert.False(t, fake.Paused("u1"))

	fake.FailNext(2, http.StatusServiceUnavailable)
	require.NoError(t, c.Typing(ctx, to), "503 is retried")

	bad, err := botcopy.NewClient("wrong", botcopy.WithBaseURL(fake.URL))
	require.NoError(t, err)
	var apiErr *botcopy.APIError
	require.ErrorAs(t, bad.Typing(ctx, to), &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)

	ps := fake.Received()
	require.Len(t, ps, 7)
	assert.Equal(t, 7, ps[0].Request.MinutesPaused)
	assert.Equal(t, "key", ps[0].RawHeader().Get("Authorization"))
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", ps[0], ps, ps[0]), "key\"", "the key is masked in what a test prints")
	golden.JSONEq(t, []byte(`{"eventType":"message","userId":"u1","botId":"b1","paused":true,"minutesPaused":7,"text":"hi"}`), ps[1].Body)
}

func TestTypingEvent(t *testing.T) {
	var typed string
	h, err := botcopy.NewHandler("tok", func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.PauseFor(1), nil
	}, botcopy.WithOnUserTyping(func(_ context.Context, r *botcopy.HandoverRequest) error { typed = r.UserID; return nil }))
	require.NoError(t, err)
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", Bot: h})
	defer fake.Close()
	o, err := fake.UserTyping(context.Background(), "u9", "b1")
	require.NoError(t, err)
	assert.Equal(t, 200, o.StatusCode)
	assert.Equal(t, "u9", typed)
}

// A trigger built from what the user said carries those lines in its
// history and its query, and DeliverTrigger pauses as Trigger does.
func TestDeliverTriggerWithTheUsersLines(t *testing.T) {
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "tok", APIKey: "key"})
	defer fake.Close()
	var got *botcopy.HandoverRequest
	h, err := botcopy.NewHandler("tok", func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		got = r
		return botcopy.PauseFor(3), nil
	})
	require.NoError(t, err)
	fake.SetBot(h)

	req := botcopytest.TriggerRequestWith("tok", "u7", "b1", "where is my parcel", `I want a "human"`)
	o, err := fake.DeliverTrigger(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, o.Paused)
	assert.True(t, fake.Paused("u7"))
	require.NotNil(t, got)
	assert.Equal(t, botcopy.KindTrigger, got.Kind())
	assert.Equal(t, `I want a "human"`, got.Text())
	var said []string
	for _, l := range botcopy.Transcript(got.MessageHistory) {
		if l.Speaker == "Customer" {
			said = append(said, l.Text)
		}
	}
	assert.Equal(t, []string{"where is my parcel", `I want a "human"`}, said)
	df, err := got.Dialogflow()
	require.NoError(t, err)
	assert.Equal(t, "Human Handover", df.Intent)
}
