// Package userliketest is a fake Userlike for testing bots built with
// package userlike.
//
// A Server plays Userlike on loopback: it delivers start, message, click
// and media events to the bot's webhook with the configured header and
// returns the events the bot answered with. Its URL stands in for the bot's
// API URL: it records every call, checks SECURITY-TOKEN, answers 429 past
// 20 requests a minute per cid, and answers 400 to what the doc forbids (an
// event without a cid or a name, a context that is not an object or is over
// 10 KB, a message over 5,000 characters, a choice message without its
// fallback, a button_template with more than 3 options, ...) but never to a
// key or a type package userlike only inferred, so a payload sent with
// userlike.Custom is taken as Userlike would take it. Like Userlike it
// remembers the last context the bot set for a session and sends it back
// with the next event.
//
// It has the shape every botwire fake shares: NewServer(Config), Close,
// URL, SetBot / SetBotURL, Deliver returning a *Delivery (Start, Message,
// Click and Media build the event and deliver it), Received / WaitFor /
// Reset for the API calls, and Inject (FailNext, DelayNext, DropNext) with
// a Fault.
//
//	fake := userliketest.NewServer(userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: "t", APIToken: "a"})
//	defer fake.Close()
//	fake.SetBot(botHandler)
//	got, err := fake.Start(ctx, "chatbot::1:abc")
package userliketest

import (
	"bytes"
	"context"
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
	"github.com/botwire/botwire/userlike"
)

// Config sets up the fake: the webhook header Userlike sends to the bot and
// the API security token it expects from the bot.
type Config struct {
	WebhookHeader string // e.g. "API-SECURITY-TOKEN"; empty sends no header
	WebhookToken  string
	APIToken      string
	// RateLimit per cid per minute on the API URL; 0 means Userlike's 20.
	RateLimit int
	// Now is the fake's clock for the rate limit (default time.Now).
	Now func() time.Time
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

// Fault is an answer the fake's API URL gives instead of the normal one.
type Fault struct {
	Status int           // answer with this status and a JSON error body
	Header http.Header   // extra answer headers, e.g. Retry-After
	Delay  time.Duration // wait this long before answering
	Drop   bool          // close the connection without answering
}

// ErrNoBot is returned by Deliver when the fake has no bot to deliver to.
var ErrNoBot = fakekit.ErrNoBot

// Received is one request the bot's client sent to the API URL.
type Received struct {
	Header http.Header
	Body   []byte
	// Events is the decoded body (an event or a list), or nil when it was
	// not JSON.
	Events []userlike.OutboundEvent
	Status int
	Err    error

	raw func() http.Header // behind a func: printers never see it
}

// Delivery is the bot's answer to one delivered event.
type Delivery struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Latency    time.Duration
	// Events is what the bot triggered in its response body.
	Events []userlike.OutboundEvent
}

// Texts returns the bodies of the message actions, in order.
func (d *Delivery) Texts() []string { return texts(d.Events) }

func texts(evs []userlike.OutboundEvent) []string {
	var out []string
	for _, e := range evs {
		if m, ok := e.Packet.Payload.(*userlike.MessageAction); ok {
			out = append(out, m.Body)
		}
	}
	return out
}

// Server is a fake Userlike. Its methods are safe for concurrent use.
type Server struct {
	// URL is the fake API URL, for userlike.NewClient.
	URL string

	cfg Config
	srv *httptest.Server
	kit fakekit.Kit

	mu       sync.Mutex
	bot      fakekit.Bot
	contexts map[string]json.RawMessage
	windows  map[string][]time.Time
}

// NewServer starts a fake Userlike. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = userlike.DefaultRateLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, bot: fakekit.Bot{Handler: cfg.Bot, URL: cfg.BotURL}, contexts: map[string]json.RawMessage{}, windows: map[string][]time.Time{}}
	s.srv = fakekit.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.answer, writeError)
	}), cfg.Listener)
	s.URL = s.srv.URL + "/api/chatbot/v1/bot"
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetBot makes the fake deliver events straight to h.
func (s *Server) SetBot(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bot = fakekit.Bot{Handler: h}
}

// SetBotURL makes the fake deliver events over HTTP to url.
func (s *Server) SetBotURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bot = fakekit.Bot{URL: url}
}

// Context returns the last context the bot set for cid, as Userlike keeps
// it.
func (s *Server) Context(cid string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contexts[cid]
}

// Inject makes the next n API calls get fault f, after any faults already
// queued.
func (s *Server) Inject(n int, f Fault) {
	s.kit.Inject(n, fakekit.Fault{Status: f.Status, Header: f.Header, Delay: f.Delay, Drop: f.Drop})
}

// FailNext makes the next n API calls get status.
func (s *Server) FailNext(n, status int) { s.Inject(n, Fault{Status: status}) }

// DelayNext delays the next n answers by d.
func (s *Server) DelayNext(n int, d time.Duration) { s.Inject(n, Fault{Delay: d}) }

// DropNext closes the connection of the next n API calls without answering.
func (s *Server) DropNext(n int) { s.Inject(n, Fault{Drop: true}) }

// Received returns every API call received so far, in order.
func (s *Server) Received() []Received { return convert(s.kit.Requests()) }

// WaitFor waits until at least n API calls were received and returns them,
// or returns ctx's error with what was received.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Received, error) {
	recs, err := s.kit.Wait(ctx, n)
	if err != nil {
		err = fmt.Errorf("userliketest: %w", err)
	}
	return convert(recs), err
}

// Sent returns the events of the API calls the fake accepted, in order.
func (s *Server) Sent() []userlike.OutboundEvent {
	var out []userlike.OutboundEvent
	for _, c := range s.Received() {
		if c.Status == http.StatusOK {
			out = append(out, c.Events...)
		}
	}
	return out
}

// SentTexts returns the bodies of the message actions accepted on the API
// URL.
func (s *Server) SentTexts() []string { return texts(s.Sent()) }

// Reset forgets calls, faults, contexts and rate-limit windows.
func (s *Server) Reset() {
	s.kit.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contexts, s.windows = map[string]json.RawMessage{}, map[string][]time.Time{}
}

func convert(recs []fakekit.Recorded) []Received {
	out := make([]Received, len(recs))
	for i, r := range recs {
		out[i] = Received{Header: r.Header, Body: r.Body, Status: r.Status, Err: r.Err, raw: r.RawHeader}
		out[i].Events, _ = decodeOutbound(r.Body)
	}
	return out
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// answer plays the API URL for a call no fault intercepted.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, body []byte) (int, error) {
	fail := func(status int, err error) (int, error) {
		writeError(w, status, err)
		return status, err
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
	if r.Header.Get(userlike.TokenHeader) != s.cfg.APIToken || s.cfg.APIToken == "" {
		return fail(http.StatusUnauthorized, errors.New("invalid security token"))
	}
	wire, list, err := decodeWire(body)
	if err != nil || len(wire) == 0 {
		return fail(http.StatusBadRequest, errors.New("body is not an event or a list of events"))
	}
	if err := checkEvents(wire, list); err != nil {
		return fail(http.StatusBadRequest, err)
	}
	if !s.allow(wire[0].Info.CID) {
		w.Header().Set("Retry-After", "60")
		return fail(http.StatusTooManyRequests, errors.New("rate limit: 20 requests per minute per cid"))
	}
	evs, _ := decodeOutbound(body)
	s.keepContext(evs)
	w.WriteHeader(http.StatusOK)
	return http.StatusOK, nil
}

// allow applies Userlike's sliding limit to one request of cid.
func (s *Server) allow(cid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var recent []time.Time
	for _, t := range s.windows[cid] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= s.cfg.RateLimit {
		s.windows[cid] = recent
		return false
	}
	s.windows[cid] = append(recent, now)
	return true
}

// keepContext stores the newest non-empty context of each cid: Userlike
// replaces the context with a new one and ignores an empty one.
func (s *Server) keepContext(evs []userlike.OutboundEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evs {
		c := bytes.TrimSpace(e.Info.Context)
		if len(c) == 0 || string(c) == "{}" || string(c) == "null" {
			continue
		}
		s.contexts[e.Info.CID] = append(json.RawMessage(nil), c...)
	}
}

// NewEvent returns a webhook event of session cid with the given name and
// payload, in a website conversation, with the context the bot set last.
func (s *Server) NewEvent(cid, name string, payload any) (*userlike.Event, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return &userlike.Event{
		Info: userlike.Info{
			CID:          cid,
			ApproachMode: "normal",
			Context:      s.Context(cid),
			Conversation: &userlike.Conversation{ContactChannel: &userlike.ContactChannel{State: "valid", Type: userlike.ChannelWeb}},
		},
		Packet: userlike.Packet{Name: name, Payload: p},
	}, nil
}

// Start delivers a start event of a new session cid.
func (s *Server) Start(ctx context.Context, cid string) (*Delivery, error) {
	return s.send(ctx, cid, userlike.EventStart, struct{}{})
}

// Message delivers the contact's message text.
func (s *Server) Message(ctx context.Context, cid, text string) (*Delivery, error) {
	return s.send(ctx, cid, userlike.EventMessage, userlike.MessagePayload{Body: text})
}

// Click delivers a click on the option with id and label.
func (s *Server) Click(ctx context.Context, cid, id, label string) (*Delivery, error) {
	return s.send(ctx, cid, userlike.EventClick, userlike.ClickPayload{Value: userlike.ClickValue{ID: id, Label: label}})
}

// Media delivers a file upload at url.
func (s *Server) Media(ctx context.Context, cid, url, mimeType string) (*Delivery, error) {
	return s.send(ctx, cid, userlike.EventMedia, userlike.MediaPayload{URL: url, MimeType: mimeType})
}

func (s *Server) send(ctx context.Context, cid, name string, payload any) (*Delivery, error) {
	e, err := s.NewEvent(cid, name, payload)
	if err != nil {
		return nil, err
	}
	return s.Deliver(ctx, e)
}

// Deliver posts e to the bot with the webhook header and returns its
// answer. Contexts in the answer are kept for the session's next event.
func (s *Server) Deliver(ctx context.Context, e *userlike.Event) (*Delivery, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	bot := s.bot
	s.mu.Unlock()
	header := http.Header{}
	if s.cfg.WebhookHeader != "" {
		header.Set(s.cfg.WebhookHeader, s.cfg.WebhookToken)
	}
	a, err := fakekit.Send(ctx, s.cfg.Client, bot, "/userlike", body, header)
	if err != nil {
		return nil, fmt.Errorf("userliketest: %w", err)
	}
	d := &Delivery{StatusCode: a.StatusCode, Header: a.Header, Body: a.Body, Latency: a.Latency}
	if d.StatusCode != http.StatusOK {
		return d, nil
	}
	if d.Events, err = decodeOutbound(d.Body); err != nil {
		return d, fmt.Errorf("userliketest: the bot answered 200 with a body that is not events: %w", err)
	}
	s.keepContext(d.Events)
	return d, nil
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

// Format prints the config with its credentials masked, for every verb, on
// the value and on a pointer.
func (c Config) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, safefmt.Describe(c, "WebhookToken", "APIToken"))
}

// Format describes the fake without its credentials, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "userliketest.Server{URL: "+strconv.Quote(s.URL)+"}")
}
