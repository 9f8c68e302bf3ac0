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
		{"card media url with a title", NewCardMessage(CardContent{Title: "T", Media: &MediaMessage{ThumbnailURL: "https://x/t.jpg"}}),
			"cardMessage.content[0].media.url: required"},
		{"empty card media, no title", NewCardCarouselMessage(CardContent{Media: &MediaMessage{}}), "cardCarouselMessage.content[0]: needs media, a title or a description"},

		// "HTTP URL for the media file" / "for the thumbnail file".
		{"picture path", NewPictureMessage("/img/a.jpg", ""), "body.pictureMessage.url: must be an absolute http(s) URL, got a relative reference"},
		{"picture scheme-less", NewPictureMessage("example.com/a.jpg", ""), "body.pictureMessage.url: must be an absolute http(s) URL, got a relative reference"},
		{"video ftp", NewVideoMessage("ftp://example.com/v.mp4", ""), `body.videoMessage.url: must be an absolute http(s) URL, got scheme "ftp"`},
		{"audio no host", NewAudioMessage("https:///a.mp3", ""), "body.audioMessage.url: must be an absolute http(s) URL, got no host"},
		{"picture thumbnail data", OutboundMessage{Body: Body{Picture: &MediaFile{URL: "https://x/a.jpg", ThumbnailURL: "data:image/png;base64,AA"}}},
			`body.pictureMessage.thumbnailUrl: must be an absolute http(s) URL, got scheme "data"`},
		{"video thumbnail path", OutboundMessage{Body: Body{Video: &MediaFile{URL: "https://x/a.mp4", ThumbnailURL: "thumbs/a.jpg"}}},
			"body.videoMessage.thumbnailUrl: must be an absolute http(s) URL"},
		{"file thumbnail path", OutboundMessage{Body: Body{File: &FileMessage{URL: "https://x/a.pdf", ThumbnailURL: "/t.jpg"}}},
			"body.fileMessage.thumbnailUrl: must be an absolute http(s) URL"},
		{"file list thumbnail", NewFileListMessage("t", FileMessage{URL: "https://x/a.pdf", ThumbnailURL: "file:///t.jpg"}),
			`body.fileListMessage.files[0].thumbnailUrl: must be an absolute http(s) URL, got scheme "file"`},
		{"card media protocol-relative", NewCardMessage(Card("//cdn.example.com/a.jpg", "T", "")),
			"body.cardMessage.content[0].media.url: must be an absolute http(s) URL, got a relative reference"},
		{"card media thumbnail", NewCardCarouselMessage(CardContent{Title: "T", Media: &MediaMessage{URL: "https://x/a.jpg", ThumbnailURL: "x.jpg"}}),
			"body.cardCarouselMessage.content[0].media.thumbnailUrl: must be an absolute http(s) URL"},
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
	// What the rules above leave valid.
	for name, m := range map[string]OutboundMessage{
		// 5.23: "media": {} on titled cards.
		"empty media on a titled card":      NewCardCarouselMessage(CardContent{Media: &MediaMessage{}, Title: "Card 1"}),
		"empty media on a described card":   NewCardMessage(CardContent{Media: &MediaMessage{}, Description: "d"}),
		"http and upper-case scheme":        NewPictureMessage("HTTP://example.com/a.jpg?x=1#y", ""),
		"thumbnail with userinfo and port":  OutboundMessage{Body: Body{Video: &MediaFile{URL: "https://cdn.example.com/v.mp4", ThumbnailURL: "https://u@[::1]:8443/t.jpg"}}},
		"card media with http URLs":         NewCardMessage(CardContent{Media: &MediaMessage{URL: "https://x/a.jpg", ThumbnailURL: "http://x/t.jpg"}}),
		"file URL is not an HTTP URL (5.9)": NewFileMessage("/files/manual.pdf", "manual.pdf", "", 0),
	} {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	r := Reply(NewTextMessage("ok"), NewPictureMessage("", "n"))
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "easydialog: messages[1].body.pictureMessage.url: required") {
		t.Errorf("Response.Validate() = %v", err)
	}
}

// Every reply shape the doc shows must pass Validate: a handler answers 500
// for an invalid reply, so a doc example refused would leave the customer
// without an answer. The doc's templates use empty strings (5.4, 5.20), a
// suggestion with postback data beside its action (5.14), and cards whose
// medium is empty beside a title (5.23).
//
// Three templates hold no URL where one is needed: 5.10 FileListMessage
// leaves its "url" empty, and the schema examples 5.5 PictureMessage and
// 4.1's response write the type name "string" where the doc asks for an
// "HTTP URL". A medium cannot be delivered without its URL, so only those
// url placeholders may be refused there.
func TestDocRepliesAreValid(t *testing.T) {
	urlPlaceholders := map[string]bool{"body_file_list.json": true, "body_picture.json": true, "response_schema_method.json": true}
	placeholderOnly := func(name string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: its URL placeholders passed", name)
		}
		for _, line := range strings.Split(fmt.Sprint(err), "\n") {
			if !strings.HasSuffix(line, "url: required") && !strings.HasSuffix(line, "rl: must be an absolute http(s) URL, got a relative reference") {
				t.Errorf("%s: %s", name, line)
			}
		}
	}
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
			err := r.Validate()
			if urlPlaceholders[name] {
				placeholderOnly(name, err)
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "body_"):
			var m OutboundMessage
			if err := json.Unmarshal(data, &m.Body); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			err := m.Validate()
			if urlPlaceholders[name] {
				placeholderOnly(name, err)
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

// Handlers validate every reply: checking good media URLs must not
// allocate.
func TestMediaURLCheckDoesNotAllocate(t *testing.T) {
	r := Reply(NewPictureMessage("https://example.com/a.jpg", "a"),
		NewCardCarouselMessage(Card("https://example.com/b.jpg", "B", ""), CardContent{Media: &MediaMessage{}, Title: "C"}))
	allocs := testing.AllocsPerRun(100, func() {
		if r.Validate() != nil {
			t.Fatal("unexpected error")
		}
	})
	if allocs != 0 {
		t.Errorf("validating media URLs allocated %v times", allocs)
	}
}
