package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

// base holds what every adapter shares.
type base struct {
	e       *emulator
	vendor  string
	bot     string // shown, never used to deliver
	actions string // Ultimate's actions webhook, shown
	infos   map[string]any
	stop    func()
	ctx     context.Context // the run's: ends when the emulator stops
}

func (b *base) info() map[string]any {
	out := map[string]any{"bot": b.bot}
	for k, v := range b.infos {
		out[k] = v
	}
	return out
}

func (b *base) close() { b.stop() }

// deliveryTimeout is when the emulator gives up on a bot's answer.
const deliveryTimeout = 30 * time.Second

// delivery is one platform → bot webhook: what it carries and how to send
// it; its attempts share its id and bytes.
type delivery struct {
	conv    string
	event   string // the event type, for the inspector
	summary string // the text or button, one line
	body    []byte
	sent    http.Header // the credential headers it goes with
	send    func(ctx context.Context) (*botAnswer, error)
	again   func() *delivery // the same content as a new delivery (new ids)
	id      string
	attempt int
	// keepCustomer: the delivery does not carry the customer's line
	// (Userlike's start, sent before it).
	keepCustomer bool
}

// botAnswer is the bot's answer to an attempt.
type botAnswer struct {
	status  int
	header  http.Header
	body    []byte
	latency time.Duration
	late    bool // the platform ignored it: past its deadline (Botcopy)
}

// deliver sends d as the platform does: shown pending, then its answer,
// and redelivered as the platform's policy says while the bot does not
// accept it. It returns the last answer; an error is shown already.
func (b *base) deliver(ctx context.Context, d *delivery) (*botAnswer, error) {
	return b.attempts(ctx, d, false, true)
}

// attempts runs the attempts of d; redelivery marks the first as one,
// auto lets the policy add more.
func (b *base) attempts(ctx context.Context, d *delivery, redelivery, auto bool) (*botAnswer, error) {
	if d.id == "" {
		d.id = b.e.nextDelivery()
	}
	p := b.e.policy
	for {
		d.attempt++
		an, err := b.attempt(ctx, d, redelivery || d.attempt > 1)
		if err == nil || !auto || isRefused(err) || d.attempt > p.attempts || ctx.Err() != nil {
			return an, err
		}
		var h hinted
		if errors.As(err, &h) && h.late {
			return an, err // Botcopy forwarded the message to Dialogflow
		}
		b.e.chatIn(d.conv, item{From: "system", Text: fmt.Sprintf("%s redelivers in %s: attempt %d of %d (%s)",
			vendorName(b.vendor), p.after, d.attempt+1, p.attempts+1, p.doc)})
		select {
		case <-ctx.Done():
			return an, err
		case <-time.After(p.after):
		}
	}
}

// attempt is one HTTP exchange of d.
func (b *base) attempt(ctx context.Context, d *delivery, redelivery bool) (*botAnswer, error) {
	p := b.e.policy
	red := b.e.a.redactor(d.sent)
	x := &exchange{Direction: "platform → bot", Event: d.event, Summary: d.summary, Method: http.MethodPost, URL: b.bot,
		ReqHeaders: b.e.headers(d.sent, true), ReqBody: b.e.body(d.body), Delivery: d.id, Attempt: d.attempt,
		Redelivery: redelivery, Pending: true, BudgetMS: float64(p.budget.Milliseconds()), Replayable: true, conv: d.conv}
	x.Send = sendCommand(b.vendor, b.bot, b.e.a, x.ReqBody)
	x.Curl = curlCommand(b.vendor, b.bot, b.e.a, x.ReqBody)
	x.replay = func(ctx context.Context, asNew bool) error {
		if asNew && d.again != nil {
			_, err := b.deliver(ctx, d.again())
			return err
		}
		_, err := b.attempts(ctx, d, true, false)
		return err
	}
	x.redact(red)
	id := b.e.exchange(x)
	b.e.setCause(d.conv, id)
	if !d.keepCustomer {
		b.e.showCustomer(ctx, id)
	}

	actx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	start := time.Now()
	an, err := d.send(actx)
	cancel()
	done := *x
	done.Pending = false
	done.replay = x.replay
	if an == nil {
		an = &botAnswer{latency: time.Since(start)}
	}
	done.Status, done.LatencyMS = an.status, float64(an.latency.Microseconds())/1000
	done.RespHeaders, done.RespBody = b.e.headers(an.header, false), b.e.body(an.body)
	done.Late = an.late || an.latency > p.budget
	var fail error
	switch {
	case err != nil:
		fail = err
	case an.late && an.status == 0:
		fail = fmt.Errorf("no answer within %s's %s: %w", vendorName(b.vendor), p.budget, errLate)
	case an.late:
		fail = fmt.Errorf("the bot answered %d after %s's %s: ignored: %w", an.status, vendorName(b.vendor), p.budget, errLate)
	case !accepted(b.vendor, an.status):
		fail = fmt.Errorf("the bot answered %d", an.status)
	}
	if fail != nil {
		done.Error = fail.Error()
		done.Hint = hint(b.vendor, b.bot, an.status, err, p)
		if errors.Is(fail, errLate) {
			done.Hint = hint(b.vendor, b.bot, 0, errLate, p)
		}
	} else if done.Late {
		done.Hint = fmt.Sprintf("answered in %.1f s, past the platform's %s budget (%s)", an.latency.Seconds(), p.budget, p.doc)
	}
	done.redact(red)
	b.e.exchange(&done)
	if fail == nil {
		if done.Late {
			b.e.chatIn(d.conv, item{From: "system", Text: "the bot answered late", Hint: done.Hint, Exchange: id})
		}
		return an, nil
	}
	b.e.chatIn(d.conv, item{From: "system", Error: done.Error, Hint: done.Hint, Exchange: id})
	return an, shown{hinted{error: redacted{done.Error, fail}, hint: done.Hint, late: errors.Is(fail, errLate)}}
}

// redacted is an error whose text has its credentials masked; it unwraps
// to the original.
type redacted struct {
	msg   string
	cause error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.cause }

// received records a bot → platform call in conv, under the delivery it
// answers, and returns its exchange's id.
func (b *base) received(conv, url string, header http.Header, body []byte, status int, err error, event, summary string) int {
	x := &exchange{Direction: "bot → platform", Event: event, Summary: summary, Method: http.MethodPost, URL: url, Status: status,
		ReqHeaders: b.e.headers(header, true), ReqBody: b.e.body(body), Parent: b.e.causeOf(conv), conv: conv}
	if err != nil {
		x.Error = err.Error() // e.g. the fake refused a reply that fails validation, with the field path
	}
	x.redact(b.e.a.redactor(header))
	id := b.e.exchange(x)
	if err != nil {
		b.e.chatIn(conv, item{From: "system", Error: "the platform refused the bot's request: " + x.Error, Exchange: id,
			Hint: "the platform answers a request that breaks its rules with an error: the path in the message names the field"})
	}
	return id
}

// answered records an exchange the fake made on its own (Ultimate's
// scripted agent calling the bot) and returns its id.
func (b *base) answered(conv, url, event, summary string, body []byte, status int, header http.Header, answer []byte, latency time.Duration, err error) int {
	x := &exchange{Direction: "platform → bot", Event: event, Summary: summary, Method: http.MethodPost, URL: url, Status: status,
		LatencyMS: float64(latency.Microseconds()) / 1000, ReqHeaders: map[string]string{}, ReqBody: b.e.body(body),
		RespHeaders: b.e.headers(header, false), RespBody: b.e.body(answer), BudgetMS: float64(b.e.policy.budget.Milliseconds()), conv: conv}
	x.Late = latency > b.e.policy.budget
	x.Send = sendCommand(b.vendor, url, b.e.a, x.ReqBody)
	x.Curl = curlCommand(b.vendor, url, b.e.a, x.ReqBody)
	switch {
	case err != nil:
		x.Error = err.Error()
	case !accepted(b.vendor, status):
		x.Error = fmt.Sprintf("the bot answered %d", status)
	}
	if x.Error != "" {
		x.Hint = hint(b.vendor, url, status, err, b.e.policy)
	}
	x.redact(b.e.a.redactor(nil))
	id := b.e.exchange(x)
	b.e.setCause(conv, id)
	if x.Error != "" {
		b.e.chatIn(conv, item{From: "system", Error: x.Error, Hint: x.Hint, Exchange: id})
	}
	return id
}

// chatSummary is the one-line summary of a chat line.
func chatSummary(it item) string {
	s := describe(it)
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return s
}

// watch streams the records of a fake as they come.
func watch[T any](ctx context.Context, wait func(context.Context, int) ([]T, error), each func(T)) {
	go func() {
		seen := 0
		for {
			got, err := wait(ctx, seen+1)
			for _, r := range got[min(seen, len(got)):] {
				each(r)
			}
			seen = max(seen, len(got))
			if err != nil && ctx.Err() != nil {
				return
			}
			if err != nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
}

func decodeMap(b []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func m(v any) map[string]any { out, _ := v.(map[string]any); return out }
func a(v any) []any          { out, _ := v.([]any); return out }
func s(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}
func f(v any) float64 { x, _ := v.(float64); return x }

func newAdapter(ctx context.Context, e *emulator, p *platform) adapter {
	au, apiKey, botID := &p.auth, p.apiKey, p.botID
	b := base{e: e, vendor: p.vendor, bot: au.showURL(p.bot), actions: au.showURL(p.actions)}
	ctx, cancel := context.WithCancel(ctx)
	b.ctx = ctx
	switch p.vendor {
	case "onetalk":
		fake := onetalktest.NewServer(p.onetalkConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "secret": au.mask(au.secret)}, func() { cancel(); fake.Close() }
		ad := &onetalkAdapter{base: b, fake: fake, called: map[string]time.Time{}, channel: map[string]string{}}
		watch(ctx, fake.WaitFor, ad.fromBot)
		return ad
	case "easydialog":
		fake := easydialogtest.NewServer(p.easydialogConfig())
		b.infos, b.stop = map[string]any{"key": au.mask(au.secret)}, func() { cancel(); fake.Close() }
		return &easyDialogAdapter{base: b, fake: fake, key: au.secret}
	case "userlike":
		fake := userliketest.NewServer(p.userlikeConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiToken": au.mask(apiKey)}, func() { cancel(); fake.Close() }
		ad := &userlikeAdapter{base: b, fake: fake, au: au, started: map[string]bool{}, answered: map[string]bool{}}
		watch(ctx, fake.WaitFor, ad.fromAPI)
		return ad
	case "ultimate":
		fake := ultimatetest.NewServer(p.ultimateConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiKey": au.mask(apiKey), "botId": botID}, func() { cancel(); fake.Close() }
		client, _ := ultimate.NewClient(apiKey, botID, ultimate.WithBaseURL(fake.URL), ultimate.WithUserAgent(visitorAgent))
		ad := &ultimateAdapter{base: b, fake: fake, client: client, started: map[string]bool{}}
		watch(ctx, fake.WaitDeliveries, ad.fromAgent)
		watch(ctx, fake.WaitFor, ad.fromCall)
		return ad
	default:
		cfg := p.botcopyConfig()
		cfg.Deadline = e.policy.budget // Botcopy ignores an answer past its budget
		fake := botcopytest.NewServer(cfg)
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiKey": au.mask(apiKey)}, func() { cancel(); fake.Close() }
		b.infos["desk"] = true
		desk, _ := botcopy.NewClient(apiKey, botcopy.WithBaseURL(fake.URL))
		ad := &botcopyAdapter{base: b, fake: fake, botID: "bot-456", desk: desk, said: map[string][]string{}, handedOver: map[string]bool{}, agents: map[string]string{}}
		watch(ctx, fake.WaitFor, ad.fromProxy)
		return ad
	}
}

// --- OneTalk ---

type onetalkAdapter struct {
	base
	fake *onetalktest.Server

	mu      sync.Mutex
	called  map[string]time.Time // per case: the bot's last call to the platform
	channel map[string]string    // per case: its channel
	warned  bool
}

// request fills in the conversation's case, channel and customer.
func (o *onetalkAdapter) request(in *onetalk.InboundRequest, c conversation) *onetalk.InboundRequest {
	in.CaseID = c.ID
	in.ChannelType = c.Channel
	in.Sender.Phone = strings.TrimPrefix(c.Customer, "+")
	in.Sender.CustomerUserID = "user:" + in.Sender.Phone
	if c.Channel == onetalk.ChannelTelegram { // the doc: a phone only on WhatsApp channels
		in.Sender.Phone, in.Sender.CustomerUserID = "", "user:"+c.Customer
	}
	return in
}

// send delivers what make builds for the current conversation.
func (o *onetalkAdapter) send(ctx context.Context, event, sum string, make func(caseID string) *onetalk.InboundRequest) error {
	c := o.e.current()
	o.mu.Lock()
	o.channel[c.ID] = c.Channel
	o.mu.Unlock()
	var build func() *delivery
	build = func() *delivery {
		in := o.request(make(c.ID), c)
		body, _ := onetalktest.Encode(in)
		return &delivery{conv: c.ID, event: event, summary: sum, body: body, sent: http.Header{onetalk.SecretHeader: {o.e.a.secret}},
			again: build,
			send: func(ctx context.Context) (*botAnswer, error) {
				d, err := o.fake.Deliver(ctx, in)
				if err != nil {
					return nil, err
				}
				return &botAnswer{status: d.StatusCode, header: d.Header, body: d.Body, latency: d.Latency}, nil
			}}
	}
	d := build()
	start := time.Now()
	an, err := o.deliver(ctx, d)
	if err == nil && an != nil && repliesByAPI("onetalk") {
		go o.expectCall(o.ctx, c.ID, start)
	}
	return err
}

// expectCall warns, once a run, when the bot accepted a delivery of conv
// at start and has not called the fake within quietAfter.
func (o *onetalkAdapter) expectCall(ctx context.Context, conv string, start time.Time) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(quietAfter):
	}
	o.mu.Lock()
	quiet := !o.called[conv].After(start) && !o.warned
	if quiet {
		o.warned = true
	}
	o.mu.Unlock()
	if quiet {
		o.e.chatIn(conv, item{From: "system", Error: "no reply: the bot accepted the delivery but never called the platform",
			Hint: quietWarning("onetalk", o.fake.URL)})
	}
}

func (o *onetalkAdapter) say(ctx context.Context, text string) error {
	return o.send(ctx, "message text", text, func(id string) *onetalk.InboundRequest { return onetalktest.Text(id, text) })
}

func (o *onetalkAdapter) click(ctx context.Context, c action) error {
	if c.Kind == "row" {
		return o.send(ctx, "message list_reply", c.Label+" ("+c.ID+")", func(id string) *onetalk.InboundRequest {
			return onetalktest.ListReply(id, c.ID, c.Label, c.Description)
		})
	}
	return o.send(ctx, "message button_reply", c.Label+" ("+c.ID+")", func(id string) *onetalk.InboundRequest {
		return onetalktest.ButtonReply(id, c.ID, c.Label)
	})
}

func (o *onetalkAdapter) inputs() []string { return []string{"image", "document", "video", "location"} }

func (o *onetalkAdapter) attach(ctx context.Context, in input) error {
	sum := describe(inputItem(in))
	return o.send(ctx, "message "+in.Type, sum, func(id string) *onetalk.InboundRequest {
		switch in.Type {
		case "image":
			return onetalktest.Image(id, in.URL, in.Caption)
		case "video":
			return onetalktest.Video(id, in.URL, in.Caption)
		case "document":
			return onetalktest.Document(id, in.URL, path.Base(in.URL), in.Caption)
		default:
			return onetalktest.Location(id, in.Latitude, in.Longitude, in.Name, "")
		}
	})
}

func (o *onetalkAdapter) fromBot(r onetalktest.Received) {
	w := decodeMap(r.Body)
	conv := s(w["caseID"])
	o.mu.Lock()
	o.called[conv] = time.Now()
	channel := o.channel[conv]
	o.mu.Unlock()
	var items []item
	switch s(w["eventType"]) {
	case string(onetalk.EventMessages):
		for _, msg := range a(w["messages"]) {
			items = append(items, onetalkItem(m(msg)))
		}
	case string(onetalk.EventHandoverCase):
		items = append(items, item{From: "system", Text: "the bot handed the case over to a human agent"})
	case string(onetalk.EventCloseCase):
		items = append(items, item{From: "system", Text: "the bot closed the case"})
	default:
		items = append(items, item{From: "system", Text: "the bot sent " + s(w["eventType"])})
	}
	sum := ""
	if len(items) > 0 {
		sum = chatSummary(items[0])
	}
	id := o.received(conv, o.fake.URL, r.Header, r.Body, r.Status, r.Err, "eventType "+s(w["eventType"]), sum)
	if r.Err != nil {
		return
	}
	for i, msg := range a(w["messages"]) {
		if t := s(m(msg)["type"]); t == "whatsappba" && channel == onetalk.ChannelTelegram {
			items[i] = item{From: "system", Error: "OneTalk would not deliver this whatsappba message: the case is on Telegram",
				Hint: "interactive messages (buttons, lists, flows) exist only on WhatsApp Business API cases: send text or media on Telegram"}
		}
	}
	for _, it := range items {
		it.Exchange = id
		o.e.chatIn(conv, it)
	}
}

func onetalkItem(msg map[string]any) item {
	it := item{From: "bot"}
	switch t := s(msg["type"]); t {
	case "text":
		it.Text = s(m(msg["text"])["body"])
	case "image", "video", "document":
		md := m(msg[t])
		if md == nil && t == "video" {
			md = m(msg["image"])
		}
		kind := t
		if t == "document" {
			kind = "file"
		}
		caption := strings.TrimSpace(s(md["filename"]) + " " + s(md["caption"]))
		if s(md["filename"]) != "" && s(md["caption"]) != "" {
			caption = s(md["filename"]) + " — " + s(md["caption"])
		}
		it.Media = &media{Kind: kind, URL: s(md["url"]), Caption: caption}
	case "whatsappba":
		in := m(m(msg["whatsappba"])["interactive"])
		it.Text = s(m(in["body"])["text"])
		it.Footer = s(m(in["footer"])["text"])
		if h := m(in["header"]); h != nil {
			switch t := s(h["type"]); t {
			case "image", "video":
				it.Media = &media{Kind: t, URL: s(m(h[t])["link"])}
			case "document":
				d := m(h["document"])
				it.Media = &media{Kind: "file", URL: s(d["link"]), Caption: s(d["filename"])}
			default:
				it.Header = s(h["text"])
			}
		}
		for _, bt := range a(m(in["buttonAction"])["buttons"]) {
			r := m(m(bt)["reply"])
			it.Buttons = append(it.Buttons, action{Kind: "reply", ID: s(r["id"]), Label: s(r["title"])})
		}
		if la := m(in["listAction"]); la != nil {
			l := &list{Button: s(la["button"])}
			for _, sec := range a(la["sections"]) {
				sc := section{Title: s(m(sec)["title"])}
				for _, row := range a(m(sec)["rows"]) {
					sc.Rows = append(sc.Rows, action{Kind: "row", ID: s(m(row)["id"]), Label: s(m(row)["title"]), Description: s(m(row)["description"])})
				}
				l.Sections = append(l.Sections, sc)
			}
			it.List = l
		}
		if fa := m(in["flowAction"]); fa != nil {
			it.Buttons = append(it.Buttons, action{Kind: "url", Label: s(fa["flowCTA"]) + " (WhatsApp Flow)"})
		}
	default:
		it.Text = "(" + t + " message)"
	}
	return it
}

// --- Easy Dialog ---

type easyDialogAdapter struct {
	base
	fake *easydialogtest.Server
	key  string
}

// send delivers what make builds for the current dialog and shows the
// messages of the webhook's answer.
func (x *easyDialogAdapter) send(ctx context.Context, event, sum string, make func(dialog string) *easydialog.Request) error {
	c := x.e.current()
	var build func() *delivery
	build = func() *delivery {
		req := make(c.ID)
		req.Message.From = strings.TrimPrefix(c.Customer, "+")
		body, _ := easydialogtest.Encode(req)
		sent := http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, x.key)}}
		var d *delivery
		d = &delivery{conv: c.ID, event: event, summary: sum, body: body, sent: sent, again: build,
			send: func(ctx context.Context) (*botAnswer, error) {
				r, err := x.fake.DeliverRaw(ctx, body)
				if r == nil {
					return nil, err
				}
				an := &botAnswer{status: r.StatusCode, header: r.Header, body: r.Body, latency: r.Latency}
				if err == nil && r.StatusCode == http.StatusOK {
					x.show(d, r.Body)
				}
				return an, err
			}}
		return d
	}
	_, err := x.deliver(ctx, build())
	return err
}

// show renders the messages of the answer to d, linked to its exchange
// (the latest of its conversation).
func (x *easyDialogAdapter) show(d *delivery, answer []byte) {
	id := x.e.causeOf(d.conv)
	red := x.e.a.redactor(d.sent) // the bot may echo this delivery's signature
	for _, msg := range a(decodeMap(answer)["messages"]) {
		it := easyDialogItem(m(m(msg)["body"]))
		it.clean(red)
		it.Exchange = id
		x.e.chatIn(d.conv, it)
	}
}

func (x *easyDialogAdapter) say(ctx context.Context, text string) error {
	return x.send(ctx, "message textMessage", text, func(id string) *easydialog.Request { return easydialogtest.Text(id, text) })
}

// A suggestion click reaches the bot as a text message carrying the
// suggestion's postback (or its text when it has none).
func (x *easyDialogAdapter) click(ctx context.Context, c action) error {
	text := c.ID
	if text == "" {
		text = c.Label
	}
	x.e.annotate(ctx, "assumed: Easy Dialog's doc does not say how a suggestion's click reaches the bot; the emulator sends its postback (or its text) as a text message")
	return x.send(ctx, "message textMessage", c.Label+" → "+text, func(id string) *easydialog.Request { return easydialogtest.Text(id, text) })
}

func (x *easyDialogAdapter) inputs() []string {
	return []string{"image", "video", "audio", "document", "location", "contact"}
}

func (x *easyDialogAdapter) attach(ctx context.Context, in input) error {
	var b easydialog.Body
	key := ""
	name := path.Base(in.URL)
	switch in.Type {
	case "image":
		key, b.Picture = "pictureMessage", &easydialog.MediaFile{Name: name, URL: in.URL}
	case "video":
		key, b.Video = "videoMessage", &easydialog.MediaFile{Name: name, URL: in.URL}
	case "audio":
		key, b.Audio = "audioMessage", &easydialog.AudioMessage{Name: name, URL: in.URL}
	case "document":
		key, b.File = "fileMessage", &easydialog.FileMessage{Name: name, URL: in.URL}
	case "location":
		key, b.Location = "locationMessage", &easydialog.LocationMessage{Latitude: in.Latitude, Longitude: in.Longitude, Text: in.Name}
	default:
		key, b.Contact = "contactMessage", &easydialog.ContactMessage{Name: in.Name, Phone: in.Phone}
	}
	return x.send(ctx, "message "+key, describe(inputItem(in)), func(id string) *easydialog.Request { return easydialogtest.NewRequest(id, b) })
}

func suggestions(list []any) []action {
	var out []action
	for _, v := range list {
		sg := m(v)
		ac := action{Kind: "postback", Label: s(sg["text"]), ID: s(sg["postback"])}
		switch {
		case sg["replyWith"] != nil:
			if p := s(m(sg["replyWith"])["postback"]); p != "" {
				ac.ID = p
			}
		case sg["openUrl"] != nil:
			ac.Kind, ac.URL = "url", s(m(sg["openUrl"])["url"])
		case sg["dialNumber"] != nil:
			ac.Kind, ac.URL = "dial", "tel:"+s(m(sg["dialNumber"])["number"])
		case sg["composeMessage"] != nil:
			cm := m(sg["composeMessage"])
			ac.Kind, ac.Label = "url", strings.TrimSpace(ac.Label+" (compose an SMS to "+s(cm["number"])+": "+s(cm["text"])+s(cm["test"])+")")
		case sg["showMapLocation"] != nil:
			l := m(sg["showMapLocation"])
			ac.Kind, ac.URL = "url", fmt.Sprintf("https://maps.google.com/?q=%v,%v", l["latitude"], l["longitude"])
		case sg["createCalendarEvent"] != nil:
			ev := m(sg["createCalendarEvent"])
			ac.Kind, ac.Label = "url", ac.Label+" (calendar: "+s(ev["title"])+" "+s(ev["start"])+")"
		}
		out = append(out, ac)
	}
	return out
}

func easyDialogItem(body map[string]any) item {
	it := item{From: "bot"}
	if t := m(body["textMessage"]); t != nil {
		it.Text = s(t["content"])
	}
	for key, kind := range map[string]string{"pictureMessage": "image", "videoMessage": "video", "audioMessage": "audio", "fileMessage": "file"} {
		if md := m(body[key]); md != nil {
			it.Media = &media{Kind: kind, URL: s(md["url"]), Caption: s(md["name"])}
		}
	}
	if fl := m(body["fileListMessage"]); fl != nil {
		it.Text += s(fl["text"])
		for _, fv := range a(fl["files"]) {
			it.Buttons = append(it.Buttons, action{Kind: "url", Label: "📄 " + s(m(fv)["name"]), URL: s(m(fv)["url"])})
		}
	}
	if l := m(body["locationMessage"]); l != nil {
		it.Location = &location{Latitude: f(l["latitude"]), Longitude: f(l["longitude"]), Name: s(l["text"])}
	}
	if c := m(body["contactMessage"]); c != nil {
		it.Contact = s(c["name"]) + " " + s(c["phone"]) + " " + s(c["email"]) + " " + s(c["address"])
	}
	if sm := m(body["suggestionsMessage"]); sm != nil {
		it.Buttons = append(it.Buttons, suggestions(a(sm["suggestions"]))...)
	}
	for _, key := range []string{"cardMessage", "cardCarouselMessage"} {
		if cm := m(body[key]); cm != nil {
			for _, cv := range a(cm["content"]) {
				c := m(cv)
				it.Cards = append(it.Cards, card{Title: s(c["title"]), Description: s(c["description"]),
					Image: s(m(c["media"])["url"]), Buttons: suggestions(a(c["suggestions"]))})
			}
		}
	}
	return it
}

// --- Userlike ---

type userlikeAdapter struct {
	base
	fake *userliketest.Server
	au   *auth

	mu       sync.Mutex
	started  map[string]bool // per conversation: the start event was sent
	choices  int             // choice messages shown, to name each
	answered map[string]bool // choice messages a click answered
}

func (u *userlikeAdapter) send(ctx context.Context, name, sum string, payload any) error {
	c := u.e.current()
	u.mu.Lock()
	start := !u.started[c.ID]
	u.started[c.ID] = true
	u.mu.Unlock()
	if start && name != userlike.EventStart {
		if err := u.send1(ctx, c, userlike.EventStart, "conversation started", struct{}{}); err != nil {
			return err
		}
	}
	return u.send1(ctx, c, name, sum, payload)
}

func (u *userlikeAdapter) send1(ctx context.Context, c conversation, name, sum string, payload any) error {
	keep := name == userlike.EventStart // the widget sends start before the contact writes
	var build func() *delivery
	build = func() *delivery {
		ev, err := u.fake.NewEvent(c.ID, name, payload)
		if err != nil {
			return &delivery{conv: c.ID, event: name, send: func(context.Context) (*botAnswer, error) { return nil, err }}
		}
		body, _ := json.Marshal(ev)
		sent := http.Header{}
		if u.au.header != "" {
			sent.Set(u.au.header, u.au.secret)
		}
		var d *delivery
		d = &delivery{conv: c.ID, event: name, summary: sum, body: body, sent: sent, again: build, keepCustomer: keep,
			send: func(ctx context.Context) (*botAnswer, error) {
				r, err := u.fake.Deliver(ctx, ev)
				if r == nil {
					return nil, err
				}
				if err == nil && r.StatusCode >= 200 && r.StatusCode <= 299 {
					u.render(d.conv, u.e.causeOf(d.conv), r.Body)
				}
				return &botAnswer{status: r.StatusCode, header: r.Header, body: r.Body, latency: r.Latency}, err
			}}
		return d
	}
	_, err := u.deliver(ctx, build())
	return err
}

func (u *userlikeAdapter) say(ctx context.Context, text string) error {
	return u.send(ctx, userlike.EventMessage, text, userlike.MessagePayload{Body: text})
}

// click sends the click event, once per choice message: the doc says a
// choice "can be answered only once" in the website messenger, and later
// clicks "are converted to message events" with the label as the body.
func (u *userlikeAdapter) click(ctx context.Context, c action) error {
	u.mu.Lock()
	again := c.Group != "" && u.answered[c.Group]
	if c.Group != "" {
		u.answered[c.Group] = true
	}
	u.mu.Unlock()
	if again {
		u.e.annotate(ctx, "this choice was answered already: Userlike sends a later click as a message with the label")
		return u.send(ctx, userlike.EventMessage, c.Label, userlike.MessagePayload{Body: c.Label})
	}
	return u.send(ctx, userlike.EventClick, c.Label+" ("+c.ID+")", userlike.ClickPayload{Value: userlike.ClickValue{ID: c.ID, Label: c.Label}})
}

func (u *userlikeAdapter) fromAPI(r userliketest.Received) {
	conv := u.e.current().ID
	var names []string
	for _, ev := range r.Events {
		names = append(names, ev.Packet.Name)
		if ev.Info.CID != "" {
			conv = ev.Info.CID
		}
	}
	id := u.received(conv, u.fake.URL, r.Header, r.Body, r.Status, r.Err, "API "+strings.Join(names, ", "), "")
	if r.Err == nil {
		u.render(conv, id, r.Body)
	}
}

// render shows the events of a webhook answer or an API call, linked to
// exchange x, in conv.
func (u *userlikeAdapter) render(conv string, x int, b []byte) {
	show := func(it item) {
		it.Exchange = x
		u.e.chatIn(conv, it)
	}
	var evs []any
	if json.Unmarshal(b, &evs) != nil {
		if one := decodeMap(b); one != nil {
			evs = []any{one}
		}
	}
	for _, ev := range evs {
		p := m(m(ev)["packet"])
		pl := m(p["payload"])
		opts := func(kind string) []action {
			u.mu.Lock()
			u.choices++
			group := fmt.Sprintf("choice-%d", u.choices)
			u.mu.Unlock()
			var out []action
			for _, o := range a(pl["options"]) {
				out = append(out, action{Kind: kind, ID: s(m(o)["id"]), Label: s(m(o)["label"]), Description: s(m(o)["description"]), Group: group})
			}
			return out
		}
		switch name := s(p["name"]); name {
		case userlike.ActionMessage:
			show(item{From: "bot", Text: s(pl["body"])})
		case userlike.ActionBubbles:
			show(item{From: "bot", Text: s(pl["body"]), Buttons: opts("bubble")})
		case userlike.ActionButtonTemplate:
			// The doc: on a web conversation "only the body and the options
			// are shown"; the header and footer are WhatsApp's.
			it := item{From: "bot", Text: s(pl["body"]), Buttons: opts("bubble")}
			if m(pl["header"]) != nil || s(pl["footer"]) != "" {
				it.Hint = "the website widget shows a button_template's body and options only: its header and footer show on WhatsApp"
			}
			show(it)
		case userlike.ActionListTemplate:
			// The doc: on other channels than WhatsApp "the same way as a
			// bubbles message and the header and footer will be lost".
			it := item{From: "bot", Text: s(pl["body"]), Buttons: opts("bubble")}
			it.Hint = "the website widget shows a list_template as bubbles: its headline, footer and list button show on WhatsApp"
			show(it)
		case userlike.ActionButton:
			show(item{From: "bot", Buttons: []action{{Kind: "url", Label: s(pl["label"]), URL: s(pl["url"])}}})
		case userlike.ActionButtons:
			it := item{From: "bot", Text: s(pl["body"])}
			for _, b := range a(pl["buttons"]) {
				it.Buttons = append(it.Buttons, action{Kind: "url", Label: s(m(b)["label"]), URL: s(m(b)["url"])})
			}
			show(it)
		case userlike.ActionNavigate:
			show(item{From: "system", Text: "the bot sends the contact to another page", Buttons: []action{{Kind: "url", Label: s(pl["url"]), URL: s(pl["url"])}}})
		case userlike.ActionCarousel:
			it := item{From: "bot", Text: s(pl["body"])}
			for _, o := range a(pl["options"]) {
				it.Cards = append(it.Cards, card{Title: s(m(o)["label"]), Image: s(m(o)["image_url"]),
					Buttons: []action{{Kind: "card", ID: s(m(o)["id"]), Label: s(m(o)["label"])}}})
			}
			show(it)
		case userlike.ActionMedia:
			show(item{From: "bot", Media: &media{Kind: mediaKind(s(pl["link"])), URL: s(pl["link"]), Caption: s(pl["name"])}})
		case userlike.ActionForwardAny, userlike.ActionForwardGroup, userlike.ActionForwardSkills:
			show(item{From: "system", Text: "the bot forwarded the conversation to an operator (" + name + ")"})
		case userlike.ActionEnd:
			show(item{From: "system", Text: "the bot ended the conversation"})
		case userlike.ActionAbort:
			show(item{From: "system", Text: "the bot stopped; humans take over"})
		case userlike.ActionDelay:
			show(item{From: "system", Text: "…typing (delay " + s(pl["seconds"]) + " s)"})
		default:
			show(item{From: "system", Text: "the bot triggered " + name})
		}
	}
}

// --- Ultimate ---

// ultimateAdapter plays the visitor through Ultimate's converse API: the
// scripted virtual agent answers on the bot's chat webhook, which is what
// is tested; its messages, buttons and cards are rendered from those
// deliveries.
type ultimateAdapter struct {
	base
	fake   *ultimatetest.Server
	client *ultimate.Client

	mu      sync.Mutex
	started map[string]bool
}

func (u *ultimateAdapter) say(ctx context.Context, text string) error {
	c := u.e.current()
	u.e.showCustomer(ctx, 0) // the visitor's text goes to the agent, not to the bot
	u.mu.Lock()
	start := !u.started[c.ID]
	u.started[c.ID] = true
	u.mu.Unlock()
	if start {
		if err := u.client.StartSession(ctx, c.ID); err != nil {
			return err
		}
	}
	return u.client.SendText(ctx, c.ID, text)
}

func (u *ultimateAdapter) click(ctx context.Context, c action) error {
	if c.Kind == "card" {
		u.e.showCustomer(ctx, 0)
		return u.client.SelectCard(ctx, u.e.current().ID, c.Label, c.Index)
	}
	return u.say(ctx, c.Label)
}

func (u *ultimateAdapter) fromAgent(d ultimatetest.Delivery) {
	body := decodeMap(d.Sent)
	data := m(body["data"])
	conv := s(data["platformConversationId"])
	if conv == "" {
		conv = s(body["platformConversationId"])
	}
	if conv == "" {
		conv = u.e.current().ID
	}
	url := u.bot
	if d.Webhook == "actions" {
		url = u.actions
	}
	var it *item
	if d.EventType == ultimate.EventSendMessage {
		x := item{From: "bot", Text: s(data["text"])}
		for _, b := range a(data["buttons"]) {
			x.Buttons = append(x.Buttons, ultimateButton(b))
		}
		for i, c := range a(data["carouselCards"]) {
			cd := card{Title: s(m(c)["title"]), Description: s(m(c)["description"]), Image: s(m(c)["imageUrl"])}
			for _, b := range a(m(c)["buttons"]) {
				ba := ultimateButton(b)
				if ba.Kind == "reply" {
					ba.Kind, ba.Index = "card", i
				}
				cd.Buttons = append(cd.Buttons, ba)
			}
			x.Cards = append(x.Cards, cd)
		}
		it = &x
	}
	sum := ""
	if it != nil {
		sum = chatSummary(*it)
	}
	name := d.EventType
	if d.Webhook == "actions" {
		name = "action " + d.EventType
	}
	id := u.answered(conv, url, name, sum, d.Sent, d.StatusCode, d.Header, d.Body, d.Latency, d.Err)
	show := func(x item) {
		x.Exchange = id
		u.e.chatIn(conv, x)
	}
	switch d.EventType {
	case ultimate.EventSendMessage:
		show(*it)
	case ultimate.EventIsTeamOnline:
		online := d.IsOnline != nil && *d.IsOnline
		u.e.emit(event{Kind: "state", Conv: conv, State: map[string]any{"teamOnline": online}})
		show(item{From: "system", Text: fmt.Sprintf("the agent asked isTeamOnline; the bot answered %v", online)})
	case ultimate.EventEscalate:
		show(item{From: "system", Text: fmt.Sprintf("the agent escalated to a human; the bot answered %d", d.StatusCode)})
	case "":
	default:
		if d.Webhook == "actions" {
			show(item{From: "system", Text: "the agent ran the action " + d.EventType + " at " + url + ": " + string(d.Body)})
		}
	}
}

// visitorAgent is the User-Agent of the converse calls the emulator makes
// for the visitor, telling them from the bot's own calls.
const visitorAgent = "botwire-emulate (the visitor)"

// fromCall shows a call to Ultimate's API: the visitor's converse calls
// the emulator makes (what the bot's integration sends in production),
// and the bot's own converse and widget calls.
func (u *ultimateAdapter) fromCall(r ultimatetest.Received) {
	conv, name, sum := u.e.current().ID, "call "+r.Path, ""
	switch {
	case r.Converse != nil:
		conv, name, sum = cmpOr(r.Converse.PlatformConversationID, conv), "converse "+r.Converse.EventType, r.Converse.Text
		if r.Converse.CardIndex != nil {
			sum = fmt.Sprintf("%s (cardIndex %d)", sum, *r.Converse.CardIndex)
		}
	case r.Widget != nil:
		conv, name, sum = cmpOr(r.Widget.PlatformConversationID, conv), "widget "+r.Widget.EventType, r.Widget.Text
	}
	url := u.fake.URL + r.Path
	if r.Header.Get("User-Agent") == visitorAgent {
		x := &exchange{Direction: "visitor → platform", Event: name, Summary: sum, Method: http.MethodPost, URL: url, Status: r.Status,
			ReqHeaders: u.e.headers(r.Header, true), ReqBody: u.e.body(r.Body), conv: conv,
			Hint: "the emulator sends this for the visitor: in production your integration makes this call"}
		if r.Err != nil {
			x.Error = r.Err.Error()
		}
		x.redact(u.e.a.redactor(r.Header))
		u.e.exchange(x)
		return
	}
	id := u.received(conv, url, r.Header, r.Body, r.Status, r.Err, name, sum)
	if r.Err == nil && r.Widget != nil && r.Widget.Text != "" {
		u.e.chatIn(conv, item{From: "agent", Text: r.Widget.Text, Exchange: id, Header: r.Widget.Agent})
	}
}

func ultimateButton(b any) action {
	if t, ok := b.(string); ok {
		return action{Kind: "reply", Label: t}
	}
	bm := m(b)
	if s(bm["type"]) == ultimate.ButtonLink {
		return action{Kind: "url", Label: s(bm["title"]) + s(bm["text"]), URL: s(bm["url"]) + s(bm["value"])}
	}
	return action{Kind: "reply", Label: s(bm["title"]) + s(bm["text"])}
}

// --- Botcopy ---

// botcopyAdapter plays the web chat and the proxy's desk. The customer's
// first line of a conversation is what Dialogflow answered with the
// handover: it reaches the proxy once, as the trigger carrying it. While
// paused, lines are user messages; after the proxy resumes the bot they
// go to Dialogflow, until a line starting with /handover hands over again.
type botcopyAdapter struct {
	base
	fake  *botcopytest.Server
	botID string
	desk  *botcopy.Client // pushes as the proxy's desk would, for the agent's side

	mu         sync.Mutex
	said       map[string][]string // per conversation (the user id): the customer's lines
	handedOver map[string]bool
	agents     map[string]string // per conversation: the agent's name, from the pause
}

// handoverCommand starts a new handover after a resume.
const handoverCommand = "/handover"

// agent pushes text as the human agent at the proxy's desk would: "/bot"
// gives the conversation back to the bot.
func (x *botcopyAdapter) agent(ctx context.Context, text string) error {
	to := botcopy.Target{UserID: x.e.current().ID, BotID: x.botID}
	if text == "/bot" {
		return x.desk.Resume(ctx, to, botcopy.UnpauseDefault)
	}
	return x.desk.SendMessage(ctx, to, text)
}

func (x *botcopyAdapter) say(ctx context.Context, text string) error {
	c := x.e.current()
	user := c.ID
	again := strings.HasPrefix(text, handoverCommand)
	if again {
		text = strings.TrimSpace(strings.TrimPrefix(text, handoverCommand))
	}
	x.mu.Lock()
	if text != "" {
		x.said[user] = append(x.said[user], text)
	}
	said := append([]string(nil), x.said[user]...)
	first := !x.handedOver[user]
	x.mu.Unlock()
	paused := x.fake.Paused(user)
	switch {
	case !paused && (first || again) && len(said) > 0:
		req := botcopytest.TriggerRequestWith(x.e.a.secret, user, x.botID, said...)
		x.e.showCustomer(ctx, 0)
		if df, _ := req.Dialogflow(); df != nil {
			for _, t := range df.Texts { // what Dialogflow answered, before Botcopy hands over
				x.e.chat(item{From: "bot", Text: t, Hint: "Dialogflow's answer (intent " + df.Intent + "): it carries the handover context, so Botcopy calls the proxy"})
			}
		}
		err := x.call(ctx, c, req, "handover trigger", func(ctx context.Context) (*botcopytest.Delivery, error) {
			return x.fake.DeliverTrigger(ctx, req)
		})
		if x.fake.Paused(user) { // a handover the proxy did not take is tried again with the next line
			x.mu.Lock()
			x.handedOver[user] = true
			x.mu.Unlock()
		}
		return err
	case !paused:
		x.e.showCustomer(ctx, 0)
		x.e.chat(item{From: "system", Text: "the bot is not paused: Botcopy sends this to Dialogflow, not to the proxy",
			Hint: "type " + handoverCommand + " (with a text) to hand the conversation over again"})
		return nil
	}
	req := botcopytest.UserMessageRequest(x.e.a.secret, user, x.botID, text)
	return x.call(ctx, c, req, "user message", func(ctx context.Context) (*botcopytest.Delivery, error) {
		return x.fake.UserMessage(ctx, user, x.botID, text)
	})
}

func (x *botcopyAdapter) click(ctx context.Context, c action) error { return x.say(ctx, c.Label) }

// call delivers req to the proxy and shows what Botcopy made of the answer.
func (x *botcopyAdapter) call(ctx context.Context, c conversation, req *botcopy.HandoverRequest, event string, run func(context.Context) (*botcopytest.Delivery, error)) error {
	body, _ := json.Marshal(req)
	var last *botcopytest.Delivery
	d := &delivery{conv: c.ID, event: event, summary: req.Text(), body: body, sent: http.Header{"Authorization": {x.e.a.secret}},
		send: func(ctx context.Context) (*botAnswer, error) {
			r, err := run(ctx)
			if r == nil {
				return nil, err
			}
			last = r
			return &botAnswer{status: r.StatusCode, header: r.Header, body: r.Body, latency: r.Latency, late: r.Late}, err
		}}
	_, err := x.deliver(ctx, d)
	switch {
	case last == nil:
	case last.Late:
		x.e.chat(item{From: "system", Text: "Botcopy ignored the late answer: the bot is not paused and the message goes to Dialogflow"})
	case last.ToDialogflow:
		x.e.chat(item{From: "system", Text: "not paused: the message goes to Dialogflow"})
	case last.Decision != nil:
		x.e.chat(item{From: "system", Text: "the proxy decided: " + last.Decision.String()})
	}
	x.e.state(map[string]any{"paused": x.fake.Paused(c.ID)})
	return err
}

func (x *botcopyAdapter) fromProxy(r botcopytest.Received) {
	p := r.Request
	conv, name, sum := x.e.current().ID, "push", ""
	if p != nil {
		if p.UserID != "" {
			conv = p.UserID
		}
		name, sum = "push "+p.EventType, p.Text
	}
	id := x.received(conv, x.fake.URL+botcopy.PushPath, r.Header, r.Body, r.Status, r.Err, name, sum)
	if r.Err != nil || p == nil {
		return
	}
	show := func(it item) {
		it.Exchange = id
		x.e.chatIn(conv, it)
	}
	switch p.EventType {
	case botcopy.PushMessage:
		show(item{From: "agent", Text: p.Text})
	case botcopy.PushTyping:
		x.e.emit(event{Kind: "state", Conv: conv, State: map[string]any{"typing": true}})
	case botcopy.PushChannelUpdate:
		if p.Paused {
			x.mu.Lock()
			if p.AgentProfile != nil && p.AgentProfile.Name != "" {
				x.agents[conv] = p.AgentProfile.Name
			}
			x.mu.Unlock()
			show(item{From: "system", Text: "You are now chatting with an Agent."})
			break
		}
		x.mu.Lock()
		name := x.agents[conv]
		x.mu.Unlock()
		switch ev := p.UnpauseChatEvent; ev {
		case "", botcopy.UnpauseDefault:
			if name == "" {
				name = "The human"
			}
			show(item{From: "system", Text: name + " has left the conversation. You are now chatting with the bot.",
				Hint: "the agent gave the conversation back to the bot (unpauseChatEvent " + cmpOr(ev, "absent") + ")"})
		case botcopy.UnpauseNone:
			show(item{From: "system", Text: "the agent gave the conversation back to the bot; Botcopy shows the customer nothing (unpauseChatEvent none)"})
		default:
			show(item{From: "system", Text: "the agent gave the conversation back to the bot; Botcopy fires the Dialogflow event " + ev})
		}
		x.e.emit(event{Kind: "state", Conv: conv, State: map[string]any{"paused": x.fake.Paused(conv)}})
	}
}

// mediaKind guesses a media URL's kind from its extension: Userlike's
// media action sends an image, a video or an audio file by link alone.
func mediaKind(link string) string {
	switch strings.ToLower(path.Ext(strings.SplitN(link, "?", 2)[0])) {
	case ".mp4", ".mov", ".webm", ".m4v", ".3gp":
		return "video"
	case ".mp3", ".ogg", ".oga", ".wav", ".m4a", ".aac", ".opus":
		return "audio"
	}
	return "image"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
