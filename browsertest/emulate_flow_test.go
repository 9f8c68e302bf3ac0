package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browser returns a headless Chromium's page, closed with the test.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	return tab(t, sharedBrowser(t, exe))
}

// sharedBrowser starts one headless Chromium for t and its subtests; tab
// opens a page in it. Starting Chromium once per test keeps the package
// short on a small machine.
func sharedBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	must(t, chromedp.Run(bctx)) // starts the browser
	return bctx
}

// tab opens a new page of the browser bctx, closed with t.
func tab(t *testing.T, bctx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	// Opens the tab on ctx, not on a step's shorter one, in front: a
	// background tab paints no frame for a screenshot.
	must(t, chromedp.Run(ctx, page.BringToFront()))
	return ctx
}

// run runs actions in ctx and fails t with the page's HTML when one fails.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	for i, a := range actions {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second) // the page stays for the report
		err := chromedp.Run(sctx, a)
		cancel()
		if err == nil {
			continue
		}
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		t.Fatalf("step %d (%T): %v\npage: %.4000s", i+1, a, err, html)
	}
}

// visibleJS is a JavaScript expression: whether the element sel is shown
// to a person (rendered, not display:none, not hidden by an ancestor).
func visibleJS(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
		const cs = getComputedStyle(e); return e.offsetParent !== null && cs.display !== "none" && cs.visibility !== "hidden"; })()`, sel)
}

// visibleRows counts the inspector's exchange rows a person sees.
const visibleRows = `[...document.querySelectorAll("#exchanges li.exchange")].filter((e) => e.offsetParent !== null).length`

// clickChoice is the XPath of the chat's postback button labelled label.
func clickChoice(label string) string {
	return fmt.Sprintf(`//ol[@id="chat"]//button[contains(@class,"choice")][.//span[@class="chip-label" and normalize-space(.)=%q]]`, label)
}

// setField sets the value of the input or select sel and fires its
// input and change events, as typing or choosing does.
func setField(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("input")); e.dispatchEvent(new Event("change")); })()`, sel, value), nil)
}

// unsafeLinks lists the links of the chat that are not http(s), mailto or
// tel, or that open without rel="noopener noreferrer" target=_blank, and
// the media that load from elsewhere than http(s).
const unsafeLinks = `[...document.querySelectorAll("#chat a")].filter((a) => !/^(https?|mailto|tel):/i.test(a.getAttribute("href") || "")
	|| a.rel !== "noopener noreferrer" || a.target !== "_blank").map((a) => a.outerHTML)
	.concat([...document.querySelectorAll("#chat [src]")].filter((m) => !/^https?:/i.test(m.getAttribute("src"))).map((m) => m.outerHTML))`

// inspectorRow is what a person reads in one row of the inspector.
type inspectorRow struct {
	ID      string `json:"id"`
	Event   string `json:"event"`
	Summary string `json:"summary"`
	Dir     string `json:"dir"`
	Parent  string `json:"parent"` // the id of the row it is nested under
}

// readRows reads the inspector's visible rows as inspectorRows.
const readRows = `[...document.querySelectorAll("#exchanges li.exchange")].filter((e) => e.offsetParent !== null).map((e) => {
	const s = e.querySelector(":scope > details > summary");
	const p = e.parentElement.closest("li.exchange");
	return {id: e.dataset.id, event: s.querySelector(".event").textContent, summary: s.querySelector(".summary-text").textContent,
		dir: e.dataset.direction || "", parent: p ? p.dataset.id : ""};
})`

// TestEmulatorInChromium runs each platform's emulator with a bot of the
// SDK and checks what a person sees: the replies, the desk form only
// where the platform has one, the inspector (event type, summary, causal
// nesting, filter, copy as botwire send without the secret, a bubble
// opening its exchange), a reload that neither loses nor repeats a line,
// and a second conversation apart from the first.
func TestEmulatorInChromium(t *testing.T) {
	exe := chromium(t)
	shots := os.Getenv("BOTWIRE_SCREENSHOTS")
	if shots == "" {
		shots = "screenshots"
	}
	must(t, os.MkdirAll(shots, 0o755))
	bctx := sharedBrowser(t, exe)
	for _, c := range cases() {
		t.Run(c.vendor, func(t *testing.T) {
			platform := freeAddr(t)
			page := startUI(t, c, c.bot(t, "http://"+platform), platform)
			ctx := tab(t, bctx)
			converse(t, ctx, c, page)
			var shot []byte
			run(t, ctx, chromedp.FullScreenshot(&shot, 100))
			must(t, os.WriteFile(filepath.Join(shots, "emulator-"+c.vendor+".png"), shot, 0o644))
			rows := checkInspector(t, ctx, c)
			checkReload(t, ctx, c)
			checkSecondConversation(t, ctx, c, rows)
			checkBubbleOpensExchange(t, ctx, c)
		})
	}
}

// converse has the conversation of c in the page, checking the desk form
// is shown only where the platform has one, and opens the reply's
// exchange by a click on its bubble.
func converse(t *testing.T, ctx context.Context, c vendorCase, page string) {
	t.Helper()
	var deskShown, composerShown bool
	run(t, ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Evaluate(visibleJS("#desk"), &deskShown),
		chromedp.Evaluate(visibleJS("#composer"), &composerShown))
	if deskShown != (c.desk != "") {
		t.Errorf("the desk form is shown: %v, want %v (only Botcopy has a human agent's desk)", deskShown, c.desk != "")
	}
	if !composerShown {
		t.Error("the customer's composer is not shown")
	}
	steps := []chromedp.Action{
		chromedp.SendKeys(`#text`, c.say, chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(xpathChat(c.reply), chromedp.BySearch),
	}
	if c.click != "" {
		steps = append(steps,
			chromedp.Click(clickChoice(c.click), chromedp.BySearch),
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
		chromedp.WaitVisible(`#exchanges li.exchange`, chromedp.ByQuery))
	run(t, ctx, steps...)
	run(t, ctx, chromedp.Click(`#exchanges li.exchange summary`, chromedp.ByQuery))
	var unsafe []string
	run(t, ctx, chromedp.Evaluate(unsafeLinks, &unsafe))
	if len(unsafe) > 0 {
		t.Errorf("unsafe links: %v", unsafe)
	}
}

// checkInspector checks the rows of the inspector: an event type on each,
// the customer's text in a delivery's summary, a push nested under its
// delivery, copy as botwire send without the secret, and the filter. It
// returns the rows.
func checkInspector(t *testing.T, ctx context.Context, c vendorCase) []inspectorRow {
	t.Helper()
	var rows []inspectorRow
	run(t, ctx, chromedp.Evaluate(readRows, &rows))
	byID := map[string]inspectorRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	said, nested := false, false
	for _, r := range rows {
		if strings.TrimSpace(r.Event) == "" {
			t.Errorf("inspector row #%s shows no event type", r.ID)
		}
		if r.Dir == "platform → bot" && strings.Contains(r.Summary, c.say) {
			said = true
		}
		if p, ok := byID[r.Parent]; ok && r.Dir == "bot → platform" && p.Dir == "platform → bot" {
			nested = true
		}
	}
	if !said {
		t.Errorf("no inspector row of a delivery summarises %q: %+v", c.say, rows)
	}
	if c.push && !nested {
		t.Errorf("the bot's call to the platform is not nested under the delivery that caused it: %+v", rows)
	}

	var cmds []string
	var copied, inspector string
	run(t, ctx,
		chromedp.Evaluate(`[...document.querySelectorAll("#exchanges pre.cmd")].map((p) => p.textContent)`, &cmds),
		chromedp.Evaluate(`(() => { const b = document.querySelector("#exchanges button.copy-send"); if (b) b.click(); })()`, nil),
		chromedp.Evaluate(`window.lastCopied || ""`, &copied),
		chromedp.Evaluate(`document.querySelector("#exchanges").textContent`, &inspector))
	if !strings.Contains(copied, "botwire send") {
		t.Errorf("copy as botwire send copied %q", copied)
	}
	for _, s := range append(cmds, copied, inspector) {
		if strings.Contains(s, secret) {
			t.Errorf("the inspector or a copied command holds the secret: %.300q", s)
		}
	}

	var none, some int
	run(t, ctx,
		setField("#filter", "no-such-exchange-zz"),
		chromedp.Evaluate(visibleRows, &none),
		setField("#filter", c.say),
		chromedp.Evaluate(visibleRows, &some),
		setField("#filter", ""))
	if none != 0 {
		t.Errorf("the filter %q shows %d rows, want none", "no-such-exchange-zz", none)
	}
	if some < 1 || some > len(rows) {
		t.Errorf("the filter %q shows %d rows of %d", c.say, some, len(rows))
	}
	return rows
}

// checkReload reloads the page: it renders the same chat again from the
// event stream, no line lost or repeated.
func checkReload(t *testing.T, ctx context.Context, c vendorCase) {
	t.Helper()
	var before, after int
	run(t, ctx, chromedp.Evaluate(`document.querySelectorAll("#chat li").length`, &before),
		chromedp.Reload(),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.WaitVisible(xpathChat(c.reply), chromedp.BySearch),
		chromedp.Poll(fmt.Sprintf(`document.querySelectorAll("#chat li").length >= %d`, before), nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelectorAll("#chat li").length`, &after))
	if after != before {
		t.Errorf("after a reload the chat has %d lines, before %d", after, before)
	}
}

// checkSecondConversation starts a new conversation: it shows none of
// the first's lines or exchanges (first), and the selector brings the
// first back.
func checkSecondConversation(t *testing.T, ctx context.Context, c vendorCase, first []inspectorRow) {
	t.Helper()
	var firstConv, chat2 string
	var customers int
	var rows []inspectorRow
	run(t, ctx,
		chromedp.Value(`#conv`, &firstConv, chromedp.ByQuery),
		chromedp.Click(`#new-conv`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.querySelector("#conv").value !== %q && document.querySelectorAll("#chat li.customer").length === 0`, firstConv), nil,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SendKeys(`#text`, c.say, chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(xpathChat(c.reply), chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll("#chat li.customer").length`, &customers),
		chromedp.Evaluate(`document.querySelector("#chat").textContent`, &chat2),
		chromedp.Evaluate(readRows, &rows))
	if customers != 1 {
		t.Errorf("the second conversation shows %d customer lines, want 1", customers)
	}
	for _, s := range []string{c.after, c.desk} {
		if s != "" && strings.Contains(chat2, s) {
			t.Errorf("the second conversation shows %q of the first", s)
		}
	}
	for _, r := range rows {
		if slices.ContainsFunc(first, func(f inspectorRow) bool { return f.ID == r.ID }) {
			t.Errorf("the second conversation's inspector shows exchange #%s of the first", r.ID)
		}
	}
	steps := []chromedp.Action{setField("#conv", firstConv)}
	for _, s := range []string{c.after, c.desk} {
		if s != "" {
			steps = append(steps, chromedp.WaitVisible(xpathChat(s), chromedp.BySearch))
		}
	}
	run(t, ctx, steps...)
}

// checkBubbleOpensExchange clicks the reply's bubble (its text, not a
// button): the inspector opens and highlights its exchange.
func checkBubbleOpensExchange(t *testing.T, ctx context.Context, c vendorCase) {
	t.Helper()
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(bctx, chromedp.Click(xpathChat(c.reply)+"/*[1]", chromedp.BySearch),
		chromedp.WaitVisible(`#exchanges li.exchange.highlight > details[open] pre.request`, chromedp.ByQuery)); err != nil {
		t.Errorf("a click on the bubble %q did not open its exchange: %v", c.reply, err)
	}
}
