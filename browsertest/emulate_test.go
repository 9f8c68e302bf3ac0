package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

const secret = "browser-secret-5d1c"

var botwireBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "botwire-browsertest")
	if err != nil {
		panic(err)
	}
	botwireBin = filepath.Join(dir, "botwire")
	if bin := os.Getenv("BOTWIRE_BIN"); bin != "" { // a botwire built already
		botwireBin = bin
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	build := exec.Command("go", "build", "-o", botwireBin, ".")
	build.Dir = "../cmd/botwire" // a module of its own
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("building cmd/botwire: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BOTWIRE_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found and BOTWIRE_REQUIRE_BROWSER=1: install it (apt-get install chromium)")
	}
	t.Skip("no Chromium found; install chromium to run the browser tests (BOTWIRE_REQUIRE_BROWSER=1 makes this a failure)")
	return ""
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type vendorCase struct {
	vendor string
	flags  []string
	bot    func(t *testing.T, platform string) http.Handler
	say    string
	reply  string
	click  string
	after  string
	desk   string // Botcopy: a text typed as the human agent
	push   bool   // the bot calls the platform during the delivery
}

func cases() []vendorCase {
	return []vendorCase{
		{vendor: "onetalk", flags: []string{"--secret", secret}, say: "menu", reply: "How can we help you?", click: "Opening hours", after: "open 9", push: true,
			bot: func(t *testing.T, platform string) http.Handler {
				c, err := onetalk.NewClient(platform+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363", secret)
				must(t, err)
				h, err := onetalk.NewHandler(secret, func(ctx context.Context, in *onetalk.InboundRequest) error {
					switch {
					case in.Message.ReplyID() == "/hours":
						return c.SendMessages(ctx, in.CaseID, onetalk.NewText("We are open 9 to 17."))
					case in.Message.Body() == "menu":
						return c.SendMessages(ctx, in.CaseID, onetalk.NewReplyButtons("How can we help you?",
							onetalk.ReplyButton{ID: "/hours", Title: "Opening hours"}, onetalk.ReplyButton{ID: "/agent", Title: "Talk to agent"}))
					}
					return c.SendMessages(ctx, in.CaseID, onetalk.NewText("You said: "+in.Message.Body()))
				})
				must(t, err)
				return h
			}},
		{vendor: "easydialog", flags: []string{"--secret", secret}, say: "menu", reply: "Pick one", click: "Prices", after: "You picked prices",
			bot: func(t *testing.T, _ string) http.Handler {
				h, err := easydialog.NewHandler(secret, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
					if r.Message.Text() == "menu" {
						return easydialog.Reply(easydialog.NewTextMessage("Pick one").WithSuggestions(
							easydialog.ReplyWith("Prices", "prices"), easydialog.OpenURL("Website", "https://example.com"))), nil
					}
					return easydialog.Reply(easydialog.NewTextMessage("You picked " + r.Message.Text())), nil
				})
				must(t, err)
				return h
			}},
		{vendor: "userlike", flags: []string{"--header", "API-SECURITY-TOKEN", "--secret", secret, "--api-key", "api"},
			say: "hello", reply: "What do you need?", click: "Delivery", after: "You chose delivery",
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
				must(t, err)
				return h
			}},
		{vendor: "ultimate", flags: []string{"--api-key", "api"}, say: "hello", reply: "How can I help?", click: "Order status", after: "What is your order number?",
			bot: func(t *testing.T, _ string) http.Handler {
				h, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
					OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil },
				}, ultimate.WithoutAuthentication())
				must(t, err)
				return h
			}},
		{vendor: "botcopy", flags: []string{"--secret", secret, "--api-key", "api"}, say: "I need a human", reply: "An agent will be right with you",
			click: "", after: "", desk: "Hi, I am Ada from support", push: true,
			bot: func(t *testing.T, platform string) http.Handler {
				c, err := botcopy.NewClient("api", botcopy.WithBaseURL(platform))
				must(t, err)
				h, err := botcopy.NewHandler(secret, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
					to := botcopy.Target{UserID: r.UserID, BotID: r.BotID}
					if r.Kind() == botcopy.KindTrigger {
						return botcopy.PauseFor(10), c.SendMessage(ctx, to, "An agent will be right with you")
					}
					return botcopy.PauseFor(10), c.SendMessage(ctx, to, "Thanks, looking into it")
				})
				must(t, err)
				return h
			}},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startUI runs "botwire emulate" for c against bot and returns its page.
func startUI(t *testing.T, c vendorCase, bot http.Handler, platform string) string {
	t.Helper()
	srv := httptest.NewServer(bot)
	t.Cleanup(srv.Close)
	ui := freeAddr(t)
	args := append([]string{"emulate", c.vendor, "--bot", srv.URL, "--ui", ui, "--addr", platform}, c.flags...)
	cmd := exec.Command(botwireBin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	page := "http://" + ui
	waitUp(t, page)
	return page
}

// The page renders no link or media with another scheme than it allows,
// even if the server let one through: app.js checks again.
func TestEmulatorPageDropsUnsafeLinks(t *testing.T) {
	exe := chromium(t)
	c := cases()[1] // easydialog: no platform to run
	page := startUI(t, c, c.bot(t, ""), freeAddr(t))
	ctx := browser(t, exe)
	const forged = `renderItem({from: "bot", text: "forged links",
		buttons: [{kind: "url", label: "Evil", url: "javascript:alert(1)"}, {kind: "dial", label: "Site", url: "https://example.com/"},
			{kind: "url", label: "Relative", url: "/api/transcript"}, {kind: "dial", label: "Call", url: "tel:+431234"}],
		media: {kind: "file", url: " JavaScript:alert(2)", caption: "doc"},
		cards: [{title: "Card", image: "javascript:alert(3)", buttons: [{kind: "url", label: "Data", url: "data:text/html,x"}]}]});
		renderItem({from: "bot", media: {kind: "image", url: "javascript:alert(4)", caption: "pic"}, location: {latitude: 48.2, longitude: 16.37, name: "Vienna"}});`
	var unsafe []string
	var links int
	must(t, chromedp.Run(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Evaluate(forged, nil),
		chromedp.WaitVisible(xpathChat("forged links"), chromedp.BySearch),
		chromedp.Evaluate(unsafeLinks, &unsafe),
		chromedp.Evaluate(`document.querySelectorAll("#chat a").length`, &links)))
	if len(unsafe) > 0 {
		t.Errorf("unsafe links: %v", unsafe)
	}
	if links != 3 { // Site, Call, the map
		t.Errorf("%d links, want 3", links)
	}
	var labels string
	must(t, chromedp.Run(ctx, chromedp.Text(`#chat`, &labels, chromedp.ByQuery)))
	for _, l := range []string{"Evil", "Relative", "doc", "Data"} {
		if !strings.Contains(labels, l) {
			t.Errorf("the label %q is gone: %q", l, labels)
		}
	}
}

// A page of another origin cannot make the emulator deliver anything: a
// no-cors text/plain fetch (no preflight), a JSON fetch (its preflight is
// refused) and a form post all reach no bot.
func TestEmulatorRefusesCrossOriginPages(t *testing.T) {
	exe := chromium(t)
	var mu sync.Mutex
	var delivered int
	c := cases()[1]
	h := c.bot(t, "")
	page := startUI(t, c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		delivered++
		mu.Unlock()
		h.ServeHTTP(w, r)
	}), freeAddr(t))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><body><form id="f" method="post" action="%[1]s/api/say" enctype="text/plain" target="sink">
<input name='{"text":"form","x":"' value='"}'></form><iframe name="sink"></iframe><script>
const say = "%[1]s/api/say";
Promise.allSettled([
  fetch(say, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"text":"no-cors"}'}),
  fetch(say, {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"text":"cors"}'}),
  fetch("%[1]s/api/replay/1", {method: "POST", mode: "no-cors", body: "{}"}),
]).then(() => { document.getElementById("f").submit(); setTimeout(() => { document.body.dataset.done = "true"; }, 500); });
</script></body>`, page)
	}))
	defer evil.Close()
	ctx := browser(t, exe)
	must(t, chromedp.Run(ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(`body[data-done="true"]`, chromedp.ByQuery)))
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if delivered != 0 {
		t.Errorf("a cross-origin page made the emulator deliver %d webhooks", delivered)
	}
}

func xpathChat(text string) string {
	return fmt.Sprintf(`//ol[@id="chat"]/li[not(contains(@class,"customer")) and contains(., %q)]`, text)
}

func waitUp(t *testing.T, page string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(page + "/api/info")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
