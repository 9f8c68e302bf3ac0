package easydialog

import (
	"errors"
	"strconv"

	"github.com/botwire/botwire/internal/check"
)

// ErrInvalidResponse is wrapped by every validation error.
var ErrInvalidResponse = errors.New("invalid response")

// FieldError is a response that breaks a rule: Field is the JSON path
// ("messages[1].body.locationMessage.latitude"), Problem says which rule.
// Validation errors join one *FieldError per problem.
type FieldError = check.FieldError

func newValidator() *check.Collector { return check.New("easydialog", ErrInvalidResponse) }

// Validate checks what the doc requires of a response: every message has a
// body with at least one message this package knows, media and links have
// their URL, coordinates are in range, suggestions have a label and at most
// one action. An empty response is valid.
func (r *Response) Validate() error {
	v := newValidator()
	for i := range r.Messages {
		r.Messages[i].Body.validate(v, "messages["+strconv.Itoa(i)+"].body")
	}
	return v.Err()
}

// Validate checks one message.
func (m *OutboundMessage) Validate() error {
	v := newValidator()
	m.Body.validate(v, "body")
	return v.Err()
}

func (b *Body) validate(v *check.Collector, path string) {
	if !b.Known() {
		v.Add(path, "needs at least one known message (textMessage, pictureMessage, ...)")
		return
	}
	if t := b.Text; t != nil {
		v.Required(path+".textMessage.content", t.Content)
	}
	if p := b.Picture; p != nil {
		v.Required(path+".pictureMessage.url", p.URL)
	}
	if p := b.Video; p != nil {
		v.Required(path+".videoMessage.url", p.URL)
	}
	if a := b.Audio; a != nil {
		v.Required(path+".audioMessage.url", a.URL)
	}
	if f := b.File; f != nil {
		v.Required(path+".fileMessage.url", f.URL)
	}
	if fl := b.FileList; fl != nil {
		p := path + ".fileListMessage.files"
		if len(fl.Files) == 0 {
			v.Add(p, "at least 1 file")
		}
		for i, f := range fl.Files {
			v.Required(p+"["+strconv.Itoa(i)+"].url", f.URL)
		}
	}
	if l := b.Location; l != nil {
		v.Range(path+".locationMessage.latitude", l.Latitude, -90, 90)
		v.Range(path+".locationMessage.longitude", l.Longitude, -180, 180)
	}
	if c := b.Contact; c != nil && *c == (ContactMessage{}) {
		v.Add(path+".contactMessage", "needs a name, email, address or phone")
	}
	if s := b.Suggestions; s != nil {
		p := path + ".suggestionsMessage.suggestions"
		if len(s.Suggestions) == 0 {
			v.Add(p, "at least 1 suggestion")
		}
		validateSuggestions(v, p, s.Suggestions)
	}
	if c := b.Card; c != nil {
		validateCards(v, path+".cardMessage.content", c.Content)
	}
	if c := b.CardCarousel; c != nil {
		validateCards(v, path+".cardCarouselMessage.content", c.Content)
	}
}

func validateCards(v *check.Collector, path string, cards []CardContent) {
	if len(cards) == 0 {
		v.Add(path, "at least 1 card")
	}
	for i, c := range cards {
		p := path + "[" + strconv.Itoa(i) + "]"
		if c.Media == nil && c.Title == "" && c.Description == "" {
			v.Add(p, "needs media, a title or a description")
		}
		if c.Media != nil {
			v.Required(p+".media.url", c.Media.URL)
		}
		validateSuggestions(v, p+".suggestions", c.Suggestions)
	}
}

func validateSuggestions(v *check.Collector, path string, list []Suggestion) {
	for i, s := range list {
		p := path + "[" + strconv.Itoa(i) + "]"
		v.Required(p+".text", s.Text)
		actions := 0
		for _, set := range []bool{s.Postback != "", s.ReplyWith != nil, s.OpenURL != nil, s.DialNumber != nil,
			s.ComposeMessage != nil, s.ShowMapLocation != nil, s.CreateCalendarEvent != nil} {
			if set {
				actions++
			}
		}
		if actions > 1 {
			v.Add(p, "at most one action (postback, replyWith, openUrl, ...), got %d", actions)
		}
		switch {
		case s.ReplyWith != nil:
			v.Required(p+".replyWith.postback", s.ReplyWith.Postback)
		case s.OpenURL != nil:
			v.Required(p+".openUrl.url", s.OpenURL.URL)
		case s.DialNumber != nil:
			v.Required(p+".dialNumber.number", s.DialNumber.Number)
		case s.ComposeMessage != nil:
			v.Required(p+".composeMessage.number", s.ComposeMessage.Number)
		case s.ShowMapLocation != nil:
			v.Range(p+".showMapLocation.latitude", s.ShowMapLocation.Latitude, -90, 90)
			v.Range(p+".showMapLocation.longitude", s.ShowMapLocation.Longitude, -180, 180)
		case s.CreateCalendarEvent != nil:
			v.Required(p+".createCalendarEvent.title", s.CreateCalendarEvent.Title)
			v.Required(p+".createCalendarEvent.start", s.CreateCalendarEvent.Start)
			v.Required(p+".createCalendarEvent.end", s.CreateCalendarEvent.End)
		}
	}
}
