package easydialog

import "encoding/json"

// Response is the bot's answer, written as the webhook's response body:
// every message in it is sent to the customer, in order. It may be empty.
type Response struct {
	Messages []OutboundMessage `json:"messages"`
}

// MarshalJSON writes "messages": [] for an empty response, never null.
func (r Response) MarshalJSON() ([]byte, error) {
	type response Response
	if r.Messages == nil {
		r.Messages = []OutboundMessage{}
	}
	return json.Marshal(response(r))
}

// Reply returns a response with msgs.
func Reply(msgs ...OutboundMessage) *Response {
	return &Response{Messages: msgs}
}

// OutboundMessage is one message of a Response.
type OutboundMessage struct {
	Body Body `json:"body"`
}

// WithSuggestions returns a copy of m whose body also offers suggestions,
// as the doc's example does with a location.
func (m OutboundMessage) WithSuggestions(s ...Suggestion) OutboundMessage {
	m.Body.Suggestions = &SuggestionsMessage{Suggestions: s}
	return m
}

// NewTextMessage returns a text message.
func NewTextMessage(content string) OutboundMessage {
	return OutboundMessage{Body: Body{Text: &TextMessage{Content: content}}}
}

// NewPictureMessage returns a picture message; name may be empty.
func NewPictureMessage(url, name string) OutboundMessage {
	return OutboundMessage{Body: Body{Picture: &MediaFile{URL: url, Name: name}}}
}

// NewVideoMessage returns a video message; name may be empty.
func NewVideoMessage(url, name string) OutboundMessage {
	return OutboundMessage{Body: Body{Video: &MediaFile{URL: url, Name: name}}}
}

// NewAudioMessage returns an audio message; name may be empty.
func NewAudioMessage(url, name string) OutboundMessage {
	return OutboundMessage{Body: Body{Audio: &AudioMessage{URL: url, Name: name}}}
}

// NewFileMessage returns a file message. A size of 0 is left out.
func NewFileMessage(url, name, mimeType string, size int64) OutboundMessage {
	f := &FileMessage{URL: url, Name: name, MimeType: mimeType}
	if size > 0 {
		f.Size = Number(size)
	}
	return OutboundMessage{Body: Body{File: f}}
}

// NewFileListMessage returns several files under a text.
func NewFileListMessage(text string, files ...FileMessage) OutboundMessage {
	return OutboundMessage{Body: Body{FileList: &FileListMessage{Text: text, Files: files}}}
}

// NewLocationMessage returns a location; text and url may be empty.
func NewLocationMessage(latitude, longitude float64, text, url string) OutboundMessage {
	return OutboundMessage{Body: Body{Location: &LocationMessage{Latitude: latitude, Longitude: longitude, Text: text, URL: url}}}
}

// NewContactMessage returns a contact card.
func NewContactMessage(c ContactMessage) OutboundMessage {
	return OutboundMessage{Body: Body{Contact: &c}}
}

// NewSuggestionsMessage returns a body with suggestions only.
func NewSuggestionsMessage(s ...Suggestion) OutboundMessage {
	return OutboundMessage{Body: Body{Suggestions: &SuggestionsMessage{Suggestions: s}}}
}

// NewCardMessage returns a single rich card.
func NewCardMessage(card CardContent) OutboundMessage {
	return OutboundMessage{Body: Body{Card: &CardMessage{Content: []CardContent{card}}}}
}

// NewCardCarouselMessage returns a carousel of rich cards.
func NewCardCarouselMessage(cards ...CardContent) OutboundMessage {
	return OutboundMessage{Body: Body{CardCarousel: &CardCarouselMessage{Content: cards}}}
}

// Card returns a card with an image, a title, a description and
// suggestions; any of them may be empty.
func Card(imageURL, title, description string, s ...Suggestion) CardContent {
	c := CardContent{Title: title, Description: description, Suggestions: s}
	if imageURL != "" {
		c.Media = &MediaMessage{URL: imageURL}
	}
	return c
}

// Postback returns a suggestion with a top-level postback.
func Postback(text, postback string) Suggestion {
	return Suggestion{Text: text, Postback: postback}
}

// ReplyWith returns a suggestion that replies with postback.
func ReplyWith(text, postback string) Suggestion {
	return Suggestion{Text: text, ReplyWith: &ReplyWithSuggestion{Postback: postback}}
}

// OpenURL returns a suggestion that opens url.
func OpenURL(text, url string) Suggestion {
	return Suggestion{Text: text, OpenURL: &OpenURLSuggestion{URL: url}}
}

// DialNumber returns a suggestion that dials number.
func DialNumber(text, number string) Suggestion {
	return Suggestion{Text: text, DialNumber: &DialNumberSuggestion{Number: number}}
}

// ComposeMessage returns a suggestion that opens a message to number.
func ComposeMessage(text, number, message string) Suggestion {
	return Suggestion{Text: text, ComposeMessage: &ComposeMessageSuggestion{Number: number, Text: message}}
}

// ShowMapLocation returns a suggestion that shows a place on a map.
func ShowMapLocation(text string, latitude, longitude float64, label, url string) Suggestion {
	return Suggestion{Text: text, ShowMapLocation: &ShowMapLocationSuggestion{
		Latitude: latitude, Longitude: longitude, Label: label, URL: url}}
}

// CreateCalendarEvent returns a suggestion that creates a calendar event.
func CreateCalendarEvent(text, title, description, start, end string) Suggestion {
	return Suggestion{Text: text, CreateCalendarEvent: &CalendarEventSuggestion{
		Title: title, Description: description, Start: start, End: end}}
}
