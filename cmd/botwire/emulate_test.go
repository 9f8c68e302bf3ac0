package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	otecho "github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// emulatorFor starts the emulator of vendor in-process with a bot that
// needs the fake platform's address (ln) for its client.
type emuCase struct {
	vendor string
	auth   auth
	apiKey string
	// bot builds the bot given the fake platform's base URL.
	bot   func(t *testing.T, platform string) http.Handler
	say   string
	reply string // text of the bot's answer to say
	click string // a button to click in that answer
	after string // text of the answer to the click
}

func emuCases() []emuCase {
	return []emuCase{
		{vendor: "onetalk", auth: auth{secret: secret}, say: "menu", reply: "How can we help you?", click: "Opening hours", after: "We are open",
			bot: func(t *testing.T, platform string) http.Handler {
				c, err := onetalk.NewClient(platform, secret)
				require.NoError(t, err)
				h, err := onetalk.NewHandler(secret, otecho.Bot(c))
				require.NoError(t, err)
				return h
			}},
		{vendor: "easydialog", auth: auth{secret: secret}, say: "menu", reply: "Pick one", click: "Prices", after: "You picked prices",
			bot: func(t *testing.T, _ string) http.Handler {
				h, err := easydialog.NewHandler(secret, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
					if r.Message.Text() == "menu" {
						return easydialog.Reply(easydialog.NewTextMessage("Pick one").WithSuggestions(easydialog.ReplyWith("Prices", "prices"))), nil
					}
					return easydialog.Reply(easydialog.NewTextMessage("You picked " + r.Message.Text())), nil
				})
				require.NoError(t, err)
				return h
			}},
		{vendor: "userlike", auth: auth{secret: secret, header: "API-SECURITY-TOKEN"}, apiKey: "api", say: "hello", reply: "What do you need?", click: "Delivery", after: "You chose delivery",
			bot: func(t *testing.T, _ string) http.Handler {
				h, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
					switch e.Packet.Name {
					case userlike.EventMessage:
						r.Add(userlike.Bubbles("What do you need?", "1) Delivery", userlike.Choice{ID: "delivery", Label: "Delivery"}))
					case userlike.EventClick:
						c, _ := e.Click()
						r.Add(userlike.Message("You chose " + c.Value.ID))
					}
					return nil
				}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", secret))
				require.NoError(t, err)
				return h
			}},
		{vendor: "ultimate", apiKey: "api", say: "hello", reply: "How can I help?", click: "Order status", after: "What is your order number?",
			bot: func(t *testing.T, _ string) http.Handler {
				r := &relay.Relay{TeamOnline: func(string) bool { return true }}
				h, err := ultimate.NewChatHandler(r.Callbacks(), ultimate.WithoutAuthentication())
				require.NoError(t, err)
				return h
			}},
		{vendor: "botcopy", auth: auth{secret: secret}, apiKey: "api", say: "I need a human", reply: "An agent will be right with you", click: "", after: "",
			bot: func(t *testing.T, platform string) http.Handler {
				c, err := botcopy.NewClient("api", botcopy.WithBaseURL(platform))
				require.NoError(t, err)
				h, err := botcopy.NewHandler(secret, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
					to := botcopy.Target{UserID: r.UserID, BotID: r.BotID}
					if r.Kind() == botcopy.KindTrigger {
						return botcopy.PauseFor(10), c.SendMessage(ctx, to, "An agent will be right with you")
					}
					return botcopy.PauseFor(10), nil
				})
				require.NoError(t, err)
				return h
			}},
	}
}

// startEmulator runs the emulator of c in-process and returns its page.
func startEmulator(t *testing.T, c emuCase) (*httptest.Server, *emulator) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	if c.vendor == "onetalk" {
		base += "/api/visitor/v1/webhook/chatbot/custom/2178/2619482363"
	}
	bot := httptest.NewServer(c.bot(t, base))
	t.Cleanup(bot.Close)
	p := &platform{vendor: c.vendor, auth: c.auth, apiKey: c.apiKey, botID: "618a30beee4e8e87d2f94015"}
	e := newEmulator(c.vendor, &p.auth)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p.bot, p.ln = bot.URL, ln
	if c.vendor == "easydialog" {
		ln.Close()
		p.ln = nil
	}
	e.ad = newAdapter(ctx, e, p)
	t.Cleanup(e.ad.close)
	page := httptest.NewServer(e.handler())
	t.Cleanup(page.Close)
	return page, e
}

func history(t *testing.T, page string) []event {
	t.Helper()
	resp, err := http.Get(page + "/api/history")
	require.NoError(t, err)
	defer resp.Body.Close()
	var evs []event
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&evs))
	return evs
}

// waitItem waits for a chat item whose text contains text and returns it.
func waitItem(t *testing.T, page, text string) item {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, ev := range history(t, page) {
			if ev.Item != nil && ev.Item.From != "customer" && strings.Contains(ev.Item.Text, text) {
				return *ev.Item
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no chat item with %q in %v", text, history(t, page))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url string, v any) int {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestEmulatorAPIEveryVendor(t *testing.T) {
	for _, c := range emuCases() {
		t.Run(c.vendor, func(t *testing.T) {
			page, _ := startEmulator(t, c)
			resp, err := http.Get(page.URL + "/")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode, "the embedded page")

			require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": c.say}))
			got := waitItem(t, page.URL, c.reply)
			if c.click != "" {
				var target *action
				for _, b := range got.Buttons {
					if b.Label == c.click {
						target = &b
					}
				}
				for _, cd := range got.Cards {
					for _, b := range cd.Buttons {
						if b.Label == c.click {
							target = &b
						}
					}
				}
				require.NotNil(t, target, "no %q to click in %+v", c.click, got)
				require.Equal(t, 200, postJSON(t, page.URL+"/api/click", target))
				waitItem(t, page.URL, c.after)
			}

			// The inspector has both directions, secrets masked.
			var in, out int
			var replayable int
			for _, ev := range history(t, page.URL) {
				if x := ev.Exchange; x != nil {
					if strings.HasPrefix(x.Direction, "platform") {
						in++
					} else {
						out++
					}
					if x.Replayable {
						replayable = x.ID
					}
					b, _ := json.Marshal(x)
					assert.NotContains(t, string(b), secret)
				}
			}
			assert.Positive(t, in)
			if c.vendor == "onetalk" || c.vendor == "botcopy" {
				assert.Positive(t, out, "what the bot sent the platform")
			}
			if replayable > 0 {
				assert.Equal(t, 200, postJSON(t, page.URL+"/api/replay/"+itoa(replayable), nil))
			}
			assert.Equal(t, 404, postJSON(t, page.URL+"/api/replay/9999", nil))
			assert.Equal(t, 400, postJSON(t, page.URL+"/api/say", "not an object"))

			// Save the transcript and load it into a fresh emulator: the
			// customer's side replays.
			resp, err = http.Get(page.URL + "/api/transcript")
			require.NoError(t, err)
			var tr transcript
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
			resp.Body.Close()
			require.NotEmpty(t, tr.Steps)
			again, _ := startEmulator(t, c)
			require.Equal(t, 200, postJSON(t, again.URL+"/api/transcript", tr))
			waitItem(t, again.URL, c.reply)
			tr.Vendor = "other"
			assert.Equal(t, 400, postJSON(t, again.URL+"/api/transcript", tr))
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestEmulateUsage(t *testing.T) {
	code, out, _ := botwire(t, "", "emulate", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Example:")
	code, _, _ = botwire(t, "", "emulate", "onetalk")
	assert.Equal(t, 2, code)
}

// Botcopy's desk side: the agent's text is pushed as the proxy's desk would
// and shown as the agent's message; "/bot" gives the chat back.
func TestEmulatorBotcopyDesk(t *testing.T) {
	var c emuCase
	for _, x := range emuCases() {
		if x.vendor == "botcopy" {
			c = x
		}
	}
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "help"}))
	waitItem(t, page.URL, c.reply)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/agent", map[string]string{"text": "Hi, I am Ada from support"}))
	waitItem(t, page.URL, "Hi, I am Ada from support")
	require.Equal(t, 200, postJSON(t, page.URL+"/api/agent", map[string]string{"text": "/bot"}))
	waitItem(t, page.URL, "gave the conversation back to the bot")

	other, _ := startEmulator(t, emuCases()[0])
	assert.Equal(t, 404, postJSON(t, other.URL+"/api/agent", map[string]string{"text": "x"}))
}
