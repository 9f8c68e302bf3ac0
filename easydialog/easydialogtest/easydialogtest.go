// Package easydialogtest is a fake Easy Dialog for testing bots built with
// package easydialog: it builds realistic inbound requests in one line,
// encodes them the way Easy Dialog's PHP does, signs them with
// X-BM-Signature, delivers them to a bot's URL or http.Handler, and decodes
// the bot's reply.
//
//	fake := easydialogtest.New("signature-key")
//	res, err := fake.DeliverTo(bot, easydialogtest.Text("dialog-1", "Hi"))
//	// res.StatusCode == 200; res.Reply.Messages holds what the customer gets
package easydialogtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/internal/safefmt"
)

// Fake is a fake Easy Dialog with one custom adapter configuration.
type Fake struct {
	key string
	// Client delivers requests in Deliver (default http.DefaultClient).
	Client *http.Client
}

// New returns a fake Easy Dialog that signs with signatureKey.
func New(signatureKey string) *Fake { return &Fake{key: signatureKey} }

// Result is the bot's answer to one delivery.
type Result struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Reply is the decoded answer of a 200, or nil.
	Reply *easydialog.Response
}

// Texts returns the content of the reply's text messages, in order.
func (r *Result) Texts() []string {
	if r.Reply == nil {
		return nil
	}
	var out []string
	for _, m := range r.Reply.Messages {
		if m.Body.Text != nil {
			out = append(out, m.Body.Text.Content)
		}
	}
	return out
}

// Deliver posts req to the bot at url, signed, and returns its answer.
func (f *Fake) Deliver(ctx context.Context, url string, req *easydialog.Request) (*Result, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	return f.DeliverRaw(ctx, url, body)
}

// DeliverRaw posts body exactly as given, signed, to the bot at url.
func (f *Fake) DeliverRaw(ctx context.Context, url string, body []byte) (*Result, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	f.sign(hr, body)
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, err
	}
	return result(resp.StatusCode, resp.Header, out)
}

// DeliverTo passes req straight to h, signed, and returns its answer.
func (f *Fake) DeliverTo(h http.Handler, req *easydialog.Request) (*Result, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	hr := httptest.NewRequest(http.MethodPost, "/custom-bot-api", bytes.NewReader(body))
	f.sign(hr, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	return result(rec.Code, rec.Header(), rec.Body.Bytes())
}

func (f *Fake) sign(r *http.Request, body []byte) {
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(easydialog.SignatureHeader, easydialog.Sign(body, f.key))
}

func result(status int, h http.Header, body []byte) (*Result, error) {
	res := &Result{StatusCode: status, Header: h, Body: body}
	if status != http.StatusOK {
		return res, nil
	}
	res.Reply = new(easydialog.Response)
	if err := json.Unmarshal(body, res.Reply); err != nil {
		return res, fmt.Errorf("easydialogtest: the bot answered 200 with a body that is not a reply: %w", err)
	}
	if err := res.Reply.Validate(); err != nil {
		return res, fmt.Errorf("easydialogtest: the bot's reply would be refused: %w", err)
	}
	return res, nil
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

// Format describes the fake without its key, for every verb, on the value
// and on a pointer.
func (f Fake) Format(st fmt.State, verb rune) {
	safefmt.Format(st, verb, "easydialogtest.Fake{key: [REDACTED]}")
}
