// Package ultimatetest is a fake Ultimate for testing systems built with
// package ultimate.
//
// A Server stands in for https://api.ultimate.ai: point a client at it with
// ultimate.WithBaseURL(server.URL). It accepts converse and widget calls,
// checking Authorization and botid as Ultimate does (401, 404 for another
// bot, 400 for a body Ultimate would refuse), records them, and can inject
// faults. Behind it a scripted virtual agent answers asynchronously on the
// chat and actions webhooks you configure, the way Ultimate does:
//
//   - startSession: a welcome text with reply buttons "Order status",
//     "Products" and "Talk to a human";
//   - "Products": a carousel of two cards; a card click (cardIndex) is
//     answered with the card's title;
//   - "Order status": asks for the order number, then calls the action
//     "getOrderStatus" with it and answers with the action's "status"
//     result;
//   - "Talk to a human": asks isTeamOnline, then escalates when the team is
//     online (and says so when it is not);
//   - anything else: "You said: ...".
//
// Every webhook call and its answer is recorded (Deliveries, WaitDeliveries),
// and Deliver sends a chat event of your own.
//
// It has the shape every botwire fake shares: NewServer(Config), Close,
// URL, SetBot / SetBotURL (the chat webhook; SetActionBot / SetActionBotURL
// the actions webhook), Deliver returning a *Delivery, Received / WaitFor /
// Reset for what the bot's client sent, and Inject (FailNext, DelayNext,
// DropNext) with a Fault.
package ultimatetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/fakekit"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/ultimate"
)

// Config sets up the fake: the credentials it accepts, the webhooks its
// agent calls (a handler or a URL each), and how it authenticates them.
type Config struct {
	APIKey string
	BotID  string

	// Bot is the chat webhook in-process, or BotURL its address.
	Bot    http.Handler
	BotURL string
	// ActionBot is the actions webhook in-process, or ActionBotURL its
	// address.
	ActionBot    http.Handler
	ActionBotURL string
	// Client delivers to the URLs (default http.DefaultClient).
	Client *http.Client

	// Sent with every webhook call, to match the handler's options.
	WebhookHeader, WebhookToken  string
	WebhookUser, WebhookPassword string
	// Listener is where the fake serves (default: a fresh port on
	// 127.0.0.1), for a fake that must sit at a known address.
	Listener net.Listener
}

// Fault is an answer the fake API gives instead of the normal one.
type Fault struct {
	Status int           // answer with this status and a JSON error body
	Header http.Header   // extra answer headers, e.g. Retry-After
	Delay  time.Duration // wait this long before answering
	Drop   bool          // close the connection without answering
}

// ErrNoBot is returned by Deliver when the fake has no webhook to deliver to.
var ErrNoBot = fakekit.ErrNoBot

// Received is one request the bot's client sent to the fake API.
type Received struct {
	// Path is where the call was posted: ultimate.ConversePath or
	// ultimate.WidgetMessagePath.
	Path   string
	Header http.Header
	Body   []byte
	// Converse is the decoded body of a converse call; Widget of a widget
	// call, told apart by Path (both have an eventType "message").
	Converse *ultimate.ConverseRequest
	Widget   *ultimate.WidgetUpdate
	Status   int
	Err      error

	raw func() http.Header // behind a func: printers never see it
}

// Delivery is one webhook call (made by the agent, or by Deliver) and the
// answer it got.
type Delivery struct {
	Webhook   string // "chat" or "actions"
	EventType string // the chat event type, or the action name
	Sent      []byte // the body delivered

	StatusCode int
	Header     http.Header
	Body       []byte // the webhook's answer
	Latency    time.Duration
	Err        error // a transport error, if the call failed

	// IsOnline is the answer to isTeamOnline, Results the answer of the
	// actions webhook; nil otherwise.
	IsOnline *bool
	Results  []ultimate.ActionResult
}

// Server is a fake Ultimate. Its methods are safe for concurrent use.
type Server struct {
	// URL is the fake's base URL, for ultimate.WithBaseURL.
	URL string

	cfg Config
	srv *httptest.Server
	kit fakekit.Kit
	out fakekit.Kit // counts deliveries for WaitDeliveries

	mu         sync.Mutex
	chatBot    fakekit.Bot
	actionBot  fakekit.Bot
	deliveries []Delivery
	waiting    map[string]bool // conversations asked for an order number
	cards      map[string][]ultimate.CarouselCard

	jobs   chan job
	closed chan struct{}
	done   sync.WaitGroup
}

type job struct {
	req ultimate.ConverseRequest
}

// NewServer starts a fake Ultimate. Close it when done.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg, chatBot: fakekit.Bot{Handler: cfg.Bot, URL: cfg.BotURL},
		actionBot: fakekit.Bot{Handler: cfg.ActionBot, URL: cfg.ActionBotURL}, waiting: map[string]bool{}, cards: map[string][]ultimate.CarouselCard{},
		jobs: make(chan job, 1024), closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc(ultimate.ConversePath, func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.converse, writeError)
	})
	mux.HandleFunc(ultimate.WidgetMessagePath, func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.widget, writeError)
	})
	s.srv = fakekit.NewHTTPServer(mux, cfg.Listener)
	s.URL = s.srv.URL
	s.done.Add(1)
	go s.agent()
	return s
}

// Close stops the agent (after the events already accepted) and the server.
func (s *Server) Close() {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.done.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetBot makes the agent deliver chat events to h in-process.
func (s *Server) SetBot(h http.Handler) { s.setBot(&s.chatBot, fakekit.Bot{Handler: h}) }

// SetBotURL makes the agent deliver chat events to url over HTTP.
func (s *Server) SetBotURL(url string) { s.setBot(&s.chatBot, fakekit.Bot{URL: url}) }

// SetActionBot makes the agent call actions on h in-process.
func (s *Server) SetActionBot(h http.Handler) { s.setBot(&s.actionBot, fakekit.Bot{Handler: h}) }

// SetActionBotURL makes the agent call actions at url over HTTP.
func (s *Server) SetActionBotURL(url string) { s.setBot(&s.actionBot, fakekit.Bot{URL: url}) }

func (s *Server) setBot(dst *fakekit.Bot, b fakekit.Bot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*dst = b
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

// Reset forgets the recorded API calls, the deliveries and queued faults.
func (s *Server) Reset() {
	s.kit.Reset()
	s.out.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = nil
}

// WaitFor waits until the bot's client made at least n API calls and
// returns them, or returns ctx's error with what was received.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Received, error) {
	if _, err := s.kit.Wait(ctx, n); err != nil {
		return s.Received(), fmt.Errorf("ultimatetest: %w", err)
	}
	return s.Received(), nil
}

// Received returns the API calls received so far.
func (s *Server) Received() []Received {
	recs := s.kit.Requests()
	out := make([]Received, len(recs))
	for i, r := range recs {
		out[i] = Received{Path: r.Path, Header: r.Header, Body: r.Body, Status: r.Status, Err: r.Err, raw: r.RawHeader}
		switch r.Path {
		case ultimate.WidgetMessagePath:
			var w ultimate.WidgetUpdate
			if json.Unmarshal(r.Body, &w) == nil {
				out[i].Widget = &w
			}
		case ultimate.ConversePath:
			var c ultimate.ConverseRequest
			if json.Unmarshal(r.Body, &c) == nil {
				out[i].Converse = &c
			}
		}
	}
	return out
}

// Deliveries returns the webhook calls the agent made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// WaitDeliveries waits until the agent made at least n webhook calls.
func (s *Server) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	if _, err := s.out.Wait(ctx, n); err != nil {
		return s.Deliveries(), fmt.Errorf("ultimatetest: deliveries: %w", err)
	}
	return s.Deliveries(), nil
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) (int, error) {
	fail := func(status int, err error) (int, error) {
		writeError(w, status, err)
		return status, err
	}
	switch {
	case r.Method != http.MethodPost:
		return fail(http.StatusMethodNotAllowed, errors.New("method not allowed"))
	case s.cfg.APIKey == "" || r.Header.Get("Authorization") != s.cfg.APIKey:
		return fail(http.StatusUnauthorized, errors.New("authorization required"))
	case r.Header.Get("botid") != s.cfg.BotID:
		return fail(http.StatusNotFound, errors.New("bot not found"))
	}
	return 0, nil
}

func (s *Server) converse(w http.ResponseWriter, r *http.Request, body []byte) (int, error) {
	if status, err := s.check(w, r); err != nil {
		return status, err
	}
	var req ultimate.ConverseRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return http.StatusBadRequest, err
	}
	if err := req.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return http.StatusBadRequest, err
	}
	select {
	case s.jobs <- job{req: req}:
	default:
		err := errors.New("agent queue full")
		writeError(w, http.StatusServiceUnavailable, err)
		return http.StatusServiceUnavailable, err
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK, nil
}

func (s *Server) widget(w http.ResponseWriter, r *http.Request, body []byte) (int, error) {
	if status, err := s.check(w, r); err != nil {
		return status, err
	}
	var u ultimate.WidgetUpdate
	if err := json.Unmarshal(body, &u); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return http.StatusBadRequest, err
	}
	if err := u.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return http.StatusBadRequest, err
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK, nil
}

// agent runs the script, one event at a time, in the order accepted.
func (s *Server) agent() {
	defer s.done.Done()
	for {
		select {
		case j := <-s.jobs:
			s.play(j.req)
		case <-s.closed:
			for {
				select {
				case j := <-s.jobs:
					s.play(j.req)
				default:
					return
				}
			}
		}
	}
}

var replyButtons = []ultimate.Button{
	{Type: ultimate.ButtonReply, Text: "Order status"},
	{Type: ultimate.ButtonReply, Text: "Products"},
	{Type: ultimate.ButtonReply, Text: "Talk to a human"},
}

var productCards = []ultimate.CarouselCard{
	{Title: "MacBook Air", Description: "Power. It's in the Air.", ImageURL: "https://example.com/air.jpg",
		Buttons: []ultimate.Button{{Type: ultimate.ButtonReply, Text: "Tell me more"}, {Type: ultimate.ButtonLink, Text: "Open shop"}}},
	{Title: "Apple Watch", Description: "Full screen ahead.", ImageURL: "https://example.com/watch.jpg",
		Buttons: []ultimate.Button{{Type: ultimate.ButtonReply, Text: "Tell me more"}}},
}

func (s *Server) play(req ultimate.ConverseRequest) {
	id := req.PlatformConversationID
	switch req.EventType {
	case ultimate.ConverseStartSession:
		s.say(id, "Hi! I am the virtual agent. How can I help?", replyButtons)
		return
	case ultimate.ConverseMessage:
	default:
		return
	}
	text := strings.TrimSpace(req.Text)
	s.mu.Lock()
	waiting, cards := s.waiting[id], s.cards[id]
	delete(s.waiting, id)
	s.mu.Unlock()
	switch {
	case req.CardIndex != nil && *req.CardIndex < len(cards):
		s.say(id, fmt.Sprintf("You picked %s (%s).", cards[*req.CardIndex].Title, text), nil)
	case waiting:
		results := s.action(id, "getOrderStatus", text)
		status := "unknown"
		for _, r := range results {
			if r.Key == "status" {
				status = fmt.Sprint(r.Value)
			}
		}
		s.say(id, fmt.Sprintf("Order %s: %s.", text, status), nil)
	case strings.EqualFold(text, "Order status"):
		s.mu.Lock()
		s.waiting[id] = true
		s.mu.Unlock()
		s.say(id, "What is your order number?", nil)
	case strings.EqualFold(text, "Products"):
		s.mu.Lock()
		s.cards[id] = productCards
		s.mu.Unlock()
		s.chat(id, map[string]any{"eventType": ultimate.EventSendMessage, "platformConversationId": id,
			"type": ultimate.MessageCarousel, "replyId": "61e5439dce4387001311d6db", "buttons": []any{}, "text": "",
			"carouselCards": productCards, "confidence": 0.93, "messageId": "msg-products"})
	case strings.EqualFold(text, "Talk to a human"):
		status, resp := s.chat(id, map[string]any{"eventType": ultimate.EventIsTeamOnline, "platformConversationId": id, "teamId": "support"})
		var online struct {
			IsOnline bool `json:"isOnline"`
		}
		if status != http.StatusOK || json.Unmarshal(resp, &online) != nil || !online.IsOnline {
			s.say(id, "Our team is offline right now. Please try again later.", nil)
			return
		}
		if status, _ := s.chat(id, map[string]any{"eventType": ultimate.EventEscalate, "platformConversationId": id, "escalateTo": "support"}); status != http.StatusOK {
			s.say(id, "Sorry, I could not reach a human. Please try again.", nil)
		}
	default:
		s.say(id, "You said: "+text, nil)
	}
}

func (s *Server) say(id, text string, buttons []ultimate.Button) {
	if buttons == nil {
		buttons = []ultimate.Button{}
	}
	s.chat(id, map[string]any{"eventType": ultimate.EventSendMessage, "platformConversationId": id, "type": ultimate.MessageText,
		"replyId": "618a30be1c2ffe001ab1078f", "buttons": buttons, "text": text, "carouselCards": []any{}})
}

func (s *Server) chat(id string, data map[string]any) (int, []byte) {
	d := s.deliverChat(context.Background(), data)
	return d.StatusCode, d.Body
}

func (s *Server) deliverChat(ctx context.Context, data any) *Delivery {
	body, _ := json.Marshal(map[string]any{"botId": s.cfg.BotID, "channel": "chat", "data": data})
	var probe struct {
		EventType string `json:"eventType"`
	}
	raw, _ := json.Marshal(data)
	_ = json.Unmarshal(raw, &probe)
	s.mu.Lock()
	bot := s.chatBot
	s.mu.Unlock()
	return s.deliver(ctx, "chat", probe.EventType, bot, body)
}

// Deliver sends a chat event whose data object is data (an
// ultimate.Message, ultimate.Escalation, ... or a map) to the chat webhook,
// as Ultimate does, and returns the answer. The call is recorded among the
// Deliveries too.
func (s *Server) Deliver(ctx context.Context, data any) (*Delivery, error) {
	d := s.deliverChat(ctx, data)
	if d.Err != nil {
		return d, fmt.Errorf("ultimatetest: %w", d.Err)
	}
	return d, nil
}

func (s *Server) action(id, name, value string) []ultimate.ActionResult {
	body, _ := json.Marshal(map[string]any{"botId": s.cfg.BotID, "conversationId": "ultimate-" + id,
		"platformConversationId": id, "name": name, "data": []any{map[string]any{"key": "orderId", "value": []string{value}}}})
	s.mu.Lock()
	bot := s.actionBot
	s.mu.Unlock()
	return s.deliver(context.Background(), "actions", name, bot, body).Results
}

// deliver calls a webhook and records the call.
func (s *Server) deliver(ctx context.Context, kind, eventType string, bot fakekit.Bot, body []byte) *Delivery {
	d := &Delivery{Webhook: kind, EventType: eventType, Sent: body}
	header := http.Header{}
	if s.cfg.WebhookHeader != "" {
		header.Set(s.cfg.WebhookHeader, s.cfg.WebhookToken)
	}
	if s.cfg.WebhookUser != "" {
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.cfg.WebhookUser+":"+s.cfg.WebhookPassword)))
	}
	a, err := fakekit.Send(ctx, s.cfg.Client, bot, "/"+kind, body, header)
	if err != nil {
		d.Err = err
	} else {
		d.StatusCode, d.Header, d.Body, d.Latency = a.StatusCode, a.Header, a.Body, a.Latency
		if d.StatusCode == http.StatusOK {
			switch {
			case kind == "actions":
				var out ultimate.ActionResponse
				if json.Unmarshal(d.Body, &out) == nil {
					d.Results = out.Results
				}
			case eventType == ultimate.EventIsTeamOnline:
				var st struct {
					IsOnline *bool `json:"isOnline"`
				}
				if json.Unmarshal(d.Body, &st) == nil {
					d.IsOnline = st.IsOnline
				}
			}
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, *d)
	s.mu.Unlock()
	s.out.Record(fakekit.Recorded{Body: body, Status: d.StatusCode, Err: d.Err}) // wakes WaitDeliveries
	return d
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
	safefmt.Format(f, verb, safefmt.Describe(c, "APIKey", "WebhookToken", "WebhookPassword"))
}

// Format describes the fake without its credentials, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "ultimatetest.Server{URL: "+strconv.Quote(s.URL)+"}")
}
