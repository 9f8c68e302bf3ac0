package ultimate

import (
	"encoding/json"
	"errors"

	"github.com/botwire/botwire/internal/check"
	"github.com/botwire/botwire/internal/jsonx"
)

// Converse event types (ConverseRequest.EventType).
const (
	ConverseStartSession = "startSession"
	ConverseMessage      = "message"
	ConverseEndSession   = "endSession"
	// ConverseMetadata only updates session parameters (newer than the doc).
	ConverseMetadata = "metadata"
)

// ConverseRequest is a visitor event sent to the virtual agent. Its answer
// arrives later on the chat webhook.
type ConverseRequest struct {
	// PlatformConversationID is chosen by you and identifies the
	// conversation in every event (a UUID is a good choice).
	PlatformConversationID string `json:"platformConversationId"`
	EventType              string `json:"eventType"`
	// Text is what the visitor typed, or the text of the button they
	// clicked. Required for "message".
	Text string `json:"text,omitempty"`
	// CardIndex is the 0-based index of the carousel card whose button was
	// clicked.
	CardIndex *int `json:"cardIndex,omitempty"`
	// MetaData are session parameters for the bot to personalise with; not
	// for endSession.
	MetaData []MetaData `json:"metaData,omitempty"`
}

// MetaData is a session parameter. Values are strings only; set Sanitize
// for personal data.
type MetaData struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Sanitize bool   `json:"sanitize,omitempty"`
}

// UnmarshalJSON accepts "metaData" (the doc) or "metadata" (Zendesk's
// example), as a list or as a single object (the doc's TypeScript and
// Java snippets). Encoding always writes a "metaData" list.
func (r *ConverseRequest) UnmarshalJSON(b []byte) error {
	type request ConverseRequest
	var v struct {
		request
		MetaData  jsonx.OneOrMany[MetaData] `json:"metaData"`
		Metadata2 jsonx.OneOrMany[MetaData] `json:"metadata"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = ConverseRequest(v.request)
	r.MetaData = v.MetaData
	if len(r.MetaData) == 0 {
		r.MetaData = v.Metadata2
	}
	return nil
}

// ErrInvalidRequest is wrapped by every validation error.
var ErrInvalidRequest = errors.New("ultimate: invalid request")

// FieldError is a request that breaks a documented rule: Field is the JSON
// path, Problem says which rule.
type FieldError = check.FieldError

// Validate checks the request before it is sent: a conversation id, a known
// event type, a text for a message, a card index only with a message and
// not negative, metadata keys, and no metadata on endSession.
func (r *ConverseRequest) Validate() error {
	v := check.New("ultimate", ErrInvalidRequest)
	v.Required("platformConversationId", r.PlatformConversationID)
	switch r.EventType {
	case ConverseStartSession, ConverseEndSession:
	case ConverseMessage:
		v.Required("text", r.Text)
	case ConverseMetadata:
		if len(r.MetaData) == 0 {
			v.Add("metaData", "required for eventType %q", r.EventType)
		}
	case "":
		v.Add("eventType", "required")
	default:
		v.Add("eventType", "unknown event type %q", r.EventType)
	}
	if r.CardIndex != nil {
		if r.EventType != ConverseMessage {
			v.Add("cardIndex", "only with eventType %q", ConverseMessage)
		}
		if *r.CardIndex < 0 {
			v.Add("cardIndex", "must not be negative (cards count from 0)")
		}
	}
	if r.EventType == ConverseEndSession && len(r.MetaData) > 0 {
		v.Add("metaData", "not accepted with eventType %q", ConverseEndSession)
	}
	for i, m := range r.MetaData {
		v.EnterIndex("metaData", i)
		v.Required("key", m.Key)
		v.Leave()
	}
	return v.Err()
}

// Widget escalation event types (WidgetUpdate.EventType).
const (
	WidgetTextMessage           = "message"
	WidgetEscalationSuccess     = "escalationSuccess"
	WidgetEscalationFailed      = "escalationFailed"
	WidgetEscalationQueueUpdate = "escalationQueueUpdate"
	WidgetAgentDisconnect       = "agentDisconnect"
)

// WidgetUpdate is what a human agent's side sends to Ultimate's chat widget
// after an escalation (POST /agent/converse/send-message-to-widget).
type WidgetUpdate struct {
	PlatformConversationID string `json:"platformConversationId"`
	EventType              string `json:"eventType"`
	Text                   string `json:"text,omitempty"` // required for "message"
	Agent                  string `json:"agent,omitempty"`
	AgentAvatar            string `json:"agentAvatar,omitempty"`
	QueuePosition          string `json:"queuePosition,omitempty"`
	WaitingTime            string `json:"waitingTime,omitempty"`
}

// Validate checks the update: a conversation id, a known event type, and a
// text for a message.
func (w *WidgetUpdate) Validate() error {
	v := check.New("ultimate", ErrInvalidRequest)
	v.Required("platformConversationId", w.PlatformConversationID)
	switch w.EventType {
	case WidgetTextMessage:
		v.Required("text", w.Text)
	case WidgetEscalationSuccess, WidgetEscalationFailed, WidgetEscalationQueueUpdate, WidgetAgentDisconnect:
	case "":
		v.Add("eventType", "required")
	default:
		v.Add("eventType", "unknown event type %q", w.EventType)
	}
	return v.Err()
}
