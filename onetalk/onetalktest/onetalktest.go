// Package onetalktest is a fake OneTalk for testing bots built with package
// onetalk, in the spirit of net/http/httptest.
//
// A Server plays both sides of OneTalk on loopback:
//
//   - it delivers inbound messages to the bot, with the right X-Secret-Key,
//     at a URL (Deliver) or straight into an http.Handler (DeliverTo);
//   - its URL stands in for the chatbot's OneTalk URL: it records every
//     request the bot's onetalk.Client sends, refusing (401) a wrong
//     Secret-Key and (400) a body OneTalk would refuse, as the real one does;
//   - it injects faults into its next answers: a status, a delay, a dropped
//     connection.
//
// Typical use:
//
//	fake := onetalktest.NewServer("secret")
//	defer fake.Close()
//	client, _ := onetalk.NewClient(fake.URL, "secret")
//	bot, _ := onetalk.NewHandler("secret", myBot(client))
//	fake.DeliverTo(bot, onetalktest.Text("CASE1", "hi"))
//	got := fake.Webhooks() // what the bot sent back
package onetalktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/botwire/botwire/internal/fakekit"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/onetalk"
)

// Request is one request the bot's client sent to the fake OneTalk URL.
type Request struct {
	Header http.Header
	Body   []byte
	// Webhook is the decoded body, or nil when it was not JSON.
	Webhook *onetalk.WebhookRequest
	// Status is what the fake answered; Err says why it refused, if it did.
	Status int
	Err    error

	raw func() http.Header // behind a func: printers never see it
}

// Fault is an answer the fake gives instead of the normal one: a Status
// (with a JSON error body), extra Header, a Delay, or a dropped connection
// (Drop).
type Fault = fakekit.Fault

// Server is a fake OneTalk. Its methods are safe for concurrent use.
type Server struct {
	// URL is the fake OneTalk URL, for onetalk.NewClient.
	URL string

	secret string
	srv    *httptest.Server
	kit    fakekit.Kit
}

// NewServer starts a fake OneTalk whose chatbot has the given secret key.
// Close it when done.
func NewServer(secret string) *Server {
	s := &Server{secret: secret}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.kit.Serve(w, r, s.answer, func(w http.ResponseWriter, status int, err error) { reply(w, status, err) })
	}))
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

// Inject makes the next n requests get fault f, after any faults already
// queued.
func (s *Server) Inject(n int, f Fault) { s.kit.Inject(n, f) }

// FailNext makes the next n requests get status (e.g. 503 or 500).
func (s *Server) FailNext(n, status int) { s.Inject(n, Fault{Status: status}) }

// DelayNext delays the next n answers by d.
func (s *Server) DelayNext(n int, d time.Duration) { s.Inject(n, Fault{Delay: d}) }

// DropNext closes the connection of the next n requests without answering.
func (s *Server) DropNext(n int) { s.Inject(n, Fault{Drop: true}) }

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request { return convert(s.kit.Requests()) }

func convert(recs []fakekit.Recorded) []Request {
	out := make([]Request, len(recs))
	for i, r := range recs {
		out[i] = Request{Header: r.Header, Body: r.Body, Status: r.Status, Err: r.Err, raw: r.RawHeader}
		var wh onetalk.WebhookRequest
		if json.Unmarshal(r.Body, &wh) == nil {
			out[i].Webhook = &wh
		}
	}
	return out
}

// Webhooks returns the requests the fake accepted (answered 200), decoded.
func (s *Server) Webhooks() []onetalk.WebhookRequest {
	var out []onetalk.WebhookRequest
	for _, r := range s.Requests() {
		if r.Status == http.StatusOK && r.Webhook != nil {
			out = append(out, *r.Webhook)
		}
	}
	return out
}

// Reset forgets the recorded requests and queued faults.
func (s *Server) Reset() { s.kit.Reset() }

// WaitRequests waits until at least n requests were received and returns
// them, or returns ctx's error. Use it with a bot that answers
// asynchronously.
func (s *Server) WaitRequests(ctx context.Context, n int) ([]Request, error) {
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
	case onetalk.VerifySecret(r.Header.Get(onetalk.ClientSecretHeader), s.secret) != nil:
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

// Deliver posts in to the bot at botURL as OneTalk does, with X-Secret-Key,
// and returns the bot's status code.
func (s *Server) Deliver(ctx context.Context, botURL string, in *onetalk.InboundRequest) (int, error) {
	body, err := Encode(in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, botURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(onetalk.SecretHeader, s.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// DeliverTo passes in straight to h as OneTalk would deliver it and returns
// the recorded answer.
func (s *Server) DeliverTo(h http.Handler, in *onetalk.InboundRequest) *httptest.ResponseRecorder {
	body, err := Encode(in)
	rec := httptest.NewRecorder()
	if err != nil {
		rec.Code = 0
		return rec
	}
	req := httptest.NewRequest(http.MethodPost, "/onetalk", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(onetalk.SecretHeader, s.secret)
	h.ServeHTTP(rec, req)
	return rec
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
func (r Request) RawHeader() http.Header {
	if r.raw == nil {
		return r.Header
	}
	return r.raw()
}

// Format describes the fake without its secret, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "onetalktest.Server{URL: "+strconv.Quote(s.URL)+"}")
}
