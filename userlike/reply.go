package userlike

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/botwire/botwire/internal/check"
)

// MaxContextBytes is the largest context Userlike keeps ("not bigger than
// 10 KB"; read as 10,000 bytes, the stricter of the two readings).
const MaxContextBytes = 10_000

// ErrInvalidAction is wrapped by every validation error.
var ErrInvalidAction = errors.New("userlike: invalid action")

// ErrContextTooLarge is returned by SetContext for a context over 10 KB.
var ErrContextTooLarge = errors.New("userlike: context larger than 10 KB")

// FieldError is an action that breaks a documented rule: Field is the JSON
// path ("actions[0].payload.options"), Problem says which rule.
type FieldError = check.FieldError

// OutboundEvent is one triggered event on the wire: {"info": {"cid",
// "context"}, "packet": {"name", "payload"}}. Handlers and clients build
// them from a Reply or from Send's actions.
type OutboundEvent struct {
	Info   OutboundInfo `json:"info"`
	Packet Action       `json:"packet"`
}

// OutboundInfo addresses an event to a session and carries the new
// context.
type OutboundInfo struct {
	CID     string          `json:"cid"`
	Context json.RawMessage `json:"context,omitempty"`
}

// Reply collects what the bot answers to one webhook event: actions, and
// optionally a new context. The handler writes it as the response body.
type Reply struct {
	cid     string
	actions []Action
	context json.RawMessage
}

// NewReply returns an empty reply for session cid. Handlers make one for
// each event; NewReply is for tests and the client.
func NewReply(cid string) *Reply { return &Reply{cid: cid} }

// CID returns the session the reply goes to.
func (r *Reply) CID() string { return r.cid }

// Add appends actions, to be performed in order.
func (r *Reply) Add(actions ...Action) { r.actions = append(r.actions, actions...) }

// Actions returns the actions added so far.
func (r *Reply) Actions() []Action { return r.actions }

// SetContext stores v (which must marshal to a JSON object of at most 10 KB)
// as the session's new context: Userlike replaces the previous one with it
// and sends it back on every later event (see Event.DecodeContext).
//
// Userlike ignores an empty context ({}) and keeps the previous one, so
// SetContext of an empty object does not clear state: set an object whose
// fields say "no state" instead. The context travels with the reply's
// actions, so a reply with a context needs at least one action.
func (r *Reply) SetContext(v any) error {
	b, err := marshalContext(v)
	if err != nil {
		return err
	}
	r.context = b
	return nil
}

// Context returns the context set with SetContext, or nil.
func (r *Reply) Context() json.RawMessage { return r.context }

func marshalContext(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("userlike: encode context: %w", err)
	}
	return b, checkContext(b)
}

// checkContext enforces the doc's rule for a context: "a JSON object, not
// bigger than 10 KB".
func checkContext(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return fmt.Errorf("%w: context must be a JSON object, got %.20q", ErrInvalidAction, b)
	}
	if len(b) > MaxContextBytes {
		return fmt.Errorf("%w: %d bytes", ErrContextTooLarge, len(b))
	}
	return nil
}

// Events returns the reply as the events Userlike expects, each with the
// cid and the context.
func (r *Reply) Events() []OutboundEvent {
	return events(r.cid, r.context, r.actions)
}

func events(cid string, context json.RawMessage, actions []Action) []OutboundEvent {
	out := make([]OutboundEvent, len(actions))
	for i, a := range actions {
		out[i] = OutboundEvent{Info: OutboundInfo{CID: cid, Context: context}, Packet: a}
	}
	return out
}

// Validate checks every action against the doc's limits.
func (r *Reply) Validate() error {
	return ValidateActions(r.actions...)
}

// ValidateActions checks actions against the doc's limits; the error joins
// one *FieldError per problem, with paths "actions[i]...".
func ValidateActions(actions ...Action) error {
	v := check.New("userlike", ErrInvalidAction)
	for i := range actions {
		v.EnterIndex("actions", i)
		actions[i].validate(&v)
		v.Leave()
	}
	return v.Err()
}

// Validate checks the action against the limits the doc states: a message
// body of 1 to 5,000 characters, a fallback on every choice message, at
// most 3 options on a button_template and 10 on a list_template, at least
// one field on contact_update and conversation_update, a media link that is
// an absolute http(s) URL. Custom actions are not checked.
func (a Action) Validate() error {
	v := check.New("userlike", ErrInvalidAction)
	v.Enter("action")
	a.validate(&v)
	return v.Err()
}

func (a Action) validate(v *check.Collector) {
	if a.Name == "" {
		v.Add("name", "required")
		return
	}
	v.Enter("payload")
	defer v.Leave()
	switch pl := a.Payload.(type) {
	case *MessageAction:
		v.Required("body", pl.Body)
		v.MaxLen("body", pl.Body, MaxMessageLen)
	case *ChoicePayload:
		v.Required("fallback", pl.Fallback)
		validateChoices(v, pl.Options, 0)
	case *CarouselPayload:
		v.Required("fallback", pl.Fallback)
		if len(pl.Options) == 0 {
			v.Add("options", "at least 1 option")
		}
		for i, o := range pl.Options {
			v.EnterIndex("options", i)
			v.Required("id", o.ID)
			v.Leave()
		}
	case *ButtonTemplatePayload:
		v.Required("body", pl.Body)
		v.Required("fallback", pl.Fallback)
		validateChoices(v, pl.Options, 3)
	case *ListTemplatePayload:
		v.Required("body", pl.Body)
		v.Required("button", pl.Button)
		v.Required("fallback", pl.Fallback)
		validateChoices(v, pl.Options, 10)
	case *URLButton:
		v.Required("url", pl.URL)
	case *ButtonsPayload:
		if len(pl.Buttons) == 0 {
			v.Add("buttons", "at least 1 button")
		}
		for i, b := range pl.Buttons {
			v.EnterIndex("buttons", i)
			v.Required("url", b.URL)
			v.Leave()
		}
	case *MediaAction:
		v.Required("link", pl.Link)
		v.HTTPURL("link", pl.Link)
	case *NavigatePayload:
		v.Required("url", pl.URL)
	case *ContactUpdatePayload:
		if pl.Name == "" && pl.Email == "" && pl.MobileNumber == "" && pl.ExternalCustomerID == "" &&
			len(pl.CustomFields) == 0 && pl.Campaigns == nil {
			v.Add("", "needs one of name, email, mobile_number, external_customer_id, custom_fields, campaigns")
		}
	case *ConversationUpdatePayload:
		if pl.Subject == "" && len(pl.Topics) == 0 && pl.Locale == "" && len(pl.CustomFields) == 0 {
			v.Add("", "needs one of subject, topics, locale, custom_fields")
		}
	case *ForwardSkillsPayload:
		if len(pl.Skills) == 0 {
			v.Add("skills", "at least 1 skill")
		}
		validateOnFailure(v, pl.OnFailure)
	case *ForwardGroupPayload:
		v.Required("group", pl.Group)
		validateOnFailure(v, pl.OnFailure)
	case *ForwardAnyPayload:
		validateOnFailure(v, pl.OnFailure)
	case *DelayPayload:
		if pl.Seconds <= 0 {
			v.Add("seconds", "must be positive")
		}
	case *EmailDispatchPayload:
		if pl.RecipientType != RecipientOperator && pl.RecipientType != RecipientContact {
			v.Add("recipient_type", "must be %q or %q, got %q", RecipientOperator, RecipientContact, pl.RecipientType)
		}
	}
}

func validateOnFailure(v *check.Collector, of string) {
	if of != "" && of != OnFailureFeedback {
		v.Add("on_failure", "must be %q when set, got %q", OnFailureFeedback, of)
	}
}

func validateChoices(v *check.Collector, opts []Choice, limit int) {
	if len(opts) == 0 {
		v.Add("options", "at least 1 option")
	}
	if limit > 0 && len(opts) > limit {
		v.Add("options", "at most %d options, got %d", limit, len(opts))
	}
	for i, o := range opts {
		v.EnterIndex("options", i)
		v.Required("id", o.ID)
		v.Required("label", o.Label)
		v.Leave()
	}
}

// Channel limits above which Userlike shows a bubbles message as text with
// the fallback (the doc, "Bubbles and carousel").
const (
	WhatsAppMaxOptions  = 10
	FacebookMaxOptions  = 13
	ChoiceMaxLabelChars = 20
)

// Warning says that an action is valid but will not show as intended on a
// channel: Userlike falls back to text there.
type Warning struct {
	Action  string // the action's name
	Channel string // ChannelWhatsAppBusiness or ChannelFacebook
	Message string
}

// String returns "action on channel: message".
func (w Warning) String() string { return w.Action + " on " + w.Channel + ": " + w.Message }

// Warnings reports where a bubbles message exceeds the WhatsApp (10
// options, 20 characters a label) or Facebook (13, 20) limits and will be
// shown as text with its fallback. It never reports an error; use Validate
// for those.
func (a Action) Warnings() []Warning {
	pl, ok := a.Payload.(*ChoicePayload)
	if !ok || a.Name != ActionBubbles {
		return nil
	}
	longest := 0
	for _, o := range pl.Options {
		longest = max(longest, utf8.RuneCountInString(o.Label))
	}
	var out []Warning
	for _, c := range []struct {
		channel string
		limit   int
	}{{ChannelWhatsAppBusiness, WhatsAppMaxOptions}, {ChannelFacebook, FacebookMaxOptions}} {
		switch {
		case len(pl.Options) > c.limit:
			out = append(out, Warning{a.Name, c.channel,
				fmt.Sprintf("%d options exceed %d; sent as text with the fallback", len(pl.Options), c.limit)})
		case longest > ChoiceMaxLabelChars:
			out = append(out, Warning{a.Name, c.channel,
				fmt.Sprintf("a label of %d characters exceeds %d; sent as text with the fallback", longest, ChoiceMaxLabelChars)})
		}
	}
	return out
}
