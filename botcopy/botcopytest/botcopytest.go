// Package botcopytest is a fake Botcopy for testing a live-chat proxy built
// with package botcopy.
//
// A Server plays Botcopy on loopback: Trigger starts a handover with a
// realistic message history and Dialogflow response; UserMessage forwards
// the user's messages to the proxy while the bot is paused, and reports
// them as going to Dialogflow once the pause expired or the proxy answered
// paused: false; answers later than 5 s are ignored, as Botcopy ignores
// them. Its URL stands in for https://api.botcopy.com: it records every
// push, checks the API key and the body, extends or ends the pause like
// Botcopy, and injects faults.
//
// It has the shape every botwire fake shares: NewServer(Config), Close,
// URL, SetBot / SetBotURL (the proxy's webhook), Deliver returning a
// *Delivery (Trigger, UserMessage and UserTyping are Deliver with Botcopy's
// own bodies and pause bookkeeping), Received / WaitFor / Reset for the
// pushes, and Inject (FailNext, DelayNext, DropNext) with a Fault.
package botcopytest

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
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/internal/fakekit"
	"github.com/botwire/botwire/internal/safefmt"
)

// Config sets up the fake Botcopy.
type Config struct {
	AccessToken string // sent in Authorization to the proxy
	// CustomHeader and CustomValue are the portal's optional custom header.
	CustomHeader, CustomValue string
	APIKey                    string // expected on pushes

	// Bot is the proxy's webhook in-process, or BotURL its address; SetBot
	// and SetBotURL change them later.
	Bot    http.Handler
	BotURL string
	// Client delivers to BotURL (default http.DefaultClient).
	Client *http.Client

	// Deadline after which Botcopy ignores the proxy's answer (default 5 s).
	Deadline time.Duration
	// Now is the fake's clock for pauses (default time.Now).
	Now func() time.Time
	// Listener is where the fake serves (default: a fresh port on
	// 127.0.0.1), for a fake that must sit at a known address.
	Listener net.Listener
}

// Fault is an answer the fake push endpoint gives instead of the normal one.
type Fault struct {
	Status int           // answer with this status and a JSON error body
	Header http.Header   // extra answer headers, e.g. Retry-After
	Delay  time.Duration // wait this long before answering
	Drop   bool          // close the connection without answering
}

// ErrNoBot is returned by Deliver when the fake has no proxy to deliver to.
var ErrNoBot = fakekit.ErrNoBot

// Delivery is what happened to a webhook call.
type Delivery struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Latency    time.Duration
	// Decision is the proxy's answer, nil when it was not a decision or
	// came too late.
	Decision *botcopy.Decision
	Late     bool // answered after the deadline: ignored
	// ToDialogflow says the user's message went to Dialogflow (the bot was
	// not paused, or the proxy did not keep it paused).
	ToDialogflow bool
	// Paused is the bot's state after the call.
	Paused bool
}

// Received is one push the proxy's client sent.
type Received struct {
	// Header is as sent, with credentials masked; RawHeader has them.
	Header  http.Header
	Body    []byte
	Request *botcopy.PushEvent // nil when the body was not JSON
	Status  int
	Err     error

	raw func() http.Header // behind a func: printers never see it
}

// Server is a fake Botcopy. Its methods are safe for concurrent use.
type Server struct {
	// URL is the fake's base URL, for botcopy.WithBaseURL.
	URL string

	cfg Config
	srv *httptest.Server
	kit fakekit.Kit

	mu     sync.Mutex
	paused map[string]time.Time // userID → pause end
}

// NewServer starts a fake Botcopy. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.Deadline <= 0 {
		cfg.Deadline = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, paused: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc(botcopy.PushPath, func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.push, writeError)
	})
	s.srv = fakekit.NewHTTPServer(mux, cfg.Listener)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Inject makes the next n pushes get fault f, after any faults already
// queued.
func (s *Server) Inject(n int, f Fault) {
	s.kit.Inject(n, fakekit.Fault{Status: f.Status, Header: f.Header, Delay: f.Delay, Drop: f.Drop})
}

// FailNext makes the next n pushes get status.
func (s *Server) FailNext(n, status int) { s.Inject(n, Fault{Status: status}) }

// DelayNext delays the next n answers by d.
func (s *Server) DelayNext(n int, d time.Duration) { s.Inject(n, Fault{Delay: d}) }

// DropNext closes the connection of the next n pushes without answering.
func (s *Server) DropNext(n int) { s.Inject(n, Fault{Drop: true}) }

// Reset forgets the recorded pushes, queued faults and pauses.
func (s *Server) Reset() {
	s.kit.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = map[string]time.Time{}
}

// Received returns the pushes received so far.
func (s *Server) Received() []Received { return convert(s.kit.Requests()) }

// WaitFor waits until at least n pushes were received and returns them, or
// returns ctx's error with what was received.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Received, error) {
	recs, err := s.kit.Wait(ctx, n)
	if err != nil {
		err = fmt.Errorf("botcopytest: %w", err)
	}
	return convert(recs), err
}

// SetBot makes the fake call h as the proxy's webhook (the proxy's client
// usually needs the fake's URL first, so it can be set afterwards).
func (s *Server) SetBot(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Bot, s.cfg.BotURL = h, ""
}

// SetBotURL makes the fake call the proxy's webhook at url.
func (s *Server) SetBotURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Bot, s.cfg.BotURL = nil, url
}

// Paused reports whether the bot is paused for userID.
func (s *Server) Paused(userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.paused[userID]
	return ok && s.cfg.Now().Before(until)
}

func (s *Server) setPause(userID string, minutes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if minutes <= 0 {
		delete(s.paused, userID)
		return
	}
	s.paused[userID] = s.cfg.Now().Add(time.Duration(minutes) * time.Minute)
}

func convert(recs []fakekit.Recorded) []Received {
	out := make([]Received, len(recs))
	for i, r := range recs {
		out[i] = Received{Header: r.Header, Body: r.Body, Status: r.Status, Err: r.Err, raw: r.RawHeader}
		var e botcopy.PushEvent
		if json.Unmarshal(r.Body, &e) == nil {
			out[i].Request = &e
		}
	}
	return out
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// push plays the push endpoint for a request no fault intercepted.
func (s *Server) push(w http.ResponseWriter, r *http.Request, body []byte) (int, error) {
	fail := func(status int, err error) (int, error) {
		writeError(w, status, err)
		return status, err
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return fail(http.StatusUnsupportedMediaType, errors.New("content type must be application/json"))
	}
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.cfg.APIKey == "" || key != s.cfg.APIKey {
		return fail(http.StatusUnauthorized, errors.New("invalid API key"))
	}
	var e botcopy.PushEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return fail(http.StatusBadRequest, err)
	}
	if err := e.Validate(); err != nil {
		return fail(http.StatusBadRequest, err)
	}
	switch {
	case e.Paused:
		s.setPause(e.UserID, e.MinutesPaused) // every push with a pause extends it
	case e.EventType == botcopy.PushChannelUpdate:
		s.setPause(e.UserID, 0) // resumed
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true}`))
	return http.StatusOK, nil
}

// Trigger starts a handover for userID, as when Dialogflow's answer carries
// the trigger context: the proxy gets the message history and Dialogflow's
// response. A pause decision pauses the bot.
func (s *Server) Trigger(ctx context.Context, userID, botID string) (*Delivery, error) {
	return s.DeliverTrigger(ctx, TriggerRequest(s.cfg.AccessToken, userID, botID))
}

// DeliverTrigger delivers r as step one of a handover, as Trigger does
// with its own body, and applies the proxy's decision to the pause of
// r.UserID. Build r with TriggerRequestWith to carry what the user said.
func (s *Server) DeliverTrigger(ctx context.Context, r *botcopy.HandoverRequest) (*Delivery, error) {
	o, err := s.Deliver(ctx, r)
	if err != nil {
		return nil, err
	}
	s.apply(r.UserID, o)
	return o, nil
}

// UserMessage delivers the user's text: to the proxy while the bot is
// paused (step two), to Dialogflow otherwise.
func (s *Server) UserMessage(ctx context.Context, userID, botID, text string) (*Delivery, error) {
	if !s.Paused(userID) {
		return &Delivery{ToDialogflow: true}, nil
	}
	req := UserMessageRequest(s.cfg.AccessToken, userID, botID, text)
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	o, err := s.call(ctx, body)
	if err != nil {
		return nil, err
	}
	s.apply(userID, o)
	o.ToDialogflow = !o.Paused
	return o, nil
}

// UserTyping sends the typing event (when enabled in the portal).
func (s *Server) UserTyping(ctx context.Context, userID, botID string) (*Delivery, error) {
	body, _ := json.Marshal(map[string]string{"userId": userID, "botId": botID, "sessionId": sessionID(userID), "eventType": botcopy.EventUserTyping})
	o, err := s.call(ctx, body)
	if err != nil {
		return nil, err
	}
	o.Paused = s.Paused(userID)
	return o, nil
}

// apply updates the pause after a decision; a late or failed answer does
// not pause (Botcopy ignores it).
func (s *Server) apply(userID string, o *Delivery) {
	d := o.Decision
	switch {
	case o.Late || d == nil:
		if o.Late || o.StatusCode != http.StatusOK {
			s.setPause(userID, 0)
		}
	case d.Paused:
		minutes := botcopy.DefaultMinutesPaused
		if d.MinutesPaused != nil && *d.MinutesPaused > 0 {
			minutes = *d.MinutesPaused
		}
		s.setPause(userID, minutes)
	default:
		s.setPause(userID, 0)
	}
	o.Paused = s.Paused(userID)
}

// Deliver posts r to the proxy as Botcopy does (Authorization, the custom
// header) under the 5 s deadline and returns what happened. It leaves the
// pause alone: Trigger and UserMessage add Botcopy's bookkeeping.
func (s *Server) Deliver(ctx context.Context, r *botcopy.HandoverRequest) (*Delivery, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return s.call(ctx, body)
}

// call posts body to the proxy with Botcopy's headers under the deadline.
func (s *Server) call(ctx context.Context, body []byte) (*Delivery, error) {
	s.mu.Lock()
	bot := fakekit.Bot{Handler: s.cfg.Bot, URL: s.cfg.BotURL}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Deadline)
	defer cancel()
	header := http.Header{"Authorization": {s.cfg.AccessToken}}
	if s.cfg.CustomHeader != "" {
		header.Set(s.cfg.CustomHeader, s.cfg.CustomValue)
	}
	a, err := fakekit.Send(ctx, s.cfg.Client, bot, "/botcopy", body, header)
	switch {
	case err != nil && ctx.Err() != nil && !errors.Is(err, fakekit.ErrNoBot):
		return &Delivery{Late: true, Latency: s.cfg.Deadline}, nil
	case err != nil:
		return nil, fmt.Errorf("botcopytest: %w", err)
	}
	o := &Delivery{StatusCode: a.StatusCode, Header: a.Header, Body: a.Body, Latency: a.Latency}
	if a.Latency > s.cfg.Deadline {
		o.Late = true
		return o, nil
	}
	var d botcopy.Decision
	if o.StatusCode == http.StatusOK && json.Unmarshal(a.Body, &d) == nil && bytes.Contains(a.Body, []byte(`"paused"`)) {
		o.Decision = &d
	}
	return o, nil
}

func sessionID(userID string) string { return "session-" + userID }

// TriggerRequest returns a realistic step-one body: a conversation in which
// the user asked for a human and Dialogflow answered with the handover
// context.
func TriggerRequest(accessToken, userID, botID string) *botcopy.HandoverRequest {
	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339Nano) }
	item := func(id, dir, payload string, ago time.Duration) botcopy.HistoryItem {
		return botcopy.HistoryItem{ID: id, BotPlatform: "dialogflowES", Direction: dir, Payload: json.RawMessage(payload), CreatedAt: at(ago)}
	}
	session := "projects/botwire-demo/agent/sessions/" + sessionID(userID)
	response := `{"responseId":"a1b2c3d4-0000-4000-8000-000000000002","queryResult":{"queryText":"I want to talk to a human",
		"fulfillmentMessages":[{"text":{"text":["Let me connect you with a human agent."]}}],
		"outputContexts":[{"name":"` + session + `/contexts/bc-human-handover","lifespanCount":1}],
		"intent":{"displayName":"Human Handover"},"intentDetectionConfidence":0.94,"languageCode":"en"}}`
	return &botcopy.HandoverRequest{
		AccessToken: botcopy.Token(accessToken),
		UserID:      userID, BotID: botID, SessionID: sessionID(userID), Session: session,
		DialogflowResponse: json.RawMessage(response),
		MessageHistory: []botcopy.HistoryItem{
			item("h1", "in", `{"queryParameters":{},"event":{"name":"WELCOME","data":{}},"lang":"en","sessionId":"`+sessionID(userID)+`"}`, 3*time.Minute),
			item("h2", "out", `{"responseId":"r1","queryResult":{"fulfillmentMessages":[{"text":{"text":["Hi! How can I help?"]}}]}}`, 3*time.Minute),
			item("h3", "in", `{"queryParameters":{"queryParameters":{},"query":"My order has not arrived","lang":"en","sessionId":"`+sessionID(userID)+`"}}`, 2*time.Minute),
			item("h4", "out", `{"responseId":"r2","queryResult":{"fulfillmentMessages":[{"text":{"text":["Sorry to hear that. What is your order number?"]}}]}}`, 2*time.Minute),
			item("h5", "in", `{"queryParameters":{"queryParameters":{},"query":"I want to talk to a human","lang":"en","sessionId":"`+sessionID(userID)+`"}}`, time.Minute),
			item("h6", "out", response, time.Minute),
		},
		QueryInput:  &botcopy.QueryInput{Text: &botcopy.TextInput{Text: "I want to talk to a human", LanguageCode: "en"}},
		QueryParams: &botcopy.QueryParams{Contexts: json.RawMessage(`[]`)},
	}
}

// TriggerRequestWith returns a step-one body for a conversation in which
// the user said said (oldest first; at least one line): the history holds
// Dialogflow's welcome, each line with Dialogflow's answer (the last one
// the handover context), and the query is the last line. The proxy sees
// the user's own words, as it would in production.
func TriggerRequestWith(accessToken, userID, botID string, said ...string) *botcopy.HandoverRequest {
	r := TriggerRequest(accessToken, userID, botID)
	if len(said) == 0 {
		return r
	}
	now := time.Now().UTC()
	n := 0
	add := func(dir, payload string) {
		n++
		r.MessageHistory = append(r.MessageHistory, botcopy.HistoryItem{ID: fmt.Sprintf("h%d", n), BotPlatform: "dialogflowES",
			Direction: dir, Payload: json.RawMessage(payload), CreatedAt: now.Add(time.Duration(n-2*len(said)-2) * time.Second).Format(time.RFC3339Nano)})
	}
	welcome, handover := r.MessageHistory[:2], r.MessageHistory[len(r.MessageHistory)-1]
	r.MessageHistory = nil
	for _, h := range welcome {
		add(h.Direction, string(h.Payload))
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for i, line := range said {
		add("in", `{"queryParameters":{"queryParameters":{},"query":`+quote(line)+`,"lang":"en","sessionId":`+quote(r.SessionID)+`}}`)
		if i == len(said)-1 {
			add("out", string(handover.Payload))
		} else {
			add("out", fmt.Sprintf(`{"responseId":"r%d","queryResult":{"fulfillmentMessages":[{"text":{"text":["(Dialogflow's answer)"]}}]}}`, i+2))
		}
	}
	last := said[len(said)-1]
	r.QueryInput = &botcopy.QueryInput{Text: &botcopy.TextInput{Text: last, LanguageCode: "en"}}
	var resp map[string]any
	if json.Unmarshal(r.DialogflowResponse, &resp) == nil {
		if q, ok := resp["queryResult"].(map[string]any); ok {
			q["queryText"] = last
		}
		if b, err := json.Marshal(resp); err == nil {
			r.DialogflowResponse = b
			r.MessageHistory[len(r.MessageHistory)-1].Payload = b
		}
	}
	return r
}

// UserMessageRequest returns a step-two body: the user wrote text while
// the bot is paused.
func UserMessageRequest(accessToken, userID, botID, text string) *botcopy.HandoverRequest {
	return &botcopy.HandoverRequest{
		AccessToken: botcopy.Token(accessToken),
		UserID:      userID, BotID: botID, SessionID: sessionID(userID),
		Session:     "projects/botwire-demo/agent/sessions/" + sessionID(userID),
		QueryInput:  &botcopy.QueryInput{Text: &botcopy.TextInput{Text: text, LanguageCode: "en"}},
		QueryParams: &botcopy.QueryParams{Contexts: json.RawMessage(`[]`), Payload: json.RawMessage(`{}`), WebhookHeaders: json.RawMessage(`{}`)},
	}
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
	safefmt.Format(f, verb, safefmt.Describe(c, "AccessToken", "CustomValue", "APIKey"))
}

// Format describes the fake without its credentials, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "botcopytest.Server{URL: "+strconv.Quote(s.URL)+"}")
}
