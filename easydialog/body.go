package easydialog

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/botwire/botwire/internal/jsonx"
)

// Body is the content of a message, inbound or outbound. It usually holds
// one message, but may hold several keys: the doc's second example sends a
// location and suggestions in one body. Keys this package does not know are
// kept in Unknown and written back unchanged.
type Body struct {
	Text         *TextMessage         `json:"textMessage,omitempty"`
	Picture      *MediaFile           `json:"pictureMessage,omitempty"`
	Video        *MediaFile           `json:"videoMessage,omitempty"`
	Audio        *AudioMessage        `json:"audioMessage,omitempty"`
	File         *FileMessage         `json:"fileMessage,omitempty"`
	FileList     *FileListMessage     `json:"fileListMessage,omitempty"`
	Location     *LocationMessage     `json:"locationMessage,omitempty"`
	Contact      *ContactMessage      `json:"contactMessage,omitempty"`
	Suggestions  *SuggestionsMessage  `json:"suggestionsMessage,omitempty"`
	Card         *CardMessage         `json:"cardMessage,omitempty"`
	CardCarousel *CardCarouselMessage `json:"cardCarouselMessage,omitempty"`

	// Unknown holds body keys this package does not model, with their raw
	// JSON.
	Unknown map[string]json.RawMessage `json:"-"`
}

type body Body

var knownBodyKeys = map[string]bool{
	"textMessage": true, "pictureMessage": true, "videoMessage": true, "audioMessage": true,
	"fileMessage": true, "fileListMessage": true, "locationMessage": true, "contactMessage": true,
	"suggestionsMessage": true, "cardMessage": true, "cardCarouselMessage": true,
}

// UnmarshalJSON decodes the known keys and keeps the others in Unknown.
func (b *Body) UnmarshalJSON(data []byte) error {
	var v body
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = Body(v)
	b.keepUnknown(data)
	return nil
}

// keepUnknown fills Unknown from data, the body's JSON, when it has keys
// this package does not model (a cheap scan first; the usual body has
// none).
func (b *Body) keepUnknown(data []byte) {
	if !hasUnknownKey(data) {
		return
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(data, &all) != nil {
		return
	}
	for k, raw := range all {
		if !knownBodyKeys[k] {
			if b.Unknown == nil {
				b.Unknown = map[string]json.RawMessage{}
			}
			b.Unknown[k] = raw
		}
	}
}

// hasUnknownKey reports, without allocating, whether the object has a
// top-level key outside knownBodyKeys. The usual body has none, and then the
// second decoding pass is skipped. data is valid JSON (it just decoded); an
// escaped key counts as unknown here and is sorted out by the slow path.
func hasUnknownKey(data []byte) bool {
	unknown := false
	jsonx.EachField(data, func(k, _ []byte) bool {
		unknown = !knownBodyKeys[string(k)]
		return !unknown
	})
	return unknown
}

// MarshalJSON writes the known keys and Unknown, in a stable order.
func (b Body) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(body(b))
	if err != nil || len(b.Unknown) == 0 {
		return known, err
	}
	keys := make([]string, 0, len(b.Unknown))
	for k := range b.Unknown {
		if !knownBodyKeys[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := bytes.NewBuffer(known[:len(known)-1]) // drop the closing brace
	for _, k := range keys {
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(b.Unknown[k])
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// Known reports whether the body holds at least one message this package
// models.
func (b *Body) Known() bool {
	return b.Text != nil || b.Picture != nil || b.Video != nil || b.Audio != nil || b.File != nil ||
		b.FileList != nil || b.Location != nil || b.Contact != nil || b.Suggestions != nil ||
		b.Card != nil || b.CardCarousel != nil
}

// TextMessage is a text.
type TextMessage struct {
	Content string `json:"content"`
}

// MediaFile is a picture or a video.
type MediaFile struct {
	Name              string         `json:"name,omitempty"`
	URL               string         `json:"url"`
	MimeType          string         `json:"mimeType,omitempty"`
	Size              NumberOrString `json:"size,omitzero"` // a string in the doc's table
	PlayingLength     string         `json:"playingLength,omitempty"`
	ThumbnailName     string         `json:"thumbnailName,omitempty"`
	ThumbnailURL      string         `json:"thumbnailUrl,omitempty"`
	ThumbnailMimeType string         `json:"thumbnailMimeType,omitempty"`
	ThumbnailSize     NumberOrString `json:"thumbnailSize,omitzero"`
}

// AudioMessage is an audio file.
type AudioMessage struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

// FileMessage is a file.
type FileMessage struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
	// FileType is not in the doc's table; its fileListMessage example sends
	// it.
	FileType          string         `json:"fileType,omitempty"`
	MimeType          string         `json:"mimeType,omitempty"`
	Size              NumberOrString `json:"size,omitzero"` // an integer in the doc's table
	PlayingLength     string         `json:"playingLength,omitempty"`
	ThumbnailName     string         `json:"thumbnailName,omitempty"`
	ThumbnailURL      string         `json:"thumbnailUrl,omitempty"`
	ThumbnailMimeType string         `json:"thumbnailMimeType,omitempty"`
	ThumbnailSize     NumberOrString `json:"thumbnailSize,omitzero"`
}

// FileListMessage is several files with a text.
type FileListMessage struct {
	Text  string        `json:"text,omitempty"`
	Files []FileMessage `json:"files"`
}

// LocationMessage is a place on a map.
type LocationMessage struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Text      string  `json:"text,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// ContactMessage is a contact card.
type ContactMessage struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// SuggestionsMessage offers suggestions (quick replies and actions), usually
// in the same body as a text or a location.
type SuggestionsMessage struct {
	Suggestions []Suggestion `json:"suggestions"`
}

// Suggestion is one suggested reply or action: Text is its label, and one of
// the other fields says what it does. Use the constructors (ReplyWith,
// OpenURL, ...).
type Suggestion struct {
	Text string `json:"text"`
	// Postback is a top-level postback; the doc also has
	// ReplyWith.Postback, and does not say how they differ.
	Postback            string                     `json:"postback,omitempty"`
	ReplyWith           *ReplyWithSuggestion       `json:"replyWith,omitempty"`
	OpenURL             *OpenURLSuggestion         `json:"openUrl,omitempty"`
	DialNumber          *DialNumberSuggestion      `json:"dialNumber,omitempty"`
	ComposeMessage      *ComposeMessageSuggestion  `json:"composeMessage,omitempty"`
	ShowMapLocation     *ShowMapLocationSuggestion `json:"showMapLocation,omitempty"`
	CreateCalendarEvent *CalendarEventSuggestion   `json:"createCalendarEvent,omitempty"`
}

// ReplyWithSuggestion replies with a postback.
type ReplyWithSuggestion struct {
	Postback string `json:"postback"`
}

// OpenURLSuggestion opens a website.
type OpenURLSuggestion struct {
	URL string `json:"url"`
}

// DialNumberSuggestion dials a number.
type DialNumberSuggestion struct {
	Number string `json:"number"`
}

// ComposeMessageSuggestion opens a message to Number with Text.
//
// The doc names the text field "test", almost surely a typo for "text".
// Both keys decode, and both are written so that either reading works.
type ComposeMessageSuggestion struct {
	Number string `json:"number"`
	Text   string `json:"text,omitempty"`
}

// UnmarshalJSON accepts "text" and the doc's "test".
func (c *ComposeMessageSuggestion) UnmarshalJSON(b []byte) error {
	var v struct {
		Number string  `json:"number"`
		Text   *string `json:"text"`
		Test   *string `json:"test"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Number = v.Number
	switch {
	case v.Text != nil:
		c.Text = *v.Text
	case v.Test != nil:
		c.Text = *v.Test
	default:
		c.Text = ""
	}
	return nil
}

// MarshalJSON writes the text under "text" and "test".
func (c ComposeMessageSuggestion) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Number string `json:"number"`
		Text   string `json:"text"`
		Test   string `json:"test"`
	}{c.Number, c.Text, c.Text})
}

// ShowMapLocationSuggestion shows a place on a map.
type ShowMapLocationSuggestion struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Label     string  `json:"label,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// CalendarEventSuggestion creates a calendar event. The doc does not give
// the format of Start and End; they are passed through as written.
type CalendarEventSuggestion struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Start       string `json:"start"`
	End         string `json:"end"`
}

// CardMessage is one rich card.
type CardMessage struct {
	// Layout is undocumented ("Card layout", an object); kept as raw JSON.
	Layout  json.RawMessage `json:"layout,omitempty"`
	Content []CardContent   `json:"content"`
}

// CardCarouselMessage is a row of rich cards.
type CardCarouselMessage struct {
	Layout  json.RawMessage `json:"layout,omitempty"`
	Content []CardContent   `json:"content"`
}

// CardContent is one card: media, a title, a description and suggestions.
type CardContent struct {
	Media       *MediaMessage `json:"media,omitempty"`
	Title       string        `json:"title,omitempty"`
	Description string        `json:"description,omitempty"`
	Suggestions []Suggestion  `json:"suggestions,omitempty"`
}

// MediaMessage is the media of a card.
type MediaMessage struct {
	URL          string `json:"url,omitempty"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
	Height       string `json:"height,omitempty"` // a string in the doc
}
