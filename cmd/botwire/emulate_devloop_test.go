package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// post posts v as JSON to url and returns the status and the answer.
func post(t *testing.T, url string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// exchanges returns the final form of each exchange of the history, by id.
func exchanges(t *testing.T, page string) []exchange {
	t.Helper()
	var out []exchange
	for _, ev := range history(t, page) {
		if x := ev.Exchange; x != nil {
			if x.ID <= len(out) {
				out[x.ID-1] = *x
			} else {
				out = append(out, *x)
			}
		}
	}
	return out
}

func chatLines(t *testing.T, page string) []item {
	t.Helper()
	var out []item
	for _, ev := range history(t, page) {
		if ev.Item != nil {
			out = append(out, *ev.Item)
		}
	}
	return out
}

// emuBot answers each delivery with the next of statuses (200 after
// them) and counts the deliveries and their bodies.
type emuBot struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	delay    time.Duration
}

func (b *emuBot) handler(t *testing.T, platform string) http.Handler {
	c, err := onetalk.NewClient(platform, secret)
	require.NoError(t, err)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.bodies = append(b.bodies, string(body))
		status := 200
		if len(b.statuses) > 0 {
			status, b.statuses = b.statuses[0], b.statuses[1:]
		}
		b.mu.Unlock()
		time.Sleep(b.delay)
		if status == 200 {
			var in onetalk.InboundRequest
			_ = json.Unmarshal(body, &in)
			_ = c.SendMessages(r.Context(), in.CaseID, onetalk.NewText("got "+in.Message.Body()))
		}
		w.WriteHeader(status)
	})
}

func (b *emuBot) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.bodies)
}

// A delivery the bot does not accept is redelivered as OneTalk does: the
// same bytes, attempts of one delivery in the inspector, and Replay
// offers the same delivery again or a new one.
func TestEmulatorRedeliversAsThePlatform(t *testing.T) {
	bot := &emuBot{statuses: []int{500, 503}}
	page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
	status, _ := post(t, page.URL+"/api/say", map[string]string{"text": "hi"})
	require.Equal(t, 200, status, "the third attempt is accepted")
	waitItem(t, page.URL, "got hi")
	require.Equal(t, 3, bot.count())
	assert.Equal(t, bot.bodies[0], bot.bodies[1], "a redelivery sends the same bytes")
	assert.Equal(t, bot.bodies[0], bot.bodies[2])

	xs := exchanges(t, page.URL)
	var attempts []exchange
	for _, x := range xs {
		if x.Direction == "platform → bot" {
			attempts = append(attempts, x)
		}
	}
	require.Len(t, attempts, 3)
	for i, x := range attempts {
		assert.Equal(t, attempts[0].Delivery, x.Delivery, "one delivery")
		assert.Equal(t, i+1, x.Attempt)
		assert.Equal(t, i > 0, x.Redelivery)
		assert.False(t, x.Pending)
		assert.Equal(t, "message text", x.Event)
		assert.Equal(t, "hi", x.Summary)
	}
	assert.Equal(t, 500, attempts[0].Status)
	assert.Contains(t, attempts[0].Error, "the bot answered 500")
	assert.Contains(t, attempts[0].Hint, "its log")

	// Replay: the same delivery again, and as a new one.
	status, _ = post(t, fmt.Sprintf("%s/api/replay/%d", page.URL, attempts[0].ID), map[string]string{"as": "redelivery"})
	require.Equal(t, 200, status)
	status, _ = post(t, fmt.Sprintf("%s/api/replay/%d", page.URL, attempts[0].ID), map[string]string{"as": "new"})
	require.Equal(t, 200, status)
	require.Equal(t, 5, bot.count())
	assert.Equal(t, bot.bodies[0], bot.bodies[3], "a redelivery is the same bytes")
	assert.NotEqual(t, bot.bodies[0], bot.bodies[4], "a new delivery has its own timestamp")
	xs = exchanges(t, page.URL)
	var last []exchange
	for _, x := range xs {
		if x.Direction == "platform → bot" {
			last = append(last, x)
		}
	}
	require.Len(t, last, 5)
	assert.Equal(t, attempts[0].Delivery, last[3].Delivery)
	assert.Equal(t, 4, last[3].Attempt)
	assert.True(t, last[3].Redelivery)
	assert.NotEqual(t, attempts[0].Delivery, last[4].Delivery)
	assert.Equal(t, 1, last[4].Attempt)
	assert.False(t, last[4].Redelivery)

	status, _ = post(t, page.URL+"/api/replay/1", map[string]string{"as": "sideways"})
	assert.Equal(t, 400, status)
}

// A failure says what to do next, once: the credential flag and the
// variable the example reads, the examples' paths, a bot that is down.
func TestEmulatorFailureHints(t *testing.T) {
	t.Run("401", func(t *testing.T) {
		bot := &emuBot{statuses: []int{401, 401, 401}}
		page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
		status, out := post(t, page.URL+"/api/say", map[string]string{"text": "hi"})
		assert.Equal(t, 502, status)
		assert.Contains(t, out["error"], "401")
		assert.Contains(t, out["hint"], "ONETALK_SECRET")
		assert.Contains(t, out["hint"], "--secret")
	})
	t.Run("404", func(t *testing.T) {
		bot := &emuBot{statuses: []int{404, 404, 404}}
		page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
		_, out := post(t, page.URL+"/api/say", map[string]string{"text": "hi"})
		assert.Contains(t, out["hint"], "/onetalk")
	})
	t.Run("down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		p := &platform{auth: auth{secret: secret}, addr: "127.0.0.1:0", bot: "http://" + addr + "/onetalk"}
		require.NoError(t, p.setup("emulate", []string{"onetalk"}))
		e := newEmulator("onetalk", &p.auth)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.ad = newAdapter(ctx, e, p)
		defer e.ad.close()
		err = e.do(ctx, step{Type: "say", Text: "hi"})
		require.Error(t, err)
		e.fail(err) // what the page's API does: must not show it twice
		var errs []item
		for _, ev := range e.events {
			if ev.Item != nil && ev.Item.Error != "" {
				errs = append(errs, *ev.Item)
			}
		}
		require.Len(t, errs, 1, "the failure is shown once: %+v", errs)
		assert.Contains(t, errs[0].Hint, "nothing listens at "+addr)
		assert.NotZero(t, errs[0].Exchange, "the error links to its exchange")
		n := 0
		for _, x := range e.exchanges {
			if x.Direction == "platform → bot" {
				n++
			}
		}
		assert.Equal(t, 1, n, "a bot that is down is not redelivered to")
	})
}

// A slow delivery shows pending at once and is flagged past the budget.
func TestEmulatorShowsPendingAndLate(t *testing.T) {
	bot := &emuBot{delay: 300 * time.Millisecond}
	page, e := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
	e.policy.budget = 100 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		post(t, page.URL+"/api/say", map[string]string{"text": "slow"})
	}()
	require.Eventually(t, func() bool {
		for _, ev := range history(t, page.URL) {
			if ev.Exchange != nil && ev.Exchange.Pending && ev.Exchange.Direction == "platform → bot" {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "the delivery is shown pending while the bot works")
	<-done
	xs := exchanges(t, page.URL)
	require.NotEmpty(t, xs)
	assert.False(t, xs[0].Pending)
	assert.True(t, xs[0].Late)
	assert.Equal(t, 100.0, xs[0].BudgetMS)
	assert.Contains(t, xs[0].Hint, "past the platform's")
}

// The inspector's fields: the bot's call nested under the delivery that
// caused it, every chat line linked to its exchange, commands that
// reproduce a delivery without the secret.
func TestEmulatorInspectorFields(t *testing.T) {
	c := emuCases()[0] // onetalk
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": c.say}))
	reply := waitItem(t, page.URL, c.reply)
	xs := exchanges(t, page.URL)
	require.GreaterOrEqual(t, len(xs), 2)
	delivery, call := xs[0], xs[1]
	assert.Equal(t, "platform → bot", delivery.Direction)
	assert.Equal(t, "bot → platform", call.Direction)
	assert.Equal(t, delivery.ID, call.Parent, "the bot's call is under the delivery it answers")
	assert.Equal(t, "eventType messages", call.Event)
	assert.Contains(t, call.Summary, c.reply)
	assert.Equal(t, call.ID, reply.Exchange, "the bot's bubble opens the call that carried it")
	assert.NotEmpty(t, delivery.Time)
	for _, it := range chatLines(t, page.URL) {
		if it.From == "customer" {
			assert.Equal(t, delivery.ID, it.Exchange, "the customer's line opens its delivery")
		}
	}
	for _, cmd := range []string{delivery.Send, delivery.Curl} {
		assert.NotContains(t, cmd, secret)
		assert.Contains(t, cmd, "$BOTWIRE_SECRET")
	}
	assert.Contains(t, delivery.Send, "botwire send onetalk - --to")
	assert.Contains(t, delivery.Curl, "curl -sS -X POST")
	var row action
	for _, b := range reply.Buttons {
		if b.Label == c.click {
			row = b
		}
	}
	assert.NotEmpty(t, row.Value, "a button shows what a click sends: %+v", reply.Buttons)
}

// readSSE reads n events of the stream at url (with Last-Event-ID last
// when not "").
func readSSE(t *testing.T, e *emulator, url string, last string, n int) []event {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []event
	id := ""
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			var ev event
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev))
			if ev.Kind != "reload" {
				assert.Equal(t, fmt.Sprintf("%s.%d", e.runID, ev.ID), id, "the SSE id is the run's and the event's")
			}
			out = append(out, ev)
		}
	}
	return out
}

// The stream sends the history and then live events with ids, and a
// reconnect with Last-Event-ID gets exactly what it missed, while events
// keep coming.
func TestEmulatorStreamResumes(t *testing.T) {
	page, e := startEmulator(t, emuCases()[1]) // easydialog
	for i := range 5 {
		e.chat(item{From: "system", Text: fmt.Sprint("before ", i)})
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // events emitted while the pages connect
		defer wg.Done()
		for i := 0; !stop.Load() && i < 200; i++ {
			e.chat(item{From: "system", Text: fmt.Sprint("during ", i)})
			time.Sleep(time.Millisecond)
		}
	}()
	first := readSSE(t, e, page.URL+"/api/events", "", 20)
	require.Len(t, first, 20)
	for i, ev := range first {
		assert.Equal(t, i+1, ev.ID, "no event lost or repeated")
	}
	again := readSSE(t, e, page.URL+"/api/events", e.runID+".12", 10)
	stop.Store(true)
	wg.Wait()
	require.Len(t, again, 10)
	for i, ev := range again {
		assert.Equal(t, 13+i, ev.ID, "a reconnect resumes after Last-Event-ID")
	}
	after := readSSE(t, e, page.URL+"/api/events?after=3", "", 1)
	require.Len(t, after, 1)
	assert.Equal(t, 4, after[0].ID)
	other := readSSE(t, e, page.URL+"/api/events", "0bad0bad.12", 1)
	require.Len(t, other, 1)
	assert.Equal(t, "reload", other[0].Kind, "a page of another run of the command reloads")
}

// Conversations: fresh ids per run and per new conversation, each event
// tagged with its own, channels OneTalk has, and what a channel refuses.
func TestEmulatorConversations(t *testing.T) {
	c := emuCases()[0]
	page, e := startEmulator(t, c)
	_, other := startEmulator(t, c)
	first := e.current()
	assert.NotEqual(t, first.ID, other.current().ID, "every run has its own case id")
	assert.Regexp(t, `^[0-9A-F]{10}$`, first.ID)

	var info map[string]any
	resp, err := http.Get(page.URL + "/api/info")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	resp.Body.Close()
	assert.Equal(t, first.ID, info["conversation"])
	assert.Equal(t, []any{"whatsappba", "telegram"}, info["channels"])
	assert.Contains(t, info["inputs"], "image")

	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": c.say}))
	waitItem(t, page.URL, c.reply)

	status, out := post(t, page.URL+"/api/conversation", map[string]string{"new": "conversation", "channel": "telegram"})
	require.Equal(t, 200, status)
	second := out["conversation"].(string)
	assert.NotEqual(t, first.ID, second)
	assert.Equal(t, "telegram", out["channel"])
	assert.Equal(t, first.Customer, out["customer"], "a new conversation of the same customer")
	status, _ = post(t, page.URL+"/api/conversation", map[string]string{"new": "conversation", "channel": "sms"})
	assert.Equal(t, 400, status)

	// The menu's buttons are a whatsappba message, which Telegram has not.
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": c.say}))
	require.Eventually(t, func() bool {
		for _, ev := range history(t, page.URL) {
			if ev.Item != nil && ev.Conv == second && strings.Contains(ev.Item.Error, "Telegram") {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond, "a whatsappba message on a Telegram case is refused")
	for _, ev := range history(t, page.URL) {
		require.NotEmpty(t, ev.Conv, "event %d has no conversation", ev.ID)
		if ev.Exchange != nil && ev.Exchange.Direction == "platform → bot" {
			assert.Contains(t, ev.Exchange.ReqBody, ev.Conv, "a delivery carries its conversation's case id")
		}
	}

	status, out = post(t, page.URL+"/api/conversation", map[string]string{"new": "customer"})
	require.Equal(t, 200, status)
	assert.NotEqual(t, first.Customer, out["customer"])
}

// Customer input beyond text reaches the bot as the platform sends it;
// what the platform does not send is refused.
func TestEmulatorAttachments(t *testing.T) {
	bot := &emuBot{}
	page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
	status, _ := post(t, page.URL+"/api/send", map[string]any{"type": "image", "url": "https://example.com/cat.jpg", "caption": "my cat"})
	require.Equal(t, 200, status)
	status, _ = post(t, page.URL+"/api/send", map[string]any{"type": "location", "latitude": -6.2, "longitude": 106.8, "name": "Jakarta"})
	require.Equal(t, 200, status)
	require.Equal(t, 2, bot.count())
	var img, loc onetalk.InboundRequest
	require.NoError(t, json.Unmarshal([]byte(bot.bodies[0]), &img))
	require.NoError(t, json.Unmarshal([]byte(bot.bodies[1]), &loc))
	require.NotNil(t, img.Message.Image)
	assert.Equal(t, "https://example.com/cat.jpg", img.Message.Image.URL)
	require.NotNil(t, loc.Message.Location)
	assert.Equal(t, -6.2, loc.Message.Location.Latitude)

	for _, bad := range []map[string]any{
		{"type": "contact", "name": "Ann"},         // OneTalk sends no contacts
		{"type": "image", "url": "javascript:x()"}, // not a URL the platform fetches
		{"type": "location", "latitude": 91.0},
	} {
		status, out := post(t, page.URL+"/api/send", bad)
		assert.Equal(t, 400, status, "%v", bad)
		assert.NotEmpty(t, out["error"])
	}
	assert.Equal(t, 2, bot.count())
}

// Botcopy: the first line reaches the proxy once, as the trigger carrying
// it; after a resume lines go to Dialogflow until /handover.
func TestEmulatorBotcopyHandover(t *testing.T) {
	var mu sync.Mutex
	var got []*botcopy.HandoverRequest
	c := emuCase{vendor: "botcopy", auth: auth{secret: secret}, apiKey: "api",
		bot: func(t *testing.T, platform string) http.Handler {
			h, err := botcopy.NewHandler(secret, func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
				if r.Text() == "bye" {
					return botcopy.Continue(), nil
				}
				return botcopy.PauseFor(10), nil
			})
			require.NoError(t, err)
			return h
		}}
	page, _ := startEmulator(t, c)
	kinds := func() (out []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range got {
			out = append(out, string(r.Kind())+":"+r.Text())
		}
		return out
	}
	for _, line := range []string{"my parcel is lost", "still waiting", "bye", "one more thing", "/handover it is lost again"} {
		require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": line}), line)
	}
	assert.Equal(t, []string{
		string(botcopy.KindTrigger) + ":my parcel is lost",
		string(botcopy.KindUserMessage) + ":still waiting",
		string(botcopy.KindUserMessage) + ":bye",
		// "one more thing" went to Dialogflow
		string(botcopy.KindTrigger) + ":it is lost again",
	}, kinds())
	mu.Lock()
	var said []string
	for _, l := range botcopy.Transcript(got[3].MessageHistory) {
		if l.Speaker == "Customer" {
			said = append(said, l.Text)
		}
	}
	mu.Unlock()
	assert.Equal(t, []string{"my parcel is lost", "still waiting", "bye", "one more thing", "it is lost again"}, said,
		"the new handover's history is the conversation's")
	var dialogflow bool
	for _, it := range chatLines(t, page.URL) {
		if strings.Contains(it.Text, "Botcopy sends this to Dialogflow") {
			dialogflow = true
		}
	}
	assert.True(t, dialogflow)
}

// A OneTalk bot that accepts deliveries but never calls the platform is
// told once that its replies go elsewhere.
func TestEmulatorQuietBotWarning(t *testing.T) {
	old := quietAfter
	quietAfter = 100 * time.Millisecond
	t.Cleanup(func() { quietAfter = old })
	quiet := func(t *testing.T, _ string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	}
	page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: quiet})
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "one"}))
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "two"}))
	time.Sleep(400 * time.Millisecond)
	var warnings []item
	for _, it := range chatLines(t, page.URL) {
		if strings.Contains(it.Hint, "has not called the platform") {
			warnings = append(warnings, it)
		}
	}
	require.Len(t, warnings, 1, "warned once a run")
	assert.Contains(t, warnings[0].Hint, "ONETALK_URL")

	page2, _ := startEmulator(t, emuCases()[0]) // a bot that replies
	require.Equal(t, 200, postJSON(t, page2.URL+"/api/say", map[string]string{"text": "menu"}))
	time.Sleep(400 * time.Millisecond)
	for _, it := range chatLines(t, page2.URL) {
		assert.NotContains(t, it.Hint, "has not called the platform")
	}
}

// Load (POST /api/transcript) runs the steps one at a time and answers
// 502 with one line per failed step.
func TestEmulatorTranscriptReportsErrors(t *testing.T) {
	bot := &emuBot{statuses: []int{400, 400, 400}}
	page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
	status, out := post(t, page.URL+"/api/transcript", transcript{Vendor: "onetalk", Steps: []step{{Type: "say", Text: "a"}, {Type: "say", Text: "b"}}})
	assert.Equal(t, 502, status)
	assert.Equal(t, 2.0, out["replayed"])
	errs, _ := out["errors"].([]any)
	require.Len(t, errs, 1, "%v", out)
	assert.Contains(t, errs[0], "step 1")
	assert.Contains(t, errs[0], "400")
	status, out = post(t, page.URL+"/api/transcript", transcript{Vendor: "onetalk", Steps: []step{{Type: "say", Text: "c"}}})
	assert.Equal(t, 200, status)
	assert.Empty(t, out["errors"])
}

// Ultimate's actions call is shown with its own URL and event, apart from
// the chat webhook's deliveries.
func TestEmulatorUltimateActionsCall(t *testing.T) {
	r := &relay.Relay{TeamOnline: func(string) bool { return true }, OrderStatus: func(string) string { return "shipped" }}
	actions, err := ultimate.NewActionHandler(r.Action, ultimate.WithoutAuthentication())
	require.NoError(t, err)
	c := emuCases()[3] // ultimate
	require.Equal(t, "ultimate", c.vendor)
	c.actions = actions
	page, e := startEmulator(t, c)
	for _, line := range []string{"hello", "Order status", "A-1001"} {
		require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": line}), line)
	}
	require.Eventually(t, func() bool {
		for _, x := range exchanges(t, page.URL) {
			if strings.HasPrefix(x.Event, "action ") {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond)
	for _, x := range exchanges(t, page.URL) {
		if strings.HasPrefix(x.Event, "action ") {
			assert.Equal(t, "action getOrderStatus", x.Event)
			assert.True(t, strings.HasSuffix(x.URL, "/ultimate/actions"), "the actions call is labelled with its URL: %s", x.URL)
		} else if x.Direction == "platform → bot" {
			assert.NotContains(t, x.URL, "/ultimate/actions", "a chat delivery: %s", x.Event)
		}
	}
	for _, ev := range history(t, page.URL) {
		assert.Equal(t, e.current().ID, ev.Conv, "event %d is of the conversation", ev.ID)
	}
}

// What the widgets show, as the vendor docs say: OneTalk's media headers,
// Userlike's URL buttons, navigate and templates on the website widget.
func TestEmulatorWidgetFidelity(t *testing.T) {
	it := onetalkItem(decodeMap([]byte(`{"type":"whatsappba","whatsappba":{"interactive":{"type":"button",
		"header":{"type":"image","image":{"link":"https://example.com/a.png"}},"body":{"text":"Pick"},"footer":{"text":"small print"},
		"buttonAction":{"buttons":[{"type":"reply","reply":{"id":"/x","title":"X"}}]}}}}`)))
	require.NotNil(t, it.Media, "an image header is shown")
	assert.Equal(t, "image", it.Media.Kind)
	assert.Equal(t, "https://example.com/a.png", it.Media.URL)
	assert.Equal(t, "small print", it.Footer)
	doc := onetalkItem(decodeMap([]byte(`{"type":"document","document":{"url":"https://example.com/r.pdf","filename":"Receipt.pdf","caption":"See attached"}}`)))
	assert.Equal(t, "Receipt.pdf — See attached", doc.Media.Caption)

	e := newEmulator("userlike", &auth{})
	u := &userlikeAdapter{base: base{e: e, vendor: "userlike"}}
	u.render(e.current().ID, 0, []byte(`[
		{"packet":{"name":"buttons","payload":{"body":"Read more","buttons":[{"label":"Docs","url":"https://example.com/docs"}]}}},
		{"packet":{"name":"navigate","payload":{"url":"https://example.com/next"}}},
		{"packet":{"name":"list_template","payload":{"body":"Choose","headline":"H","footer":"F","button":"Open","options":[{"id":"a","label":"A","description":"the first"}]}}},
		{"packet":{"name":"media","payload":{"link":"https://example.com/clip.mp4"}}}]`))
	var items []item
	for _, ev := range e.events {
		items = append(items, *ev.Item)
	}
	require.Len(t, items, 4)
	assert.Equal(t, "Read more", items[0].Text)
	require.Len(t, items[0].Buttons, 1)
	assert.Equal(t, action{Kind: "url", Label: "Docs", URL: "https://example.com/docs"}, items[0].Buttons[0])
	assert.Equal(t, "https://example.com/next", items[1].Buttons[0].URL)
	assert.Equal(t, "Choose", items[2].Text)
	assert.Nil(t, items[2].List, "a list_template shows as bubbles on the website widget")
	assert.Empty(t, items[2].Footer)
	assert.Contains(t, items[2].Hint, "WhatsApp")
	assert.Equal(t, "a", items[2].Buttons[0].Value)
	assert.Equal(t, "video", items[3].Media.Kind)
}

// Botcopy's resume shows what the doc says the customer reads.
func TestEmulatorBotcopyResumeTexts(t *testing.T) {
	c := emuCases()[4]
	require.Equal(t, "botcopy", c.vendor)
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "help"}))
	waitItem(t, page.URL, "Let me connect you with a human agent.")
	require.Equal(t, 200, postJSON(t, page.URL+"/api/agent", map[string]string{"text": "/bot"}))
	waitItem(t, page.URL, "The human has left the conversation. You are now chatting with the bot.")
}

// Userlike's website widget: the start comes before the contact's first
// line (its welcome shows first), and a choice takes one click; later
// clicks are messages with the label.
func TestEmulatorUserlikeWidget(t *testing.T) {
	var mu sync.Mutex
	var got []string
	c := emuCase{vendor: "userlike", auth: auth{secret: secret, header: "API-SECURITY-TOKEN"}, apiKey: "api",
		bot: func(t *testing.T, _ string) http.Handler {
			h, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
				mu.Lock()
				defer mu.Unlock()
				switch e.Packet.Name {
				case userlike.EventStart:
					got = append(got, "start")
					r.Add(userlike.Message("Welcome!"))
				case userlike.EventMessage:
					m, _ := e.Message()
					got = append(got, "message:"+m.Body)
					r.Add(userlike.Bubbles("Pick", "1) Delivery", userlike.Choice{ID: "delivery", Label: "Delivery"}))
				case userlike.EventClick:
					cl, _ := e.Click()
					got = append(got, "click:"+cl.Value.ID)
				}
				return nil
			}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", secret))
			require.NoError(t, err)
			return h
		}}
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "hello"}))
	pick := waitItem(t, page.URL, "Pick")
	require.Len(t, pick.Buttons, 1)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/click", pick.Buttons[0]))
	require.Equal(t, 200, postJSON(t, page.URL+"/api/click", pick.Buttons[0]))
	mu.Lock()
	assert.Equal(t, []string{"start", "message:hello", "click:delivery", "message:Delivery"}, got)
	mu.Unlock()
	var order []string
	for _, it := range chatLines(t, page.URL) {
		if it.From == "customer" || it.Text == "Welcome!" {
			order = append(order, it.From+":"+it.Text)
		}
	}
	assert.Equal(t, []string{"bot:Welcome!", "customer:hello", "customer:Delivery", "customer:Delivery"}, order)
}

// A line typed while another's delivery is pending keeps its own place:
// each customer line links to the delivery that carried it.
func TestEmulatorConcurrentSteps(t *testing.T) {
	bot := &emuBot{delay: 200 * time.Millisecond}
	page, _ := startEmulator(t, emuCase{vendor: "onetalk", auth: auth{secret: secret}, bot: bot.handler})
	var wg sync.WaitGroup
	for _, text := range []string{"one", "two", "three"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, page.URL+"/api/say", map[string]string{"text": text})
		}()
		time.Sleep(30 * time.Millisecond)
	}
	wg.Wait()
	xs := exchanges(t, page.URL)
	var lines int
	for _, it := range chatLines(t, page.URL) {
		if it.From != "customer" {
			continue
		}
		lines++
		require.NotZero(t, it.Exchange, "%q is linked", it.Text)
		assert.Equal(t, it.Text, xs[it.Exchange-1].Summary, "%q links to its own delivery", it.Text)
	}
	assert.Equal(t, 3, lines)
}

// The visitor's converse calls, which the emulator makes for the bot's
// integration, are in the inspector, a card click with its cardIndex.
func TestEmulatorUltimateVisitorCalls(t *testing.T) {
	c := emuCases()[3]
	require.Equal(t, "ultimate", c.vendor)
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "hello"}))
	waitItem(t, page.URL, c.reply)
	var events []string
	for _, x := range exchanges(t, page.URL) {
		if x.Direction == "visitor → platform" {
			events = append(events, x.Event+":"+x.Summary)
			assert.Contains(t, x.URL, "/converse/")
			assert.NotEmpty(t, x.Hint)
		}
	}
	assert.Equal(t, []string{"converse startSession:", "converse message:hello"}, events)
}
