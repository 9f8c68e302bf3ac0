// Package onetalktest is a fake OneTalk for testing bots built with package
// onetalk, in the spirit of net/http/httptest.
//
// A Server plays both sides of OneTalk on loopback, with the shape every
// botwire fake shares:
//
//   - NewServer(Config), Close, URL, SetBot / SetBotURL: the fake and where
//     it delivers (an http.Handler in-process, or a URL);
//   - Deliver sends an inbound message to the bot as OneTalk does, with the
//     right X-Secret-Key, and returns the bot's answer as a *Delivery;
//   - URL stands in for the chatbot's OneTalk URL: Received, WaitFor and
//     Reset give what the bot's onetalk.Client sent, decoded; a wrong
//     Secret-Key gets 401 and a body OneTalk would refuse 400, as the real
//     one does;
//   - Inject (and FailNext, DelayNext, DropNext) answer the next requests
//     with a Fault: a status, a delay, a dropped connection.
//
// Typical use:
//
//	fake := onetalktest.NewServer(onetalktest.Config{Secret: "secret"})
//	defer fake.Close()
//	client, _ := onetalk.NewClient(fake.URL, "secret")
//	bot, _ := onetalk.NewHandler("secret", myBot(client))
//	fake.SetBot(bot)
//	fake.Deliver(ctx, onetalktest.Text("CASE1", "hi"))
//	got := fake.Received() // what the bot sent back
package onetalktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/fakekit"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/onetalk"
)

// Config sets up the fake OneTalk.
type Config struct {
	// Secret is the chatbot's secret key: OneTalk sends it to the bot in
	// X-Secret-Key and expects it from the bot in Secret-Key.
	Secret string
	// Bot is the bot's webhook in-process, or BotURL its address; SetBot
	// and SetBotURL change them later.
	Bot    http.Handler
	BotURL string
	// Client delivers to BotURL (default http.DefaultClient).
	Client *http.Client
	// Listener is where the fake serves (default: a fresh port on
	// 127.0.0.1), for a fake that must sit at a known address.
	Listener net.Listener
}

// ErrNoBot is returned by Deliver when the fake has no bot to deliver to.
var ErrNoBot = fakekit.ErrNoBot

// Received is one request the bot's client sent to the fake OneTalk URL.
type Received struct {
	// Header is as sent, with credentials masked; RawHeader has them.
	Header http.Header
	Body   []byte
	// Request is the decoded body, or nil when it was not JSON.
	Request *onetalk.WebhookRequest
	// Status is what the fake answered; Err says why it refused, if it did.
	Status int
	Err    error

	raw func() http.Header // behind a func: printers never see it
}

// Delivery is the bot's answer to one inbound message. OneTalk reads only
// the status: 200 acknowledges, anything else makes it redeliver.
type Delivery struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Latency    time.Duration
}

// Fault is an answer the fake gives instead of the normal one.
type Fault struct {
	Status int           // answer with this status and a JSON error body
	Header http.Header   // extra answer headers, e.g. Retry-After
	Delay  time.Duration // wait this long before answering
	Drop   bool          // close the connection without answering
}

// Server is a fake OneTalk. Its methods are safe for concurrent use.
type Server struct {
	// URL is the fake OneTalk URL, for onetalk.NewClient.
	URL string

	cfg Config
	srv *httptest.Server
	kit fakekit.Kit

	mu  sync.Mutex
	bot fakekit.Bot
}

// NewServer starts a fake OneTalk. Close it when done.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg, bot: fakekit.Bot{Handler: cfg.Bot, URL: cfg.BotURL}}
	s.srv = fakekit.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.answer, func(w http.ResponseWriter, status int, err error) { reply(w, status, err) })
	}), cfg.Listener)
	s.URL = s.srv.URL + "/api/visitor/v1/webhook/chatbot/custom/2178/2619482363"
	return s
}

// Close shuts the server down, dropping open connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Client returns an http.Client that reaches the server; most tests can use
// http.DefaultClient instead.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SetBot makes the fake deliver to h in-process.
func (s *Server) SetBot(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bot = fakekit.Bot{Handler: h}
}

// SetBotURL makes the fake deliver to url over HTTP.
func (s *Server) SetBotURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bot = fakekit.Bot{URL: url}
}

// Inject makes the next n requests get fault f, after any faults already
// queued.
func (s *Server) Inject(n int, f Fault) {
	s.kit.Inject(n, fakekit.Fault{Status: f.Status, Header: f.Header, Delay: f.Delay, Drop: f.Drop})
}

// FailNext makes the next n requests get status (e.g. 503 or 500).
func (s *Server) FailNext(n, status int) { s.Inject(n, Fault{Status: status}) }

// DelayNext delays the next n answers by d.
func (s *Server) DelayNext(n int, d time.Duration) { s.Inject(n, Fault{Delay: d}) }

// DropNext closes the connection of the next n requests without answering.
func (s *Server) DropNext(n int) { s.Inject(n, Fault{Drop: true}) }

// Received returns every request received so far, in order.
func (s *Server) Received() []Received { return convert(s.kit.Requests()) }

func convert(recs []fakekit.Recorded) []Received {
	out := make([]Received, len(recs))
	for i, r := range recs {
		out[i] = Received{Header: r.Header, Body: r.Body, Status: r.Status, Err: r.Err, raw: r.RawHeader}
		var wh onetalk.WebhookRequest
		if json.Unmarshal(r.Body, &wh) == nil {
			out[i].Request = &wh
		}
	}
	return out
}

// Reset forgets the recorded requests and queued faults.
func (s *Server) Reset() { s.kit.Reset() }

// WaitFor waits until at least n requests were received and returns them,
// or returns ctx's error with what was received. Use it instead of sleeping
// when the bot answers asynchronously.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Received, error) {
	recs, err := s.kit.Wait(ctx, n)
	if err != nil {
		err = fmt.Errorf("onetalktest: %w", err)
	}
	return convert(recs), err
}

// answer plays the OneTalk URL for a request no fault intercepted.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, body []byte) (int, error) {
	var wh onetalk.WebhookRequest
	switch {
	case r.Method != http.MethodPost:
		return reply(w, http.StatusMethodNotAllowed, errors.New("method not allowed"))
	case onetalk.VerifySecret(r.Header.Get(onetalk.ClientSecretHeader), s.cfg.Secret) != nil:
		return reply(w, http.StatusUnauthorized, errors.New("invalid secret key"))
	case json.Unmarshal(body, &wh) != nil:
		return reply(w, http.StatusBadRequest, errors.New("body is not a JSON object"))
	}
	if err := wh.Validate(); err != nil {
		return reply(w, http.StatusBadRequest, err)
	}
	return reply(w, http.StatusOK, nil)
}

// reply answers like the OneTalk URL is believed to ({"success", "message"},
// as the custom-channel API documents).
func reply(w http.ResponseWriter, status int, err error) (int, error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"success": err == nil, "message": msg})
	return status, err
}

// Deliver sends in to the bot as OneTalk does (POST, JSON, X-Secret-Key)
// and returns its answer. It fails when the fake has no bot or the bot
// cannot be reached.
func (s *Server) Deliver(ctx context.Context, in *onetalk.InboundRequest) (*Delivery, error) {
	body, err := Encode(in)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	bot := s.bot
	s.mu.Unlock()
	a, err := fakekit.Send(ctx, s.cfg.Client, bot, "/onetalk", body, http.Header{onetalk.SecretHeader: {s.cfg.Secret}})
	if err != nil {
		return nil, fmt.Errorf("onetalktest: %w", err)
	}
	return &Delivery{StatusCode: a.StatusCode, Header: a.Header, Body: a.Body, Latency: a.Latency}, nil
}

// Encode returns the body OneTalk would send for in. Like OneTalk's own
// example, a video goes under the key "image", so bots are tested against
// the form the doc shows.
func Encode(in *onetalk.InboundRequest) ([]byte, error) {
	if in.Message.Type != onetalk.TypeVideo || in.Message.Video == nil {
		return json.Marshal(in)
	}
	c := *in
	c.Message.Image, c.Message.Video = c.Message.Video, nil
	return json.Marshal(&c)
}

// newRequest is the common part of the builders: a WABA case from a
// realistic sender, with a fresh WhatsApp-style message id and timestamp.
func newRequest(caseID string, m onetalk.InboundMessage) *onetalk.InboundRequest {
	var id [12]byte
	_, _ = rand.Read(id[:])
	m.ID = "wamid.TEST" + hex.EncodeToString(id[:])
	m.Timestamp = onetalk.UnixMillis(time.Now().UnixMilli())
	return &onetalk.InboundRequest{
		CaseID:      caseID,
		ChannelType: onetalk.ChannelWhatsAppBA,
		ChannelID:   "2108211854",
		ChannelName: "botwire test channel",
		Sender:      onetalk.Sender{Phone: "62851234567890", ContactName: "John Doe"},
		Message:     m,
	}
}

// Text returns an inbound text message.
func Text(caseID, body string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{Type: onetalk.TypeText, Text: &onetalk.Text{Body: body}})
}

// Image returns an inbound image.
func Image(caseID, url, caption string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{Type: onetalk.TypeImage, Image: &onetalk.Media{URL: url, Caption: caption}})
}

// Video returns an inbound video (Encode sends it under "image", as OneTalk).
func Video(caseID, url, caption string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{Type: onetalk.TypeVideo, Video: &onetalk.Media{URL: url, Caption: caption}})
}

// Document returns an inbound document.
func Document(caseID, url, filename, caption string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{Type: onetalk.TypeDocument,
		Document: &onetalk.Document{URL: url, Filename: filename, Caption: caption}})
}

// Location returns an inbound shared location.
func Location(caseID string, lat, lng float64, name, address string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{Type: onetalk.TypeLocation,
		Location: &onetalk.Location{Latitude: lat, Longitude: lng, Name: name, Address: address}})
}

// ButtonReply returns what OneTalk sends when the customer clicks a reply
// button: a text message with the title as body and the button's id.
func ButtonReply(caseID, id, title string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{
		Type: onetalk.TypeText, Text: &onetalk.Text{Body: title},
		WhatsAppBA: &onetalk.InboundWABA{Type: onetalk.WABAInteractive, Interactive: &onetalk.InboundInteractive{
			Type: onetalk.ReplyTypeButton, ButtonReply: &onetalk.ButtonReply{ID: id, Title: title}}},
	})
}

// ListReply returns what OneTalk sends when the customer picks a list row.
func ListReply(caseID, id, title, description string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{
		Type: onetalk.TypeText, Text: &onetalk.Text{Body: title},
		WhatsAppBA: &onetalk.InboundWABA{Type: onetalk.WABAInteractive, Interactive: &onetalk.InboundInteractive{
			Type: onetalk.ReplyTypeList, ListReply: &onetalk.ListReply{ID: id, Title: title, Description: description}}},
	})
}

// TemplateButton returns what OneTalk sends when the customer clicks a
// template quick-reply button.
func TemplateButton(caseID, payload, text string) *onetalk.InboundRequest {
	return newRequest(caseID, onetalk.InboundMessage{
		Type: onetalk.TypeText, Text: &onetalk.Text{Body: text},
		WhatsAppBA: &onetalk.InboundWABA{Type: onetalk.WABAButton,
			Button: &onetalk.TemplateButton{Payload: payload, Text: text}},
	})
}

// RawHeader returns the headers as the bot's client sent them, credentials
// included; Header has them masked ("[REDACTED]") so a failing test that
// prints a recording does not put a key in CI logs.
func (r Received) RawHeader() http.Header {
	if r.raw == nil {
		return r.Header
	}
	return r.raw()
}

// Format describes the fake without its secret, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "onetalktest.Server{URL: "+strconv.Quote(s.URL)+"}")
}

// Format describes the config without its secret, for every verb, on the
// value and on a pointer.
func (c Config) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, safefmt.Describe(c, "Secret"))
}
