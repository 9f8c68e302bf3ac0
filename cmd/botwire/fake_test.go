package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	otecho "github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
)

// fakeShortQuiet shortens quietAfter for the test.
func fakeShortQuiet(t *testing.T, d time.Duration) {
	old := quietAfter
	quietAfter = d
	t.Cleanup(func() { quietAfter = old })
}

// fakeOneTalkBot is a OneTalk SDK bot that records what it received and never
// calls the platform; fail, when set, answers the n-th delivery (from 1)
// with a status instead.
type fakeOneTalkBot struct {
	t     *testing.T
	mu    sync.Mutex
	cases []string
	raw   []string
	fail  func(n int) int
	sleep time.Duration
}

func (b *fakeOneTalkBot) start() *httptest.Server {
	h, err := onetalk.NewHandler(secret, func(_ context.Context, in *onetalk.InboundRequest) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.cases = append(b.cases, in.CaseID)
		return nil
	})
	require.NoError(b.t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		b.mu.Lock()
		b.raw = append(b.raw, string(body))
		n := len(b.raw)
		b.mu.Unlock()
		time.Sleep(b.sleep)
		if b.fail != nil {
			if code := b.fail(n); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	b.t.Cleanup(srv.Close)
	return srv
}

func (b *fakeOneTalkBot) bodies() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.raw...)
}

// Every run has case ids of its own, printed at start.
func TestFakeFreshConversationIDs(t *testing.T) {
	fakeShortQuiet(t, 20*time.Millisecond)
	bot := &fakeOneTalkBot{t: t}
	srv := bot.start()
	for range 2 {
		code, out, errOut := botwire(t, "hi\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret)
		require.Equal(t, 0, code, "%s\n%s", out, errOut)
		bot.mu.Lock()
		last := bot.cases[len(bot.cases)-1]
		bot.mu.Unlock()
		assert.Contains(t, out, "case id      "+last, "the intro names the id")
	}
	require.Len(t, bot.cases, 2)
	assert.NotEqual(t, bot.cases[0], bot.cases[1])
	assert.NotEqual(t, "FBED34A1EF", bot.cases[0])

	// --conversation sets it.
	code, _, _ := botwire(t, "hi\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--conversation", "CASE42")
	require.Equal(t, 0, code)
	assert.Equal(t, "CASE42", bot.cases[2])
}

// fakeBotcopyProxy is a proxy built with botcopy.NewHandler that records the
// requests and decides with decide.
type fakeBotcopyProxy struct {
	mu   sync.Mutex
	reqs []*botcopy.HandoverRequest
}

func (p *fakeBotcopyProxy) start(t *testing.T, decide func(n int, r *botcopy.HandoverRequest) botcopy.Decision) *httptest.Server {
	h, err := botcopy.NewHandler(secret, func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		p.mu.Lock()
		p.reqs = append(p.reqs, r)
		n := len(p.reqs)
		p.mu.Unlock()
		return decide(n, r), nil
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (p *fakeBotcopyProxy) got() []*botcopy.HandoverRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*botcopy.HandoverRequest(nil), p.reqs...)
}

func fakeHistoryTexts(r *botcopy.HandoverRequest) string {
	var b strings.Builder
	for _, h := range r.MessageHistory {
		b.WriteString(h.Text() + "\n")
	}
	return b.String()
}

// Botcopy's first line reaches the proxy once, as the trigger carrying it;
// the next line while paused is a user message.
func TestFakeBotcopyFirstLineIsTheTrigger(t *testing.T) {
	p := &fakeBotcopyProxy{}
	srv := p.start(t, func(int, *botcopy.HandoverRequest) botcopy.Decision { return botcopy.PauseFor(10) })
	code, out, errOut := botwire(t, "I need a human\nmy order is late\n", "fake", "botcopy", "--bot", srv.URL, "--secret", secret, "--api-key", "k")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	reqs := p.got()
	require.Len(t, reqs, 2, out)
	assert.Equal(t, botcopy.KindTrigger, reqs[0].Kind())
	assert.Equal(t, "I need a human", reqs[0].Text())
	assert.Contains(t, fakeHistoryTexts(reqs[0]), "I need a human")
	assert.NotContains(t, fakeHistoryTexts(reqs[0]), "My order has not arrived", "not the canned history")
	assert.Equal(t, botcopy.KindUserMessage, reqs[1].Kind())
	assert.Equal(t, "my order is late", reqs[1].Text())
	assert.Equal(t, reqs[0].UserID, reqs[1].UserID)
	assert.Contains(t, out, "user id      "+reqs[0].UserID)
	assert.Contains(t, out, "paused true")
}

// After the proxy resumes the bot a line goes to Dialogflow; "/handover"
// starts another handover carrying every line said.
func TestFakeBotcopyAfterResumeGoesToDialogflow(t *testing.T) {
	p := &fakeBotcopyProxy{}
	srv := p.start(t, func(n int, _ *botcopy.HandoverRequest) botcopy.Decision {
		if n == 2 {
			return botcopy.Continue() // the agent ended the chat
		}
		return botcopy.PauseFor(10)
	})
	in := "human please\nthanks, bye\nwhat are your hours\n/handover agent again\n"
	code, out, errOut := botwire(t, in, "fake", "botcopy", "--bot", srv.URL, "--secret", secret, "--api-key", "k")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	reqs := p.got()
	require.Len(t, reqs, 3, out)
	assert.Equal(t, botcopy.KindUserMessage, reqs[1].Kind())
	assert.Contains(t, out, "not paused: the message goes to Dialogflow")
	assert.Equal(t, botcopy.KindTrigger, reqs[2].Kind())
	assert.Equal(t, "agent again", reqs[2].Text())
	h := fakeHistoryTexts(reqs[2])
	for _, said := range []string{"human please", "thanks, bye", "what are your hours", "agent again"} {
		assert.Contains(t, h, said)
	}
	assert.NotContains(t, h, "/handover")
}

// A proxy slower than Botcopy's budget is ignored, and said so.
func TestFakeBotcopyLate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, `{"paused":true}`)
	}))
	defer srv.Close()
	code, out, _ := botwire(t, "hello\n", "fake", "botcopy", "--bot", srv.URL, "--secret", secret, "--api-key", "k", "--budget", "50ms")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "did not answer within Botcopy's 50ms: Botcopy ignores it (not paused, the message goes to Dialogflow)")
	assert.NotContains(t, out, "answered 0")
	assert.Equal(t, 1, strings.Count(out, "hint      the bot took longer than 50ms"), out)
	assert.NotContains(t, out, "attempt", "Botcopy does not redeliver")
}

// A OneTalk bot answering 500 twice then 200 gets the same body three
// times, shown as attempts of one delivery.
func TestFakeRedeliversOneTalk(t *testing.T) {
	fakeShortQuiet(t, 20*time.Millisecond)
	bot := &fakeOneTalkBot{t: t, fail: func(n int) int {
		if n <= 2 {
			return 500
		}
		return 0
	}}
	srv := bot.start()
	code, out, errOut := botwire(t, "hello\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--redeliver-after", "10ms")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	bodies := bot.bodies()
	require.Len(t, bodies, 3, out)
	assert.Equal(t, bodies[0], bodies[1])
	assert.Equal(t, bodies[0], bodies[2])
	assert.Contains(t, out, "attempt 1 of delivery 1 (at most 3): answered 500")
	assert.Contains(t, out, "attempt 2 of delivery 1 (at most 3): answered 500")
	assert.Contains(t, out, "attempt 3 of delivery 1 (at most 3): answered 200")
	assert.Equal(t, 1, strings.Count(out, "hint      the bot failed"), out)

	// Always 500: the attempts run out and the run fails.
	bot = &fakeOneTalkBot{t: t, fail: func(int) int { return 500 }}
	srv = bot.start()
	code, out, _ = botwire(t, "hello\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--redeliver-after", "1ms", "--redeliver", "1")
	assert.Equal(t, 1, code)
	assert.Len(t, bot.bodies(), 2)
	assert.Contains(t, out, "attempt 2 of delivery 1 (at most 2): answered 500")
}

// A bot that is down is reported once per line with the hint, and not
// redelivered.
func TestFakeBotDown(t *testing.T) {
	to := "http://" + freeAddr(t) + "/onetalk"
	code, out, _ := botwire(t, "one\ntwo\n", "fake", "onetalk", "--bot", to, "--secret", secret, "--redeliver-after", "1ms")
	assert.Equal(t, 1, code)
	assert.Equal(t, 2, strings.Count(out, "hint      nothing listens at"), out)
	assert.Equal(t, 2, strings.Count(out, "error     "), out)
	assert.Equal(t, 2, strings.Count(out, "connection refused"), out)
	assert.NotContains(t, out, "attempt")
}

// A OneTalk bot that accepts but never calls the fake is warned about
// once per run; one that calls it is not.
func TestFakeQuietOneTalkBot(t *testing.T) {
	fakeShortQuiet(t, 50*time.Millisecond)
	srv := (&fakeOneTalkBot{t: t}).start()
	code, out, errOut := botwire(t, "one\ntwo\nthree\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, 1, strings.Count(out, "has not called the platform"), out)

	addr := freeAddr(t)
	client, err := onetalk.NewClient("http://"+addr+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363", secret)
	require.NoError(t, err)
	h, err := onetalk.NewHandler(secret, otecho.Bot(client))
	require.NoError(t, err)
	echo := httptest.NewServer(h)
	defer echo.Close()
	code, out, errOut = botwire(t, "one\ntwo\n", "fake", "onetalk", "--bot", echo.URL, "--secret", secret, "--addr", addr)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "You said: one")
	assert.NotContains(t, out, "has not called the platform")
}

// A delivery slower than the budget is flagged late in its line.
func TestFakeLateOneTalkBot(t *testing.T) {
	fakeShortQuiet(t, 20*time.Millisecond)
	srv := (&fakeOneTalkBot{t: t, sleep: 80 * time.Millisecond}).start()
	code, out, errOut := botwire(t, "hello\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--budget", "50ms")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "(late: past the platform's 50ms budget)")
	assert.Contains(t, out, "hint      the bot took longer than 50ms")
}

func TestFakeHelpMentionsRedeliveriesAndIDs(t *testing.T) {
	code, out, _ := botwire(t, "", "fake", "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Redeliveries:")
	assert.Contains(t, out, "conversation ids of its own")
	assert.Contains(t, out, "-redeliver-after")
}

// Ultimate's lines (the virtual agent's messages) are redelivered too
// when asked: Ultimate documents no redelivery.
func TestFakeUltimateRedeliversWhenAsked(t *testing.T) {
	chat, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil },
	}, ultimate.WithoutAuthentication())
	require.NoError(t, err)
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(body))
		n := len(bodies)
		mu.Unlock()
		if n%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		chat.ServeHTTP(w, r)
	}))
	defer srv.Close()
	code, out, errOut := botwire(t, "Hello from the agent\n", "fake", "ultimate", "--bot", srv.URL, "--api-key", "k",
		"--redeliver", "1", "--redeliver-after", "10ms")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	mu.Lock()
	got := append([]string(nil), bodies...)
	bodies = nil
	mu.Unlock()
	require.Len(t, got, 2, out)
	assert.Equal(t, got[0], got[1])
	assert.Contains(t, out, "attempt 1 of delivery 1 (at most 2): answered 503")
	assert.Contains(t, out, "attempt 2 of delivery 1 (at most 2): answered 200")

	// By default Ultimate does not redeliver.
	code, out, _ = botwire(t, "Hello\n", "fake", "ultimate", "--bot", srv.URL, "--api-key", "k")
	mu.Lock()
	assert.Equal(t, 1, code)
	assert.Len(t, bodies, 1)
	assert.NotContains(t, out, "attempt")
	assert.Contains(t, out, "answered 503")
	mu.Unlock()
}
