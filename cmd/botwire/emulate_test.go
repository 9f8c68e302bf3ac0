package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
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
	// userinfo, when set, goes into the bot's URL ("user:password").
	userinfo string
	// actions, when set, is Ultimate's actions webhook.
	actions http.Handler
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

// startEmulator runs the emulator of c in-process, set up and served as
// runEmulate does, and returns its page.
func startEmulator(t *testing.T, c emuCase) (*httptest.Server, *emulator) {
	t.Helper()
	// The bot needs the fake platform's URL, which setup opens once it has
	// the bot's: the bot's server gets its handler after setup.
	bot := httptest.NewUnstartedServer(nil)
	t.Cleanup(bot.Close)
	p := &platform{auth: c.auth, apiKey: c.apiKey, botID: "618a30beee4e8e87d2f94015", addr: "127.0.0.1:0",
		bot: "http://" + bot.Listener.Addr().String()}
	if c.userinfo != "" {
		p.bot = "http://" + c.userinfo + "@" + bot.Listener.Addr().String()
	}
	if c.actions != nil {
		actions := httptest.NewServer(c.actions)
		t.Cleanup(actions.Close)
		p.actions = actions.URL + "/ultimate/actions"
	}
	require.NoError(t, p.setup("emulate", []string{c.vendor}))
	var base string
	if p.ln != nil {
		base = "http://" + p.ln.Addr().String()
	}
	if c.vendor == "onetalk" {
		base += "/api/visitor/v1/webhook/chatbot/custom/2178/2619482363"
	}
	bot.Config.Handler = c.bot(t, base)
	bot.Start()

	e := newEmulator(c.vendor, &p.auth)
	e.policy.after = 20 * time.Millisecond // the platform's redeliveries, without its wait
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.ad = newAdapter(ctx, e, p)
	t.Cleanup(e.ad.close)
	page := httptest.NewUnstartedServer(nil)
	page.Config.Handler = e.web(page.Listener.Addr().String())
	page.Start()
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
				assert.Equal(t, 200, postJSON(t, page.URL+"/api/replay/"+itoa(replayable), struct{}{}))
			}
			assert.Equal(t, 404, postJSON(t, page.URL+"/api/replay/9999", struct{}{}))
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
	waitItem(t, page.URL, "has left the conversation. You are now chatting with the bot.")

	other, _ := startEmulator(t, emuCases()[0])
	assert.Equal(t, 404, postJSON(t, other.URL+"/api/agent", map[string]string{"text": "x"}))
}

// echoBot answers every delivery 200 with the request's headers echoed in
// its answer headers and in an Easy Dialog text reply, as a framework's
// debug page would, and records the values it saw.
type echoBot struct {
	mu   sync.Mutex
	seen http.Header
}

func (b *echoBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var vals []string
	b.mu.Lock()
	if b.seen == nil {
		b.seen = http.Header{}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			w.Header().Add("X-Echo-"+k, v)
			b.seen.Add(k, v)
			vals = append(vals, v)
		}
	}
	b.mu.Unlock()
	text, _ := json.Marshal("you sent " + strings.Join(vals, " "))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"messages":[{"body":{"textMessage":{"content":` + string(text) + `}}}]}`))
}

// values returns the values of the header name the bot saw, or of all
// headers without a name.
func (b *echoBot) values(name ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k, vs := range b.seen {
		if len(name) == 0 || http.CanonicalHeaderKey(name[0]) == k {
			out = append(out, vs...)
		}
	}
	return out
}

// A credential the bot echoes back (answer headers, answer body, the chat
// rendered from it) never reaches the page, nor does the password of a
// --bot URL.
func TestEmulatorRedactsWhatTheBotEchoes(t *testing.T) {
	for _, c := range []emuCase{
		{vendor: "onetalk", auth: auth{secret: secret}},
		{vendor: "easydialog", auth: auth{secret: secret}},
		{vendor: "userlike", auth: auth{secret: secret, header: "API-SECURITY-TOKEN"}, apiKey: "api"},
		{vendor: "botcopy", auth: auth{secret: secret, custom: "X-Portal: custom-value-81d2"}, apiKey: "api"},
		{vendor: "onetalk", auth: auth{secret: secret}, userinfo: "bob:url-password-4e1b"},
	} {
		t.Run(strings.TrimSpace(c.vendor+" "+c.userinfo), func(t *testing.T) {
			bot := &echoBot{}
			c.bot = func(*testing.T, string) http.Handler { return bot }
			page, _ := startEmulator(t, c)
			require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "hello"}))
			require.Eventually(t, func() bool { return len(bot.values()) > 0 }, 5*time.Second, 10*time.Millisecond)
			time.Sleep(100 * time.Millisecond) // the chat item rendered from the answer

			served := string(mustGet(t, page.URL+"/api/history")) + string(mustGet(t, page.URL+"/api/info"))
			credentials := []string{secret, "custom-value-81d2", "url-password-4e1b"}
			for _, name := range []string{"Authorization", onetalk.SecretHeader, easydialog.SignatureHeader, "Api-Security-Token", "X-Portal"} {
				credentials = append(credentials, bot.values(name)...) // the signature, the basic-auth value of the URL too
			}
			for _, cred := range credentials {
				assert.NotContains(t, served, cred)
			}
			assert.Contains(t, served, "[REDACTED]")
		})
	}
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// A link or media URL the bot sends with a scheme other than http(s),
// mailto or tel never reaches the page; the label stays.
func TestEmulatorDropsUnsafeLinks(t *testing.T) {
	c := emuCase{vendor: "easydialog", auth: auth{secret: secret},
		bot: func(t *testing.T, _ string) http.Handler {
			h, err := easydialog.NewHandler(secret, func(context.Context, *easydialog.Request) (*easydialog.Response, error) {
				return easydialog.Reply(
					easydialog.NewTextMessage("Links").WithSuggestions(
						easydialog.OpenURL("Evil", "javascript:alert(1)"),
						easydialog.OpenURL("Site", "https://example.com/ok"),
						easydialog.OpenURL("Data", "data:text/html,<script>alert(1)</script>"),
						easydialog.DialNumber("Call", "+43 1 234")),
					easydialog.NewFileListMessage("Files", easydialog.FileMessage{URL: "JaVaScRiPt:alert(3)", Name: "doc.pdf"}),
					easydialog.NewCardMessage(easydialog.Card("https://example.com/card.png", "Card", "d",
						easydialog.OpenURL("CardLink", "java\tscript:alert(5)"), easydialog.OpenURL("Mail", "mailto:a@example.com")))), nil
			})
			require.NoError(t, err)
			return h
		}}
	page, _ := startEmulator(t, c)
	require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "links"}))
	waitItem(t, page.URL, "Links")
	time.Sleep(100 * time.Millisecond)
	var chat []item
	for _, ev := range history(t, page.URL) {
		if ev.Item != nil && ev.Item.From == "bot" {
			chat = append(chat, *ev.Item)
		}
	}
	b, _ := json.Marshal(chat)
	for _, bad := range []string{"script:", "data:", "alert"} {
		assert.NotContains(t, strings.ToLower(string(b)), bad)
	}
	for _, kept := range []string{"Evil", "Data", "CardLink", "https://example.com/ok", "tel:+43 1 234", "mailto:a@example.com", "doc.pdf"} {
		assert.Contains(t, string(b), kept)
	}
}

// Botcopy's legacy body carries the access token: its field is masked
// whatever the token holds (JSON-escaped characters, under 4 bytes).
func TestEmulatorMasksTheBotcopyTokenField(t *testing.T) {
	for _, token := range []string{`a&b<c>"d\e-token`, "x1y"} {
		t.Run(token, func(t *testing.T) {
			c := emuCase{vendor: "botcopy", auth: auth{secret: token}, apiKey: "api",
				bot: func(t *testing.T, _ string) http.Handler {
					h, err := botcopy.NewHandler(token, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
						return botcopy.PauseFor(10), nil
					})
					require.NoError(t, err)
					return h
				}}
			page, _ := startEmulator(t, c)
			require.Equal(t, 200, postJSON(t, page.URL+"/api/say", map[string]string{"text": "help"}))
			escaped, _ := json.Marshal(token)
			var bodies int
			for _, ev := range history(t, page.URL) {
				x := ev.Exchange
				if x == nil || !strings.HasPrefix(x.Direction, "platform") {
					continue
				}
				bodies++
				for _, text := range []string{x.ReqBody, x.RespBody, x.ReqHeaders["Authorization"]} {
					assert.NotContains(t, text, token)
					assert.NotContains(t, text, strings.Trim(string(escaped), `"`))
				}
				assert.Contains(t, x.ReqBody, `"accessToken": "[REDACTED]"`)
			}
			assert.Positive(t, bodies)
		})
	}
}

// Every path of the page, static files included, answers only a Host of
// the page itself: a DNS-rebinding page (evil.example resolving to
// 127.0.0.1) reads and sends nothing.
func TestEmulatorAnswersOnlyItsOwnHost(t *testing.T) {
	page, _ := startEmulator(t, emuCases()[0])
	port := strconv.Itoa(page.Listener.Addr().(*net.TCPAddr).Port)
	for _, c := range []struct {
		host string
		want int
	}{
		{"evil.example:" + port, http.StatusMisdirectedRequest},
		{"evil.example", http.StatusMisdirectedRequest},
		{"localhost.evil.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1.nip.io:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1:1", http.StatusMisdirectedRequest},
		{"localhost", http.StatusMisdirectedRequest},
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LocalHost:" + port, http.StatusOK},
		{"127.8.9.10:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
	} {
		for _, path := range []string{"/", "/app.js", "/api/info", "/api/history", "/api/transcript", "/api/events"} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second) // /api/events streams
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, page.URL+path, nil)
			req.Host = c.host
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			assert.Equal(t, c.want, resp.StatusCode, "%s %s", c.host, path)
			if resp.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(resp.Body)
				assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain", "%s %s", c.host, path)
				assert.NotContains(t, string(body), "vendor", "%s %s", c.host, path)
			}
			resp.Body.Close()
			cancel()
		}
	}
	req, _ := http.NewRequest(http.MethodPost, page.URL+"/api/say", strings.NewReader(`{"text":"rebound"}`))
	req.Host = "evil.example:" + port
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	assert.Empty(t, history(t, page.URL), "nothing delivered")
}

// A cross-origin page can send no write: not a "simple" request (text/plain,
// form, multipart, no type), and not JSON with a foreign Origin or
// Sec-Fetch-Site. The page's own requests pass.
func TestEmulatorRefusesCrossOriginWrites(t *testing.T) {
	var c emuCase
	for _, x := range emuCases() {
		if x.vendor == "botcopy" {
			c = x // every write path delivers something, the desk's included
		}
	}
	page, _ := startEmulator(t, c)
	own := func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Origin", page.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	do := func(path string, set func(*http.Request)) (int, map[string]string) {
		body := `{"text":"forged","kind":"reply","label":"forged","vendor":"botcopy","steps":[{"type":"say","text":"forged"}]}`
		req, _ := http.NewRequest(http.MethodPost, page.URL+path, strings.NewReader(body))
		set(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, _ := do("/api/say", own)
	require.Equal(t, 200, code, "the page's own request")
	waitItem(t, page.URL, c.reply)
	time.Sleep(100 * time.Millisecond)
	before := len(history(t, page.URL))

	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	for name, set := range map[string]func(*http.Request){
		"text/plain":           func(r *http.Request) { r.Header.Set("Content-Type", "text/plain;charset=UTF-8") },
		"form":                 func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") },
		"multipart":            func(r *http.Request) { r.Header.Set("Content-Type", "multipart/form-data; boundary=x") },
		"no content type":      func(r *http.Request) {},
		"JSON-like type":       func(r *http.Request) { r.Header.Set("Content-Type", "application/json-seq") },
		"foreign Origin":       func(r *http.Request) { own(r); r.Header.Set("Origin", "http://evil.example") },
		"null Origin":          func(r *http.Request) { own(r); r.Header.Set("Origin", "null") },
		"other port Origin":    func(r *http.Request) { own(r); r.Header.Set("Origin", other.URL) },
		"https Origin":         func(r *http.Request) { own(r); r.Header.Set("Origin", "https://"+r.Host) },
		"cross-site fetch":     func(r *http.Request) { own(r); r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"same-site fetch":      func(r *http.Request) { own(r); r.Header.Set("Sec-Fetch-Site", "same-site") },
		"user-initiated fetch": func(r *http.Request) { own(r); r.Header.Set("Sec-Fetch-Site", "none") },
	} {
		for _, path := range []string{"/api/say", "/api/click", "/api/agent", "/api/transcript", "/api/replay/1"} {
			code, out := do(path, set)
			assert.Contains(t, []int{http.StatusForbidden, http.StatusUnsupportedMediaType}, code, "%s %s", name, path)
			assert.NotEmpty(t, out["error"], "%s %s: a JSON error", name, path)
		}
	}
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, history(t, page.URL), before, "nothing delivered, nothing shown")
}

// clean drops every URL of an item whose scheme the page must not follow
// or load, wherever the item holds one, and keeps the labels.
func TestItemClean(t *testing.T) {
	bad := []string{"javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
		"data:text/html,x", "vbscript:x", "/api/transcript", "//evil.example/x", "file:///etc/passwd"}
	for _, u := range bad {
		it := item{From: "bot", Buttons: []action{{Kind: "url", Label: "b", URL: u}},
			List:  &list{Sections: []section{{Rows: []action{{Kind: "row", Label: "r", URL: u}}}}},
			Cards: []card{{Image: u, Buttons: []action{{Kind: "url", Label: "c", URL: u}}}},
			Media: &media{Kind: "image", URL: u, Caption: "m"}}
		it.clean(strings.NewReplacer())
		assert.Equal(t, item{From: "bot", Buttons: []action{{Kind: "url", Label: "b"}},
			List:  &list{Sections: []section{{Rows: []action{{Kind: "row", Label: "r"}}}}},
			Cards: []card{{Buttons: []action{{Kind: "url", Label: "c"}}}},
			Media: &media{Kind: "image", Caption: "m"}}, it, u)
	}
	for _, c := range []struct {
		url   string
		link  bool
		media bool
	}{
		{"https://example.com/a.png", true, true},
		{"http://example.com/a", true, true},
		{"mailto:a@example.com", true, false},
		{"tel:+43 1 234", true, false},
		{"sms:+431234", false, false},
	} {
		assert.Equal(t, c.link, allowURL(c.url, linkSchemes) != "", c.url)
		assert.Equal(t, c.media, allowURL(c.url, mediaSchemes) != "", c.url)
	}
}
