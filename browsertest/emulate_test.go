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
	build := exec.Command("go", "build", "-o", botwireBin, "./cmd/botwire")
	build.Dir = ".."
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
}

func cases() []vendorCase {
	return []vendorCase{
		{vendor: "onetalk", flags: []string{"--secret", secret}, say: "menu", reply: "How can we help you?", click: "Opening hours", after: "open",
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
			click: "", after: "", desk: "Hi, I am Ada from support",
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

func TestEmulatorInChromium(t *testing.T) {
	exe := chromium(t)
	shots := os.Getenv("BOTWIRE_SCREENSHOTS")
	if shots == "" {
		shots = "screenshots"
	}
	must(t, os.MkdirAll(shots, 0o755))
	for _, c := range cases() {
		t.Run(c.vendor, func(t *testing.T) {
			platform, ui := freeAddr(t), freeAddr(t)
			bot := httptest.NewServer(c.bot(t, "http://"+platform))
			defer bot.Close()
			args := append([]string{"emulate", c.vendor, "--bot", bot.URL, "--ui", ui, "--addr", platform}, c.flags...)
			cmd := exec.Command(botwireBin, args...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			must(t, cmd.Start())
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			page := "http://" + ui
			waitUp(t, page)

			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
				chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true))
			actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancelA()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
			defer cancelT()

			var shot []byte
			steps := []chromedp.Action{
				chromedp.Navigate(page),
				chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
				chromedp.SendKeys(`#text`, c.say, chromedp.ByQuery),
				chromedp.Click(`#send`, chromedp.ByQuery),
				chromedp.WaitVisible(xpathChat(c.reply), chromedp.BySearch),
			}
			if c.click != "" {
				steps = append(steps,
					chromedp.Click(fmt.Sprintf(`//button[contains(@class,"choice") and normalize-space(.)=%q]`, c.click), chromedp.BySearch),
					chromedp.WaitVisible(xpathChat(c.after), chromedp.BySearch))
			}
			if c.desk != "" {
				steps = append(steps,
					chromedp.SendKeys(`#agent-text`, c.desk, chromedp.ByQuery),
					chromedp.Click(`#agent-send`, chromedp.ByQuery),
					chromedp.WaitVisible(xpathChat(c.desk), chromedp.BySearch))
			}
			steps = append(steps,
				chromedp.Click(`#toggle-inspector`, chromedp.ByQuery),
				chromedp.WaitVisible(`#exchanges li.exchange`, chromedp.ByQuery),
				chromedp.Click(`#exchanges li.exchange summary`, chromedp.ByQuery),
				chromedp.FullScreenshot(&shot, 100))
			if err := chromedp.Run(ctx, steps...); err != nil {
				var html string
				_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
				t.Fatalf("%v\npage: %.3000s", err, html)
			}
			var inspector string
			must(t, chromedp.Run(ctx, chromedp.Text(`#exchanges`, &inspector, chromedp.ByQuery)))
			if strings.Contains(inspector, secret) {
				t.Error("the inspector shows the secret")
			}
			must(t, os.WriteFile(filepath.Join(shots, c.vendor+".png"), shot, 0o644))
		})
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
