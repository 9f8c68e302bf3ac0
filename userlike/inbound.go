package userlike

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/botwire/botwire/internal/jsonx"
)

// Webhook event names (packet.name of what Userlike sends).
const (
	EventStart               = "start"
	EventMessage             = "message"
	EventClick               = "click"
	EventMedia               = "media"
	EventLocation            = "location"             // WhatsApp only
	EventForwardFailed       = "forward_failed"       // no payload
	EventCampaignUnsubscribe = "campaign_unsubscribe" // WhatsApp campaigns
)

// Channel types (info.conversation.contact_channel.type).
const (
	ChannelWeb              = "web"
	ChannelFacebook         = "facebook"
	ChannelTelegram         = "telegram"
	ChannelThreema          = "threema"
	ChannelSMS              = "sms"
	ChannelWhatsAppBusiness = "whatsapp_business"
	ChannelCustom           = "custom"
)

// Event is one webhook call: Info about the chatbot session and the Packet
// that happened.
type Event struct {
	Info   Info   `json:"info"`
	Packet Packet `json:"packet"`

	// Raw is the event as received.
	Raw json.RawMessage `json:"-"`

	// typed is the payload decoded once when the event was parsed (a
	// *MessagePayload, *ClickPayload, ...), nil for an Event built by hand.
	typed any
	// mistyped are the payload keys whose value did not fit the guessed
	// type (see MediaPayload); the handler logs them.
	mistyped []string
}

// Info describes the chatbot session.
type Info struct {
	// CID identifies the chatbot session, e.g.
	// "chatbot::258:a56785fb6fb84edd890905913b0c0821". Every action needs it.
	CID string `json:"cid"`
	// ApproachMode is "proactive" when the messenger opened by itself,
	// otherwise "normal".
	ApproachMode string          `json:"approach_mode,omitempty"`
	Contact      *Contact        `json:"contact,omitempty"`
	Context      json.RawMessage `json:"context,omitempty"` // the state the bot set last
	Conversation *Conversation   `json:"conversation,omitempty"`
	// Widget is the widget the conversation started on; its shape is not
	// documented, so it is kept as raw JSON.
	Widget json.RawMessage `json:"widget,omitempty"`
}

// Contact is the contact of the conversation. The doc does not show its
// shape; the fields below are inferred from the contact_update action and
// may be empty. Raw keeps the object as received.
//
// Because the shape is a guess, a field of an unexpected type never rejects
// the webhook: a number where a string was guessed keeps its digits
// ("mobile_number": 4915112345678), any other mismatch ("custom_fields": [])
// leaves the field empty, the rest still decodes, and the handler logs the
// field names at debug level.
type Contact struct {
	Name               string         `json:"name,omitempty"`                 // inferred
	Email              string         `json:"email,omitempty"`                // inferred
	MobileNumber       string         `json:"mobile_number,omitempty"`        // inferred
	ExternalCustomerID string         `json:"external_customer_id,omitempty"` // inferred
	CustomFields       map[string]any `json:"custom_fields,omitempty"`        // inferred

	Raw json.RawMessage `json:"-"`

	mistyped []string // keys whose value did not fit the guessed type
}

// UnmarshalJSON keeps the raw object beside the inferred fields, tolerating
// values of unexpected types (see Contact).
func (c *Contact) UnmarshalJSON(b []byte) error {
	type contact Contact
	var v contact
	mistyped, err := decodeGuessed(b, &v, func(v *contact) map[string]any {
		return map[string]any{"name": &v.Name, "email": &v.Email, "mobile_number": &v.MobileNumber,
			"external_customer_id": &v.ExternalCustomerID, "custom_fields": &v.CustomFields}
	})
	if err != nil {
		return err // not JSON, or not an object: the body is malformed
	}
	v.mistyped = mistyped
	v.Raw = jsonx.Clone(b)
	*c = Contact(v)
	return nil
}

// decodeGuessed decodes b into v, a method-free twin of a type whose fields
// are guesses: in one pass when every field has its guessed type, else field
// by field (jsonx.Guessed), keeping what fits and returning the keys that
// did not. fields names v's fields by their JSON keys. An error means b is
// not a JSON object.
func decodeGuessed[T any](b []byte, v *T, fields func(*T) map[string]any) (mistyped []string, err error) {
	err = json.Unmarshal(b, v)
	if !jsonx.IsTypeError(err) {
		return nil, err
	}
	var zero T
	*v = zero
	return jsonx.Guessed(b, fields(v))
}

// MarshalJSON writes Raw when the contact was decoded, so no field is lost.
func (c Contact) MarshalJSON() ([]byte, error) {
	if len(c.Raw) > 0 {
		return c.Raw, nil
	}
	type contact Contact
	return json.Marshal(contact(c))
}

// Conversation describes the conversation. Only contact_channel is
// documented; Raw keeps the rest (URL, topic, ...).
type Conversation struct {
	ContactChannel *ContactChannel `json:"contact_channel,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// ContactChannel is the channel the contact writes on.
type ContactChannel struct {
	State string `json:"state,omitempty"` // "valid"
	Type  string `json:"type"`            // ChannelWeb, ChannelWhatsAppBusiness, ...
}

// UnmarshalJSON keeps the raw object beside contact_channel.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	type conversation Conversation
	var v conversation
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	v.Raw = jsonx.Clone(b)
	*c = Conversation(v)
	return nil
}

// MarshalJSON writes Raw when the conversation was decoded.
func (c Conversation) MarshalJSON() ([]byte, error) {
	if len(c.Raw) > 0 {
		return c.Raw, nil
	}
	type conversation Conversation
	return json.Marshal(conversation(c))
}

// Packet is what happened: an event name and its payload, kept as raw JSON
// (most payload fields are not in the doc). Use the Event accessors.
type Packet struct {
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Known reports whether the event is one this package models.
func (e *Event) Known() bool {
	switch e.Packet.Name {
	case EventStart, EventMessage, EventClick, EventMedia, EventLocation, EventForwardFailed, EventCampaignUnsubscribe:
		return true
	}
	return false
}

// Channel returns info.conversation.contact_channel.type, or "" when
// Userlike did not send it.
func (e *Event) Channel() string {
	if c := e.Info.Conversation; c != nil && c.ContactChannel != nil {
		return c.ContactChannel.Type
	}
	return ""
}

// DecodeContext decodes the context the bot set last into v. When there is
// no context (absent, null or {}), v is left unchanged and the error is nil.
func (e *Event) DecodeContext(v any) error {
	c := bytes.TrimSpace(e.Info.Context)
	if jsonx.IsNull(c) || string(c) == "{}" {
		return nil
	}
	if err := json.Unmarshal(c, v); err != nil {
		return fmt.Errorf("userlike: decode context: %w", err)
	}
	return nil
}

// ErrWrongEvent is returned by a payload accessor called on another event.
var ErrWrongEvent = errors.New("userlike: wrong event for this payload")

// DecodePayload decodes the packet's payload into v, for events or fields
// this package does not model.
func (e *Event) DecodePayload(v any) error {
	if jsonx.IsNull(e.Packet.Payload) {
		return nil
	}
	if err := json.Unmarshal(e.Packet.Payload, v); err != nil {
		return fmt.Errorf("userlike: decode %s payload: %w", e.Packet.Name, err)
	}
	return nil
}

func payload[T any](e *Event, names ...string) (*T, error) {
	for _, n := range names {
		if e.Packet.Name == n {
			if v, ok := e.typed.(*T); ok {
				return v, nil
			}
			v := new(T)
			return v, e.DecodePayload(v)
		}
	}
	return nil, fmt.Errorf("%w: %s payload of a %q event", ErrWrongEvent, names[0], e.Packet.Name)
}

// newEventPayload returns an empty typed payload for the modelled events whose
// payload has fields, nil for the others.
func newEventPayload(name string) any {
	switch name {
	case EventStart:
		return new(StartPayload)
	case EventMessage:
		return new(MessagePayload)
	case EventClick:
		return new(ClickPayload)
	case EventMedia:
		return new(MediaPayload)
	case EventLocation:
		return new(LocationPayload)
	}
	return nil
}

// decodeTyped decodes the payload of a modelled event once, at parse time,
// so a payload of the wrong shape is refused before any callback runs (a
// 400, not a 500 that the platform would redeliver forever). The error
// names the field by its path from the event ("packet.payload.body").
func (e *Event) decodeTyped() error {
	v := newEventPayload(e.Packet.Name)
	if v == nil {
		return nil
	}
	if !jsonx.IsNull(e.Packet.Payload) {
		var err error
		if g, ok := v.(guessedPayload); ok {
			e.mistyped, err = g.decode(e.Packet.Payload)
		} else {
			err = json.Unmarshal(e.Packet.Payload, v)
		}
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				f := *te
				f.Field = "packet.payload"
				if te.Field != "" {
					f.Field += "." + te.Field
				}
				return &f
			}
			return err
		}
	}
	e.typed = v
	return nil
}

// MessagePayload is a message from the contact.
type MessagePayload struct {
	Body string `json:"body"`
}

// StartPayload starts a session. On messaging-app channels it may already
// carry the contact's first message (Body) or a media upload (the media
// fields, inferred and tolerated as for MediaPayload); on the website it is
// empty. Body is documented: a body of another type than a string is an
// error.
type StartPayload struct {
	Body string `json:"body,omitempty"`
	MediaPayload
}

// UnmarshalJSON decodes Body strictly and the media fields as MediaPayload
// does.
func (s *StartPayload) UnmarshalJSON(b []byte) error {
	_, err := s.decode(b)
	return err
}

func (s *StartPayload) decode(b []byte) ([]string, error) {
	var body struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, err
	}
	var m MediaPayload
	mistyped, err := m.decode(b)
	if err != nil {
		return nil, err
	}
	*s = StartPayload{Body: body.Body, MediaPayload: m}
	return mistyped, nil
}

// guessedPayload is a payload whose fields are guesses: decode tolerates
// values of other types and returns the keys it left empty.
type guessedPayload interface {
	decode(b []byte) (mistyped []string, err error)
}

// ClickPayload is the contact's click on an option of a bubbles, carousel,
// list_template or button_template message.
type ClickPayload struct {
	Value ClickValue `json:"value"`
}

// ClickValue is the clicked option. ID is documented; Label is inferred.
type ClickValue struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
}

// MediaPayload is a file the contact uploaded. The doc lost this table: the
// fields are inferred (the outbound media action names its URL "link", so
// both url and link are read); use DecodePayload for anything else.
//
// Because the fields are guesses, a value of an unexpected type never
// rejects the event: a number where a string was guessed keeps its digits
// ("name": 7 is "7"), any other mismatch ("url": {"href": ...}) leaves the
// field empty, the rest still decodes, Event.Packet.Payload keeps the
// payload whole, and the handler logs the field names at debug level. A
// payload that is not an object is still malformed.
type MediaPayload struct {
	URL      string `json:"url,omitempty"`       // inferred
	Link     string `json:"link,omitempty"`      // inferred
	Name     string `json:"name,omitempty"`      // inferred
	MimeType string `json:"mime_type,omitempty"` // inferred
}

// UnmarshalJSON tolerates values of unexpected types (see MediaPayload).
func (m *MediaPayload) UnmarshalJSON(b []byte) error {
	_, err := m.decode(b)
	return err
}

func (m *MediaPayload) decode(b []byte) ([]string, error) {
	type media MediaPayload
	var v media
	mistyped, err := decodeGuessed(b, &v, func(v *media) map[string]any {
		return map[string]any{"url": &v.URL, "link": &v.Link, "name": &v.Name, "mime_type": &v.MimeType}
	})
	if err != nil {
		return nil, err
	}
	*m = MediaPayload(v)
	return mistyped, nil
}

// MediaURL returns the upload's URL, whichever key carried it.
func (m *MediaPayload) MediaURL() string {
	if m.URL != "" {
		return m.URL
	}
	return m.Link
}

// LocationPayload is a location shared on WhatsApp. Fields are inferred,
// and tolerated as MediaPayload's are: a coordinate sent as a string that
// holds a number ("latitude": "52.5") is read as that number; one that does
// not ("north", an object) is left 0 and logged, so a 0 coordinate may mean
// "not readable": Event.Packet.Payload has what was sent.
type LocationPayload struct {
	Latitude  float64 `json:"latitude"`          // inferred
	Longitude float64 `json:"longitude"`         // inferred
	Name      string  `json:"name,omitempty"`    // inferred
	Address   string  `json:"address,omitempty"` // inferred
}

// UnmarshalJSON tolerates values of unexpected types (see LocationPayload).
func (l *LocationPayload) UnmarshalJSON(b []byte) error {
	_, err := l.decode(b)
	return err
}

func (l *LocationPayload) decode(b []byte) ([]string, error) {
	type location LocationPayload
	var v location
	mistyped, err := decodeGuessed(b, &v, func(v *location) map[string]any {
		return map[string]any{"latitude": &v.Latitude, "longitude": &v.Longitude, "name": &v.Name, "address": &v.Address}
	})
	if err != nil {
		return nil, err
	}
	*l = LocationPayload(v)
	return mistyped, nil
}

// Start returns the payload of a start event.
func (e *Event) Start() (*StartPayload, error) { return payload[StartPayload](e, EventStart) }

// Message returns the payload of a message event.
func (e *Event) Message() (*MessagePayload, error) { return payload[MessagePayload](e, EventMessage) }

// Click returns the payload of a click event.
func (e *Event) Click() (*ClickPayload, error) { return payload[ClickPayload](e, EventClick) }

// Media returns the payload of a media event.
func (e *Event) Media() (*MediaPayload, error) { return payload[MediaPayload](e, EventMedia) }

// Location returns the payload of a location event.
func (e *Event) Location() (*LocationPayload, error) {
	return payload[LocationPayload](e, EventLocation)
}

// CampaignUnsubscribe returns the raw payload of a campaign_unsubscribe
// event (its fields are not documented).
func (e *Event) CampaignUnsubscribe() (json.RawMessage, error) {
	if e.Packet.Name != EventCampaignUnsubscribe {
		return nil, fmt.Errorf("%w: campaign_unsubscribe payload of a %q event", ErrWrongEvent, e.Packet.Name)
	}
	return json.RawMessage(e.Packet.Payload), nil
}

// Text returns what the contact said, so a bot can treat the ways of saying
// it alike, as the doc recommends for WhatsApp and Facebook (where later
// clicks arrive as messages carrying the option's label): the body of a
// message or of a start event, and the label of a click (its id when there
// is no label). Anything else gives "".
func (e *Event) Text() string {
	switch e.Packet.Name {
	case EventStart:
		if p, err := e.Start(); err == nil {
			return p.Body
		}
	case EventMessage:
		if p, err := e.Message(); err == nil {
			return p.Body
		}
	case EventClick:
		if p, err := e.Click(); err == nil {
			if p.Value.Label != "" {
				return p.Value.Label
			}
			return p.Value.ID
		}
	}
	return ""
}

// ErrMalformed reports a webhook body that is not Userlike's JSON.
var ErrMalformed = errors.New("userlike: malformed webhook body")

// ParseEvents decodes a webhook body: a single event object or a list of
// them. Unknown events and fields are not errors; an event without
// info.cid is. The events' Raw refers to data.
func ParseEvents(data []byte) ([]Event, error) {
	events, err := decodeEvents(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return events, nil
}

var errNoCID = errors.New("info.cid is missing")

func decodeEvents(data []byte) ([]Event, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, errors.New("empty body")
	}
	if t[0] != '{' && t[0] != '[' {
		return nil, errors.New("not a JSON object or list")
	}
	events, err := decodeEventsOnce(t)
	if jsonx.IsTypeError(err) {
		// A payload field has a type the union does not take: decode again
		// the slow way, each payload by its event's name, so an unknown
		// event keeps any payload and a known one names the right field.
		events, err = decodeEventsByName(t)
	}
	if err != nil {
		return nil, err
	}
	for i := range events {
		if events[i].Info.CID == "" {
			return nil, errNoCID
		}
	}
	return events, nil
}

// eventWire is an event whose payload decodes into the union of the
// modelled payloads, so a body is decoded in one json.Unmarshal. The
// payload's raw bytes are then its span within the body (jsonx.Field), not
// a copy.
type eventWire struct {
	Info   Info `json:"info"`
	Packet struct {
		Name    string        `json:"name"`
		Payload *payloadUnion `json:"payload"`
	} `json:"packet"`
}

// payloadUnion holds every field of every modelled payload; their names
// do not clash.
type payloadUnion struct {
	Body      string     `json:"body"`
	Value     ClickValue `json:"value"`
	URL       string     `json:"url"`
	Link      string     `json:"link"`
	Name      string     `json:"name"`
	MimeType  string     `json:"mime_type"`
	Latitude  float64    `json:"latitude"`
	Longitude float64    `json:"longitude"`
	Address   string     `json:"address"`
}

func (w *eventWire) event(raw []byte) Event {
	return w.eventWith(raw, jsonx.Field(jsonx.Field(raw, "packet"), "payload"))
}

// eventWith is event with the payload's span within raw already found.
func (w *eventWire) eventWith(raw, payload []byte) Event {
	e := Event{Info: w.Info, Packet: Packet{Name: w.Packet.Name}, Raw: raw}
	if len(payload) > 0 {
		e.Packet.Payload = payload
	}
	u := w.Packet.Payload
	if u == nil {
		u = &payloadUnion{}
	}
	media := func() MediaPayload {
		return MediaPayload{URL: u.URL, Link: u.Link, Name: u.Name, MimeType: u.MimeType}
	}
	switch e.Packet.Name {
	case EventStart:
		e.typed = &StartPayload{Body: u.Body, MediaPayload: media()}
	case EventMessage:
		e.typed = &MessagePayload{Body: u.Body}
	case EventClick:
		e.typed = &ClickPayload{Value: u.Value}
	case EventMedia:
		m := media()
		e.typed = &m
	case EventLocation:
		e.typed = &LocationPayload{Latitude: u.Latitude, Longitude: u.Longitude, Name: u.Name, Address: u.Address}
	}
	return e
}

// decodeEventsOnce decodes t, an object or a list, in one pass.
func decodeEventsOnce(t []byte) ([]Event, error) {
	if events, ok := readEvents(t); ok {
		return events, nil
	}
	return unmarshalEventsOnce(t)
}

// unmarshalEventsOnce is decodeEventsOnce by json.Unmarshal: the reference
// the fast path is tested against, and what it falls back to.
func unmarshalEventsOnce(t []byte) ([]Event, error) {
	if t[0] == '{' {
		var w eventWire
		if err := json.Unmarshal(t, &w); err != nil {
			return nil, err
		}
		return []Event{w.event(t)}, nil
	}
	var ws []eventWire
	if err := json.Unmarshal(t, &ws); err != nil {
		return nil, err
	}
	raws := jsonx.Elements(t)
	if len(raws) != len(ws) {
		return nil, errors.New("list of events: element count mismatch")
	}
	events := make([]Event, len(ws))
	for i := range ws {
		events[i] = ws[i].event(raws[i])
	}
	return events, nil
}

// decodeEventsByName is the slow path: each event generically, then its
// payload by the event's name.
func decodeEventsByName(t []byte) ([]Event, error) {
	raws := [][]byte{t}
	if t[0] == '[' {
		raws = jsonx.Elements(t)
	}
	events := make([]Event, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &events[i]); err != nil {
			return nil, err
		}
		events[i].Raw = raw
		if err := events[i].decodeTyped(); err != nil {
			if te, ok := err.(*json.UnmarshalTypeError); ok && t[0] == '[' {
				te.Field = fmt.Sprintf("[%d].%s", i, te.Field)
			}
			return nil, err
		}
	}
	return events, nil
}

// The fields of the webhook's objects, for readEvents.
var (
	eventFields        = jsonx.NewFields("info", "packet")
	infoFields         = jsonx.NewFields("cid", "approach_mode", "contact", "context", "conversation", "widget")
	conversationFields = jsonx.NewFields("contact_channel")
	channelFields      = jsonx.NewFields("state", "type")
	packetFields       = jsonx.NewFields("name", "payload")
	unionFields        = jsonx.NewFields("body", "value", "url", "link", "name", "mime_type", "latitude", "longitude", "address")
	clickFields        = jsonx.NewFields("id", "label")
)

// readEvents is decodeEventsOnce's one-pass fast path (jsonx.Reader): ok
// is false when the body is not one it decodes exactly as json.Unmarshal
// would (a payload field of another type, a key in another case, an
// error...), and decodeEventsOnce then decodes it the usual way.
func readEvents(t []byte) ([]Event, bool) {
	r := jsonx.NewReader(t)
	if r.Peek() == '{' {
		e := readEvent(&r, t)
		if !r.End() {
			return nil, false
		}
		return []Event{e}, true
	}
	if !r.Array() {
		return nil, false
	}
	events := make([]Event, 0)
	for r.More() {
		r.Peek() // past the white space
		start := r.Pos()
		e := readEvent(&r, nil)
		e.Raw = t[start:r.Pos()]
		events = append(events, e)
	}
	if !r.End() {
		return nil, false
	}
	return events, true
}

// readEvent reads one event object (raw is its bytes, when known).
func readEvent(r *jsonx.Reader, raw []byte) Event {
	var w eventWire
	var payload []byte
	if !r.Object() {
		return Event{}
	}
	var seen uint64
	for r.More() {
		switch r.Field(eventFields, &seen) {
		case 0:
			readInfo(r, &w.Info)
		case 1:
			payload = readPacket(r, &w)
		}
	}
	if r.Failed() {
		return Event{}
	}
	return w.eventWith(raw, payload)
}

func readInfo(r *jsonx.Reader, in *Info) {
	if r.Null() || !r.Object() {
		return
	}
	var seen uint64
	for r.More() {
		switch r.Field(infoFields, &seen) {
		case 0:
			in.CID = r.String()
		case 1:
			in.ApproachMode = r.String()
		case 2:
			if r.Null() {
				break
			}
			c := new(Contact)
			if c.UnmarshalJSON(r.Raw()) != nil {
				r.Fail()
			}
			in.Contact = c
		case 3:
			in.Context = jsonx.Clone(r.Raw()) // json.RawMessage copies
		case 4:
			if r.Null() {
				break
			}
			r.Peek() // past the white space
			start := r.Pos()
			c := new(Conversation)
			if r.Object() {
				var seen uint64
				for r.More() {
					if r.Field(conversationFields, &seen) == 0 && !r.Null() {
						ch := new(ContactChannel)
						r.Strings(channelFields, &ch.State, &ch.Type)
						c.ContactChannel = ch
					}
				}
			}
			if !r.Failed() {
				c.Raw = jsonx.Clone(r.Bytes(start))
			}
			in.Conversation = c
		case 5:
			in.Widget = jsonx.Clone(r.Raw())
		}
	}
}

// readPacket reads the packet into w and returns the payload's bytes.
func readPacket(r *jsonx.Reader, w *eventWire) (payload []byte) {
	if r.Null() || !r.Object() {
		return nil
	}
	var seen uint64
	for r.More() {
		switch r.Field(packetFields, &seen) {
		case 0:
			w.Packet.Name = r.String()
		case 1:
			r.Peek() // past the white space
			start := r.Pos()
			if !r.Null() {
				w.Packet.Payload = readUnion(r)
			}
			payload = r.Bytes(start)
		}
	}
	return payload
}

func readUnion(r *jsonx.Reader) *payloadUnion {
	u := new(payloadUnion)
	if !r.Object() {
		return u
	}
	var seen uint64
	for r.More() {
		switch r.Field(unionFields, &seen) {
		case 0:
			u.Body = r.String()
		case 1:
			r.Strings(clickFields, &u.Value.ID, &u.Value.Label)
		case 2:
			u.URL = r.String()
		case 3:
			u.Link = r.String()
		case 4:
			u.Name = r.String()
		case 5:
			u.MimeType = r.String()
		case 6:
			u.Latitude = r.Float()
		case 7:
			u.Longitude = r.Float()
		case 8:
			u.Address = r.String()
		}
	}
	return u
}
