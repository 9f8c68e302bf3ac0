// Package easydialogtest is a fake Easy Dialog for testing bots built with
// package easydialog: it builds realistic inbound requests in one line,
// encodes them the way Easy Dialog's PHP does, signs them with
// X-BM-Signature, delivers them to a bot's http.Handler or URL, and decodes
// and validates the bot's reply.
//
// It has the shape every botwire fake shares (NewServer(Config), Close,
// URL, SetBot / SetBotURL, Deliver returning a *Delivery), except what
// needs an endpoint for the bot to call: Easy Dialog has none (the reply
// is the webhook's answer), so there is nothing to record and no fault to
// inject, and URL is empty.
//
//	fake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "key", Bot: bot})
//	d, err := fake.Deliver(ctx, easydialogtest.Text("dialog-1", "Hi"))
//	// d.StatusCode == 200; d.Reply.Messages holds what the customer gets
package easydialogtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/internal/fakekit"
	"github.com/botwire/botwire/internal/safefmt"
)

// Config sets up the fake Easy Dialog.
type Config struct {
	// SignatureKey is the custom adapter's signature key.
	SignatureKey string
	// Bot is the bot's webhook in-process, or BotURL its address; SetBot
	// and SetBotURL change them later.
	Bot    http.Handler
	BotURL string
	// Client delivers to BotURL (default http.DefaultClient).
	Client *http.Client
}

// Server is a fake Easy Dialog. Its methods are safe for concurrent use.
type Server struct {
	// URL is empty: Easy Dialog has no endpoint for the bot to call.
	URL string

	cfg Config
	mu  sync.Mutex
	bot fakekit.Bot
}

// NewServer returns a fake Easy Dialog. It starts nothing, but Close it
// like the other fakes.
func NewServer(cfg Config) *Server {
	return &Server{cfg: cfg, bot: fakekit.Bot{Handler: cfg.Bot, URL: cfg.BotURL}}
}

// Close releases the fake; it has no server to stop.
func (s *Server) Close() {}

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

// ErrNoBot is returned by Deliver when the fake has no bot to deliver to.
var ErrNoBot = fakekit.ErrNoBot

// Delivery is the bot's answer to one delivery.
type Delivery struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Latency    time.Duration
	// Reply is the decoded answer of a 200, or nil.
	Reply *easydialog.Response
}

// Texts returns the content of the reply's text messages, in order.
func (d *Delivery) Texts() []string {
	if d.Reply == nil {
		return nil
	}
	var out []string
	for _, m := range d.Reply.Messages {
		if m.Body.Text != nil {
			out = append(out, m.Body.Text.Content)
		}
	}
	return out
}

// Deliver sends req to the bot as Easy Dialog does (PHP-encoded, signed)
// and returns its answer. A 200 whose body is not a valid reply is an
// error beside the Delivery.
func (s *Server) Deliver(ctx context.Context, req *easydialog.Request) (*Delivery, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	return s.DeliverRaw(ctx, body)
}

// DeliverRaw sends body exactly as given, signed, to the bot.
func (s *Server) DeliverRaw(ctx context.Context, body []byte) (*Delivery, error) {
	s.mu.Lock()
	bot := s.bot
	s.mu.Unlock()
	a, err := fakekit.Send(ctx, s.cfg.Client, bot, "/custom-bot-api", body,
		http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, s.cfg.SignatureKey)}})
	if err != nil {
		return nil, fmt.Errorf("easydialogtest: %w", err)
	}
	d := &Delivery{StatusCode: a.StatusCode, Header: a.Header, Body: a.Body, Latency: a.Latency}
	if d.StatusCode != http.StatusOK {
		return d, nil
	}
	d.Reply = new(easydialog.Response)
	if err := json.Unmarshal(d.Body, d.Reply); err != nil {
		return d, fmt.Errorf("easydialogtest: the bot answered 200 with a body that is not a reply: %w", err)
	}
	if err := d.Reply.Validate(); err != nil {
		return d, fmt.Errorf("easydialogtest: the bot's reply would be refused: %w", err)
	}
	return d, nil
}

// Encode returns req as Easy Dialog's PHP json_encode writes it: "/"
// escaped as "\/", non-ASCII as \uXXXX, no HTML escaping. Bots tested with
// it must verify the signature over the raw bytes, as they must in
// production.
func Encode(req *easydialog.Request) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, err
	}
	return phpEscape(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// phpEscape rewrites JSON the way PHP's json_encode escapes it by default.
// "/" and non-ASCII characters only occur inside strings in JSON, so a
// byte-level rewrite is exact. Go's HTML escapes (\u003c, \u003e, \u0026,
// which nested MarshalJSON methods produce whatever the encoder's setting)
// are undone, since PHP does not write them.
func phpEscape(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b):
			if i+6 <= len(b) && b[i+1] == 'u' {
				switch string(b[i+2 : i+6]) {
				case "003c", "003e", "0026":
					v, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 8)
					out = append(out, byte(v))
					i += 6
					continue
				}
			}
			out = append(out, c, b[i+1]) // keep any other escape whole
			i += 2
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			i += size
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				out = appendU(appendU(out, r1), r2)
			} else {
				out = appendU(out, r)
			}
		}
	}
	return out
}

func appendU(out []byte, r rune) []byte {
	s := strconv.FormatInt(int64(r), 16)
	out = append(out, `\u`...)
	for range 4 - len(s) {
		out = append(out, '0')
	}
	return append(out, s...)
}

// NewRequest returns a realistic inbound request in dialog dialogUUID with
// body: a Viber message from John Doe with a fresh providerMsgID (a number
// beyond 2^53, like the real ones) and the current time.
func NewRequest(dialogUUID string, body easydialog.Body) *easydialog.Request {
	var n [8]byte
	_, _ = rand.Read(n[:])
	id := int64(binary.LittleEndian.Uint64(n[:])>>2) + 1<<60
	return &easydialog.Request{
		ServiceUUID: "d354fe67-87f2-4438-959f-65fde4622044",
		DialogUUID:  dialogUUID,
		Channel:     "viber",
		Message: easydialog.Message{
			From:            "RC32utNr+lEKr/Gij0TYTw==",
			To:              []easydialog.Destination{},
			ProviderMsgID:   easydialog.Number(id),
			AllowedChannels: []string{"viber"},
			Custom:          json.RawMessage(`[]`),
			Timestamp: easydialog.Timestamp{
				Date:         time.Now().UTC().Format("2006-01-02 15:04:05.000000"),
				TimezoneType: 1,
				Timezone:     "+00:00",
			},
			Body: body,
		},
		Contact: easydialog.Contact{
			UUID: "c4609f39-7c46-4bf5-b4f1-b8b0bc05beca", CreatedDT: "2022-06-09 12:20:07", UpdatedDT: "2022-06-09 12:20:07",
			OptStatus: "in", OptStatusWebpush: "out", FirstName: "John", LastName: "Doe", Language: "en",
			Country: "RS", ChannelNames: "viber", ChannelOptStatus: "in",
		},
	}
}

// Text returns an inbound text message.
func Text(dialogUUID, text string) *easydialog.Request {
	return NewRequest(dialogUUID, easydialog.Body{Text: &easydialog.TextMessage{Content: text}})
}

// Picture returns an inbound picture.
func Picture(dialogUUID, url string) *easydialog.Request {
	return NewRequest(dialogUUID, easydialog.Body{Picture: &easydialog.MediaFile{URL: url}})
}

// Location returns an inbound shared location.
func Location(dialogUUID string, latitude, longitude float64) *easydialog.Request {
	return NewRequest(dialogUUID, easydialog.Body{Location: &easydialog.LocationMessage{Latitude: latitude, Longitude: longitude}})
}

// Format describes the config without its key, for every verb, on the
// value and on a pointer.
func (c Config) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, safefmt.Describe(c, "SignatureKey"))
}

// Format describes the fake without its key, for every verb.
func (s *Server) Format(f fmt.State, verb rune) {
	safefmt.Format(f, verb, "easydialogtest.Server{key: [REDACTED]}")
}
