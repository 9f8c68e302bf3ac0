package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const emulateHelp = `Usage: botwire emulate <vendor> --bot URL [flags]

Runs a local web chat that plays the platform for your bot: type and click
as the customer would, see what the platform's widget would show, and
inspect every HTTP exchange (headers with secrets masked, pretty JSON,
latency) with replay of any delivery and transcript save and load. The page
is served from the command itself (no CDN, works offline) on 127.0.0.1 and
updates live over Server-Sent Events. It answers only requests addressed to
the --ui address, localhost or a loopback IP, accepts writes only as
same-origin JSON, and opens only http(s), mailto and tel links from the
bot. The flags are those of botwire fake; each run has its own
conversation ids, and the page starts new conversations and customers
(and, for OneTalk, chooses the channel).

With --script FILE it runs a scenario headless instead, for CI, and exits
1 when the bot's replies differ from what the scenario expects:

` + scriptHelp + `

` + policyHelp + `
Example:
  botwire emulate onetalk --bot http://localhost:8080/onetalk --secret s3cr3t
  botwire emulate onetalk --bot http://localhost:8080/onetalk --secret s3cr3t --script menu.txt

Flags:
`

//go:embed web
var webFS embed.FS

// item is one line of the chat pane.
type item struct {
	From     string    `json:"from"` // customer, bot, agent, system
	Text     string    `json:"text,omitempty"`
	Header   string    `json:"header,omitempty"`
	Footer   string    `json:"footer,omitempty"`
	Buttons  []action  `json:"buttons,omitempty"`
	List     *list     `json:"list,omitempty"`
	Cards    []card    `json:"cards,omitempty"`
	Media    *media    `json:"media,omitempty"`
	Location *location `json:"location,omitempty"`
	Contact  string    `json:"contact,omitempty"`
	Error    string    `json:"error,omitempty"`
	Hint     string    `json:"hint,omitempty"`     // the next step, for an error
	Value    string    `json:"value,omitempty"`    // a customer's click: what the bot received
	Exchange int       `json:"exchange,omitempty"` // the exchange that carried it
	Time     string    `json:"time,omitempty"`
}

// action is something the customer can click; the server turns it into
// what the platform sends for that click.
type action struct {
	Kind  string `json:"kind"` // reply, row, bubble, card, postback, url, dial
	ID    string `json:"id,omitempty"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
	Index int    `json:"index,omitempty"` // a card's position in its carousel
	// Value is what a click delivers to the bot when it is not the label
	// (a button's or row's id, a postback).
	Value       string `json:"value,omitempty"`
	Description string `json:"description,omitempty"` // a list row's
	// Group names the message whose choice this is, where the platform
	// takes one answer per message (Userlike).
	Group string `json:"group,omitempty"`
}

type list struct {
	Button   string    `json:"button"`
	Sections []section `json:"sections"`
}

type section struct {
	Title string   `json:"title,omitempty"`
	Rows  []action `json:"rows"`
}

type card struct {
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Image       string   `json:"image,omitempty"`
	Buttons     []action `json:"buttons,omitempty"`
}

type media struct {
	Kind    string `json:"kind"` // image, video, audio, file
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
}

type location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
}

// The schemes a URL from the bot may have on the page: a javascript: or
// data: link would run in the page's origin, which holds the API.
var (
	linkSchemes  = []string{"http", "https", "mailto", "tel"} // href
	mediaSchemes = []string{"http", "https"}                  // src
)

// allowURL returns raw, or "" when its scheme is not one of schemes (or
// it has none: a relative URL would point into the page's API).
func allowURL(raw string, schemes []string) string {
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) {
		return ""
	}
	return raw
}

// clean makes it safe for the page: its texts pass r (the bot may echo a
// credential) and a URL with a scheme not allowed is dropped, its label
// kept.
func (it *item) clean(r *strings.Replacer) {
	text := func(ss ...*string) {
		for _, s := range ss {
			*s = r.Replace(*s)
		}
	}
	actions := func(as []action) {
		for i := range as {
			text(&as[i].ID, &as[i].Label, &as[i].URL, &as[i].Value, &as[i].Description)
			as[i].URL = allowURL(as[i].URL, linkSchemes)
			if as[i].Value == "" && as[i].Kind != "url" && as[i].Kind != "dial" && as[i].ID != as[i].Label {
				as[i].Value = as[i].ID
			}
		}
	}
	text(&it.Text, &it.Header, &it.Footer, &it.Contact, &it.Error, &it.Hint, &it.Value)
	actions(it.Buttons)
	if l := it.List; l != nil {
		text(&l.Button)
		for i := range l.Sections {
			text(&l.Sections[i].Title)
			actions(l.Sections[i].Rows)
		}
	}
	for i := range it.Cards {
		c := &it.Cards[i]
		text(&c.Title, &c.Description, &c.Image)
		c.Image = allowURL(c.Image, mediaSchemes)
		actions(c.Buttons)
	}
	if m := it.Media; m != nil {
		text(&m.URL, &m.Caption)
		m.URL = allowURL(m.URL, mediaSchemes)
	}
	if l := it.Location; l != nil {
		text(&l.Name)
	}
}

// exchange is one HTTP exchange for the inspector. A delivery is shown
// pending (Pending, no status) as it starts and replaced, under the same
// ID, when it ends.
type exchange struct {
	ID          int               `json:"id"`
	Time        string            `json:"time"`
	Direction   string            `json:"direction"` // "platform → bot" or "bot → platform"
	Event       string            `json:"event"`     // the event type or the call
	Summary     string            `json:"summary"`   // one line: the text, the button
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Status      int               `json:"status"`
	LatencyMS   float64           `json:"latencyMs"`
	ReqHeaders  map[string]string `json:"requestHeaders"`
	ReqBody     string            `json:"requestBody"`
	RespHeaders map[string]string `json:"responseHeaders,omitempty"`
	RespBody    string            `json:"responseBody,omitempty"`
	Error       string            `json:"error,omitempty"`
	Hint        string            `json:"hint,omitempty"`
	// Parent is the delivery a bot → platform call answered.
	Parent int `json:"parent,omitempty"`
	// Delivery names the platform's delivery; its attempts share it.
	Delivery   string  `json:"delivery,omitempty"`
	Attempt    int     `json:"attempt,omitempty"`
	Redelivery bool    `json:"redelivery,omitempty"`
	Pending    bool    `json:"pending,omitempty"`
	Late       bool    `json:"late,omitempty"`
	BudgetMS   float64 `json:"budgetMs,omitempty"`
	Send       string  `json:"send,omitempty"` // the botwire send command that delivers it again
	Curl       string  `json:"curl,omitempty"`
	Replayable bool    `json:"replayable"`

	conv   string
	replay func(ctx context.Context, asNew bool) error
}

// redact masks with r the credentials the exchange's texts may hold: the
// bot may echo one in its answer's headers or body, or the URL hold one.
func (x *exchange) redact(r *strings.Replacer) {
	for _, s := range []*string{&x.URL, &x.ReqBody, &x.RespBody, &x.Error, &x.Summary, &x.Hint, &x.Send, &x.Curl} {
		*s = r.Replace(*s)
	}
	for _, h := range []map[string]string{x.ReqHeaders, x.RespHeaders} {
		for k, v := range h {
			h[k] = r.Replace(v)
		}
	}
}

// event is what the page receives over Server-Sent Events: its ID is the
// stream's event id, Conv the conversation it belongs to.
type event struct {
	ID       int            `json:"id"`
	Conv     string         `json:"conv,omitempty"`
	Kind     string         `json:"kind"` // chat, exchange, state
	Item     *item          `json:"item,omitempty"`
	Exchange *exchange      `json:"exchange,omitempty"`
	State    map[string]any `json:"state,omitempty"`
}

// step is one action of a transcript: the customer's, or the agent's at
// Botcopy's desk.
type step struct {
	Type   string  `json:"type"` // say, click, send (an attachment), agent
	Text   string  `json:"text,omitempty"`
	Action *action `json:"action,omitempty"`
	Input  *input  `json:"input,omitempty"`
}

// input is customer input beyond text, as POST /api/send takes it.
type input struct {
	Type      string  `json:"type"` // image, document, video, audio, location, contact
	URL       string  `json:"url,omitempty"`
	Caption   string  `json:"caption,omitempty"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
	Name      string  `json:"name,omitempty"`
	Phone     string  `json:"phone,omitempty"`
}

// transcript is what Save writes and Load replays.
type transcript struct {
	Vendor string `json:"vendor"`
	Steps  []step `json:"steps"`
	Chat   []item `json:"chat"`
	Saved  string `json:"saved"`
}

// adapter is a vendor's side of the emulator. It reads the conversation
// to speak in from the emulator (current) at each call.
type adapter interface {
	say(ctx context.Context, text string) error
	click(ctx context.Context, a action) error
	info() map[string]any
	close()
}

// The optional sides of an adapter.
type (
	// desk: the human agent's side (Botcopy).
	desk interface {
		agent(ctx context.Context, text string) error
	}
	// attacher: customer input beyond text.
	attacher interface {
		inputs() []string
		attach(ctx context.Context, in input) error
	}
)

// conversation is who the customer is and where they write.
type conversation struct {
	ID       string `json:"conversation"`
	Customer string `json:"customer"`
	Channel  string `json:"channel,omitempty"`
}

// emulator is the state behind the page.
type emulator struct {
	vendor string
	a      *auth
	ad     adapter
	policy policy
	runID  string // this run's name in the stream's event ids

	mu        sync.Mutex
	events    []event
	exchanges []*exchange
	steps     []step
	subs      map[chan event]bool
	conv      conversation
	cause     map[string]int // per conversation: the latest delivery, parent of the bot's calls
	deliveryN int
}

func newEmulator(vendor string, a *auth) *emulator {
	e := &emulator{vendor: vendor, a: a, subs: map[chan event]bool{}, cause: map[string]int{}, policy: defaultPolicy(vendor), runID: randomHex(4)}
	e.conv = conversation{ID: newConversation(vendor), Customer: newCustomer(vendor), Channel: channels(vendor)[0]}
	if vendor == "botcopy" { // Botcopy knows the customer by the user id, the conversation's
		e.conv.Customer = e.conv.ID
	}
	return e
}

// channels lists the channels a conversation may be on, the default
// first: OneTalk tells its bot the channel of each case; "" where the
// platform does not.
func channels(vendor string) []string {
	if vendor == "onetalk" {
		return []string{"whatsappba", "telegram"}
	}
	return []string{""}
}

// current returns the conversation the customer writes in.
func (e *emulator) current() conversation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conv
}

// emit records an event and sends it to every open page: its id is the
// next, its conversation the current one unless set. An exchange without
// an ID gets the next; one with an ID replaces that exchange (a pending
// delivery that ended).
func (e *emulator) emit(ev event) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.emitLocked(ev)
}

func (e *emulator) emitLocked(ev event) int {
	if ev.Conv == "" {
		ev.Conv = e.conv.ID
	}
	id := 0
	if x := ev.Exchange; x != nil {
		if x.conv == "" {
			x.conv = ev.Conv
		}
		if x.ID == 0 || x.ID > len(e.exchanges) {
			x.ID = len(e.exchanges) + 1
			e.exchanges = append(e.exchanges, x)
		} else {
			e.exchanges[x.ID-1] = x
		}
		id = x.ID
		cp := *x // the history keeps this version; the exchange may change
		ev.Exchange = &cp
	}
	ev.ID = len(e.events) + 1
	e.events = append(e.events, ev)
	for ch := range e.subs {
		select {
		case ch <- ev:
		default:
			// A page that does not read is dropped; it reconnects with
			// Last-Event-ID and gets what it missed from the history.
			delete(e.subs, ch)
			close(ch)
		}
	}
	return id
}

// subscribe returns the events after id (the history a page missed) and
// a channel of those to come, with no event lost or repeated between
// them; cancel ends it.
func (e *emulator) subscribe(after int) (history []event, live <-chan event, cancel func()) {
	ch := make(chan event, 1024)
	e.mu.Lock()
	if after < len(e.events) {
		history = append(history, e.events[max(after, 0):]...)
	}
	e.subs[ch] = true
	e.mu.Unlock()
	return history, ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.subs[ch] {
			delete(e.subs, ch)
			close(ch)
		}
	}
}

// chat shows it in the current conversation, cleaned of what must not
// reach the page; chatIn in conversation conv.
func (e *emulator) chat(it item) { e.chatIn("", it) }

func (e *emulator) chatIn(conv string, it item) {
	it.clean(e.a.redactor(nil))
	if it.Time == "" {
		it.Time = now()
	}
	e.emit(event{Kind: "chat", Conv: conv, Item: &it})
}

// exchange records x (see emit) and returns its ID.
func (e *emulator) exchange(x *exchange) int {
	if x.Time == "" {
		x.Time = now()
	}
	return e.emit(event{Kind: "exchange", Conv: x.conv, Exchange: x})
}

func (e *emulator) state(s map[string]any) { e.emit(event{Kind: "state", State: s}) }

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// shown is an error the chat shows already, with its hint: fail does not
// show it again.
type shown struct{ error }

func (s shown) Unwrap() error { return s.error }

func (e *emulator) fail(err error) {
	var sh shown
	if errors.As(err, &sh) {
		return
	}
	e.chat(item{From: "system", Error: err.Error()})
}

// held is a step's customer line, kept until the exchange that delivers
// it exists (showCustomer) so the line links to it. It travels in the
// step's context: steps from two tabs, or a line typed while a slow
// delivery is pending, each keep their own.
type held struct {
	it   *item
	conv string
}

type heldKey struct{}

// hold returns ctx carrying the customer's line it, of the current
// conversation.
func (e *emulator) hold(ctx context.Context, it item) context.Context {
	it.clean(e.a.redactor(nil))
	it.Time = now()
	return context.WithValue(ctx, heldKey{}, &held{it: &it, conv: e.current().ID})
}

// annotate adds hint to the customer line ctx holds: what the emulator
// assumed in delivering it.
func (e *emulator) annotate(ctx context.Context, hint string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h, _ := ctx.Value(heldKey{}).(*held); h != nil && h.it != nil {
		h.it.Hint = hint
	}
}

// showCustomer shows the customer line ctx holds, linked to exchange x (0:
// none), once.
func (e *emulator) showCustomer(ctx context.Context, x int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h, _ := ctx.Value(heldKey{}).(*held)
	if h == nil || h.it == nil {
		return
	}
	it := *h.it
	h.it = nil
	it.Exchange = x
	e.emitLocked(event{Kind: "chat", Conv: h.conv, Item: &it})
}

// setCause records delivery x as the parent of the bot's next calls in
// conv; causeOf returns it.
func (e *emulator) setCause(conv string, x int) {
	e.mu.Lock()
	e.cause[conv] = x
	e.mu.Unlock()
}

func (e *emulator) causeOf(conv string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cause[conv]
}

// nextDelivery names a new delivery of the platform.
func (e *emulator) nextDelivery() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliveryN++
	return fmt.Sprintf("d-%d", e.deliveryN)
}

// headers masks the credential headers of a request for the inspector;
// exchange.redact masks the credentials elsewhere.
func (e *emulator) headers(h http.Header, sent bool) map[string]string {
	out := map[string]string{}
	for k, vs := range h {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		if sent && e.a.isCredential(k) {
			v = e.a.mask(v)
		}
		out[k] = v
	}
	return out
}

// body pretty-prints b for the inspector, with the value of the field
// that carries a credential masked: Botcopy's legacy accessToken. Masking
// the field, not its text, catches a token of any length and one the JSON
// escapes (a&b as a\u0026b); exchange.redact is the second line.
func (e *emulator) body(b []byte) string {
	if e.vendor == "botcopy" && !e.a.showSecret {
		b = maskField(b, "accessToken")
	}
	return prettyJSON(b)
}

// maskField returns the JSON object b with the value of its top-level
// field name replaced by "[REDACTED]", every other byte kept, or b when it
// is not an object.
func maskField(b []byte, name string) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return b
	}
	var out []byte
	last := 0
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return b
		}
		start := dec.InputOffset() // after the key, before the colon
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return b
		}
		if key == name {
			out = append(append(out, b[last:start]...), `: "[REDACTED]"`...)
			last = int(dec.InputOffset())
		}
	}
	return append(out, b[last:]...)
}

// web returns the page's handler as it is served at the listen address
// addr: guarded by localWeb.
func (e *emulator) web(addr string) http.Handler { return localWeb(e.handler(), addr) }

// handler is the page and its API, unguarded: serve web.
func (e *emulator) handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.info())
	})
	mux.HandleFunc("GET /api/history", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		writeJSON(w, http.StatusOK, append([]event{}, e.events...))
	})
	mux.HandleFunc("POST /api/say", func(w http.ResponseWriter, r *http.Request) {
		var s step
		if !readJSON(w, r, &s) {
			return
		}
		if strings.TrimSpace(s.Text) == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "say needs a text"})
			return
		}
		e.run(w, r, step{Type: "say", Text: s.Text})
	})
	mux.HandleFunc("POST /api/click", func(w http.ResponseWriter, r *http.Request) {
		var a action
		if !readJSON(w, r, &a) {
			return
		}
		e.run(w, r, step{Type: "click", Action: &a})
	})
	mux.HandleFunc("POST /api/send", func(w http.ResponseWriter, r *http.Request) {
		var in input
		if !readJSON(w, r, &in) {
			return
		}
		if err := e.checkInput(in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		e.run(w, r, step{Type: "send", Input: &in})
	})
	mux.HandleFunc("POST /api/agent", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := e.ad.(desk); !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "only Botcopy has a desk side"})
			return
		}
		var s step
		if !readJSON(w, r, &s) {
			return
		}
		if strings.TrimSpace(s.Text) == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the agent's line needs a text"})
			return
		}
		e.run(w, r, step{Type: "agent", Text: s.Text})
	})
	mux.HandleFunc("POST /api/conversation", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			New     string `json:"new"` // conversation or customer
			Channel string `json:"channel"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		c, err := e.newConversation(req.New, req.Channel)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("POST /api/replay/{id}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			As string `json:"as"` // redelivery (default) or new
		}
		if r.ContentLength != 0 && !readJSON(w, r, &req) {
			return
		}
		if req.As != "" && req.As != "redelivery" && req.As != "new" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `"as" is "redelivery" or "new"`})
			return
		}
		id, _ := strconv.Atoi(r.PathValue("id"))
		e.mu.Lock()
		var x *exchange
		if id >= 1 && id <= len(e.exchanges) {
			x = e.exchanges[id-1]
		}
		e.mu.Unlock()
		if x == nil || x.replay == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no replayable delivery with that id"})
			return
		}
		if err := x.replay(r.Context(), req.As == "new"); err != nil {
			e.fail(err)
			writeJSON(w, http.StatusBadGateway, errorBody(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("GET /api/transcript", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		t := transcript{Vendor: e.vendor, Steps: append([]step(nil), e.steps...), Saved: time.Now().UTC().Format(time.RFC3339)}
		for _, ev := range e.events {
			if ev.Item != nil {
				t.Chat = append(t.Chat, *ev.Item)
			}
		}
		e.mu.Unlock()
		w.Header().Set("Content-Disposition", `attachment; filename="botwire-`+e.vendor+`-transcript.json"`)
		writeJSON(w, http.StatusOK, t)
	})
	mux.HandleFunc("POST /api/transcript", func(w http.ResponseWriter, r *http.Request) {
		var t transcript
		if !readJSON(w, r, &t) {
			return
		}
		if t.Vendor != e.vendor {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("the transcript is of %q, this is %q", t.Vendor, e.vendor),
				"errors": []string{fmt.Sprintf("the transcript is of %q, this is %q", t.Vendor, e.vendor)}})
			return
		}
		e.chat(item{From: "system", Text: fmt.Sprintf("replaying a transcript of %d steps, each waiting for its replies", len(t.Steps))})
		n, errs := e.runSteps(r.Context(), t.Steps)
		status := http.StatusOK
		if len(errs) > 0 {
			status = http.StatusBadGateway
		}
		writeJSON(w, status, map[string]any{"replayed": n, "errors": append([]string{}, errs...)})
	})
	mux.HandleFunc("GET /api/events", e.stream)
	return mux
}

// stream serves the events as Server-Sent Events: those after the
// Last-Event-ID a reconnecting browser sends (or ?after=N; all on a first
// connection), then the live ones, with no event lost or repeated
// between the two. An event's SSE id is "RUN.N", N its ID: a page that
// reconnects to another run of the command (its ids start again) is told
// to reload instead of taking the new events for ones it has.
func (e *emulator) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n: live\n\n")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		run, n, _ := strings.Cut(last, ".")
		if run != e.runID {
			fmt.Fprint(w, "data: {\"kind\":\"reload\"}\n\n")
			fl.Flush()
			return
		}
		after, _ = strconv.Atoi(n)
	}
	history, live, cancel := e.subscribe(after)
	defer cancel()
	write := func(ev event) {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "id: %s.%d\ndata: %s\n\n", e.runID, ev.ID, b)
	}
	for _, ev := range history {
		write(ev)
	}
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-live:
			if !ok {
				return // too slow: the browser reconnects with Last-Event-ID
			}
			write(ev)
			fl.Flush()
		}
	}
}

// info is what GET /api/info tells the page: the vendor, the bot, the
// adapter's details, the conversation and what the customer can send.
func (e *emulator) info() map[string]any {
	info := e.ad.info()
	info["vendor"] = e.vendor
	c := e.current()
	info["conversation"], info["customer"] = c.ID, c.Customer
	if chs := channels(e.vendor); chs[0] != "" {
		info["channel"], info["channels"] = c.Channel, chs
	}
	inputs := []string{}
	if at, ok := e.ad.(attacher); ok {
		inputs = at.inputs()
	}
	info["inputs"] = inputs
	info["redelivery"] = e.policy.doc
	info["budgetMs"] = e.policy.budget.Milliseconds()
	return info
}

// newConversation starts a new conversation (what is "conversation") or
// a new customer's (what is "customer") on channel ("": the current one).
func (e *emulator) newConversation(what, channel string) (conversation, error) {
	if what != "conversation" && what != "customer" {
		return conversation{}, errors.New(`"new" is "conversation" or "customer"`)
	}
	chs := channels(e.vendor)
	if channel != "" && !slices.Contains(chs, channel) {
		if chs[0] == "" {
			return conversation{}, fmt.Errorf("%s has no channels to choose", vendorName(e.vendor))
		}
		return conversation{}, fmt.Errorf("unknown channel %q (want %s)", channel, strings.Join(chs, ", "))
	}
	e.mu.Lock()
	c := e.conv
	c.ID = newConversation(e.vendor)
	if what == "customer" {
		c.Customer = newCustomer(e.vendor)
	}
	if e.vendor == "botcopy" {
		c.Customer = c.ID
	}
	if channel != "" {
		c.Channel = channel
	}
	e.conv = c
	e.emitLocked(event{Kind: "state", State: map[string]any{"conversation": c.ID, "customer": c.Customer, "channel": c.Channel}})
	e.mu.Unlock()
	return c, nil
}

// checkInput refuses input the platform does not send.
func (e *emulator) checkInput(in input) error {
	at, ok := e.ad.(attacher)
	if !ok || !slices.Contains(at.inputs(), in.Type) {
		var can []string
		if ok {
			can = at.inputs()
		}
		if len(can) == 0 {
			return fmt.Errorf("%s sends its bot no %s from a customer", vendorName(e.vendor), in.Type)
		}
		return fmt.Errorf("%s sends its bot no %q from a customer (it sends %s)", vendorName(e.vendor), in.Type, strings.Join(can, ", "))
	}
	switch in.Type {
	case "location":
		if in.Latitude < -90 || in.Latitude > 90 || in.Longitude < -180 || in.Longitude > 180 {
			return errors.New("a location needs a latitude in [-90, 90] and a longitude in [-180, 180]")
		}
	case "contact":
		if in.Name == "" && in.Phone == "" {
			return errors.New("a contact needs a name or a phone")
		}
	default:
		if allowURL(in.URL, mediaSchemes) == "" {
			return fmt.Errorf("%s needs an http(s) URL", in.Type)
		}
	}
	return nil
}

// errorBody is the API's answer to a step that failed: the error and its
// hint when it has one.
func errorBody(err error) map[string]string {
	out := map[string]string{"error": err.Error()}
	var h hinted
	if errors.As(err, &h) && h.hint != "" {
		out["hint"] = h.hint
	}
	return out
}

// hinted is a delivery's failure with the next step to take.
type hinted struct {
	error
	hint string
	late bool // past the platform's deadline
}

func (h hinted) Unwrap() error { return h.error }

// run performs a step from the page.
func (e *emulator) run(w http.ResponseWriter, r *http.Request, s step) {
	if err := e.do(r.Context(), s); err != nil {
		e.fail(err)
		writeJSON(w, http.StatusBadGateway, errorBody(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// do performs s: the customer's line is shown with the exchange that
// delivers it (or at once when the platform delivers nothing).
func (e *emulator) do(ctx context.Context, s step) error {
	e.mu.Lock()
	e.steps = append(e.steps, s)
	e.mu.Unlock()
	var line *item
	defer func() {
		if line != nil {
			e.showCustomer(ctx, 0) // a step no delivery carried: shown unlinked
		}
	}()
	switch s.Type {
	case "say":
		line = &item{From: "customer", Text: s.Text}
		ctx = e.hold(ctx, *line)
		return e.ad.say(ctx, s.Text)
	case "click":
		if s.Action == nil {
			return errors.New("a click needs an action")
		}
		a := *s.Action
		v := a.Value
		if v == "" && a.ID != a.Label {
			v = a.ID
		}
		line = &item{From: "customer", Text: a.Label, Value: v}
		ctx = e.hold(ctx, *line)
		return e.ad.click(ctx, a)
	case "send":
		at, ok := e.ad.(attacher)
		if s.Input == nil || !ok {
			return fmt.Errorf("%s sends its bot no attachments", vendorName(e.vendor))
		}
		if err := e.checkInput(*s.Input); err != nil {
			return err
		}
		in := inputItem(*s.Input)
		line = &in
		ctx = e.hold(ctx, in)
		return at.attach(ctx, *s.Input)
	case "agent":
		d, ok := e.ad.(desk)
		if !ok {
			return fmt.Errorf("only Botcopy has a desk side: an agent line needs botwire emulate botcopy")
		}
		e.setCause(e.current().ID, 0) // the agent's pushes answer no delivery
		return d.agent(ctx, s.Text)
	}
	return fmt.Errorf("unknown step %q", s.Type)
}

// inputItem is the customer's chat line for in.
func inputItem(in input) item {
	it := item{From: "customer"}
	switch in.Type {
	case "location":
		it.Location = &location{Latitude: in.Latitude, Longitude: in.Longitude, Name: in.Name}
	case "contact":
		it.Contact = strings.TrimSpace(in.Name + " " + in.Phone)
	default:
		kind := in.Type
		if kind == "document" {
			kind = "file"
		}
		it.Media = &media{Kind: kind, URL: in.URL, Caption: in.Caption}
	}
	return it
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not the JSON expected: " + err.Error()})
		return false
	}
	return true
}

func prettyJSON(b []byte) string { return pretty(b) }

func runEmulate(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("emulate", stdout, stderr, emulateHelp)
	var p platform
	p.flags(fs)
	ui := fs.String("ui", "127.0.0.1:8910", "where the web chat listens (127.0.0.1 by default)")
	script := fs.String("script", "", "run the scenario or saved transcript `FILE` headless and exit: 1 when a reply differs (no web chat)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := p.setup("emulate", pos); err != nil {
		return err
	}
	vendor := p.vendor
	e := newEmulator(vendor, &p.auth)
	e.policy = p.policy()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *script != "" {
		e.ad = newAdapter(ctx, e, &p)
		defer e.ad.close()
		return runScript(ctx, e, *script, stdout)
	}
	uiLn, err := net.Listen("tcp", *ui)
	if err != nil {
		return usageErr("--ui: %v", err)
	}
	e.ad = newAdapter(ctx, e, &p)
	defer e.ad.close()
	srv := &http.Server{Handler: e.web(uiLn.Addr().String()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(uiLn) }()
	fmt.Fprintf(stdout, "botwire emulate %s: open http://%s in a browser (Ctrl-C to stop)\n", vendor, uiLn.Addr())
	info := e.info()
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if s, ok := info[k].(string); ok && k != "vendor" && s != "" {
			fmt.Fprintf(stdout, "%-12s %s\n", k, s)
		}
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
