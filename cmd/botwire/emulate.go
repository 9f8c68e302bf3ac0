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
bot. The flags are those of botwire fake.

Example:
  botwire emulate onetalk --bot http://localhost:8080/onetalk --secret s3cr3t

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
}

// action is something the customer can click; the server turns it into
// what the platform sends for that click.
type action struct {
	Kind  string `json:"kind"` // reply, row, bubble, card, postback, url, dial
	ID    string `json:"id,omitempty"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
	Index int    `json:"index,omitempty"` // a card's position in its carousel
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
			text(&as[i].ID, &as[i].Label, &as[i].URL)
			as[i].URL = allowURL(as[i].URL, linkSchemes)
		}
	}
	text(&it.Text, &it.Header, &it.Footer, &it.Contact, &it.Error)
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

// exchange is one HTTP exchange for the inspector.
type exchange struct {
	ID          int               `json:"id"`
	Direction   string            `json:"direction"` // "platform → bot" or "bot → platform"
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Status      int               `json:"status"`
	LatencyMS   float64           `json:"latencyMs"`
	ReqHeaders  map[string]string `json:"requestHeaders"`
	ReqBody     string            `json:"requestBody"`
	RespHeaders map[string]string `json:"responseHeaders,omitempty"`
	RespBody    string            `json:"responseBody,omitempty"`
	Error       string            `json:"error,omitempty"`
	Replayable  bool              `json:"replayable"`

	replay func(context.Context) error
}

// redact masks with r the credentials the exchange's texts may hold: the
// bot may echo one in its answer's headers or body, or the URL hold one.
func (x *exchange) redact(r *strings.Replacer) {
	for _, s := range []*string{&x.URL, &x.ReqBody, &x.RespBody, &x.Error} {
		*s = r.Replace(*s)
	}
	for _, h := range []map[string]string{x.ReqHeaders, x.RespHeaders} {
		for k, v := range h {
			h[k] = r.Replace(v)
		}
	}
}

// event is what the page receives over Server-Sent Events.
type event struct {
	Kind     string         `json:"kind"` // chat, exchange, state
	Item     *item          `json:"item,omitempty"`
	Exchange *exchange      `json:"exchange,omitempty"`
	State    map[string]any `json:"state,omitempty"`
}

// step is one customer action of a transcript.
type step struct {
	Type   string  `json:"type"` // say, click
	Text   string  `json:"text,omitempty"`
	Action *action `json:"action,omitempty"`
}

// transcript is what Save writes and Load replays.
type transcript struct {
	Vendor string `json:"vendor"`
	Steps  []step `json:"steps"`
	Chat   []item `json:"chat"`
	Saved  string `json:"saved"`
}

// adapter is a vendor's side of the emulator.
type adapter interface {
	say(ctx context.Context, text string) error
	click(ctx context.Context, a action) error
	info() map[string]any
	close()
}

// emulator is the state behind the page.
type emulator struct {
	vendor string
	a      *auth
	ad     adapter

	mu        sync.Mutex
	events    []event
	exchanges []*exchange
	steps     []step
	subs      map[chan event]bool
}

func newEmulator(vendor string, a *auth) *emulator {
	return &emulator{vendor: vendor, a: a, subs: map[chan event]bool{}}
}

// emit records an event and sends it to every open page.
func (e *emulator) emit(ev event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Exchange != nil {
		ev.Exchange.ID = len(e.exchanges) + 1
		e.exchanges = append(e.exchanges, ev.Exchange)
	}
	e.events = append(e.events, ev)
	for ch := range e.subs {
		select {
		case ch <- ev:
		default: // a page that does not read loses live updates, not the history
		}
	}
}

// chat shows it, cleaned of what must not reach the page.
func (e *emulator) chat(it item) {
	it.clean(e.a.redactor(nil))
	e.emit(event{Kind: "chat", Item: &it})
}

func (e *emulator) exchange(x *exchange) { e.emit(event{Kind: "exchange", Exchange: x}) }

func (e *emulator) state(s map[string]any) { e.emit(event{Kind: "state", State: s}) }

func (e *emulator) fail(err error) { e.chat(item{From: "system", Error: err.Error()}) }

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
		info := e.ad.info()
		info["vendor"] = e.vendor
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("GET /api/history", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		writeJSON(w, http.StatusOK, append([]event{}, e.events...))
	})
	mux.HandleFunc("POST /api/say", func(w http.ResponseWriter, r *http.Request) {
		var s step
		if !readJSON(w, r, &s) || s.Text == "" {
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
	mux.HandleFunc("POST /api/agent", func(w http.ResponseWriter, r *http.Request) {
		desk, ok := e.ad.(interface {
			agent(ctx context.Context, text string) error
		})
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "only Botcopy has a desk side"})
			return
		}
		var s step
		if !readJSON(w, r, &s) || s.Text == "" {
			return
		}
		if err := desk.agent(r.Context(), s.Text); err != nil {
			e.fail(err)
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("POST /api/replay/{id}", func(w http.ResponseWriter, r *http.Request) {
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
		if err := x.replay(r.Context()); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
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
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("the transcript is of %q, this is %q", t.Vendor, e.vendor)})
			return
		}
		e.chat(item{From: "system", Text: fmt.Sprintf("replaying a transcript of %d customer steps", len(t.Steps))})
		for _, s := range t.Steps {
			if err := e.do(r.Context(), s); err != nil {
				e.fail(err)
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"replayed": len(t.Steps)})
	})
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		ch := make(chan event, 256)
		e.mu.Lock()
		e.subs[ch] = true
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			delete(e.subs, ch)
			e.mu.Unlock()
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, ": live\n\n")
		fl.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case ev := <-ch:
				b, _ := json.Marshal(ev)
				fmt.Fprintf(w, "data: %s\n\n", b)
				fl.Flush()
			}
		}
	})
	return mux
}

// run performs a customer step from the page.
func (e *emulator) run(w http.ResponseWriter, r *http.Request, s step) {
	if err := e.do(r.Context(), s); err != nil {
		e.fail(err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (e *emulator) do(ctx context.Context, s step) error {
	e.mu.Lock()
	e.steps = append(e.steps, s)
	e.mu.Unlock()
	switch s.Type {
	case "say":
		e.chat(item{From: "customer", Text: s.Text})
		return e.ad.say(ctx, s.Text)
	case "click":
		if s.Action == nil {
			return errors.New("a click needs an action")
		}
		e.chat(item{From: "customer", Text: s.Action.Label})
		return e.ad.click(ctx, *s.Action)
	}
	return fmt.Errorf("unknown step %q", s.Type)
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
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := p.setup("emulate", pos); err != nil {
		return err
	}
	vendor := p.vendor
	uiLn, err := net.Listen("tcp", *ui)
	if err != nil {
		return usageErr("--ui: %v", err)
	}
	e := newEmulator(vendor, &p.auth)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e.ad = newAdapter(ctx, e, &p)
	defer e.ad.close()
	srv := &http.Server{Handler: e.web(uiLn.Addr().String()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(uiLn) }()
	fmt.Fprintf(stdout, "botwire emulate %s: open http://%s in a browser (Ctrl-C to stop)\n", vendor, uiLn.Addr())
	for k, v := range e.ad.info() {
		if s, ok := v.(string); ok && k != "vendor" {
			fmt.Fprintf(stdout, "%-12s %s\n", k, s)
		}
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
