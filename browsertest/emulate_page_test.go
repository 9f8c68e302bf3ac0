package browsertest

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The page's rendering of the widgets, fed events as the server sends
// them: list row descriptions, the footer under the body, link and
// postback chips told apart with the value a click sends, a placeholder
// for an image that cannot load, an error's hint; and the inspector's
// causal order, delivery attempts, a pending row replaced by its final
// form, and the late flag past the platform's budget.
func TestEmulatorPageRendering(t *testing.T) {
	exe := chromium(t)
	c := cases()[1] // easydialog: no platform to run
	page := startUI(t, c, c.bot(t, ""), freeAddr(t))
	bctx := sharedBrowser(t, exe)

	t.Run("widgets", func(t *testing.T) {
		ctx := tab(t, bctx)
		const items = `handle({id: 9001, kind: "chat", item: {from: "bot", text: "Body text", header: "Head", footer: "Foot note",
			buttons: [{kind: "reply", id: "/hours", label: "Hours", value: "/hours"}, {kind: "url", label: "Website", url: "https://example.com/"}],
			list: {button: "Choose", sections: [{title: "Sec", rows: [{kind: "row", id: "r1", label: "Row one", description: "The first row", value: "r1"}]}]}}});
			handle({id: 9002, kind: "chat", item: {from: "bot", media: {kind: "image", url: "https://127.0.0.1:1/missing.png", caption: "A missing picture"}}});
			handle({id: 9003, kind: "chat", item: {from: "system", error: "the bot answered 401 Unauthorized", hint: "check --secret / BOTWIRE_SECRET"}});
			handle({id: 9004, kind: "chat", item: {from: "customer", text: "Hours", value: "/hours"}});
			handle({id: 9004, kind: "chat", item: {from: "customer", text: "a repeated event id is shown once"}});`
		var got struct {
			Order       []string `json:"order"`
			LinkClass   string   `json:"linkClass"`
			PostClass   string   `json:"postClass"`
			LinkBorder  string   `json:"linkBorder"`
			PostBorder  string   `json:"postBorder"`
			PostText    string   `json:"postText"`
			LinkText    string   `json:"linkText"`
			Row         string   `json:"row"`
			Placeholder string   `json:"placeholder"`
			BrokenImgs  int      `json:"brokenImgs"`
			Hint        string   `json:"hint"`
			Sent        string   `json:"sent"`
			Repeated    int      `json:"repeated"`
		}
		run(t, ctx,
			chromedp.Navigate(page),
			chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
			chromedp.Evaluate(items, nil),
			chromedp.Click(`#chat .list summary`, chromedp.ByQuery),
			chromedp.WaitVisible(`#chat .placeholder`, chromedp.ByQuery),
			chromedp.Evaluate(`(() => {
				const li = document.querySelector('#chat li[data-event="9001"]');
				const link = li.querySelector(".buttons .link"), post = li.querySelector(".buttons .postback");
				return {
					order: [...li.children].map((e) => e.className),
					linkClass: link.className, postClass: post.className,
					linkBorder: getComputedStyle(link).borderTopStyle, postBorder: getComputedStyle(post).borderTopStyle,
					postText: post.textContent, linkText: link.textContent,
					row: li.querySelector(".list .row").innerText,
					placeholder: document.querySelector('#chat li[data-event="9002"] .placeholder').textContent,
					brokenImgs: document.querySelectorAll('#chat li[data-event="9002"] img').length,
					hint: document.querySelector('#chat li[data-event="9003"] .hint').textContent,
					sent: document.querySelector('#chat li[data-event="9004"]').textContent,
					repeated: document.querySelectorAll('#chat li[data-event="9004"]').length,
				};
			})()`, &got))
		text, footer, buttons := -1, -1, -1
		for i, cl := range got.Order {
			switch cl {
			case "text":
				text = i
			case "footer":
				footer = i
			case "buttons":
				buttons = i
			}
		}
		if !(text >= 0 && text < footer && footer < buttons) {
			t.Errorf("the footer is not under the body and above the buttons: %v", got.Order)
		}
		if got.LinkBorder == got.PostBorder || !strings.Contains(got.LinkText, "↗") || !strings.Contains(got.PostText, "↩") {
			t.Errorf("link and postback chips look alike: link %q (%s) %q, postback %q (%s) %q",
				got.LinkClass, got.LinkBorder, got.LinkText, got.PostClass, got.PostBorder, got.PostText)
		}
		if !strings.Contains(got.PostText, "/hours") {
			t.Errorf("the postback chip does not show the value it sends: %q", got.PostText)
		}
		if !strings.Contains(got.Row, "Row one") || !strings.Contains(got.Row, "The first row") || !strings.Contains(got.Row, "r1") {
			t.Errorf("the list row shows %q, want its label, description and value", got.Row)
		}
		if got.BrokenImgs != 0 || !strings.Contains(got.Placeholder, "A missing picture") || !strings.Contains(got.Placeholder, "missing.png") {
			t.Errorf("an image that cannot load shows %d img and the placeholder %q", got.BrokenImgs, got.Placeholder)
		}
		if !strings.Contains(got.Hint, "BOTWIRE_SECRET") {
			t.Errorf("the error's hint is %q", got.Hint)
		}
		if !strings.Contains(got.Sent, "/hours") {
			t.Errorf("the customer's click does not show what the bot received: %q", got.Sent)
		}
		if got.Repeated != 1 {
			t.Errorf("an event sent twice is shown %d times", got.Repeated)
		}
	})

	t.Run("inspector", func(t *testing.T) {
		ctx := tab(t, bctx)
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		xs := `const now = "` + now + `";
			const x = (id, o) => ({id, direction: "platform → bot", method: "POST", url: "http://127.0.0.1:1/webhook", status: 200, latencyMs: 3,
				requestHeaders: {}, requestBody: "{}", time: now, event: "message", summary: "hello", ...o});
			handle({id: 9101, kind: "exchange", exchange: x(901, {delivery: "d-1", attempt: 1, status: 500, summary: "first try"})});
			handle({id: 9102, kind: "exchange", exchange: x(902, {delivery: "d-1", attempt: 2, redelivery: true, replayable: true, summary: "second try"})});
			handle({id: 9103, kind: "exchange", exchange: x(903, {direction: "bot → platform", event: "push", parent: 902, summary: "the answer",
				url: "http://127.0.0.1:1/api/actions", send: "botwire send x --secret \"$BOTWIRE_SECRET\""})});
			handle({id: 9104, kind: "exchange", exchange: x(904, {pending: true, status: 0, latencyMs: 0, budgetMs: 1, summary: "slow one"})});
			handle({id: 9105, kind: "exchange", exchange: x(905, {pending: true, status: 0, latencyMs: 0, summary: "finishes"})});
			handle({id: 9106, kind: "exchange", exchange: x(905, {summary: "finished", status: 204})});`
		var got struct {
			Groups   []string `json:"groups"`
			Nested   string   `json:"nested"`
			Late     bool     `json:"late"`
			Final    []string `json:"final"`
			Redeliv  string   `json:"redeliv"`
			Target   string   `json:"target"`
			Replays  []string `json:"replays"`
			Filtered int      `json:"filtered"`
		}
		run(t, ctx,
			chromedp.Navigate(page),
			chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
			chromedp.Click(`#toggle-inspector`, chromedp.ByQuery),
			chromedp.Evaluate(xs, nil),
			chromedp.WaitVisible(`#exchanges li.exchange.late[data-id="904"] .tag.late`, chromedp.ByQuery),
			chromedp.Evaluate(`(() => {
				const row = (id) => document.querySelector('#exchanges li.exchange[data-id="' + id + '"]');
				return {
					groups: [...document.querySelectorAll('#exchanges li.delivery[data-delivery="d-1"] > ol > li.exchange')].map((e) => e.dataset.id),
					nested: row(903).parentElement.closest("li.exchange").dataset.id,
					late: row(904).classList.contains("late"),
					final: [...document.querySelectorAll('#exchanges li.exchange[data-id="905"]')].map((e) => e.querySelector("summary").textContent),
					redeliv: row(902).querySelector("summary").textContent,
					target: row(903).querySelector("summary .target").textContent,
					replays: [...document.querySelectorAll("#exchanges button")].map((b) => b.textContent),
				};
			})()`, &got),
			setField("#filter-dir", "bot → platform"),
			chromedp.Evaluate(visibleRows, &got.Filtered))
		if strings.Join(got.Groups, ",") != "901,902" {
			t.Errorf("the attempts of delivery d-1 are grouped as %v, want 901,902", got.Groups)
		}
		if got.Nested != "902" {
			t.Errorf("the push is nested under %q, want the delivery 902 that caused it", got.Nested)
		}
		if !strings.Contains(got.Redeliv, "attempt 2") || !strings.Contains(got.Redeliv, "redelivery") {
			t.Errorf("the second attempt reads %q", got.Redeliv)
		}
		if !strings.Contains(got.Target, "/api/actions") {
			t.Errorf("the call is labelled %q, not with its URL", got.Target)
		}
		if len(got.Final) != 1 || !strings.Contains(got.Final[0], "finished") || strings.Contains(got.Final[0], "pending") {
			t.Errorf("the pending exchange 905 is not replaced by its final form: %q", got.Final)
		}
		if got.Filtered != 1 {
			t.Errorf("the direction filter shows %d rows, want 1", got.Filtered)
		}
		if !slices.Contains(got.Replays, "Replay (redelivery, same id)") || !slices.Contains(got.Replays, "Send again as new") {
			t.Errorf("the inspector's buttons are %q, want Replay (redelivery, same id) and Send again as new", got.Replays)
		}
	})
}

// Load waits for the server's answer and shows its errors: here the bot
// answers 400 to every delivery.
func TestEmulatorLoadReportsErrors(t *testing.T) {
	exe := chromium(t)
	c := cases()[1]
	bad := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no such thing", http.StatusBadRequest) })
	page := startUI(t, c, bad, freeAddr(t))
	file := filepath.Join(t.TempDir(), "transcript.json")
	must(t, os.WriteFile(file, []byte(`{"vendor":"easydialog","steps":[{"type":"say","text":"hello"},{"type":"say","text":"again"}]}`), 0o644))
	ctx := browser(t, exe)
	var report string
	run(t, ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.SetUploadFiles(`#load`, []string{file}, chromedp.ByQuery),
		chromedp.WaitVisible(`#notices .load-error`, chromedp.ByQuery),
		chromedp.Text(`#notices .load-error`, &report, chromedp.ByQuery))
	if !strings.Contains(report, "400") {
		t.Errorf("Load reports %q, want the bot's 400", report)
	}
}
