package easydialog

import (
	"errors"

	"github.com/botwire/botwire/internal/check"
)

// ErrInvalidResponse is wrapped by every validation error.
var ErrInvalidResponse = errors.New("easydialog: invalid response")

// FieldError is a response that breaks a rule: Field is the JSON path
// ("messages[1].body.locationMessage.latitude"), Problem says which rule.
// Validation errors join one *FieldError per problem.
type FieldError = check.FieldError

func newValidator() check.Collector { return check.New("easydialog", ErrInvalidResponse) }

// Validate checks what the doc requires of a response: every message has a
// body with at least one message this package knows and at most one of the
// exclusive kinds (see below), media and links have their URL, media and
// thumbnail URLs are absolute http(s) URLs (the doc's "HTTP URL for the
// media file"), coordinates are in range, suggestions have a label and at
// most one action. An empty response is valid.
//
// The doc (5.2) says a body "can contain TextMessage and SuggestionsMessage,
// and one of: PictureMessage, VideoMessage, AudioMessage, FileMessage,
// FileListMessage, LocationMessage, ContactMessage"; a body with two of
// those seven is refused. Cards are not in that list, so a card or a
// carousel beside them is left to Easy Dialog.
//
// What the doc's own examples show passes: an empty text content (5.4),
// a calendar event whose fields are all empty (5.20), a suggestion with
// postback data beside its action (5.14 lists "postback" as the
// suggestion's data, not as an action), a titled card whose medium is
// empty (5.23: "media": {}).
func (r *Response) Validate() error {
	v := newValidator()
	for i := range r.Messages {
		v.EnterIndex("messages", i)
		v.Enter("body")
		r.Messages[i].Body.validate(&v)
		v.Leave()
		v.Leave()
	}
	return v.Err()
}

// Validate checks one message.
func (m *OutboundMessage) Validate() error {
	v := newValidator()
	v.Enter("body")
	m.Body.validate(&v)
	return v.Err()
}

func (b *Body) validate(v *check.Collector) {
	if !b.Known() {
		v.Add("", "needs at least one known message (textMessage, pictureMessage, ...)")
		return
	}
	exclusive := 0
	for _, set := range [...]bool{b.Picture != nil, b.Video != nil, b.Audio != nil, b.File != nil,
		b.FileList != nil, b.Location != nil, b.Contact != nil} {
		if set {
			exclusive++
		}
	}
	if exclusive > 1 {
		v.Add("", "at most one of pictureMessage, videoMessage, audioMessage, fileMessage, fileListMessage, locationMessage, contactMessage, got %d", exclusive)
	}
	if p := b.Picture; p != nil {
		v.Enter("pictureMessage")
		validateMediaFile(v, p)
		v.Leave()
	}
	if p := b.Video; p != nil {
		v.Enter("videoMessage")
		validateMediaFile(v, p)
		v.Leave()
	}
	if a := b.Audio; a != nil {
		v.Required("audioMessage.url", a.URL)
		v.HTTPURL("audioMessage.url", a.URL)
	}
	if f := b.File; f != nil {
		v.Enter("fileMessage")
		validateFile(v, f)
		v.Leave()
	}
	if fl := b.FileList; fl != nil {
		v.Enter("fileListMessage")
		if len(fl.Files) == 0 {
			v.Add("files", "at least 1 file")
		}
		for i := range fl.Files {
			v.EnterIndex("files", i)
			validateFile(v, &fl.Files[i])
			v.Leave()
		}
		v.Leave()
	}
	if l := b.Location; l != nil {
		v.Range("locationMessage.latitude", l.Latitude, -90, 90)
		v.Range("locationMessage.longitude", l.Longitude, -180, 180)
	}
	if c := b.Contact; c != nil && *c == (ContactMessage{}) {
		v.Add("contactMessage", "needs a name, email, address or phone")
	}
	if s := b.Suggestions; s != nil {
		v.Enter("suggestionsMessage")
		if len(s.Suggestions) == 0 {
			v.Add("suggestions", "at least 1 suggestion")
		}
		validateSuggestions(v, s.Suggestions)
		v.Leave()
	}
	if c := b.Card; c != nil {
		v.Enter("cardMessage")
		validateCards(v, c.Content)
		v.Leave()
	}
	if c := b.CardCarousel; c != nil {
		v.Enter("cardCarouselMessage")
		validateCards(v, c.Content)
		v.Leave()
	}
}

// validateMediaFile checks a picture or a video: its url and thumbnailUrl
// are each an "HTTP URL for the media file" / "for the thumbnail file"
// (5.5, 5.6).
func validateMediaFile(v *check.Collector, m *MediaFile) {
	v.Required("url", m.URL)
	v.HTTPURL("url", m.URL)
	v.HTTPURL("thumbnailUrl", m.ThumbnailURL)
}

// validateFile checks a file. Its url is only a "File URL" in the doc
// (5.9), unlike the "HTTP URL" of every other medium, so only its presence
// is checked; its thumbnailUrl is an "HTTP URL for the thumbnail file".
func validateFile(v *check.Collector, f *FileMessage) {
	v.Required("url", f.URL)
	v.HTTPURL("thumbnailUrl", f.ThumbnailURL)
}

// validateCards checks cards. A card needs media, a title or a
// description. Its medium may be empty ("media": {}) when it has a title or
// a description: the doc's own card example (5.23) sends exactly that, and
// an empty medium shows nothing. Otherwise the medium needs its url, and
// its url and thumbnailUrl are HTTP URLs (5.8).
func validateCards(v *check.Collector, cards []CardContent) {
	if len(cards) == 0 {
		v.Add("content", "at least 1 card")
	}
	for i, c := range cards {
		v.EnterIndex("content", i)
		media := c.Media != nil && *c.Media != (MediaMessage{})
		if !media && c.Title == "" && c.Description == "" {
			v.Add("", "needs media, a title or a description")
		}
		if media {
			v.Required("media.url", c.Media.URL)
			v.HTTPURL("media.url", c.Media.URL)
			v.HTTPURL("media.thumbnailUrl", c.Media.ThumbnailURL)
		}
		validateSuggestions(v, c.Suggestions)
		v.Leave()
	}
}

func validateSuggestions(v *check.Collector, list []Suggestion) {
	for i, s := range list {
		v.EnterIndex("suggestions", i)
		v.Required("text", s.Text)
		actions := 0
		for _, set := range [...]bool{s.ReplyWith != nil, s.OpenURL != nil, s.DialNumber != nil,
			s.ComposeMessage != nil, s.ShowMapLocation != nil, s.CreateCalendarEvent != nil} {
			if set {
				actions++
			}
		}
		if actions > 1 {
			v.Add("", "at most one action (replyWith, openUrl, dialNumber, ...), got %d", actions)
		}
		switch {
		case s.ReplyWith != nil:
			if s.Postback == "" {
				v.Required("replyWith.postback", s.ReplyWith.Postback)
			}
		case s.OpenURL != nil:
			v.Required("openUrl.url", s.OpenURL.URL)
		case s.DialNumber != nil:
			v.Required("dialNumber.number", s.DialNumber.Number)
		case s.ComposeMessage != nil:
			v.Required("composeMessage.number", s.ComposeMessage.Number)
		case s.ShowMapLocation != nil:
			v.Range("showMapLocation.latitude", s.ShowMapLocation.Latitude, -90, 90)
			v.Range("showMapLocation.longitude", s.ShowMapLocation.Longitude, -180, 180)
		}
		v.Leave()
	}
}
