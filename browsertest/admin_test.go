package browsertest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/botwire/botwire/admin"
	"github.com/botwire/botwire/store"
)

const (
	adminCredential = "admin-browser-credential-93e1"
	adminDeadError  = "the bot's backend answered 503 Service Unavailable"
)

// adminQueue is a memory queue with one dead letter (key "alice", error
// adminDeadError) and one pending message.
func adminQueue(t *testing.T) store.QueueAdmin {
	t.Helper()
	q := store.NewMemoryQueue(store.QueueOptions{MaxAttempts: 1})
	var qa store.QueueAdmin = q
	ctx := context.Background()
	_, err := q.Enqueue(ctx, store.Message{Key: "alice", Payload: []byte(`{"text":"where is my order?"}`)})
	must(t, err)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "test", func(context.Context, store.Message) error { return errors.New(adminDeadError) })
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		st, err := qa.Stats(ctx)
		must(t, err)
		if st.Dead == 1 && st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	_, err = q.Enqueue(ctx, store.Message{Key: "bob", Payload: []byte(`{"text":"hello"}`)})
	must(t, err)
	return qa
}

// startAdmin serves the admin page of q at /admin/ and returns its URL.
func startAdmin(t *testing.T, q store.QueueAdmin) string {
	t.Helper()
	h, err := admin.NewHandler(map[string]store.QueueAdmin{"support": q}, admin.WithCredential(adminCredential), admin.WithActions())
	must(t, err)
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/admin/"
}

// loggedIn makes the browser send the credential with every request, as
// it does once its user answered the Basic authentication prompt.
func loggedIn() chromedp.Action {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+adminCredential))
	return network.SetExtraHTTPHeaders(network.Headers{"Authorization": auth})
}

func queueCell(class string) string {
	return fmt.Sprintf(`#queues tr[data-queue="support"] td.%s`, class)
}

func TestAdminInChromium(t *testing.T) {
	exe := chromium(t)
	q := adminQueue(t)
	page := startAdmin(t, q)
	ctx := browser(t, exe)

	var pending, dead, errText, payload, body string
	var shot []byte
	steps := []chromedp.Action{
		loggedIn(),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Text(queueCell("pending"), &pending, chromedp.ByQuery),
		chromedp.Text(queueCell("dead"), &dead, chromedp.ByQuery),
		chromedp.Click(`#queues tr[data-queue="support"] button.show-dead`, chromedp.ByQuery),
		chromedp.WaitVisible(`#dead tr.letter td.err`, chromedp.ByQuery),
		chromedp.Text(`#dead tr.letter td.err`, &errText, chromedp.ByQuery),
		chromedp.Click(`#dead tr.letter button.show-payload`, chromedp.ByQuery),
		chromedp.WaitVisible(`#dead pre.payload`, chromedp.ByQuery),
		chromedp.Text(`#dead pre.payload`, &payload, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
	}
	if err := chromedp.Run(ctx, steps...); err != nil {
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		t.Fatalf("%v\npage: %.3000s", err, html)
	}
	if pending != "1" || dead != "1" {
		t.Errorf("the page shows pending %q and dead %q, want 1 and 1", pending, dead)
	}
	if errText != adminDeadError {
		t.Errorf("the dead letter's error shows %q, want %q", errText, adminDeadError)
	}
	if !strings.Contains(payload, "where is my order?") {
		t.Errorf("the payload shows %q", payload)
	}

	// Replay: the dead count drops to 0 and the list empties.
	if err := chromedp.Run(ctx,
		chromedp.Click(`#dead tr.letter button.replay`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[@id="queues"]//tr[@data-queue="support"]/td[contains(@class,"dead") and normalize-space(.)="0"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#dead-empty`, chromedp.ByQuery),
		chromedp.Text(queueCell("pending"), &pending, chromedp.ByQuery),
		chromedp.Text(`body`, &body, chromedp.ByQuery),
	); err != nil {
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		t.Fatalf("replay: %v\npage: %.3000s", err, html)
	}
	if pending != "2" {
		t.Errorf("after the replay the page shows pending %q, want 2", pending)
	}
	if st, err := q.Stats(context.Background()); err != nil || st.Dead != 0 || st.Pending != 2 {
		t.Errorf("after the replay the queue is %+v (%v)", st, err)
	}
	if strings.Contains(body, adminCredential) {
		t.Error("the page shows the credential")
	}
	shots := os.Getenv("BOTWIRE_SCREENSHOTS")
	if shots == "" {
		shots = "screenshots"
	}
	must(t, os.MkdirAll(shots, 0o755))
	must(t, os.WriteFile(filepath.Join(shots, "admin.png"), shot, 0o644))
}

// Without the credential the browser gets the 401, not the page.
func TestAdminInChromiumRequiresCredential(t *testing.T) {
	exe := chromium(t)
	page := startAdmin(t, adminQueue(t))
	ctx := browser(t, exe)
	var body string
	err := chromedp.Run(ctx, chromedp.Navigate(page), chromedp.Text(`body`, &body, chromedp.ByQuery))
	switch {
	case err != nil: // headless Chromium cannot prompt, so it fails the load
		if !strings.Contains(err.Error(), "AUTH_CREDENTIALS") {
			t.Errorf("without the credential: %v", err)
		}
	case !strings.Contains(body, "authentication required") || strings.Contains(body, "Dead letters"):
		t.Errorf("without the credential the page shows %q", body)
	}
}

// A page of another origin, in a browser logged in to the admin page,
// cannot replay, delete or pause: a no-cors text/plain fetch (no
// preflight), a JSON fetch (its preflight is refused) and a form post all
// change nothing.
func TestAdminRefusesCrossOriginPages(t *testing.T) {
	exe := chromium(t)
	q := adminQueue(t)
	page := strings.TrimSuffix(startAdmin(t, q), "/")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><body><form id="f" method="post" action="%[1]s/api/queues/support/delete" enctype="text/plain" target="sink">
<input name='{"all":true,"x":"' value='"}'></form><iframe name="sink"></iframe><script>
const api = "%[1]s/api/queues/support/";
Promise.allSettled([
  fetch(api + "replay", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"all":true}'}),
  fetch(api + "pause", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{}'}),
  fetch(api + "delete", {method: "POST", mode: "no-cors", credentials: "include", body: '{"all":true}'}),
]).then(() => { document.getElementById("f").submit(); setTimeout(() => { document.body.dataset.done = "true"; }, 500); });
</script></body>`, page)
	}))
	defer evil.Close()
	ctx := browser(t, exe)
	must(t, chromedp.Run(ctx, loggedIn(), chromedp.Navigate(evil.URL), chromedp.WaitVisible(`body[data-done="true"]`, chromedp.ByQuery)))
	time.Sleep(300 * time.Millisecond)
	st, err := q.Stats(context.Background())
	must(t, err)
	paused, err := q.Paused(context.Background())
	must(t, err)
	if st.Dead != 1 || st.Pending != 1 || paused {
		t.Errorf("a cross-origin page changed the queue: %+v, paused %v", st, paused)
	}
}

// Pause shows the queue paused; Delete asks in the page's dialog, Cancel
// keeps the letter, Delete removes it.
func TestAdminPauseAndDeleteInChromium(t *testing.T) {
	exe := chromium(t)
	q := adminQueue(t)
	page := startAdmin(t, q)
	ctx := browser(t, exe)
	letter := `#dead tr.letter`
	err := chromedp.Run(ctx,
		loggedIn(),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Click(`#queues tr[data-queue="support"] button.pause`, chromedp.ByQuery),
		chromedp.WaitVisible(`//tr[@data-queue="support"]/td[contains(@class,"state") and normalize-space(.)="paused"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#queues tr[data-queue="support"] button.resume`, chromedp.ByQuery),
		chromedp.Click(`#queues tr[data-queue="support"] button.show-dead`, chromedp.ByQuery),
		chromedp.WaitVisible(letter, chromedp.ByQuery),
		chromedp.Click(letter+` button.delete`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm`, chromedp.ByQuery),
		chromedp.Click(`#confirm-cancel`, chromedp.ByQuery),
		chromedp.WaitNotVisible(`#confirm`, chromedp.ByQuery),
	)
	if err != nil {
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		t.Fatalf("%v\npage: %.3000s", err, html)
	}
	if paused, err := q.Paused(context.Background()); err != nil || !paused {
		t.Errorf("the queue is not paused (%v)", err)
	}
	if st, _ := q.Stats(context.Background()); st.Dead != 1 {
		t.Fatalf("Cancel deleted the dead letter: %+v", st)
	}
	for i, step := range []chromedp.Action{
		chromedp.Click(letter+` button.delete`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm`, chromedp.ByQuery),
		chromedp.Click(`#confirm-ok`, chromedp.ByQuery),
		chromedp.WaitVisible(`#dead-empty`, chromedp.ByQuery),
		chromedp.WaitVisible(`//tr[@data-queue="support"]/td[contains(@class,"dead") and normalize-space(.)="0"]`, chromedp.BySearch),
	} {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = chromedp.Run(sctx, step)
		cancel()
		if err != nil {
			err = fmt.Errorf("step %d: %w", i, err)
			break
		}
	}
	if err != nil {
		var html string
		_ = chromedp.Run(ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		st, _ := q.Stats(context.Background())
		var state string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify({open: document.querySelector("#confirm").open, rv: document.querySelector("#confirm").returnValue, err: document.querySelector("#error").textContent, rows: document.querySelectorAll("#dead tr.letter").length})`, &state))
		t.Fatalf("delete: %v\nqueue %+v, page state %s", err, st, state)
	}
	if st, _ := q.Stats(context.Background()); st.Dead != 0 || st.Pending != 1 {
		t.Errorf("after the delete the queue is %+v", st)
	}
}

// The pending messages are listed too, read-only: no replay, delete or
// bulk action on them.
func TestAdminPendingInChromium(t *testing.T) {
	exe := chromium(t)
	page := startAdmin(t, adminQueue(t))
	ctx := browser(t, exe)
	var title, key, payload string
	var rowButtons []string
	var bulkShown bool
	run(t, ctx,
		loggedIn(),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.Click(`#queues tr[data-queue="support"] button.show-pending`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-list-loaded="pending:support"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#dead tr.letter td.key`, chromedp.ByQuery),
		chromedp.Text(`#dead-pane h2`, &title, chromedp.ByQuery),
		chromedp.Text(`#dead tr.letter td.key`, &key, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#dead tr.letter button")].map((b) => b.textContent)`, &rowButtons),
		chromedp.Evaluate(visibleJS("#replay-all")+" || "+visibleJS("#delete-all"), &bulkShown),
		chromedp.Click(`#dead tr.letter button.show-payload`, chromedp.ByQuery),
		chromedp.WaitVisible(`#dead pre.payload`, chromedp.ByQuery),
		chromedp.Text(`#dead pre.payload`, &payload, chromedp.ByQuery))
	if !strings.Contains(title, "Pending messages of support") {
		t.Errorf("the list's title is %q", title)
	}
	if key != "bob" {
		t.Errorf("the pending message's key is %q, want bob", key)
	}
	if strings.Join(rowButtons, ",") != "Payload" {
		t.Errorf("a pending message offers %v, want only Payload", rowButtons)
	}
	if bulkShown {
		t.Error("Replay all or Delete all is shown for pending messages")
	}
	if !strings.Contains(payload, "hello") {
		t.Errorf("the pending message's payload reads %q", payload)
	}
	var deadKey string
	run(t, ctx,
		chromedp.Click(`#queues tr[data-queue="support"] button.show-dead`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-list-loaded="dead:support"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#replay-all`, chromedp.ByQuery),
		chromedp.Text(`#dead tr.letter td.key`, &deadKey, chromedp.ByQuery))
	if deadKey != "alice" {
		t.Errorf("back on the dead letters, the key is %q", deadKey)
	}
}
