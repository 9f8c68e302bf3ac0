package ultimate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/botwire/botwire/internal/jsonx"
)

// Chat webhook event types (data.eventType).
const (
	EventSendMessage  = "sendMessage"
	EventEscalate     = "escalate"
	EventIsTeamOnline = "isTeamOnline"
	// The widget events reach only customers using Ultimate's chat widget.
	EventWidgetMessage    = "widgetMessage"
	EventWidgetEscalate   = "widgetEscalate"
	EventWidgetEndSession = "widgetEndSession"
)

// Message types of a sendMessage event.
const (
	MessageText     = "text"
	MessageCarousel = "carousel"
)

// Button types.
const (
	ButtonReply = "button" // send its text back with SendText or SelectCard
	ButtonLink  = "link"   // opens a link; nothing is sent back
)

// ChatEvent is one call of the chat webhook: the envelope and the event's
// data, read through the typed accessors (Message, Escalation, ...).
type ChatEvent struct {
	BotID string
	// Channel is always "chat" when present; the doc's examples omit it.
	Channel   string
	EventType string // data.eventType

	// Raw is the body as received; RawData returns its data object.
	Raw json.RawMessage

	data chatData
}

// chatData holds the fields of every chat event type, so a body is decoded
// in one pass whatever its type; the accessors hand out typed views.
type chatData struct {
	EventType              string         `json:"eventType"`
	PlatformConversationID string         `json:"platformConversationId"`
	Type                   string         `json:"type"`
	ReplyID                string         `json:"replyId"`
	Buttons                []Button       `json:"buttons"`
	Text                   string         `json:"text"`
	CarouselCards          []CarouselCard `json:"carouselCards"`
	Confidence             *float64       `json:"confidence"`
	MessageID              string         `json:"messageId"`
	EscalateTo             string         `json:"escalateTo"`
	TeamID                 string         `json:"teamId"`
}

// MarshalJSON writes the event as Ultimate sends it: Raw when the event was
// decoded.
func (e ChatEvent) MarshalJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	return json.Marshal(struct {
		BotID   string   `json:"botId"`
		Channel string   `json:"channel,omitempty"`
		Data    chatData `json:"data"`
	}{e.BotID, e.Channel, e.data})
}

// RawData returns the event's data object as received, for fields this
// package does not model.
func (e *ChatEvent) RawData() json.RawMessage {
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(e.Raw, &v)
	return v.Data
}

// Message is the data of a sendMessage event: the virtual agent's reply, to
// show to the visitor. Buttons of type "button" are answered with
// Client.SendText (or Client.SelectCard inside a carousel).
type Message struct {
	EventType              string         `json:"eventType"`
	PlatformConversationID string         `json:"platformConversationId"`
	Type                   string         `json:"type"` // MessageText or MessageCarousel
	ReplyID                string         `json:"replyId,omitempty"`
	Buttons                []Button       `json:"buttons"`
	Text                   string         `json:"text"` // may be "" for a carousel
	CarouselCards          []CarouselCard `json:"carouselCards"`
	// Confidence (0 to 1) and MessageID are newer than the doc.
	Confidence *float64 `json:"confidence,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
}

// MarshalJSON writes nil Buttons and CarouselCards as [], as Ultimate
// sends them: "The buttons array will be empty for a simple text message",
// "The carousel cards array will be empty for a simple text message", and
// every example has "buttons": [] and "carouselCards": [] rather than null.
func (m Message) MarshalJSON() ([]byte, error) {
	type message Message
	v := message(m)
	if v.Buttons == nil {
		v.Buttons = []Button{}
	}
	if v.CarouselCards == nil {
		v.CarouselCards = []CarouselCard{}
	}
	return json.Marshal(v)
}

// Button is a button of a message or a card. The doc's table types buttons
// as strings while every example sends objects; a string decodes as a
// reply button with that text.
type Button struct {
	Type string `json:"type"` // ButtonReply or ButtonLink
	Text string `json:"text"`
}

// UnmarshalJSON accepts {"type", "text"} or a bare string.
func (b *Button) UnmarshalJSON(data []byte) error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '"' {
		*b = Button{Type: ButtonReply}
		return json.Unmarshal(t, &b.Text)
	}
	type button Button
	var v button
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = Button(v)
	return nil
}

// CarouselCard is one card of a carousel.
type CarouselCard struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	ImageURL    string   `json:"imageUrl,omitempty"`
	Buttons     []Button `json:"buttons"`
}

// Escalation is the data of an escalate event: hand the conversation to a
// human. It is synchronous: the handler's answer tells Ultimate whether the
// escalation worked.
type Escalation struct {
	EventType              string `json:"eventType"`
	PlatformConversationID string `json:"platformConversationId"`
	// EscalateTo is set when an escalation target is defined in Ultimate's
	// dashboard.
	EscalateTo string `json:"escalateTo,omitempty"`
}

// TeamOnlineQuery is the data of an isTeamOnline event. The doc's example
// has no platformConversationId; the official template requires one.
type TeamOnlineQuery struct {
	EventType              string `json:"eventType"`
	PlatformConversationID string `json:"platformConversationId,omitempty"`
	TeamID                 string `json:"teamId,omitempty"`
}

// WidgetEvent is the data of widgetMessage, widgetEscalate and
// widgetEndSession, sent only to customers using Ultimate's chat widget.
type WidgetEvent struct {
	EventType              string `json:"eventType"`
	PlatformConversationID string `json:"platformConversationId"`
	Text                   string `json:"text,omitempty"`       // widgetMessage
	EscalateTo             string `json:"escalateTo,omitempty"` // widgetEscalate
}

// Known reports whether the event type is one this package models.
func (e *ChatEvent) Known() bool {
	switch e.EventType {
	case EventSendMessage, EventEscalate, EventIsTeamOnline, EventWidgetMessage, EventWidgetEscalate, EventWidgetEndSession:
		return true
	}
	return false
}

// ErrWrongEvent is returned by a data accessor called on another event.
var ErrWrongEvent = errors.New("ultimate: wrong event for this data")

func (e *ChatEvent) want(types ...string) error {
	for _, t := range types {
		if e.EventType == t {
			return nil
		}
	}
	return fmt.Errorf("%w: %s data of a %q event", ErrWrongEvent, types[0], e.EventType)
}

// Message returns the data of a sendMessage event.
func (e *ChatEvent) Message() (*Message, error) {
	if err := e.want(EventSendMessage); err != nil {
		return nil, err
	}
	d := &e.data
	return &Message{EventType: d.EventType, PlatformConversationID: d.PlatformConversationID, Type: d.Type,
		ReplyID: d.ReplyID, Buttons: d.Buttons, Text: d.Text, CarouselCards: d.CarouselCards,
		Confidence: d.Confidence, MessageID: d.MessageID}, nil
}

// Escalation returns the data of an escalate event.
func (e *ChatEvent) Escalation() (*Escalation, error) {
	if err := e.want(EventEscalate); err != nil {
		return nil, err
	}
	return &Escalation{EventType: e.EventType, PlatformConversationID: e.data.PlatformConversationID, EscalateTo: e.data.EscalateTo}, nil
}

// TeamOnlineQuery returns the data of an isTeamOnline event.
func (e *ChatEvent) TeamOnlineQuery() (*TeamOnlineQuery, error) {
	if err := e.want(EventIsTeamOnline); err != nil {
		return nil, err
	}
	return &TeamOnlineQuery{EventType: e.EventType, PlatformConversationID: e.data.PlatformConversationID, TeamID: e.data.TeamID}, nil
}

// WidgetEvent returns the data of a widgetMessage, widgetEscalate or
// widgetEndSession event.
func (e *ChatEvent) WidgetEvent() (*WidgetEvent, error) {
	if err := e.want(EventWidgetMessage, EventWidgetEscalate, EventWidgetEndSession); err != nil {
		return nil, err
	}
	return &WidgetEvent{EventType: e.EventType, PlatformConversationID: e.data.PlatformConversationID,
		Text: e.data.Text, EscalateTo: e.data.EscalateTo}, nil
}

// ErrMalformed reports a webhook body that is not Ultimate's JSON.
var ErrMalformed = errors.New("ultimate: malformed webhook body")

var errNoData = errors.New("data is missing or not an object")

// ParseChatEvent decodes a chat webhook body. Unknown event types and fields
// are not errors; a body without a data object is. Raw refers to body.
func ParseChatEvent(body []byte) (*ChatEvent, error) {
	e, err := decodeChatEvent(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return e, nil
}

func decodeChatEvent(body []byte) (*ChatEvent, error) {
	if e, ok := readChatEvent(body); ok {
		return e, nil
	}
	return unmarshalChatEvent(body)
}

// unmarshalChatEvent is decodeChatEvent by json.Unmarshal: the reference
// the fast path is tested against, and what it falls back to.
func unmarshalChatEvent(body []byte) (*ChatEvent, error) {
	var w struct {
		BotID   string    `json:"botId"`
		Channel string    `json:"channel"`
		Data    *chatData `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.Data == nil {
		return nil, errNoData
	}
	return &ChatEvent{BotID: w.BotID, Channel: w.Channel, EventType: w.Data.EventType, Raw: body, data: *w.Data}, nil
}

// The fields of the chat webhook's objects, for readChatEvent.
var (
	chatFields     = jsonx.NewFields("botId", "channel", "data")
	chatDataFields = jsonx.NewFields("eventType", "platformConversationId", "type", "replyId", "buttons", "text",
		"carouselCards", "confidence", "messageId", "escalateTo", "teamId")
	buttonFields = jsonx.NewFields("type", "text")
	cardFields   = jsonx.NewFields("title", "description", "imageUrl", "buttons")
)

// readChatEvent is decodeChatEvent's one-pass fast path (jsonx.Reader): ok
// is false when the body is not one it decodes exactly as json.Unmarshal
// would (a null or missing data, a null button, a key in another case, an
// error...), and decodeChatEvent then decodes it the usual way.
func readChatEvent(body []byte) (e *ChatEvent, ok bool) {
	r := jsonx.NewReader(body)
	if !r.Object() {
		return nil, false
	}
	e = &ChatEvent{Raw: body}
	var seen uint64
	data := false
	for r.More() {
		switch r.Field(chatFields, &seen) {
		case 0:
			e.BotID = r.String()
		case 1:
			e.Channel = r.String()
		case 2:
			data = true
			readChatData(&r, &e.data)
		}
	}
	if !r.End() || !data {
		return nil, false
	}
	e.EventType = e.data.EventType
	return e, true
}

func readChatData(r *jsonx.Reader, d *chatData) {
	if !r.Object() {
		return
	}
	var seen uint64
	for r.More() {
		switch r.Field(chatDataFields, &seen) {
		case 0:
			d.EventType = r.String()
		case 1:
			d.PlatformConversationID = r.String()
		case 2:
			d.Type = r.String()
		case 3:
			d.ReplyID = r.String()
		case 4:
			d.Buttons = readButtons(r)
		case 5:
			d.Text = r.String()
		case 6:
			if r.Null() || !r.Array() {
				break
			}
			d.CarouselCards = make([]CarouselCard, 0)
			for r.More() {
				d.CarouselCards = append(d.CarouselCards, readCard(r))
			}
		case 7:
			if !r.Null() {
				c := r.Float()
				d.Confidence = &c
			}
		case 8:
			d.MessageID = r.String()
		case 9:
			d.EscalateTo = r.String()
		case 10:
			d.TeamID = r.String()
		}
	}
}

// readButtons reads a list of buttons as Button.UnmarshalJSON does (an
// object or a bare string); a null list is nil, [] is empty.
func readButtons(r *jsonx.Reader) []Button {
	if r.Null() || !r.Array() {
		return nil
	}
	list := make([]Button, 0)
	for r.More() {
		var b Button
		switch r.Peek() {
		case '"':
			b = Button{Type: ButtonReply, Text: r.String()}
		case '{':
			r.Object()
			var seen uint64
			for r.More() {
				switch r.Field(buttonFields, &seen) {
				case 0:
					b.Type = r.String()
				case 1:
					b.Text = r.String()
				}
			}
		default:
			r.Fail()
		}
		list = append(list, b)
	}
	return list
}

func readCard(r *jsonx.Reader) CarouselCard {
	var c CarouselCard
	if !r.Object() {
		return c
	}
	var seen uint64
	for r.More() {
		switch r.Field(cardFields, &seen) {
		case 0:
			c.Title = r.String()
		case 1:
			c.Description = r.String()
		case 2:
			c.ImageURL = r.String()
		case 3:
			c.Buttons = readButtons(r)
		}
	}
	return c
}

// ActionRequest is a call of the actions webhook: run the action Name with
// its parameters and answer with results to store on the session.
type ActionRequest struct {
	BotID string `json:"botId"`
	// ConversationID is Ultimate's internal id ("can be ignored").
	ConversationID         string        `json:"conversationId,omitempty"`
	PlatformConversationID string        `json:"platformConversationId"`
	Name                   string        `json:"name"`
	Data                   []ActionParam `json:"data"`

	// Raw is the body as received.
	Raw json.RawMessage `json:"-"`
}

// ActionParam is one parameter of an action. Value is a list ("a list with
// a single value" in practice) of any JSON values, kept raw; String reads
// the first one.
type ActionParam struct {
	Key      string                           `json:"key"`
	Value    jsonx.OneOrMany[json.RawMessage] `json:"value"`
	SaveAs   string                           `json:"saveAs,omitempty"`
	Sanitize bool                             `json:"sanitize,omitempty"`
}

// UnmarshalJSON also reads the doc example's literal key "saveAs?".
func (p *ActionParam) UnmarshalJSON(b []byte) error {
	type param ActionParam
	var v struct {
		param
		SaveAsQ string `json:"saveAs?"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.SaveAs == "" {
		v.SaveAs = v.SaveAsQ
	}
	*p = ActionParam(v.param)
	return nil
}

// String returns the first value: a JSON string as its text, anything else
// (a number, true) as its JSON literal; "" when there is none.
func (p *ActionParam) String() string {
	if len(p.Value) == 0 || jsonx.IsNull(p.Value[0]) {
		return ""
	}
	var s string
	if json.Unmarshal(p.Value[0], &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(p.Value[0]))
}

// Param returns the parameter named key.
func (r *ActionRequest) Param(key string) (ActionParam, bool) {
	for _, p := range r.Data {
		if p.Key == key {
			return p, true
		}
	}
	return ActionParam{}, false
}

// String returns the first value of the parameter named key, or "".
func (r *ActionRequest) String(key string) string {
	p, ok := r.Param(key)
	if !ok {
		return ""
	}
	return p.String()
}

// ParseActionRequest decodes an actions webhook body. Raw refers to body.
func ParseActionRequest(body []byte) (*ActionRequest, error) {
	r, err := decodeActionRequest(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return r, nil
}

func decodeActionRequest(body []byte) (*ActionRequest, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	r := new(ActionRequest)
	if err := json.Unmarshal(body, r); err != nil {
		return nil, err
	}
	r.Raw = body
	return r, nil
}

// ActionResult is a session parameter the action hands back to Ultimate.
type ActionResult struct {
	Key      string `json:"key"`
	Value    any    `json:"value"`
	Sanitize bool   `json:"sanitize,omitempty"` // true for personal data
}

// ActionResponse is the actions webhook's answer.
type ActionResponse struct {
	Results []ActionResult `json:"results"`
}
