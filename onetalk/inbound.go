package onetalk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/botwire/botwire/internal/jsonx"
)

// Channel types named by the doc. The set is open ("etc."), so ChannelType is
// a plain string.
const (
	ChannelWhatsApp   = "whatsapp"
	ChannelWhatsAppBA = "whatsappba" // WhatsApp Business API
	ChannelTelegram   = "telegram"
)

// Message types of an inbound message. OneTalk may send others (audio,
// sticker, ...); those decode with their raw bytes kept in Raw.
const (
	TypeText     = "text"
	TypeDocument = "document"
	TypeImage    = "image"
	TypeVideo    = "video"
	TypeLocation = "location"
	// TypeWhatsAppBA is an outbound-only message type for WABA channels.
	TypeWhatsAppBA = "whatsappba"
)

// InboundRequest is the body OneTalk posts to the bot's API URL for every
// message a connected channel receives.
type InboundRequest struct {
	CaseID      string         `json:"caseID"`
	ChannelType string         `json:"channelType"`           // "whatsapp", "whatsappba", "telegram", ...
	ChannelID   string         `json:"channelID,omitempty"`   // newer than the doc: added in its later revision
	ChannelName string         `json:"channelName,omitempty"` // newer than the doc: added in its later revision
	Sender      Sender         `json:"sender"`
	Message     InboundMessage `json:"message"`

	// Raw is the whole body as received, for fields this package does not
	// model yet. ParseInbound keeps a reference to its input here.
	Raw json.RawMessage `json:"-"`
}

// Sender is the customer who sent the message.
type Sender struct {
	// Phone is set only for the "whatsapp" and "whatsappba" channel types,
	// and may be empty.
	Phone       string `json:"phone,omitempty"`
	ContactName string `json:"contactName"`
	// CustomerUserID is newer than the doc, e.g. "user:6281234567890"; may
	// be empty.
	CustomerUserID string `json:"customerUserID,omitempty"`
}

// InboundMessage is the message a customer sent. Exactly one of Text,
// Document, Image, Video and Location is set, as named by Type; WhatsAppBA
// adds the button or list reply behind a WABA message.
type InboundMessage struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Text     *Text     `json:"text,omitempty"`
	Document *Document `json:"document,omitempty"`
	Image    *Media    `json:"image,omitempty"`
	// Video is the video of a "video" message. The doc's example sends it
	// under the key "image"; both keys decode here, and Image stays nil.
	Video      *Media       `json:"video,omitempty"`
	Location   *Location    `json:"location,omitempty"`
	WhatsAppBA *InboundWABA `json:"whatsappba,omitempty"`
	// Timestamp is when the message was sent (newer than the doc).
	Timestamp UnixMillis `json:"timestamp,omitempty"`

	// Raw is the message object as received. For a type this package does
	// not model it is the only copy of the content, and encoding the
	// message writes Raw back unchanged.
	Raw json.RawMessage `json:"-"`
}

// Text is the content of a text message, inbound or outbound.
type Text struct {
	Body string `json:"body"`
}

// Document is a file, inbound or outbound.
type Document struct {
	URL      string `json:"url"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
}

// Media is an image or a video, inbound or outbound.
type Media struct {
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Address   string  `json:"address,omitempty"`
	Name      string  `json:"name,omitempty"`
}

// WABA message types (InboundWABA.Type).
const (
	WABAButton      = "button"      // a template quick-reply button
	WABAInteractive = "interactive" // a reply to an interactive message
)

// Interactive reply types (InboundInteractive.Type).
const (
	ReplyTypeButton = "button_reply"
	ReplyTypeList   = "list_reply"
	ReplyTypeFlow   = "nfm_reply" // a WhatsApp Flow was completed (newer than the doc)
)

// InboundWABA carries what a WhatsApp Business customer clicked. The message
// itself stays of type "text", with the button's title as its body.
type InboundWABA struct {
	Type        string              `json:"type"`
	Button      *TemplateButton     `json:"button,omitempty"`
	Interactive *InboundInteractive `json:"interactive,omitempty"`
}

// TemplateButton is a template quick-reply button the customer clicked.
type TemplateButton struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// InboundInteractive is a reply to an interactive message.
type InboundInteractive struct {
	Type        string       `json:"type"`
	ButtonReply *ButtonReply `json:"button_reply,omitempty"`
	ListReply   *ListReply   `json:"list_reply,omitempty"`
	NFMReply    *NFMReply    `json:"nfm_reply,omitempty"`
}

// ButtonReply is the reply button the customer clicked.
type ButtonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListReply is the list row the customer selected.
type ListReply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// NFMReply is the answer of a completed WhatsApp Flow.
type NFMReply struct {
	// ResponseJSON is a JSON object encoded inside a string; see Decode.
	ResponseJSON string `json:"response_json"`
	Body         string `json:"body"` // always "Sent"
	Name         string `json:"name"` // "flow"
}

// Decode unmarshals the flow's response_json into v.
func (r *NFMReply) Decode(v any) error {
	if err := json.Unmarshal([]byte(r.ResponseJSON), v); err != nil {
		return fmt.Errorf("onetalk: decode nfm_reply.response_json: %w", err)
	}
	return nil
}

// UnixMillis is a time as milliseconds since the Unix epoch. It decodes from
// a JSON number or a numeric string.
type UnixMillis int64

// Time returns the instant, or the zero time when unset.
func (ms UnixMillis) Time() time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

// Bounds of a UnixMillis: the years 1 to 9999, the range time.Time prints.
const (
	minUnixMillis = -62135596800000
	maxUnixMillis = 253402300799999
)

// UnmarshalJSON accepts 1719934171955, "1719934171955", 1.719934171955e12
// and null. A value that is not a finite time between the years 1 and 9999
// ("NaN", "Infinity", 1e300) is an *json.UnmarshalTypeError, so the
// handler answers 400 instead of reading a year -292275055.
func (ms *UnixMillis) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if len(b) == 0 || string(b) == "null" {
		*ms = 0
		return nil
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil && n >= minUnixMillis && n <= maxUnixMillis {
		*ms = UnixMillis(n)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < minUnixMillis || f > maxUnixMillis {
		return &json.UnmarshalTypeError{Value: "timestamp out of range", Type: reflect.TypeFor[UnixMillis]()}
	}
	*ms = UnixMillis(f)
	return nil
}

// Known reports whether Type is one of the documented message types.
func (m *InboundMessage) Known() bool {
	switch m.Type {
	case TypeText, TypeDocument, TypeImage, TypeVideo, TypeLocation:
		return true
	}
	return false
}

// Body returns what the customer wrote: the text body, or the caption of a
// document, image or video.
func (m *InboundMessage) Body() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Document != nil:
		return m.Document.Caption
	case m.Image != nil:
		return m.Image.Caption
	case m.Video != nil:
		return m.Video.Caption
	}
	return ""
}

// ReplyID returns the id of the reply button or list row the customer
// chose, or the payload of a template button; "" for a typed message.
func (m *InboundMessage) ReplyID() string {
	w := m.WhatsAppBA
	switch {
	case w == nil:
		return ""
	case w.Button != nil:
		return w.Button.Payload
	case w.Interactive == nil:
		return ""
	case w.Interactive.ButtonReply != nil:
		return w.Interactive.ButtonReply.ID
	case w.Interactive.ListReply != nil:
		return w.Interactive.ListReply.ID
	}
	return ""
}

// inboundMessage has InboundMessage's fields without its methods, so the
// codec methods below can use the default encoding.
type inboundMessage InboundMessage

// UnmarshalJSON decodes the documented form and the doc's own variant of a
// video under the key "image".
func (m *InboundMessage) UnmarshalJSON(b []byte) error {
	var v inboundMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	decodeVideo(v.Type, &v.Image, &v.Video)
	v.Raw = jsonx.Clone(b)
	*m = InboundMessage(v)
	return nil
}

// MarshalJSON writes the documented form, or Raw unchanged for a message
// type this package does not model.
func (m InboundMessage) MarshalJSON() ([]byte, error) {
	if !m.Known() && len(m.Raw) > 0 && json.Valid(m.Raw) {
		return m.Raw, nil
	}
	return json.Marshal(inboundMessage(m))
}

// ErrMalformed reports an inbound body that is not OneTalk's JSON.
var ErrMalformed = errors.New("onetalk: malformed inbound request")

// ParseInbound decodes an inbound request. Unknown fields and unknown
// message types are not errors; a body that is not a JSON object, or that
// has no caseID to answer to, is (wrapping ErrMalformed). The returned
// request's Raw refers to data.
func ParseInbound(data []byte) (*InboundRequest, error) {
	req, err := decodeInbound(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return req, nil
}

var errNoCaseID = errors.New("caseID is missing")

// inboundWire is InboundRequest with the message as the plain struct, so
// the body is decoded in one json.Unmarshal: InboundMessage's UnmarshalJSON
// would scan the message (and a large text) twice more.
type inboundWire struct {
	CaseID      string         `json:"caseID"`
	ChannelType string         `json:"channelType"`
	ChannelID   string         `json:"channelID,omitempty"`
	ChannelName string         `json:"channelName,omitempty"`
	Sender      Sender         `json:"sender"`
	Message     inboundMessage `json:"message"`
}

// decodeInbound decodes data in one pass. The request's Raw is data and
// its message's Raw is the message's bytes within data (jsonx.Field skips
// to them without decoding): neither is a copy.
func decodeInbound(data []byte) (*InboundRequest, error) {
	if req, ok := readInbound(data); ok {
		return req, nil
	}
	return unmarshalInbound(data)
}

// unmarshalInbound is decodeInbound by json.Unmarshal: the reference the
// fast path is tested against, and what it falls back to.
func unmarshalInbound(data []byte) (*InboundRequest, error) {
	var w inboundWire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	if w.CaseID == "" {
		return nil, errNoCaseID
	}
	req := &InboundRequest{CaseID: w.CaseID, ChannelType: w.ChannelType, ChannelID: w.ChannelID,
		ChannelName: w.ChannelName, Sender: w.Sender, Message: InboundMessage(w.Message), Raw: data}
	m := &req.Message
	decodeVideo(m.Type, &m.Image, &m.Video)
	if raw := jsonx.Field(data, "message"); !jsonx.IsNull(raw) {
		m.Raw = raw
	}
	return req, nil
}

// The fields of the inbound objects, for readInbound.
var (
	inboundFields     = jsonx.NewFields("caseID", "channelType", "channelID", "channelName", "sender", "message")
	senderFields      = jsonx.NewFields("phone", "contactName", "customerUserID")
	messageFields     = jsonx.NewFields("id", "type", "text", "document", "image", "video", "location", "whatsappba", "timestamp")
	bodyFields        = jsonx.NewFields("body")
	documentFields    = jsonx.NewFields("url", "filename", "caption")
	mediaFields       = jsonx.NewFields("url", "caption")
	locationFields    = jsonx.NewFields("latitude", "longitude", "address", "name")
	wabaFields        = jsonx.NewFields("type", "button", "interactive")
	buttonFields      = jsonx.NewFields("payload", "text")
	interactiveFields = jsonx.NewFields("type", "button_reply", "list_reply", "nfm_reply")
	replyFields       = jsonx.NewFields("id", "title")
	listReplyFields   = jsonx.NewFields("id", "title", "description")
	nfmFields         = jsonx.NewFields("response_json", "body", "name")
)

// readInbound is decodeInbound's one-pass fast path (jsonx.Reader): ok is
// false when the body is not one it decodes exactly as json.Unmarshal would
// (no caseID, a null message, a key in another case, an error...), and
// decodeInbound then decodes it the usual way.
func readInbound(data []byte) (req *InboundRequest, ok bool) {
	r := jsonx.NewReader(data)
	if !r.Object() {
		return nil, false
	}
	req = &InboundRequest{Raw: data}
	var seen uint64
	for r.More() {
		switch r.Field(inboundFields, &seen) {
		case 0:
			req.CaseID = r.String()
		case 1:
			req.ChannelType = r.String()
		case 2:
			req.ChannelID = r.String()
		case 3:
			req.ChannelName = r.String()
		case 4:
			s := &req.Sender
			r.Strings(senderFields, &s.Phone, &s.ContactName, &s.CustomerUserID)
		case 5:
			r.Peek() // past the white space
			start := r.Pos()
			readMessage(&r, &req.Message)
			req.Message.Raw = data[start:r.Pos()]
		}
	}
	if !r.End() || req.CaseID == "" {
		return nil, false
	}
	m := &req.Message
	decodeVideo(m.Type, &m.Image, &m.Video)
	return req, true
}

func readMessage(r *jsonx.Reader, m *InboundMessage) {
	if !r.Object() {
		return // a null message too: unmarshalInbound has it
	}
	var seen uint64
	for r.More() {
		switch r.Field(messageFields, &seen) {
		case 0:
			m.ID = r.String()
		case 1:
			m.Type = r.String()
		case 2:
			if !r.Null() {
				m.Text = new(Text)
				r.Strings(bodyFields, &m.Text.Body)
			}
		case 3:
			if !r.Null() {
				d := new(Document)
				r.Strings(documentFields, &d.URL, &d.Filename, &d.Caption)
				m.Document = d
			}
		case 4:
			m.Image = readMedia(r)
		case 5:
			m.Video = readMedia(r)
		case 6:
			if !r.Null() {
				m.Location = readLocation(r)
			}
		case 7:
			if !r.Null() {
				m.WhatsAppBA = readWABA(r)
			}
		case 8:
			if err := m.Timestamp.UnmarshalJSON(r.Raw()); err != nil {
				r.Fail()
			}
		}
	}
}

func readMedia(r *jsonx.Reader) *Media {
	if r.Null() {
		return nil
	}
	m := new(Media)
	r.Strings(mediaFields, &m.URL, &m.Caption)
	return m
}

func readLocation(r *jsonx.Reader) *Location {
	l := new(Location)
	if !r.Object() {
		return l
	}
	var seen uint64
	for r.More() {
		switch r.Field(locationFields, &seen) {
		case 0:
			l.Latitude = r.Float()
		case 1:
			l.Longitude = r.Float()
		case 2:
			l.Address = r.String()
		case 3:
			l.Name = r.String()
		}
	}
	return l
}

func readWABA(r *jsonx.Reader) *InboundWABA {
	w := new(InboundWABA)
	if !r.Object() {
		return w
	}
	var seen uint64
	for r.More() {
		switch r.Field(wabaFields, &seen) {
		case 0:
			w.Type = r.String()
		case 1:
			if !r.Null() {
				b := new(TemplateButton)
				r.Strings(buttonFields, &b.Payload, &b.Text)
				w.Button = b
			}
		case 2:
			if !r.Null() {
				w.Interactive = readInteractive(r)
			}
		}
	}
	return w
}

func readInteractive(r *jsonx.Reader) *InboundInteractive {
	in := new(InboundInteractive)
	if !r.Object() {
		return in
	}
	var seen uint64
	for r.More() {
		switch r.Field(interactiveFields, &seen) {
		case 0:
			in.Type = r.String()
		case 1:
			if !r.Null() {
				b := new(ButtonReply)
				r.Strings(replyFields, &b.ID, &b.Title)
				in.ButtonReply = b
			}
		case 2:
			if !r.Null() {
				l := new(ListReply)
				r.Strings(listReplyFields, &l.ID, &l.Title, &l.Description)
				in.ListReply = l
			}
		case 3:
			if !r.Null() {
				n := new(NFMReply)
				r.Strings(nfmFields, &n.ResponseJSON, &n.Body, &n.Name)
				in.NFMReply = n
			}
		}
	}
	return in
}
