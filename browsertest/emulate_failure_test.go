package browsertest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/botwire/botwire/onetalk"
)

// statusBot is a OneTalk bot that answers each delivery with the next of
// statuses (200 once they are used up, with a reply through the
// platform), and records the deliveries.
type statusBot struct {
	mu       sync.Mutex
	statuses []int
	got      []onetalk.InboundRequest
	client   *onetalk.Client
}

func newStatusBot(t *testing.T, platform string, statuses ...int) *statusBot {
	c, err := onetalk.NewClient(platform+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363", secret)
	must(t, err)
	return &statusBot{statuses: statuses, client: c}
}

func (b *statusBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in onetalk.InboundRequest
	_ = json.Unmarshal(body, &in)
	b.mu.Lock()
	b.got = append(b.got, in)
	status := http.StatusOK
	if len(b.statuses) > 0 {
		status, b.statuses = b.statuses[0], b.statuses[1:]
	}
	b.mu.Unlock()
	if status == http.StatusOK {
		reply := onetalk.NewText("recovered: " + in.Message.Body())
		if in.Message.Body() == "menu" {
			reply = onetalk.NewReplyButtons("Pick one", onetalk.ReplyButton{ID: "/a", Title: "A"})
		}
		if in.Message.Location != nil {
			reply = onetalk.NewText("thanks for the location")
		}
		_ = b.client.SendMessages(r.Context(), in.CaseID, reply)
	}
	w.WriteHeader(status)
}

func (b *statusBot) deliveries() []onetalk.InboundRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]onetalk.InboundRequest(nil), b.got...)
}

// onetalkUI runs the OneTalk emulator against bot with extra flags.
func onetalkUI(t *testing.T, platform string, bot http.Handler, flags ...string) string {
	c := cases()[0]
	c.flags = append(append([]string(nil), c.flags...), flags...)
	return startUI(t, c, bot, platform)
}

// A bot that fails once: the chat shows the error with its next step,
// once, then the reply of the redelivery; the inspector groups the two
// attempts of the delivery.
func TestEmulatorRedeliveryInChromium(t *testing.T) {
	exe := chromium(t)
	platform := freeAddr(t)
	bot := newStatusBot(t, "http://"+platform, 500)
	page := onetalkUI(t, platform, bot, "--redeliver-after", "50ms")
	ctx := browser(t, exe)
	var errText, hintText, head, second string
	var errors int
	run(t, ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#text`, "hello", chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(xpathChat("recovered: hello"), chromedp.BySearch),
		chromedp.Text(`#chat li.error .error-text`, &errText, chromedp.ByQuery),
		chromedp.Text(`#chat li.error .hint`, &hintText, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#chat li.error").length`, &errors),
		chromedp.Click(`#toggle-inspector`, chromedp.ByQuery),
		chromedp.WaitVisible(`#exchanges li.delivery .delivery-head`, chromedp.ByQuery),
		chromedp.Text(`#exchanges li.delivery .delivery-head`, &head, chromedp.ByQuery),
		chromedp.Text(`#exchanges li.delivery > ol > li.exchange:nth-child(2) > details > summary`, &second, chromedp.ByQuery))
	if !strings.Contains(errText, "500") || !strings.Contains(hintText, "its log") {
		t.Errorf("the failure reads %q with the hint %q", errText, hintText)
	}
	if errors != 1 {
		t.Errorf("the failure is shown %d times in the chat, want once", errors)
	}
	if !strings.Contains(head, "2 attempts") {
		t.Errorf("the delivery's head reads %q, want its 2 attempts", head)
	}
	if !strings.Contains(second, "attempt 2") || !strings.Contains(second, "redelivery") {
		t.Errorf("the second attempt reads %q", second)
	}
	if got := bot.deliveries(); len(got) != 2 || got[0].Message.ID != got[1].Message.ID {
		t.Errorf("the bot got %d deliveries, want the same message twice", len(got))
	}
}

// A refused credential names the flag and the variable to check.
func TestEmulatorCredentialHintInChromium(t *testing.T) {
	exe := chromium(t)
	platform := freeAddr(t)
	page := onetalkUI(t, platform, newStatusBot(t, "http://"+platform, 401), "--redeliver", "0")
	ctx := browser(t, exe)
	var hintText string
	var errors int
	run(t, ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#text`, "hello", chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(`#chat li.error .hint`, chromedp.ByQuery),
		chromedp.Text(`#chat li.error .hint`, &hintText, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#chat li.error").length`, &errors))
	if !strings.Contains(hintText, "ONETALK_SECRET") || !strings.Contains(hintText, "--secret") {
		t.Errorf("the 401's hint is %q", hintText)
	}
	if errors != 1 {
		t.Errorf("the failure is shown %d times in the chat, want once", errors)
	}
}

// The customer sends a location from the attach form, and a Telegram
// case refuses the bot's interactive message as OneTalk would.
func TestEmulatorAttachAndChannelInChromium(t *testing.T) {
	exe := chromium(t)
	platform := freeAddr(t)
	bot := newStatusBot(t, "http://"+platform)
	page := onetalkUI(t, platform, bot)
	ctx := browser(t, exe)
	var attachShown bool
	var who string
	run(t, ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Evaluate(visibleJS("#attach-toggle"), &attachShown),
		chromedp.Click(`#attach-toggle`, chromedp.ByQuery),
		setField("#attach-type", "location"),
		chromedp.WaitVisible(`#attach-lat`, chromedp.ByQuery),
		chromedp.SendKeys(`#attach-lat`, "-6.2", chromedp.ByQuery),
		chromedp.SendKeys(`#attach-lon`, "106.8", chromedp.ByQuery),
		chromedp.SendKeys(`#attach-name`, "Jakarta", chromedp.ByQuery),
		chromedp.Click(`#attach-send`, chromedp.ByQuery),
		chromedp.WaitVisible(xpathChat("thanks for the location"), chromedp.BySearch),
		chromedp.WaitVisible(`//ol[@id="chat"]/li[contains(@class,"customer")]//a[contains(., "Jakarta")]`, chromedp.BySearch),
		setField("#channel", "telegram"),
		chromedp.Poll(`document.querySelector("#who").textContent.includes("telegram") && document.querySelectorAll("#chat li.customer").length === 0`, nil),
		chromedp.Text(`#who`, &who, chromedp.ByQuery),
		chromedp.SendKeys(`#text`, "menu", chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[@id="chat"]/li[contains(@class,"error")][contains(., "Telegram")]`, chromedp.BySearch))
	if !attachShown {
		t.Error("OneTalk's attach button is not shown")
	}
	got := bot.deliveries()
	if len(got) < 2 || got[0].Message.Location == nil || got[0].Message.Location.Latitude != -6.2 {
		t.Fatalf("the bot did not get the location: %+v", got)
	}
	last := got[len(got)-1]
	if last.ChannelType != onetalk.ChannelTelegram || last.CaseID == got[0].CaseID {
		t.Errorf("the Telegram conversation's delivery is on %q, case %q (the first was %q)", last.ChannelType, last.CaseID, got[0].CaseID)
	}
}
