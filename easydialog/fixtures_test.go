package easydialog

import (
	"bytes"
	"encoding/json"
	"errors"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/internal/inbound"
)

// fixtureTypes names the Go type of every file in testdata/easydialog/doc.
var fixtureTypes = map[string]func() any{
	"request_example.json":                        func() any { return new(Request) },
	"request_schema_method.json":                  func() any { return new(Request) },
	"request_schema_datamodel.json":               func() any { return new(Request) },
	"response_example1_picture.json":              func() any { return new(Response) },
	"response_example2_location_suggestions.json": func() any { return new(Response) },
	"response_example3_card_carousel.json":        func() any { return new(Response) },
	"response_example4_picture.json":              func() any { return new(Response) },
	"response_schema_method.json":                 func() any { return new(Response) },
	"response_schema_datamodel.json":              func() any { return new(Response) },
	"body_text.json":                              func() any { return new(Body) },
	"body_picture.json":                           func() any { return new(Body) },
	"body_file_list.json":                         func() any { return new(Body) },
	"body_card_carousel.json":                     func() any { return new(Body) },
	"suggestion_create_calendar_event.json":       func() any { return new(Suggestion) },
}

// renamedOnEncode lists fixtures whose re-encoding differs from the doc in a
// known, intended way: the doc's alternative key is written in its
// documented form.
var renamedOnEncode = map[string]string{
	"request_example.json": "channel_opt_statuses is written as channel_opt_status",
}

func TestEveryFixtureIsTested(t *testing.T) {
	for _, f := range golden.Glob(t, "easydialog/doc/*.json") {
		if _, ok := fixtureTypes[path.Base(f)]; !ok {
			t.Errorf("fixture %s is not in fixtureTypes", f)
		}
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	for name, newT := range fixtureTypes {
		t.Run(name, func(t *testing.T) {
			data := golden.Read(t, "easydialog/doc/"+name)
			v := newT()
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "easydialog/golden/"+name, got)
			if _, ok := renamedOnEncode[name]; ok {
				want := bytes.Replace(data, []byte(`"channel_opt_statuses"`), []byte(`"channel_opt_status"`), 1)
				golden.JSONEqIgnoringEmpty(t, want, got)
				return
			}
			golden.JSONEqIgnoringEmpty(t, data, got)
		})
	}
}

func TestDecodeRealisticRequest(t *testing.T) {
	data := golden.Read(t, "easydialog/doc/request_example.json")
	req, err := ParseRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Message.ProviderMsgID; got.String() != "5715661107573693000" || !got.IsNumber() {
		t.Errorf("providerMsgID = %q (number %v)", got.String(), got.IsNumber())
	}
	if req.Contact.ChannelOptStatus != "in" {
		t.Errorf("channel_opt_statuses not read: %q", req.Contact.ChannelOptStatus)
	}
	if req.Contact.Name() != "John Doe" || req.Contact.Country != "RS" || req.Contact.SecondName != "" {
		t.Errorf("contact = %+v", req.Contact)
	}
	if req.Message.Text() != "Hi" || req.Channel != "viber" || req.Message.From != "RC32utNr+lEKr/Gij0TYTw==" {
		t.Errorf("message = %+v", req.Message)
	}
	ts, err := req.Message.Timestamp.Time()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2022, 6, 9, 12, 26, 15, 904000000, time.UTC); !ts.Equal(want) {
		t.Errorf("timestamp = %v, want %v", ts, want)
	}
	if !bytes.Equal(req.Raw, data) {
		t.Error("Raw is not the input")
	}
	// A number beyond 2^53 survives a re-encode digit for digit.
	b, _ := json.Marshal(req.Message)
	if !bytes.Contains(b, []byte(`"providerMsgID":5715661107573693000`)) {
		t.Errorf("providerMsgID re-encoded as %s", b)
	}
}

func TestDecodeSchemaRequest(t *testing.T) {
	req, err := ParseRequest(golden.Read(t, "easydialog/doc/request_schema_method.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Message{
		From:            "string",
		To:              []Destination{{Number: "string", plain: true}},
		ProviderMsgID:   NumberString("string"),
		AllowedChannels: []string{"sms"},
		Custom: json.RawMessage(`[
      "string"
    ]`),
		Timestamp: Timestamp{Date: "string", TimezoneType: 0, Timezone: "string"},
		Body:      Body{Text: &TextMessage{Content: "string"}},
	}
	if diff := cmp.Diff(want, req.Message, cmp.AllowUnexported(Destination{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if req.Contact.ChannelOptStatus != "string" {
		t.Errorf("channel_opt_status = %q", req.Contact.ChannelOptStatus)
	}
}

func TestDecodeTolerance(t *testing.T) {
	body := `{"dialogUuid":"d1","message":{
		"to":["+41790000000",{"number":"+41791111111","alias":"shop"}],
		"providerMsgID":"abc-1",
		"custom":{"campaign":7},
		"body":{"textMessage":{"content":"hi"},"stickerMessage":{"id":42}}},
		"contact":{"uuid":"c1","first_name":null,"channel_opt_status":"out","channel_opt_statuses":"in"}}`
	req, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := req.Message
	if len(m.To) != 2 || m.To[0].Number != "+41790000000" || m.To[1].Alias != "shop" {
		t.Errorf("to = %+v", m.To)
	}
	if m.ProviderMsgID.String() != "abc-1" || m.ProviderMsgID.IsNumber() {
		t.Errorf("providerMsgID = %v", m.ProviderMsgID)
	}
	if string(m.Custom) != `{"campaign":7}` {
		t.Errorf("custom = %s", m.Custom)
	}
	if string(m.Body.Unknown["stickerMessage"]) != `{"id":42}` || m.Body.Text == nil {
		t.Errorf("body = %+v", m.Body)
	}
	if req.Contact.ChannelOptStatus != "out" {
		t.Errorf("channel_opt_status should win over channel_opt_statuses, got %q", req.Contact.ChannelOptStatus)
	}
	b, _ := json.Marshal(m)
	for _, want := range []string{`"to":["+41790000000",{"number":"+41791111111","alias":"shop"}]`, `"stickerMessage":{"id":42}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("re-encoding lost %s: %s", want, b)
		}
	}

	for _, bad := range []string{`null`, `[]`, `"x"`, `{"message":{"providerMsgID":true}}`, `{"message":{"body":[1]}}`, `{"contact":{"zip":{}}}`} {
		if _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("ParseRequest(%s) succeeded", bad)
		}
	}
}

func TestComposeMessageTestTypo(t *testing.T) {
	var s Suggestion
	if err := json.Unmarshal([]byte(`{"text":"Write us","composeMessage":{"number":"+41","test":"Hello"}}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.ComposeMessage.Text != "Hello" {
		t.Errorf("test not read as text: %+v", s.ComposeMessage)
	}
	b, _ := json.Marshal(s.ComposeMessage)
	golden.JSONEq(t, []byte(`{"number":"+41","text":"Hello","test":"Hello"}`), b)
}

func TestSizeNumberOrString(t *testing.T) {
	var f FileMessage
	if err := json.Unmarshal([]byte(`{"url":"u","size":"2048","thumbnailSize":512}`), &f); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Size.Int64(); err != nil || n != 2048 {
		t.Errorf("size = %v, %v", n, err)
	}
	b, _ := json.Marshal(f)
	golden.JSONEq(t, []byte(`{"url":"u","size":"2048","thumbnailSize":512}`), b)
}

func TestTimestampZones(t *testing.T) {
	tests := []struct {
		ts   Timestamp
		want time.Time
	}{
		{Timestamp{"2022-06-09 12:26:15.904000", 1, "+02:00"}, time.Date(2022, 6, 9, 10, 26, 15, 904e6, time.UTC)},
		{Timestamp{"2022-06-09 12:26:15", 1, "-0530"}, time.Date(2022, 6, 9, 17, 56, 15, 0, time.UTC)},
		{Timestamp{"2022-06-09 12:26:15.904000", 2, "CEST"}, time.Date(2022, 6, 9, 10, 26, 15, 904e6, time.UTC)},
		{Timestamp{"2022-01-09 12:26:15.000000", 3, "Europe/Zurich"}, time.Date(2022, 1, 9, 11, 26, 15, 0, time.UTC)},
		{Timestamp{"2022-07-09 12:26:15.000000", 3, "Europe/Zurich"}, time.Date(2022, 7, 9, 10, 26, 15, 0, time.UTC)},
		{Timestamp{"2022-06-09 12:26:15.000000", 0, "+00:00"}, time.Date(2022, 6, 9, 12, 26, 15, 0, time.UTC)},
		{Timestamp{"2022-06-09 12:26:15.000000", 3, "UTC"}, time.Date(2022, 6, 9, 12, 26, 15, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := tt.ts.Time()
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%+v: got %v, %v; want %v", tt.ts, got, err, tt.want)
		}
	}
	for _, bad := range []Timestamp{{"", 1, "+00:00"}, {"yesterday", 1, "+00:00"}, {"2022-06-09 12:26:15", 2, "Mars/Olympus"}} {
		if _, err := bad.Time(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

// Easy Dialog is PHP: json_encode writes an empty object as [] and numbers
// and numeric strings where either may come. Both must decode.
func TestParseRequestPHPShapes(t *testing.T) {
	body := `{"serviceUuid":"s","dialogUuid":"d","channel":"viber",
		"message":{"from":"f","to":[],"providerMsgID":1,"custom":[],
			"timestamp":{"date":"2022-06-09 12:26:15.904000","timezone_type":"3","timezone":"Europe/Zurich"},
			"body":{"textMessage":{"content":"hi"},"suggestionsMessage":[]}},
		"contact":{"uuid":"u","zip":8000,"b_zip":"8001","first_name":"Ada","mobile":41790000000}}`
	req, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if req.Contact.Zip != "8000" || req.Contact.BZip != "8001" || req.Contact.Mobile != "41790000000" || req.Contact.FirstName != "Ada" {
		t.Errorf("contact = %+v", req.Contact)
	}
	if req.Message.Timestamp.TimezoneType != 3 {
		t.Errorf("timezone_type = %d", req.Message.Timestamp.TimezoneType)
	}
	if req.Message.Text() != "hi" || req.Message.Body.Suggestions == nil {
		t.Errorf("body = %+v", req.Message.Body)
	}
	if len(req.Message.To) != 0 || string(req.Message.Custom) != "[]" {
		t.Errorf("arrays must stay arrays: to=%v custom=%s", req.Message.To, req.Message.Custom)
	}
	if string(req.Raw) != body {
		t.Error("Raw must be the bytes as received (and signed)")
	}

	for _, empty := range []string{
		`{"dialogUuid":"d","message":{"body":{"textMessage":{"content":"hi"}}},"contact":[]}`,
		`{"dialogUuid":"d","message":{"body":[]},"contact":{}}`,
		`{"dialogUuid":"d","message":[],"contact":[]}`,
	} {
		if _, err := ParseRequest([]byte(empty)); err != nil {
			t.Errorf("ParseRequest(%s): %v", empty, err)
		}
	}
}

// The 400 names the cause: errors.Unwrap of a two-%w error is nil, so the
// handler used to say "malformed JSON" for everything.
func TestParseErrorNamesTheCause(t *testing.T) {
	for body, want := range map[string]string{
		`{"message":{"from":`:                     "truncated JSON",
		`{"message":{"timestamp":{"date":true}}}`: "wrong JSON type for field message.timestamp.date",
	} {
		_, err := ParseRequest([]byte(body))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", body, err)
		}
		if got := inbound.SyntaxReason(err); got != want {
			t.Errorf("%s: reason %q, want %q", body, got, want)
		}
	}
}

// PHP writes a destination number as a JSON number when it holds it as an
// int, and an array whose keys are not 0..n-1 (after unset or array_filter)
// as an object. Both are read: a number keeps its literal digits (and
// re-encodes as the number), an object with integer keys is the list in
// key order.
func TestParseRequestPHPNumbersAndLists(t *testing.T) {
	tests := []struct {
		name     string
		message  string
		want     Message
		reencode string // a fragment of json.Marshal(Message)
	}{
		{name: "bare numeric destination",
			message:  `"to":[41791234567]`,
			want:     Message{To: []Destination{{Number: "41791234567", plain: true, number: true}}},
			reencode: `"to":[41791234567]`},
		{name: "destinations of every form",
			message: `"to":[5715661107573693123,"+41790000000",{"number":41792222222,"alias":"shop"}]`,
			want: Message{To: []Destination{{Number: "5715661107573693123", plain: true, number: true},
				{Number: "+41790000000", plain: true}, {Number: "41792222222", Alias: "shop"}}},
			reencode: `"to":[5715661107573693123,"+41790000000",{"number":"41792222222","alias":"shop"}]`},
		{name: "allowed channels as an object",
			message:  `"allowedChannels":{"1":"viber"}`,
			want:     Message{AllowedChannels: []string{"viber"}},
			reencode: `"allowedChannels":["viber"]`},
		{name: "lists as objects in key order",
			message: `"allowedChannels":{"2":"telegram","0":"sms"},"to":{"3":41791234567,"1":"+41790000000"}`,
			want: Message{AllowedChannels: []string{"sms", "telegram"},
				To: []Destination{{Number: "+41790000000", plain: true}, {Number: "41791234567", plain: true, number: true}}}},
		{name: "an empty object for a list",
			message: `"allowedChannels":{}`,
			want:    Message{AllowedChannels: []string{}}},
		{name: "suggestions as an object",
			message: `"body":{"suggestionsMessage":{"suggestions":{"1":{"text":"B"},"0":{"text":"A"}}}}`,
			want:    Message{Body: Body{Suggestions: &SuggestionsMessage{Suggestions: []Suggestion{{Text: "A"}, {Text: "B"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"dialogUuid":"d1","message":{` + tt.message + `}}`
			req, err := ParseRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, req.Message, cmp.AllowUnexported(Destination{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if string(req.Raw) != body {
				t.Error("Raw must be the bytes as received (and signed)")
			}
			b, err := json.Marshal(req.Message)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.reencode) {
				t.Errorf("re-encoded as %s, want %s in it", b, tt.reencode)
			}
		})
	}
	for _, bad := range []string{
		`{"message":{"allowedChannels":{"a":"sms"}}}`, // a string key: not a list
		`{"message":{"to":[true]}}`,
		`{"message":{"to":[1.5e]}}`,
	} {
		if _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("ParseRequest(%s) succeeded", bad)
		}
	}
}

// The doc's card example (5.23) decodes with its empty media kept, so it
// re-encodes as the doc wrote it, and validates (TestDocRepliesAreValid).
func TestDecodeDocCardsWithEmptyMedia(t *testing.T) {
	var b Body
	if err := json.Unmarshal(golden.Read(t, "easydialog/doc/body_card_carousel.json"), &b); err != nil {
		t.Fatal(err)
	}
	want := Body{CardCarousel: &CardCarouselMessage{Layout: json.RawMessage(`{}`), Content: []CardContent{
		{Media: &MediaMessage{}, Title: "Card 1", Suggestions: []Suggestion{}},
		{Media: &MediaMessage{}, Title: "Card 2", Suggestions: []Suggestion{}},
	}}}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	m := OutboundMessage{Body: b}
	if err := m.Validate(); err != nil {
		t.Errorf("5.23 is refused: %v", err)
	}
}
