package easydialog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func TestBuildersGolden(t *testing.T) {
	cases := map[string]OutboundMessage{
		"text":    NewTextMessage("Hello John Doe"),
		"picture": NewPictureMessage("https://example.com/macbook.jpg", "MacBook Air"),
		"video":   NewVideoMessage("https://example.com/intro.mp4", ""),
		"audio":   NewAudioMessage("https://example.com/jingle.mp3", "Jingle"),
		"file":    NewFileMessage("https://example.com/manual.pdf", "manual.pdf", "application/pdf", 2048),
		"file_list": NewFileListMessage("Your documents",
			FileMessage{URL: "https://example.com/a.pdf", Name: "a.pdf"},
			FileMessage{URL: "https://example.com/b.pdf", Name: "b.pdf", Size: Number(10)}),
		"location_with_suggestions": NewLocationMessage(37.3348, -122.0089, "Apple Park", "https://maps.example.com/apple-park").
			WithSuggestions(OpenURL("Website", "https://www.apple.com")),
		"contact": NewContactMessage(ContactMessage{Name: "Support", Email: "help@example.com", Phone: "+41 44 000 00 00"}),
		"suggestions": NewSuggestionsMessage(
			Postback("Yes", "yes"),
			ReplyWith("No", "no"),
			OpenURL("Website", "https://example.com"),
			DialNumber("Call us", "+41440000000"),
			ComposeMessage("Write us", "+41790000000", "Hello!"),
			ShowMapLocation("Find us", 47.3769, 8.5417, "Zurich office", "https://maps.example.com/zurich"),
			CreateCalendarEvent("Add to calendar", "Demo", "Product demo", "2026-12-01 10:00:00", "2026-12-01 11:00:00"),
		),
		"card": NewCardMessage(Card("https://example.com/watch.jpg", "Apple Watch", "Full screen ahead.",
			OpenURL("Visit", "https://example.com/watch"))),
		"card_carousel": NewCardCarouselMessage(
			Card("https://example.com/air.jpg", "MacBook Air", "Power. It’s in the Air.", OpenURL("Visit", "https://example.com/air")),
			Card("", "Apple Watch Series 7", "Full screen ahead.", ReplyWith("Tell me more", "watch")),
		),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			if err := m.Validate(); err != nil {
				t.Fatalf("builder output is invalid: %v", err)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "easydialog/golden/builder_"+name+".json", b)
		})
	}
}

func TestEmptyResponseIsNeverNull(t *testing.T) {
	for _, r := range []*Response{{}, Reply(), {Messages: []OutboundMessage{}}} {
		b, _ := json.Marshal(r)
		if string(b) != `{"messages":[]}` {
			t.Errorf("got %s", b)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  OutboundMessage
		want string
	}{
		{"empty body", OutboundMessage{}, "body: needs at least one known message"},
		{"unknown only", OutboundMessage{Body: Body{Unknown: map[string]json.RawMessage{"x": []byte(`{}`)}}}, "needs at least one known message"},
		{"picture and video", OutboundMessage{Body: Body{Picture: &MediaFile{URL: "p"}, Video: &MediaFile{URL: "v"}}},
			"body: at most one of pictureMessage, videoMessage"},
		{"location and contact", OutboundMessage{Body: Body{Location: &LocationMessage{Latitude: 1}, Contact: &ContactMessage{Name: "A"}}},
			"at most one of pictureMessage"},
		{"picture no url", NewPictureMessage("", "n"), "body.pictureMessage.url: required"},
		{"video no url", NewVideoMessage("", ""), "body.videoMessage.url: required"},
		{"audio no url", NewAudioMessage("", ""), "body.audioMessage.url: required"},
		{"file no url", NewFileMessage("", "", "", 0), "body.fileMessage.url: required"},
		{"file list empty", NewFileListMessage("t"), "fileListMessage.files: at least 1 file"},
		{"file list url", NewFileListMessage("t", FileMessage{Name: "a"}), "fileListMessage.files[0].url: required"},
		{"latitude 91", NewLocationMessage(91, 0, "", ""), "locationMessage.latitude: must be between -90 and 90, got 91"},
		{"longitude -181", NewLocationMessage(0, -181, "", ""), "locationMessage.longitude: must be between -180 and 180"},
		{"latitude NaN", NewLocationMessage(math.NaN(), 0, "", ""), "locationMessage.latitude"},
		{"contact empty", NewContactMessage(ContactMessage{}), "contactMessage: needs a name"},
		{"no suggestions", NewSuggestionsMessage(), "suggestions: at least 1 suggestion"},
		{"suggestion label", NewSuggestionsMessage(OpenURL("", "https://x")), "suggestions[0].text: required"},
		{"open url", NewSuggestionsMessage(OpenURL("Go", "")), "suggestions[0].openUrl.url: required"},
		{"two actions", NewSuggestionsMessage(Suggestion{Text: "x", DialNumber: &DialNumberSuggestion{Number: "1"}, OpenURL: &OpenURLSuggestion{URL: "u"}}),
			"at most one action"},
		{"dial", NewSuggestionsMessage(DialNumber("Call", "")), "dialNumber.number: required"},
		{"compose", NewSuggestionsMessage(ComposeMessage("Write", "", "hi")), "composeMessage.number: required"},
		{"map", NewSuggestionsMessage(ShowMapLocation("Map", 100, 0, "", "")), "showMapLocation.latitude"},
		{"reply with", NewSuggestionsMessage(ReplyWith("R", "")), "replyWith.postback: required"},
		{"no cards", NewCardCarouselMessage(), "cardCarouselMessage.content: at least 1 card"},
		{"empty card", NewCardCarouselMessage(CardContent{}), "cardCarouselMessage.content[0]: needs media"},
		{"card media url", NewCardMessage(CardContent{Media: &MediaMessage{Height: "200"}}), "cardMessage.content[0].media.url: required"},
		{"card suggestion", NewCardMessage(Card("", "T", "", OpenURL("Visit", ""))), "content[0].suggestions[0].openUrl.url: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.msg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidResponse) {
				t.Error("does not wrap ErrInvalidResponse")
			}
		})
	}
	r := Reply(NewTextMessage("ok"), NewPictureMessage("", "n"))
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "easydialog: messages[1].body.pictureMessage.url: required") {
		t.Errorf("Response.Validate() = %v", err)
	}
}

// Every reply shape the doc shows must pass Validate: a handler answers 500
// for an invalid reply, so a doc example refused would leave the customer
// without an answer. The doc's templates use empty strings (5.4, 5.20) and
// a suggestion with postback data beside its action (5.14).
//
// Two templates (5.10 FileListMessage, 5.23 CardCarouselMessage) leave
// every "url" empty; a medium needs its URL to be delivered, so those stay
// required and only they may be refused there.
func TestDocRepliesAreValid(t *testing.T) {
	urlPlaceholders := map[string]bool{"body_file_list.json": true, "body_card_carousel.json": true}
	files := golden.Glob(t, "easydialog/doc/*.json")
	if len(files) < 10 {
		t.Fatalf("found %d doc fixtures", len(files))
	}
	for _, file := range files {
		name := path.Base(file)
		data := golden.Read(t, file)
		switch {
		case strings.HasPrefix(name, "response_"):
			var r Response
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := r.Validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "body_"):
			var m OutboundMessage
			if err := json.Unmarshal(data, &m.Body); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			err := m.Validate()
			if urlPlaceholders[name] {
				// Only the url placeholders may be refused: a file or card
				// medium without a URL cannot be delivered.
				for _, line := range strings.Split(fmt.Sprint(err), "\n") {
					if !strings.HasSuffix(line, "url: required") {
						t.Errorf("%s: %s", name, line)
					}
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "suggestion_"):
			var s Suggestion
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			m := NewSuggestionsMessage(s)
			if err := m.Validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	withData := NewSuggestionsMessage(Suggestion{Text: "Yes", Postback: "yes", ReplyWith: &ReplyWithSuggestion{Postback: "yes"}})
	if err := (&withData).Validate(); err != nil {
		t.Errorf("postback beside replyWith (5.14): %v", err)
	}
	empty := NewSuggestionsMessage(Suggestion{Text: "Yes", Postback: "yes", ReplyWith: &ReplyWithSuggestion{}})
	if err := (&empty).Validate(); err != nil {
		t.Errorf("postback data stands for an empty replyWith.postback: %v", err)
	}
}
