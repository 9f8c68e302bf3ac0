package onetalk

import (
	"encoding/json"
)

// EventType names what a WebhookRequest asks OneTalk to do.
type EventType string

// The five event types of the OneTalk URL. (The doc says "3 events" and
// lists five; its eventType row forgets update_case. All five are real.)
const (
	EventMessages      EventType = "messages"
	EventHandoverCase  EventType = "handover_case"
	EventCloseCase     EventType = "close_case"
	EventUpdateCase    EventType = "update_case"
	EventUpdateContact EventType = "update_contact"
)

// WebhookRequest is the body the bot posts to its OneTalk URL (the doc's
// "Webhooks" section). The field named by EventType must be set.
type WebhookRequest struct {
	CaseID        string            `json:"caseID"`
	EventType     EventType         `json:"eventType"`
	Messages      []OutboundMessage `json:"messages,omitempty"`
	HandoverCase  *HandoverCase     `json:"handoverCase,omitempty"`
	CloseCase     *CloseCase        `json:"closeCase,omitempty"`
	UpdateCase    *UpdateCase       `json:"updateCase,omitempty"`
	UpdateContact *UpdateContact    `json:"updateContact,omitempty"`
}

// OutboundMessage is one message the bot sends. Exactly one of Text,
// Document, Image, Video and WhatsAppBA is set, as named by Type. Use the
// New... constructors.
type OutboundMessage struct {
	Type     string    `json:"type"`
	Text     *Text     `json:"text,omitempty"`
	Document *Document `json:"document,omitempty"`
	Image    *Media    `json:"image,omitempty"`
	// Video is the video of a "video" message. The doc's table calls the key
	// "video" but its example sends "image"; a video is encoded under both
	// keys so that either reading of the doc finds it.
	Video *Media `json:"video,omitempty"`
	// WhatsAppBA is an interactive message; only for "whatsappba" cases.
	WhatsAppBA *OutboundWABA `json:"whatsappba,omitempty"`
	// CustomData is passed through to "kataai" and "custom" channels, e.g.
	// a JSON-encoded object (newer than the doc).
	CustomData string `json:"customData,omitempty"`
}

type outboundMessage OutboundMessage

// MarshalJSON writes a video under both "video" and "image" (see Video).
func (m OutboundMessage) MarshalJSON() ([]byte, error) {
	v := outboundMessage(m)
	encodeVideo(v.Type, &v.Image, &v.Video)
	return json.Marshal(v)
}

// UnmarshalJSON accepts a video under "video", "image", or both.
func (m *OutboundMessage) UnmarshalJSON(b []byte) error {
	var v outboundMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	decodeVideo(v.Type, &v.Image, &v.Video)
	*m = OutboundMessage(v)
	return nil
}

// The doc sends a video under the key "image" in three places while its
// tables say "video" (the OneTalk chatbot doc's video examples).
// decodeVideo accepts either key;
// encodeVideo writes both, so OneTalk finds the video whichever it reads.
func decodeVideo[M any](typ string, image, video **M) {
	if typ != TypeVideo {
		return
	}
	if *video == nil {
		*video = *image
	}
	*image = nil
}

func encodeVideo[M any](typ string, image, video **M) {
	if typ == TypeVideo && *video != nil && *image == nil {
		*image = *video
	}
}

// OutboundWABA is the "whatsappba" part of an outbound message.
type OutboundWABA struct {
	Type        string       `json:"type"` // "interactive", the only value
	Interactive *Interactive `json:"interactive,omitempty"`
}

// Interactive types (Interactive.Type).
const (
	InteractiveButton             = "button"               // reply buttons
	InteractiveList               = "list"                 // list message
	InteractiveFlow               = "flow"                 // WhatsApp Flow (newer than the doc)
	InteractiveRequestContactInfo = "request_contact_info" // asks for the contact card (newer than the doc)
)

// Interactive is a WhatsApp interactive message: reply buttons, a list, or
// a flow. Body is required; the action named by Type must be set.
type Interactive struct {
	Type         string           `json:"type"`
	Header       *Header          `json:"header,omitempty"`
	Body         *InteractiveText `json:"body,omitempty"`
	Footer       *InteractiveText `json:"footer,omitempty"`
	ButtonAction *ButtonAction    `json:"buttonAction,omitempty"`
	ListAction   *ListAction      `json:"listAction,omitempty"`
	FlowAction   *FlowAction      `json:"flowAction,omitempty"`
}

// InteractiveText is the body or footer of an interactive message.
type InteractiveText struct {
	Text string `json:"text"`
}

// Header is the optional header of an interactive message. Its URLs are
// called "link" here, not "url" as in OutboundMessage.
type Header struct {
	Type     string          `json:"type"` // "text", "document", "image", "video"
	Text     string          `json:"text,omitempty"`
	Document *HeaderDocument `json:"document,omitempty"`
	Image    *HeaderMedia    `json:"image,omitempty"`
	// Video is encoded under "video" and "image", as OutboundMessage.Video.
	Video *HeaderMedia `json:"video,omitempty"`
}

type header Header

// MarshalJSON writes a video under both "video" and "image".
func (h Header) MarshalJSON() ([]byte, error) {
	v := header(h)
	encodeVideo(v.Type, &v.Image, &v.Video)
	return json.Marshal(v)
}

// UnmarshalJSON accepts a video under "video", "image", or both.
func (h *Header) UnmarshalJSON(b []byte) error {
	var v header
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	decodeVideo(v.Type, &v.Image, &v.Video)
	*h = Header(v)
	return nil
}

// HeaderDocument is a document header. Link is the file's absolute
// http(s) URL.
type HeaderDocument struct {
	Link     string `json:"link"`
	Filename string `json:"filename,omitempty"`
}

// HeaderMedia is an image or video header. Link is the file's absolute
// http(s) URL.
type HeaderMedia struct {
	Link string `json:"link"`
}

// ButtonAction holds the reply buttons: at most 3.
type ButtonAction struct {
	Buttons []Button `json:"buttons"`
}

// Button is one button; "reply" is the only type.
type Button struct {
	Type  string      `json:"type"`
	Reply ReplyButton `json:"reply"`
}

// ReplyButton is a reply button. ID is at most 256 characters; Title at most
// 20, unique within the message; emojis work, markdown does not.
type ReplyButton struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListAction is the action of a list message. Button is at most 20
// characters; at most 10 sections and 10 rows across all sections.
type ListAction struct {
	Button   string    `json:"button"`
	Sections []Section `json:"sections"`
}

// Section is a group of rows. Title is required when there is more than one
// section.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one selectable item of a list: ID at most 200 characters, Title 24,
// Description 72.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// FlowAction opens a WhatsApp Flow. It is newer than the OneTalk chatbot
// doc this package was written from; the fields and limits come from the
// doc's later revision (flowCTA "<= 30, no emoji").
type FlowAction struct {
	FlowID            string             `json:"flowID"`
	FlowMode          string             `json:"flowMode,omitempty"`   // "draft" or "published" (default)
	FlowCTA           string             `json:"flowCTA"`              // at most 30 characters, no emoji
	FlowAction        string             `json:"flowAction,omitempty"` // "navigate" (default) or "data_exchange"
	FlowActionPayload *FlowActionPayload `json:"flowActionPayload,omitempty"`
}

// FlowActionPayload is the flow's first screen and its data.
type FlowActionPayload struct {
	Screen string         `json:"screen,omitempty"` // default "FIRST_ENTRY_SCREEN"
	Data   map[string]any `json:"data,omitempty"`   // if set, not empty
}

// HandoverCase hands the case from the bot to a human agent.
//
// With TopicID unset (0) and no topic on the case yet, OneTalk assigns the
// channel's topic, and when the channel has several it sends the customer a
// message with the topic options. AgentEmail, if set, must name an agent of
// the case's topic.
type HandoverCase struct {
	TopicID    int64  `json:"topicID,omitempty"`
	AgentEmail string `json:"agentEmail,omitempty"`
	// ChatbotHandoverSummary is shown to the agent (newer than the doc).
	ChatbotHandoverSummary string `json:"chatbotHandoverSummary,omitempty"`
}

// CloseCase closes the case.
type CloseCase struct {
	// SendClosingMessage sends the channel's closing message, if it has one.
	SendClosingMessage bool `json:"sendClosingMessage"`
}

// UpdateCase changes the case. Only the fields that are set (non-nil) are
// updated; String("") clears the remark.
type UpdateCase struct {
	AgentRemark *string `json:"agentRemark,omitempty"`
	IsJunk      *bool   `json:"isJunk,omitempty"`
}

// UpdateContact changes the case's contact. Only the fields that are set
// (non-nil) are updated, and String("") clears Alias, CompanyName or
// JobTitle. FullName cannot be cleared. CustomFields maps field codes to
// values; "" clears a field where its set-up allows, a date is
// "2000-12-31", and a multiple-select value is a JSON-encoded array inside
// the string (see MultiSelect).
type UpdateContact struct {
	FullName     *string           `json:"fullName,omitempty"`
	Alias        *string           `json:"alias,omitempty"`
	CompanyName  *string           `json:"companyName,omitempty"`
	JobTitle     *string           `json:"jobTitle,omitempty"`
	CustomFields map[string]string `json:"customFields,omitempty"`
}

// String returns a pointer to s, for the optional fields of UpdateCase and
// UpdateContact.
func String(s string) *string { return &s }

// Bool returns a pointer to b, for UpdateCase.IsJunk.
func Bool(b bool) *bool { return &b }

// MultiSelect encodes the values of a multiple-select custom field the way
// OneTalk expects them: a JSON array inside a string.
func MultiSelect(values ...string) string {
	if values == nil {
		values = []string{}
	}
	b, _ := json.Marshal(values) // a []string always marshals
	return string(b)
}

// NewText returns a text message.
func NewText(body string) OutboundMessage {
	return OutboundMessage{Type: TypeText, Text: &Text{Body: body}}
}

// NewDocument returns a document message; url is the file's absolute
// http(s) URL ("The document's file URL"), which OneTalk fetches.
func NewDocument(url, filename, caption string) OutboundMessage {
	return OutboundMessage{Type: TypeDocument, Document: &Document{URL: url, Filename: filename, Caption: caption}}
}

// NewImage returns an image message; url is the image's absolute http(s)
// URL.
func NewImage(url, caption string) OutboundMessage {
	return OutboundMessage{Type: TypeImage, Image: &Media{URL: url, Caption: caption}}
}

// NewVideo returns a video message; url is the video's absolute http(s)
// URL.
func NewVideo(url, caption string) OutboundMessage {
	return OutboundMessage{Type: TypeVideo, Video: &Media{URL: url, Caption: caption}}
}

// NewReplyButtons returns a WABA interactive message with up to 3 reply
// buttons under body.
func NewReplyButtons(body string, buttons ...ReplyButton) OutboundMessage {
	bs := make([]Button, len(buttons))
	for i, b := range buttons {
		bs[i] = Button{Type: "reply", Reply: b}
	}
	return interactive(&Interactive{
		Type:         InteractiveButton,
		Body:         &InteractiveText{Text: body},
		ButtonAction: &ButtonAction{Buttons: bs},
	})
}

// NewList returns a WABA list message: body, the text of the button that
// opens the list, and its sections.
func NewList(body, button string, sections ...Section) OutboundMessage {
	return interactive(&Interactive{
		Type:       InteractiveList,
		Body:       &InteractiveText{Text: body},
		ListAction: &ListAction{Button: button, Sections: sections},
	})
}

// NewFlow returns a WABA message that opens the WhatsApp Flow flowID behind
// a call-to-action button labelled cta.
func NewFlow(body, flowID, cta string) OutboundMessage {
	return interactive(&Interactive{
		Type:       InteractiveFlow,
		Body:       &InteractiveText{Text: body},
		FlowAction: &FlowAction{FlowID: flowID, FlowCTA: cta},
	})
}

// NewRequestContactInfo returns a WABA message asking the customer to share
// their contact details.
func NewRequestContactInfo(body string) OutboundMessage {
	return interactive(&Interactive{Type: InteractiveRequestContactInfo, Body: &InteractiveText{Text: body}})
}

func interactive(i *Interactive) OutboundMessage {
	return OutboundMessage{Type: TypeWhatsAppBA, WhatsAppBA: &OutboundWABA{Type: WABAInteractive, Interactive: i}}
}

// WithHeader returns a copy of an interactive message with header h. It
// returns m unchanged when m is not interactive.
func (m OutboundMessage) WithHeader(h Header) OutboundMessage {
	return m.withInteractive(func(i *Interactive) { i.Header = &h })
}

// WithFooter returns a copy of an interactive message with a footer.
func (m OutboundMessage) WithFooter(text string) OutboundMessage {
	return m.withInteractive(func(i *Interactive) { i.Footer = &InteractiveText{Text: text} })
}

func (m OutboundMessage) withInteractive(set func(*Interactive)) OutboundMessage {
	if m.WhatsAppBA == nil || m.WhatsAppBA.Interactive == nil {
		return m
	}
	waba := *m.WhatsAppBA
	in := *waba.Interactive
	set(&in)
	waba.Interactive = &in
	m.WhatsAppBA = &waba
	return m
}

// TextHeader returns a text header.
func TextHeader(text string) Header { return Header{Type: TypeText, Text: text} }

// ImageHeader returns an image header.
func ImageHeader(link string) Header { return Header{Type: TypeImage, Image: &HeaderMedia{Link: link}} }

// VideoHeader returns a video header.
func VideoHeader(link string) Header { return Header{Type: TypeVideo, Video: &HeaderMedia{Link: link}} }

// DocumentHeader returns a document header.
func DocumentHeader(link, filename string) Header {
	return Header{Type: TypeDocument, Document: &HeaderDocument{Link: link, Filename: filename}}
}
