package botcopy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/botwire/botwire/internal/jsonx"
	"github.com/botwire/botwire/internal/safefmt"
)

// Token is a secret that arrived in a body (the legacy accessToken). It
// prints as [REDACTED] under every fmt verb and marshals as itself.
type Token string

// String redacts the token.
func (Token) String() string { return "[REDACTED]" }

// GoString redacts the token.
func (Token) GoString() string { return "[REDACTED]" }

// Format redacts the token for every verb.
func (Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[REDACTED]") }

// Kinds of webhook call.
const (
	// KindTrigger is step one: Dialogflow's answer carried the handover
	// trigger; the body has the Dialogflow response and the message history.
	KindTrigger Kind = "trigger"
	// KindUserMessage is step two: the bot is paused and the user wrote.
	KindUserMessage Kind = "user_message"
	// KindUserTyping is the newer typing event (the portal's "Live Chat
	// User Events", at most every 4 s).
	KindUserTyping Kind = "user_typing"
	// KindUnknown is an eventType this package does not know.
	KindUnknown Kind = "unknown"
)

// Kind says which webhook call a HandoverRequest is.
type Kind string

// Webhook event types (eventType, newer than the doc; absent on older
// bodies).
const (
	EventMessage    = "message"
	EventUserTyping = "user_typing"
)

// HandoverRequest is a call of the proxy's Live Chat Endpoint Webhook.
type HandoverRequest struct {
	// AccessToken is the legacy copy of the access token in the body.
	AccessToken Token `json:"accessToken,omitempty"`
	// EventType is "message" or "user_typing" when user typing events are
	// enabled in the portal, and absent otherwise.
	EventType string `json:"eventType,omitempty"`
	UserID    string `json:"userId"`              // the customer
	BotID     string `json:"botId"`               // the bot invoking live chat
	SessionID string `json:"sessionId,omitempty"` // a session of this user with the bot
	// Session is the Dialogflow session path.
	Session string `json:"session,omitempty"`
	// DialogflowResponse is Dialogflow's detectIntent response, unchanged
	// (ES v2 or CX v3). Dialogflow reads its common fields.
	DialogflowResponse json.RawMessage `json:"dialogflowResponse,omitempty"`
	// MessageHistory is the conversation so far (step one only, when the
	// portal stores it). Transcript turns it into readable lines.
	MessageHistory []HistoryItem `json:"messageHistory,omitempty"`
	QueryInput     *QueryInput   `json:"queryInput,omitempty"`
	QueryParams    *QueryParams  `json:"queryParams,omitempty"`

	// Raw is the body as received.
	Raw json.RawMessage `json:"-"`

	// df is DialogflowResponse read once at parse time; nil for a request
	// built by hand or without a Dialogflow response.
	df *DialogflowView
}

// QueryInput is the customer's message.
type QueryInput struct {
	Text *TextInput `json:"text,omitempty"`
}

// TextInput is a text and its language ("en").
type TextInput struct {
	Text         string `json:"text"`
	LanguageCode string `json:"languageCode,omitempty"`
}

// QueryParams are the Dialogflow query parameters Botcopy would have sent.
type QueryParams struct {
	Contexts       json.RawMessage `json:"contexts,omitempty"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	WebhookHeaders json.RawMessage `json:"webhookHeaders,omitempty"`
}

// Kind classifies the call: a user_typing event, a trigger (step one, which
// carries Dialogflow's response), or a user message (step two).
func (r HandoverRequest) Kind() Kind {
	switch r.EventType {
	case EventUserTyping:
		return KindUserTyping
	case "", EventMessage:
	default:
		return KindUnknown
	}
	if len(r.DialogflowResponse) > 0 || r.MessageHistory != nil {
		return KindTrigger
	}
	return KindUserMessage
}

// String describes the request without its token: Raw holds the body as
// received, legacy accessToken included, so the request must not be
// printed field by field.
func (r HandoverRequest) String() string {
	return fmt.Sprintf("botcopy.HandoverRequest{kind: %s, userId: %q, botId: %q, sessionId: %q, text: %q, history: %d items}",
		r.Kind(), r.UserID, r.BotID, r.SessionID, r.Text(), len(r.MessageHistory))
}

// GoString is String, for %#v.
func (r HandoverRequest) GoString() string { return r.String() }

// Format prints String for every verb, on the value and on a pointer: Raw
// may hold the legacy access token.
func (r HandoverRequest) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, r.String()) }

// LogValue is what log/slog records for the request, with any handler (the
// JSON handler would otherwise marshal the legacy access token): its kind,
// ids, text and the length of the history.
func (r HandoverRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(r.Kind())),
		slog.String("userId", r.UserID),
		slog.String("botId", r.BotID),
		slog.String("sessionId", r.SessionID),
		slog.String("text", r.Text()),
		slog.Int("history", len(r.MessageHistory)),
	)
}

// Text returns the customer's message (queryInput.text.text).
func (r HandoverRequest) Text() string {
	if r.QueryInput != nil && r.QueryInput.Text != nil {
		return r.QueryInput.Text.Text
	}
	return ""
}

// Dialogflow returns a typed view of the common fields of the Dialogflow
// response, ES or CX, or nil when there is none.
//
// ParseRequest and the handler read it while decoding the body, so a
// response whose common fields have the wrong type is refused with a 400
// before the callback runs.
func (r *HandoverRequest) Dialogflow() (*DialogflowView, error) {
	if r.df != nil {
		return r.df, nil
	}
	if jsonx.IsNull(r.DialogflowResponse) {
		return nil, nil
	}
	return parseDialogflow(r.DialogflowResponse)
}

// ErrMalformed reports a webhook body that is not Botcopy's JSON.
var ErrMalformed = errors.New("botcopy: malformed webhook body")

// ParseRequest decodes a webhook body. Unknown and legacy fields are not
// errors. Raw refers to body.
func ParseRequest(body []byte) (*HandoverRequest, error) {
	r, err := decodeRequest(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return r, nil
}

// requestWire is HandoverRequest with the Dialogflow response decoded into
// its typed view's source, so a body decodes in one json.Unmarshal; the
// raw response is then its span within the body, not a copy.
type requestWire struct {
	AccessToken        Token         `json:"accessToken,omitempty"`
	EventType          string        `json:"eventType,omitempty"`
	UserID             string        `json:"userId"`
	BotID              string        `json:"botId"`
	SessionID          string        `json:"sessionId,omitempty"`
	Session            string        `json:"session,omitempty"`
	DialogflowResponse *dfResponse   `json:"dialogflowResponse,omitempty"`
	MessageHistory     []HistoryItem `json:"messageHistory,omitempty"`
	QueryInput         *QueryInput   `json:"queryInput,omitempty"`
	QueryParams        *QueryParams  `json:"queryParams,omitempty"`
}

func decodeRequest(body []byte) (*HandoverRequest, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if r, ok := readRequest(body); ok {
		return r, nil
	}
	return unmarshalRequest(body)
}

// unmarshalRequest is decodeRequest by json.Unmarshal: the reference the
// fast path is tested against, and what it falls back to.
func unmarshalRequest(body []byte) (*HandoverRequest, error) {
	var w requestWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	r := &HandoverRequest{AccessToken: w.AccessToken, EventType: w.EventType, UserID: w.UserID, BotID: w.BotID,
		SessionID: w.SessionID, Session: w.Session, MessageHistory: w.MessageHistory, QueryInput: w.QueryInput,
		QueryParams: w.QueryParams, Raw: body}
	if raw := jsonx.Field(body, "dialogflowResponse"); raw != nil {
		r.DialogflowResponse = raw // as json.RawMessage would keep it, null included
	}
	if w.DialogflowResponse != nil {
		r.df = w.DialogflowResponse.view()
	}
	return r, nil
}

// The fields of the webhook's objects, for readRequest.
var (
	requestFields = jsonx.NewFields("accessToken", "eventType", "userId", "botId", "sessionId", "session",
		"dialogflowResponse", "messageHistory", "queryInput", "queryParams")
	historyFields     = jsonx.NewFields("_id", "botPlatform", "direction", "payload", "createdAt")
	queryInputFields  = jsonx.NewFields("text")
	textInputFields   = jsonx.NewFields("text", "languageCode")
	queryParamsFields = jsonx.NewFields("contexts", "payload", "webhookHeaders")
)

// readRequest is decodeRequest's one-pass fast path (jsonx.Reader): ok is
// false when the body is not one it decodes exactly as json.Unmarshal would
// (a key in another case, a field of another type, an error...), and
// decodeRequest then decodes it the usual way. The Dialogflow response,
// whose parameters are any JSON, is decoded by json.Unmarshal from its span.
func readRequest(body []byte) (req *HandoverRequest, ok bool) {
	r := jsonx.NewReader(body)
	if !r.Object() {
		return nil, false
	}
	req = &HandoverRequest{Raw: body}
	var seen uint64
	for r.More() {
		switch r.Field(requestFields, &seen) {
		case 0:
			req.AccessToken = Token(r.String())
		case 1:
			req.EventType = r.String()
		case 2:
			req.UserID = r.String()
		case 3:
			req.BotID = r.String()
		case 4:
			req.SessionID = r.String()
		case 5:
			req.Session = r.String()
		case 6:
			null := r.Peek() == 'n'
			raw := r.Raw()
			req.DialogflowResponse = raw // as json.RawMessage would keep it, null included
			if null || r.Failed() {
				break
			}
			var df dfResponse
			if json.Unmarshal(raw, &df) != nil {
				r.Fail()
				break
			}
			req.df = df.view()
		case 7:
			if r.Null() || !r.Array() {
				break
			}
			req.MessageHistory = make([]HistoryItem, 0)
			for r.More() {
				req.MessageHistory = append(req.MessageHistory, readHistoryItem(&r))
			}
		case 8:
			if r.Null() {
				break
			}
			q := new(QueryInput)
			if r.Object() {
				var seen uint64
				for r.More() {
					if r.Field(queryInputFields, &seen) == 0 && !r.Null() {
						q.Text = new(TextInput)
						r.Strings(textInputFields, &q.Text.Text, &q.Text.LanguageCode)
					}
				}
			}
			req.QueryInput = q
		case 9:
			if r.Null() {
				break
			}
			q := new(QueryParams)
			if r.Object() {
				var seen uint64
				for r.More() {
					switch r.Field(queryParamsFields, &seen) {
					case 0:
						q.Contexts = jsonx.Clone(r.Raw()) // json.RawMessage copies
					case 1:
						q.Payload = jsonx.Clone(r.Raw())
					case 2:
						q.WebhookHeaders = jsonx.Clone(r.Raw())
					}
				}
			}
			req.QueryParams = q
		}
	}
	if !r.End() {
		return nil, false
	}
	return req, true
}

func readHistoryItem(r *jsonx.Reader) HistoryItem {
	var h HistoryItem
	if r.Null() || !r.Object() {
		return h
	}
	var seen uint64
	for r.More() {
		switch r.Field(historyFields, &seen) {
		case 0:
			h.ID = r.String()
		case 1:
			h.BotPlatform = r.String()
		case 2:
			h.Direction = r.String()
		case 3:
			h.Payload = jsonx.Clone(r.Raw()) // json.RawMessage copies
		case 4:
			h.CreatedAt = r.String()
		}
	}
	return h
}
