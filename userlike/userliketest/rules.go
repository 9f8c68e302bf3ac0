package userliketest

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/botwire/botwire/internal/check"
	"github.com/botwire/botwire/userlike"
)

// wireEvent is a triggered event as sent, its packet raw. The fake checks
// the doc's rules on this JSON, not on package userlike's typed payloads:
// most of their keys are guesses, and Custom exists to send a payload whose
// keys or types differ from them, which Userlike may well accept.
type wireEvent struct {
	Info struct {
		CID     string          `json:"cid"`
		Context json.RawMessage `json:"context"`
	} `json:"info"`
	Packet json.RawMessage `json:"packet"`

	name    string
	payload json.RawMessage
}

// decodeWire reads one event or a list of events; list reports which.
func decodeWire(b []byte) (evs []wireEvent, list bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, false, nil
	}
	if list = b[0] == '['; list {
		err = json.Unmarshal(b, &evs)
	} else {
		evs = make([]wireEvent, 1)
		err = json.Unmarshal(b, &evs[0])
	}
	if err != nil {
		return nil, list, err
	}
	for i := range evs {
		var p struct {
			Name    string          `json:"name"`
			Payload json.RawMessage `json:"payload"`
		}
		if len(evs[i].Packet) > 0 {
			if err := json.Unmarshal(evs[i].Packet, &p); err != nil {
				return nil, list, err
			}
		}
		evs[i].name, evs[i].payload = p.Name, p.Payload
	}
	return evs, list, nil
}

// decodeOutbound reads one event or a list of events into package
// userlike's types. A payload that does not fit the typed payload of its
// action (a Custom payload whose inferred field has another type) is kept
// as json.RawMessage.
func decodeOutbound(b []byte) ([]userlike.OutboundEvent, error) {
	evs, _, err := decodeWire(b)
	if err != nil || evs == nil {
		return nil, err
	}
	out := make([]userlike.OutboundEvent, len(evs))
	for i, e := range evs {
		out[i].Info = userlike.OutboundInfo{CID: e.Info.CID, Context: e.Info.Context}
		if len(e.Packet) == 0 || json.Unmarshal(e.Packet, &out[i].Packet) != nil {
			out[i].Packet = userlike.Action{Name: e.name}
			if len(e.payload) > 0 {
				out[i].Packet.Payload = e.payload
			}
		}
	}
	return out, nil
}

// checkEvents applies the rules the doc states to the events of one call.
// Paths start at the body: "packet.payload.fallback", or
// "[1].packet.payload.fallback" in a list.
func checkEvents(evs []wireEvent, list bool) error {
	v := check.New("userlike", userlike.ErrInvalidAction)
	for i := range evs {
		if list {
			v.EnterIndex("", i)
		}
		checkEvent(&v, &evs[i])
		if list {
			v.Leave()
		}
	}
	return v.Err()
}

// checkEvent checks what the doc states, and only that:
//
//   - "It always needs a cid specified inside the info packet also always
//     needs an event name";
//   - the context "can be any valid JSON object. Just make sure it's not
//     bigger than 10 KB" (an empty one is ignored);
//   - message: "You can use up to 5,000 characters", under body;
//   - "All choice messages require a fallback string parameter" (bubbles,
//     carousel, button_template, list_template);
//   - button_template: a body and "Up to three buttons" (options, as in
//     the doc's campaign sample); list_template: "up to ten options";
//   - media: the URL in link "must stay reachable from our servers";
//   - contact_update and conversation_update: "You only need to provide
//     one of" their documented keys.
//
// Keys the doc does not name and the types of what it does not describe
// are not checked.
func checkEvent(v *check.Collector, e *wireEvent) {
	v.Enter("info")
	v.Required("cid", e.Info.CID)
	checkContext(v, e.Info.Context)
	v.Leave()
	v.Enter("packet")
	defer v.Leave()
	v.Required("name", e.name)
	var p map[string]json.RawMessage
	_ = json.Unmarshal(e.payload, &p) // not an object: no fields
	v.Enter("payload")
	defer v.Leave()
	switch e.name {
	case userlike.ActionMessage:
		v.MaxLen("body", requiredString(v, p, "body"), userlike.MaxMessageLen)
	case userlike.ActionBubbles, userlike.ActionCarousel:
		requiredString(v, p, "fallback")
	case userlike.ActionButtonTemplate:
		requiredString(v, p, "body")
		requiredString(v, p, "fallback")
		maxItems(v, p, "options", 3)
	case userlike.ActionListTemplate:
		requiredString(v, p, "fallback")
		maxItems(v, p, "options", 10)
	case userlike.ActionMedia:
		if link := requiredString(v, p, "link"); link != "" {
			// The same rule as userlike's Validate.
			var fe *userlike.FieldError
			if errors.As(userlike.Media(link).Validate(), &fe) {
				v.Add("link", "%s", fe.Problem)
			}
		}
	case userlike.ActionContactUpdate:
		anyOf(v, p, "name", "email", "mobile_number", "external_customer_id", "custom_fields", "campaigns")
	case userlike.ActionConversationUpdate:
		anyOf(v, p, "subject", "topics", "locale", "custom_fields")
	}
}

func checkContext(v *check.Collector, c json.RawMessage) {
	c = bytes.TrimSpace(c)
	if len(c) == 0 || string(c) == "null" {
		return
	}
	if c[0] != '{' {
		v.Add("context", "must be a JSON object")
		return
	}
	var compact bytes.Buffer
	if json.Compact(&compact, c) == nil && compact.Len() > userlike.MaxContextBytes {
		v.Add("context", "at most %d bytes (10 KB), got %d", userlike.MaxContextBytes, compact.Len())
	}
}

// requiredString records key when it is absent, null, empty or not a
// string, and returns its value.
func requiredString(v *check.Collector, p map[string]json.RawMessage, key string) string {
	raw, ok := p[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		v.Add(key, "required")
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		v.Add(key, "must be a string")
		return ""
	}
	v.Required(key, s)
	return s
}

// maxItems records key when it is a list of more than limit elements.
func maxItems(v *check.Collector, p map[string]json.RawMessage, key string, limit int) {
	var list []json.RawMessage
	if json.Unmarshal(p[key], &list) == nil && len(list) > limit {
		v.Add(key, "at most %d options, got %d", limit, len(list))
	}
}

// anyOf records the payload when none of keys is given (present, not null).
func anyOf(v *check.Collector, p map[string]json.RawMessage, keys ...string) {
	for _, k := range keys {
		if raw, ok := p[k]; ok && string(bytes.TrimSpace(raw)) != "null" {
			return
		}
	}
	msg := "needs one of"
	for i, k := range keys {
		if i > 0 {
			msg += ","
		}
		msg += " " + k
	}
	v.Add("", "%s", msg)
}
