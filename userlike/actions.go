package userlike

import (
	"encoding/json"
	"fmt"
	"time"
)

// Action names (packet.name of what the bot triggers).
const (
	ActionMessage            = "message"
	ActionBubbles            = "bubbles"
	ActionCarousel           = "carousel"
	ActionButtonTemplate     = "button_template"
	ActionListTemplate       = "list_template"
	ActionButton             = "button" // deprecated by Userlike; use ActionButtons
	ActionButtons            = "buttons"
	ActionMedia              = "media"
	ActionNavigate           = "navigate"
	ActionContactUpdate      = "contact_update"
	ActionAbort              = "abort"
	ActionEnd                = "end"
	ActionForwardGroup       = "forward_group"
	ActionForwardSkills      = "forward_skills"
	ActionForwardAny         = "forward_any"
	ActionDelay              = "delay"
	ActionNoteCreate         = "note_create"
	ActionConversationUpdate = "conversation_update"
	ActionAddonDispatch      = "addon_dispatch"
	ActionEmailDispatch      = "email_dispatch"
)

// Action is an event the bot triggers: its name and payload. Build one with
// the constructors (Message, Bubbles, ...); Custom covers anything they do
// not.
//
// Userlike's public doc lost the payload tables of most actions. Fields the
// doc names (in prose or in its samples) are marked documented; the others
// are inferred and marked so. Where an inferred name is wrong, Custom
// sends the payload you need.
type Action struct {
	Name    string
	Payload any // one of the *Payload types of this package, or any JSON value
}

// MarshalJSON writes {"name": ..., "payload": ...}; a nil payload is {}.
func (a Action) MarshalJSON() ([]byte, error) {
	p := a.Payload
	if p == nil {
		p = struct{}{}
	}
	return json.Marshal(struct {
		Name    string `json:"name"`
		Payload any    `json:"payload"`
	}{a.Name, p})
}

// UnmarshalJSON decodes the payload into its typed struct for the actions
// this package models, and keeps it as json.RawMessage otherwise.
func (a *Action) UnmarshalJSON(b []byte) error {
	var v struct {
		Name    string          `json:"name"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.Name = v.Name
	target := newPayload(v.Name)
	if target == nil || len(v.Payload) == 0 {
		a.Payload = v.Payload
		return nil
	}
	if err := json.Unmarshal(v.Payload, target); err != nil {
		return fmt.Errorf("userlike: %s payload: %w", v.Name, err)
	}
	a.Payload = target
	return nil
}

func newPayload(name string) any {
	switch name {
	case ActionMessage:
		return new(MessageAction)
	case ActionBubbles:
		return new(ChoicePayload)
	case ActionCarousel:
		return new(CarouselPayload)
	case ActionButtonTemplate:
		return new(ButtonTemplatePayload)
	case ActionListTemplate:
		return new(ListTemplatePayload)
	case ActionButton:
		return new(URLButton)
	case ActionButtons:
		return new(ButtonsPayload)
	case ActionMedia:
		return new(MediaAction)
	case ActionNavigate:
		return new(NavigatePayload)
	case ActionContactUpdate:
		return new(ContactUpdatePayload)
	case ActionForwardGroup:
		return new(ForwardGroupPayload)
	case ActionForwardSkills:
		return new(ForwardSkillsPayload)
	case ActionForwardAny:
		return new(ForwardAnyPayload)
	case ActionDelay:
		return new(DelayPayload)
	case ActionNoteCreate:
		return new(NotePayload)
	case ActionConversationUpdate:
		return new(ConversationUpdatePayload)
	case ActionAddonDispatch:
		return new(AddonDispatchPayload)
	case ActionEmailDispatch:
		return new(EmailDispatchPayload)
	}
	return nil
}

// Text formats of a message (text_format). The doc names one value,
// markdown_v1; any other non-empty value is sent as it is (Userlike may have
// more, and its plain-text value is not documented).
const (
	// FormatMarkdown enables Userlike's markdown tags (documented value).
	FormatMarkdown = "markdown_v1"
	// FormatPlain is plain text: Userlike's value for it is not documented,
	// so plain text is sent by leaving text_format out.
	FormatPlain = ""
)

// MaxMessageLen is the longest message body Userlike accepts, in
// characters ("You can use up to 5,000 characters").
const MaxMessageLen = 5000

// MessageAction is the payload of a message (documented: body,
// text_format).
type MessageAction struct {
	Body       string `json:"body"`
	TextFormat string `json:"text_format,omitempty"`
}

// Message returns a plain-text message.
func Message(body string) Action {
	return Action{Name: ActionMessage, Payload: &MessageAction{Body: body}}
}

// MarkdownMessage returns a message using Userlike's markdown tags.
func MarkdownMessage(body string) Action {
	return Action{Name: ActionMessage, Payload: &MessageAction{Body: body, TextFormat: FormatMarkdown}}
}

// Choice is an option of a bubbles, button_template or list_template
// message: ID comes back in the click event (documented: id, label).
type Choice struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"` // list_template only (documented in prose)
}

// ChoicePayload is the payload of bubbles: a text, the options, and the
// fallback text shown with a numbered list where buttons cannot be
// (fallback documented; body and options inferred).
type ChoicePayload struct {
	Body     string   `json:"body,omitempty"` // inferred
	Options  []Choice `json:"options"`
	Fallback string   `json:"fallback"`
}

// Bubbles returns a message with clickable options.
func Bubbles(body, fallback string, options ...Choice) Action {
	return Action{Name: ActionBubbles, Payload: &ChoicePayload{Body: body, Options: options, Fallback: fallback}}
}

// CarouselPayload is the payload of a carousel: options with images
// (inferred keys; the doc only says "images on the buttons").
type CarouselPayload struct {
	Body     string           `json:"body,omitempty"` // inferred
	Options  []CarouselOption `json:"options"`        // inferred
	Fallback string           `json:"fallback"`
}

// CarouselOption is an option with an image (inferred keys).
type CarouselOption struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	ImageURL string `json:"image_url,omitempty"` // inferred
}

// Carousel returns options with images.
func Carousel(body, fallback string, options ...CarouselOption) Action {
	return Action{Name: ActionCarousel, Payload: &CarouselPayload{Body: body, Options: options, Fallback: fallback}}
}

// Header is the optional header of a template message. WhatsApp takes
// text, an image, a video or a document; Facebook an image only (the keys
// are inferred).
type Header struct {
	Type string `json:"type"`           // "text", "image", "video", "document" (inferred)
	Text string `json:"text,omitempty"` // inferred
	URL  string `json:"url,omitempty"`  // inferred
}

// ButtonTemplatePayload is the payload of a button_template: up to 3
// options under a body (documented: body, fallback, options; header and
// footer inferred).
type ButtonTemplatePayload struct {
	Header   *Header  `json:"header,omitempty"`
	Body     string   `json:"body"`
	Footer   string   `json:"footer,omitempty"`
	Options  []Choice `json:"options"`
	Fallback string   `json:"fallback"`
}

// ButtonTemplate returns a button template (WhatsApp and Facebook).
func ButtonTemplate(body, fallback string, options ...Choice) Action {
	return Action{Name: ActionButtonTemplate, Payload: &ButtonTemplatePayload{Body: body, Options: options, Fallback: fallback}}
}

// ListTemplatePayload is the payload of a list_template (WhatsApp): a
// headline, a body, the button that opens the list, a footer, a headline
// over the options, and up to 10 options. Only the parts are documented;
// the keys are inferred.
type ListTemplatePayload struct {
	Headline     string   `json:"headline,omitempty"`      // inferred
	Body         string   `json:"body"`                    // inferred
	Button       string   `json:"button"`                  // inferred
	Footer       string   `json:"footer,omitempty"`        // inferred
	ListHeadline string   `json:"list_headline,omitempty"` // inferred
	Options      []Choice `json:"options"`
	Fallback     string   `json:"fallback"`
}

// ListTemplate returns a list template (WhatsApp).
func ListTemplate(body, button, fallback string, options ...Choice) Action {
	return Action{Name: ActionListTemplate, Payload: &ListTemplatePayload{Body: body, Button: button, Options: options, Fallback: fallback}}
}

// URLButton is a button that opens a URL (inferred keys).
type URLButton struct {
	Label string `json:"label"` // inferred
	URL   string `json:"url"`   // inferred
}

// Button returns the deprecated single URL button. Userlike still accepts
// it; prefer Buttons.
//
// Deprecated: Userlike will remove the button event; use Buttons.
func Button(label, url string) Action {
	return Action{Name: ActionButton, Payload: &URLButton{Label: label, URL: url}}
}

// ButtonsPayload is the payload of buttons (inferred keys).
type ButtonsPayload struct {
	Body    string      `json:"body,omitempty"` // inferred
	Buttons []URLButton `json:"buttons"`        // inferred
}

// Buttons returns URL buttons; clicks are not reported to the bot.
func Buttons(body string, buttons ...URLButton) Action {
	return Action{Name: ActionButtons, Payload: &ButtonsPayload{Body: body, Buttons: buttons}}
}

// MediaAction is the payload of a media message: the file at Link. The doc:
// "the media pointed to by the URL in link must stay reachable from our
// servers until the request is completely processed", so Validate wants an
// absolute http or https URL (not a path relative to the bot, nor data: or
// another scheme Userlike's servers cannot download).
type MediaAction struct {
	Link string `json:"link"`           // documented
	Name string `json:"name,omitempty"` // inferred
}

// Media returns an image, video or audio message.
func Media(link string) Action {
	return Action{Name: ActionMedia, Payload: &MediaAction{Link: link}}
}

// NavigatePayload makes the contact's browser open URL (inferred key).
type NavigatePayload struct {
	URL string `json:"url"`
}

// Navigate returns an action that opens url for the contact.
func Navigate(url string) Action {
	return Action{Name: ActionNavigate, Payload: &NavigatePayload{URL: url}}
}

// ContactUpdatePayload updates the contact; set at least one field
// (documented keys). Campaigns subscribes (true) or unsubscribes (false)
// the contact to WhatsApp campaigns of the current number.
type ContactUpdatePayload struct {
	Name               string         `json:"name,omitempty"`
	Email              string         `json:"email,omitempty"`
	MobileNumber       string         `json:"mobile_number,omitempty"`
	ExternalCustomerID string         `json:"external_customer_id,omitempty"`
	CustomFields       map[string]any `json:"custom_fields,omitempty"`
	Campaigns          *bool          `json:"campaigns,omitempty"`
}

// ContactUpdate returns a contact update.
func ContactUpdate(p ContactUpdatePayload) Action {
	return Action{Name: ActionContactUpdate, Payload: &p}
}

// Abort stops the bot and lets the conversation continue with humans.
func Abort() Action { return Action{Name: ActionAbort} }

// End terminates the bot session and ends the conversation.
func End() Action { return Action{Name: ActionEnd} }

// OnFailureFeedback makes a failed forward send a forward_failed event to
// the webhook instead of unassigning the conversation.
const OnFailureFeedback = "feedback"

// ForwardGroupPayload forwards to an operator group (the group key is
// inferred; on_failure is documented).
type ForwardGroupPayload struct {
	Group     string `json:"group"` // inferred
	OnFailure string `json:"on_failure,omitempty"`
}

// ForwardGroup ends the bot session and forwards to an operator of group.
func ForwardGroup(group, onFailure string) Action {
	return Action{Name: ActionForwardGroup, Payload: &ForwardGroupPayload{Group: group, OnFailure: onFailure}}
}

// ForwardSkillsPayload forwards to an operator with all the skills
// (inferred key).
type ForwardSkillsPayload struct {
	Skills []string `json:"skills"` // inferred
	// OnFailure is "" or OnFailureFeedback, as for the other forwards. The
	// doc describes forward_failed only for forward_group and forward_any;
	// whether Userlike honours it here is not documented.
	OnFailure string `json:"on_failure,omitempty"`
}

// ForwardSkills ends the bot session and forwards to an operator who has
// every skill; onFailure may be "" or OnFailureFeedback, as for
// ForwardGroup and ForwardAny.
func ForwardSkills(skills []string, onFailure string) Action {
	return Action{Name: ActionForwardSkills, Payload: &ForwardSkillsPayload{Skills: skills, OnFailure: onFailure}}
}

// ForwardAnyPayload forwards to any operator of the bot's group.
type ForwardAnyPayload struct {
	OnFailure string `json:"on_failure,omitempty"`
}

// ForwardAny ends the bot session and forwards to any available operator
// of the same group; onFailure may be "" or OnFailureFeedback.
func ForwardAny(onFailure string) Action {
	return Action{Name: ActionForwardAny, Payload: &ForwardAnyPayload{OnFailure: onFailure}}
}

// DelayPayload delays the actions after it in the same list (inferred
// keys: the doc says only that a typing indicator shows by default).
type DelayPayload struct {
	Seconds float64 `json:"seconds"`          // inferred
	Typing  *bool   `json:"typing,omitempty"` // inferred; Userlike shows typing when absent
}

// Delay delays the following actions of the same reply by d, with the
// typing indicator. The doc: "Delays only affect subsequent messages in the
// same response/request": a delay belongs in a webhook reply, or in a
// Client.Send with WithBatch(true), before the messages it delays.
func Delay(d time.Duration) Action {
	return Action{Name: ActionDelay, Payload: &DelayPayload{Seconds: d.Seconds()}}
}

// NotePayload creates a note: on the contact when ContactIdentityID is set
// (documented), else on the conversation. The text key is inferred.
type NotePayload struct {
	Body              string `json:"body"` // inferred
	ContactIdentityID string `json:"contact_identity_id,omitempty"`
}

// NoteCreate returns a note on the conversation, or on the contact when
// contactIdentityID is not empty.
func NoteCreate(body, contactIdentityID string) Action {
	return Action{Name: ActionNoteCreate, Payload: &NotePayload{Body: body, ContactIdentityID: contactIdentityID}}
}

// ConversationUpdatePayload updates the conversation; set at least one
// field (documented keys).
type ConversationUpdatePayload struct {
	Subject      string         `json:"subject,omitempty"`
	Topics       []string       `json:"topics,omitempty"`
	Locale       string         `json:"locale,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
}

// ConversationUpdate returns a conversation update.
func ConversationUpdate(p ConversationUpdatePayload) Action {
	return Action{Name: ActionConversationUpdate, Payload: &p}
}

// AddonDispatchPayload sends the conversation to an add-on after it ends
// (inferred key).
type AddonDispatchPayload struct {
	Type string `json:"type"` // inferred
}

// AddonDispatch returns an add-on dispatch of the given add-on type.
func AddonDispatch(addonType string) Action {
	return Action{Name: ActionAddonDispatch, Payload: &AddonDispatchPayload{Type: addonType}}
}

// Email recipient types of email_dispatch (documented in prose).
const (
	RecipientOperator = "operator"
	RecipientContact  = "contact" // needs an email address on the contact
)

// EmailDispatchPayload sends the transcript after the conversation ends
// (inferred keys).
type EmailDispatchPayload struct {
	RecipientType string `json:"recipient_type"`         // inferred
	RecipientID   string `json:"recipient_id,omitempty"` // inferred, for an operator
}

// EmailDispatch returns a transcript dispatch to an operator or the
// contact.
func EmailDispatch(recipientType, recipientID string) Action {
	return Action{Name: ActionEmailDispatch, Payload: &EmailDispatchPayload{RecipientType: recipientType, RecipientID: recipientID}}
}

// Custom returns an action with any name and payload (anything that
// marshals to JSON), for what this package does not model.
func Custom(name string, payload any) Action {
	return Action{Name: name, Payload: payload}
}
