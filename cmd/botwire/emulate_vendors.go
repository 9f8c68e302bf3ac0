package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
	e     *emulator
	bot   string
	infos map[string]any
	stop  func()
}

func (b *base) info() map[string]any {
	out := map[string]any{"bot": b.bot}
	for k, v := range b.infos {
		out[k] = v
	}
	return out
}

func (b *base) close() { b.stop() }

// delivered records a platform → bot exchange; replay redelivers it.
func (b *base) delivered(body []byte, sent http.Header, status int, header http.Header, answer []byte, latency time.Duration, err error, replay func(context.Context) error) {
	x := &exchange{Direction: "platform → bot", Method: http.MethodPost, URL: b.bot, Status: status,
		LatencyMS: float64(latency.Microseconds()) / 1000, ReqHeaders: b.e.headers(sent, true), ReqBody: b.e.body(body),
		RespHeaders: b.e.headers(header, false), RespBody: b.e.body(answer), Replayable: replay != nil, replay: replay}
	if err != nil {
		x.Error = err.Error()
	} else if status < 200 || status > 299 {
		x.Error = fmt.Sprintf("the bot answered %d", status)
	}
	x.redact(b.e.a.redactor(sent))
	b.e.exchange(x)
	if x.Error != "" {
		b.e.chat(item{From: "system", Error: x.Error})
	}
}

// received records a bot → platform exchange.
func (b *base) received(url string, header http.Header, body []byte, status int, err error) {
	x := &exchange{Direction: "bot → platform", Method: http.MethodPost, URL: url, Status: status,
		ReqHeaders: b.e.headers(header, true), ReqBody: b.e.body(body)}
	if err != nil {
		x.Error = err.Error() // e.g. the fake refused a reply that fails validation, with the field path
		b.e.chat(item{From: "system", Error: "the platform refused the bot's request: " + err.Error()})
	}
	x.redact(b.e.a.redactor(header))
	b.e.exchange(x)
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
	b := base{e: e, bot: au.showURL(p.bot)} // shown, never used to deliver
	ctx, cancel := context.WithCancel(ctx)
	switch p.vendor {
	case "onetalk":
		fake := onetalktest.NewServer(p.onetalkConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "secret": au.mask(au.secret)}, func() { cancel(); fake.Close() }
		ad := &onetalkAdapter{base: b, fake: fake, caseID: "FBED34A1EF"}
		watch(ctx, fake.WaitFor, ad.fromBot)
		return ad
	case "easydialog":
		fake := easydialogtest.NewServer(p.easydialogConfig())
		b.infos, b.stop = map[string]any{"key": au.mask(au.secret)}, func() { cancel(); fake.Close() }
		return &easyDialogAdapter{base: b, fake: fake, dialog: "d5f7d6dd-dc30-451d-a442-a920fdbd6704", key: au.secret}
	case "userlike":
		fake := userliketest.NewServer(p.userlikeConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiToken": au.mask(apiKey)}, func() { cancel(); fake.Close() }
		ad := &userlikeAdapter{base: b, fake: fake, cid: "chatbot::258:a56785fb6fb84edd890905913b0c0821", au: au}
		watch(ctx, fake.WaitFor, ad.fromAPI)
		return ad
	case "ultimate":
		fake := ultimatetest.NewServer(p.ultimateConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiKey": au.mask(apiKey), "botId": botID}, func() { cancel(); fake.Close() }
		client, _ := ultimate.NewClient(apiKey, botID, ultimate.WithBaseURL(fake.URL))
		ad := &ultimateAdapter{base: b, fake: fake, client: client, conv: "conversation-1"}
		watch(ctx, fake.WaitDeliveries, ad.fromAgent)
		return ad
	default:
		fake := botcopytest.NewServer(p.botcopyConfig())
		b.infos, b.stop = map[string]any{"platform": fake.URL, "apiKey": au.mask(apiKey)}, func() { cancel(); fake.Close() }
		b.infos["desk"] = true
		desk, _ := botcopy.NewClient(apiKey, botcopy.WithBaseURL(fake.URL))
		ad := &botcopyAdapter{base: b, fake: fake, user: "user-123", botID: "bot-456", desk: desk}
		watch(ctx, fake.WaitFor, ad.fromProxy)
		return ad
	}
}

// --- OneTalk ---

type onetalkAdapter struct {
	base
	fake   *onetalktest.Server
	caseID string
}

func (o *onetalkAdapter) deliver(ctx context.Context, in *onetalk.InboundRequest) error {
	body, _ := onetalktest.Encode(in)
	d, err := o.fake.Deliver(ctx, in)
	replay := func(ctx context.Context) error { return o.deliver(ctx, in) }
	if err != nil {
		o.delivered(body, http.Header{onetalk.SecretHeader: {o.e.a.secret}}, 0, nil, nil, 0, err, replay)
		return err
	}
	o.delivered(body, http.Header{onetalk.SecretHeader: {o.e.a.secret}}, d.StatusCode, d.Header, d.Body, d.Latency, nil, replay)
	return nil
}

func (o *onetalkAdapter) say(ctx context.Context, text string) error {
	return o.deliver(ctx, onetalktest.Text(o.caseID, text))
}

func (o *onetalkAdapter) click(ctx context.Context, c action) error {
	if c.Kind == "row" {
		return o.deliver(ctx, onetalktest.ListReply(o.caseID, c.ID, c.Label, ""))
	}
	return o.deliver(ctx, onetalktest.ButtonReply(o.caseID, c.ID, c.Label))
}

func (o *onetalkAdapter) fromBot(r onetalktest.Received) {
	o.received(o.fake.URL, r.Header, r.Body, r.Status, r.Err)
	if r.Err != nil {
		return
	}
	w := decodeMap(r.Body)
	switch s(w["eventType"]) {
	case string(onetalk.EventMessages):
		for _, msg := range a(w["messages"]) {
			o.e.chat(onetalkItem(m(msg)))
		}
	case string(onetalk.EventHandoverCase):
		o.e.chat(item{From: "system", Text: "the bot handed the case over to a human agent"})
	case string(onetalk.EventCloseCase):
		o.e.chat(item{From: "system", Text: "the bot closed the case"})
	default:
		o.e.chat(item{From: "system", Text: "the bot sent " + s(w["eventType"])})
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
		it.Media = &media{Kind: kind, URL: s(md["url"]), Caption: s(md["caption"]) + s(md["filename"])}
	case "whatsappba":
		in := m(m(msg["whatsappba"])["interactive"])
		it.Text = s(m(in["body"])["text"])
		it.Footer = s(m(in["footer"])["text"])
		if h := m(in["header"]); h != nil {
			it.Header = s(h["text"])
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
					sc.Rows = append(sc.Rows, action{Kind: "row", ID: s(m(row)["id"]), Label: s(m(row)["title"])})
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
	fake   *easydialogtest.Server
	dialog string
	key    string
}

func (x *easyDialogAdapter) deliver(ctx context.Context, req *easydialog.Request) error {
	body, _ := easydialogtest.Encode(req)
	d, err := x.fake.DeliverRaw(ctx, body)
	replay := func(ctx context.Context) error { return x.deliver(ctx, req) }
	sent := http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, x.key)}}
	if d == nil {
		x.delivered(body, sent, 0, nil, nil, 0, err, replay)
		return err
	}
	x.delivered(body, sent, d.StatusCode, d.Header, d.Body, d.Latency, err, replay)
	if d.StatusCode == http.StatusOK && err == nil {
		red := x.e.a.redactor(sent) // the bot may echo this delivery's signature
		for _, msg := range a(decodeMap(d.Body)["messages"]) {
			it := easyDialogItem(m(m(msg)["body"]))
			it.clean(red)
			x.e.chat(it)
		}
	}
	return nil
}

func (x *easyDialogAdapter) say(ctx context.Context, text string) error {
	return x.deliver(ctx, easydialogtest.Text(x.dialog, text))
}

// A suggestion click reaches the bot as a text message carrying the
// suggestion's postback (or its text when it has none).
func (x *easyDialogAdapter) click(ctx context.Context, c action) error {
	text := c.ID
	if text == "" {
		text = c.Label
	}
	return x.deliver(ctx, easydialogtest.Text(x.dialog, text))
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
			ac.Kind, ac.URL = "dial", "sms:"+s(m(sg["composeMessage"])["number"])
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
	fake    *userliketest.Server
	cid     string
	au      *auth
	started bool
}

func (u *userlikeAdapter) deliver(ctx context.Context, name string, payload any) error {
	e, err := u.fake.NewEvent(u.cid, name, payload)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(e)
	sent := http.Header{}
	if u.au.header != "" {
		sent.Set(u.au.header, u.au.secret)
	}
	d, err := u.fake.Deliver(ctx, e)
	replay := func(ctx context.Context) error { return u.deliver(ctx, name, payload) }
	if d == nil {
		u.delivered(body, sent, 0, nil, nil, 0, err, replay)
		return err
	}
	u.delivered(body, sent, d.StatusCode, d.Header, d.Body, d.Latency, err, replay)
	u.render(d.Body)
	return nil
}

func (u *userlikeAdapter) say(ctx context.Context, text string) error {
	if !u.started {
		u.started = true
		if err := u.deliver(ctx, userlike.EventStart, struct{}{}); err != nil {
			return err
		}
	}
	return u.deliver(ctx, userlike.EventMessage, userlike.MessagePayload{Body: text})
}

func (u *userlikeAdapter) click(ctx context.Context, c action) error {
	return u.deliver(ctx, userlike.EventClick, userlike.ClickPayload{Value: userlike.ClickValue{ID: c.ID, Label: c.Label}})
}

func (u *userlikeAdapter) fromAPI(r userliketest.Received) {
	u.received(u.fake.URL, r.Header, r.Body, r.Status, r.Err)
	if r.Err == nil {
		u.render(r.Body)
	}
}

// render shows the events of a webhook answer or an API call.
func (u *userlikeAdapter) render(b []byte) {
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
			var out []action
			for _, o := range a(pl["options"]) {
				out = append(out, action{Kind: kind, ID: s(m(o)["id"]), Label: s(m(o)["label"])})
			}
			return out
		}
		switch name := s(p["name"]); name {
		case userlike.ActionMessage:
			u.e.chat(item{From: "bot", Text: s(pl["body"])})
		case userlike.ActionBubbles:
			u.e.chat(item{From: "bot", Text: s(pl["body"]), Buttons: opts("bubble")})
		case userlike.ActionButtonTemplate:
			u.e.chat(item{From: "bot", Header: s(m(pl["header"])["text"]), Text: s(pl["body"]), Footer: s(pl["footer"]), Buttons: opts("bubble")})
		case userlike.ActionListTemplate:
			u.e.chat(item{From: "bot", Header: s(pl["headline"]), Text: s(pl["body"]), Footer: s(pl["footer"]),
				List: &list{Button: s(pl["button"]), Sections: []section{{Title: s(pl["list_headline"]), Rows: opts("row")}}}})
		case userlike.ActionCarousel:
			it := item{From: "bot", Text: s(pl["body"])}
			for _, o := range a(pl["options"]) {
				it.Cards = append(it.Cards, card{Title: s(m(o)["label"]), Image: s(m(o)["image_url"]),
					Buttons: []action{{Kind: "card", ID: s(m(o)["id"]), Label: s(m(o)["label"])}}})
			}
			u.e.chat(it)
		case userlike.ActionMedia:
			u.e.chat(item{From: "bot", Media: &media{Kind: "image", URL: s(pl["link"]), Caption: s(pl["name"])}})
		case userlike.ActionForwardAny, userlike.ActionForwardGroup, userlike.ActionForwardSkills:
			u.e.chat(item{From: "system", Text: "the bot forwarded the conversation to an operator (" + name + ")"})
		case userlike.ActionEnd:
			u.e.chat(item{From: "system", Text: "the bot ended the conversation"})
		case userlike.ActionAbort:
			u.e.chat(item{From: "system", Text: "the bot stopped; humans take over"})
		case userlike.ActionDelay:
			u.e.chat(item{From: "system", Text: "…typing (delay " + s(pl["seconds"]) + " s)"})
		default:
			u.e.chat(item{From: "system", Text: "the bot triggered " + name})
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
	fake    *ultimatetest.Server
	client  *ultimate.Client
	conv    string
	started bool
}

func (u *ultimateAdapter) say(ctx context.Context, text string) error {
	if !u.started {
		u.started = true
		if err := u.client.StartSession(ctx, u.conv); err != nil {
			return err
		}
	}
	return u.client.SendText(ctx, u.conv, text)
}

func (u *ultimateAdapter) click(ctx context.Context, c action) error {
	if c.Kind == "card" {
		return u.client.SelectCard(ctx, u.conv, c.Label, c.Index)
	}
	return u.client.SendText(ctx, u.conv, c.Label)
}

func (u *ultimateAdapter) fromAgent(d ultimatetest.Delivery) {
	u.delivered(d.Sent, http.Header{}, d.StatusCode, d.Header, d.Body, d.Latency, d.Err, nil)
	data := m(decodeMap(d.Sent)["data"])
	switch d.EventType {
	case ultimate.EventSendMessage:
		it := item{From: "bot", Text: s(data["text"])}
		for _, b := range a(data["buttons"]) {
			it.Buttons = append(it.Buttons, ultimateButton(b))
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
			it.Cards = append(it.Cards, cd)
		}
		u.e.chat(it)
	case ultimate.EventIsTeamOnline:
		online := d.IsOnline != nil && *d.IsOnline
		u.e.state(map[string]any{"teamOnline": online})
		u.e.chat(item{From: "system", Text: fmt.Sprintf("the agent asked isTeamOnline; the bot answered %v", online)})
	case ultimate.EventEscalate:
		u.e.chat(item{From: "system", Text: fmt.Sprintf("the agent escalated to a human; the bot answered %d", d.StatusCode)})
	case "":
	default:
		if d.Webhook == "actions" {
			u.e.chat(item{From: "system", Text: "the agent ran the action " + d.EventType + ": " + string(d.Body)})
		}
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

type botcopyAdapter struct {
	base
	fake  *botcopytest.Server
	user  string
	botID string
	desk  *botcopy.Client // pushes as the proxy's desk would, for the agent's side
}

// agent pushes text as the human agent at the proxy's desk would: "/bot"
// gives the conversation back to the bot.
func (x *botcopyAdapter) agent(ctx context.Context, text string) error {
	to := botcopy.Target{UserID: x.user, BotID: x.botID}
	if text == "/bot" {
		return x.desk.Resume(ctx, to, botcopy.UnpauseDefault)
	}
	return x.desk.SendMessage(ctx, to, text)
}

func (x *botcopyAdapter) call(ctx context.Context, req *botcopy.HandoverRequest, run func(context.Context) (*botcopytest.Delivery, error)) error {
	body, _ := json.Marshal(req)
	d, err := run(ctx)
	replay := func(ctx context.Context) error { _, err := x.fake.Deliver(ctx, req); return err }
	sent := http.Header{"Authorization": {x.e.a.secret}}
	if d == nil {
		x.delivered(body, sent, 0, nil, nil, 0, err, replay)
		return err
	}
	x.delivered(body, sent, d.StatusCode, d.Header, d.Body, d.Latency, nil, replay)
	switch {
	case d.Late:
		x.e.chat(item{From: "system", Error: "the proxy answered after Botcopy's 5 s: ignored, the bot is not paused"})
	case d.ToDialogflow:
		x.e.chat(item{From: "system", Text: "not paused: the message goes to Dialogflow"})
	case d.Decision != nil:
		x.e.chat(item{From: "system", Text: "the proxy decided: " + d.Decision.String()})
	}
	x.e.state(map[string]any{"paused": d.Paused})
	return nil
}

func (x *botcopyAdapter) say(ctx context.Context, text string) error {
	if !x.fake.Paused(x.user) {
		trig := botcopytest.TriggerRequest(x.e.a.secret, x.user, x.botID)
		x.e.chat(item{From: "system", Text: "handover: Botcopy sends the conversation so far to the proxy"})
		for _, l := range botcopy.Transcript(trig.MessageHistory) {
			x.e.chat(item{From: "system", Text: l.Speaker + ": " + l.Text})
		}
		if err := x.call(ctx, trig, func(ctx context.Context) (*botcopytest.Delivery, error) {
			return x.fake.Trigger(ctx, x.user, x.botID)
		}); err != nil || !x.fake.Paused(x.user) {
			return err
		}
	}
	req := botcopytest.UserMessageRequest(x.e.a.secret, x.user, x.botID, text)
	return x.call(ctx, req, func(ctx context.Context) (*botcopytest.Delivery, error) {
		return x.fake.UserMessage(ctx, x.user, x.botID, text)
	})
}

func (x *botcopyAdapter) click(ctx context.Context, c action) error { return x.say(ctx, c.Label) }

func (x *botcopyAdapter) fromProxy(r botcopytest.Received) {
	x.received(x.fake.URL+botcopy.PushPath, r.Header, r.Body, r.Status, r.Err)
	p := r.Request
	if r.Err != nil || p == nil {
		return
	}
	switch p.EventType {
	case botcopy.PushMessage:
		x.e.chat(item{From: "agent", Text: p.Text})
	case botcopy.PushTyping:
		x.e.state(map[string]any{"typing": true})
	case botcopy.PushChannelUpdate:
		if p.Paused {
			name := "an agent"
			if p.AgentProfile != nil && p.AgentProfile.Name != "" {
				name = p.AgentProfile.Name
			}
			x.e.chat(item{From: "system", Text: "You are now chatting with " + name + "."})
		} else {
			x.e.chat(item{From: "system", Text: "the agent gave the conversation back to the bot (" + p.UnpauseChatEvent + ")"})
		}
		x.e.state(map[string]any{"paused": x.fake.Paused(x.user)})
	}
}
