package ultimate

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/botwire/botwire/internal/golden"
)

// fixtureKinds says what each fixture of testdata/ultimate is.
var fixtureKinds = map[string]string{
	"doc/headers_draft.json":                          "headers",
	"doc/request_body_draft.json":                     "draft",
	"doc/webhook_sendMessage_text.json":               "chat",
	"doc/webhook_sendMessage_buttons.json":            "chat",
	"doc/webhook_sendMessage_carousel.json":           "chat",
	"doc/webhook_escalate.json":                       "chat",
	"doc/webhook_isTeamOnline.json":                   "chat",
	"doc/webhook_action.json":                         "action",
	"doc/request_startSession.json":                   "converse",
	"doc/request_message_text.json":                   "converse",
	"doc/webhook_sendMessage_three_buttons.json":      "chat",
	"doc/request_message_button.json":                 "converse",
	"doc/webhook_sendMessage_carousel_two_cards.json": "chat",
	"doc/request_message_carousel_card.json":          "converse",
	"doc/request_endSession.json":                     "converse",
	"doc/request_curl_startSession.json":              "converse",
	"doc/request_curl_message.json":                   "converse",
	"doc/request_curl_endSession.json":                "converse",
	"doc/request_typescript_snippet.json":             "converse",
	"doc/request_java_snippet.json":                   "converse",
	"doc/request_spring_snippet.json":                 "converse",

	"external/request_send-message-to-widget_escalationSuccess_zendesk-doc.json": "widget",
	"external/request_startSession_lowercase-metadata_zendesk-doc.json":          "converse",
	"external/request_startSession_zendesk-doc.json":                             "converse",
	"external/webhook_action_developer-ultimate-doc_commafixed.json":             "action",
	"external/webhook_action_response_template.json":                             "results",
	"external/webhook_action_template-postman.json":                              "action",
	"external/webhook_converse_widgetMessage_template-postman.json":              "chat",
	"external/webhook_escalate_zendesk-doc.json":                                 "chat",
	"external/webhook_isTeamOnline_response_zendesk-doc.json":                    "online",
	"external/webhook_isTeamOnline_zendesk-doc.json":                             "chat",
	"external/webhook_widgetEscalate_zendesk-doc.json":                           "chat",
}

// normalised is what the re-encoding of a fixture is compared with when
// the doc's own form is one the encoder deliberately does not write.
var normalised = map[string]func([]byte) []byte{
	// A single metaData object is written as a list.
	"doc/request_typescript_snippet.json": func(b []byte) []byte {
		return []byte(`{"platformConversationId":"my-conversation-id","eventType":"message","text":"Hello, I want to return my shoes","metaData":[{"key":"user_id","value":"1234"}]}`)
	},
	"doc/request_spring_snippet.json": func(b []byte) []byte {
		return []byte(`{"platformConversationId":"YOUR_PLATFORM_CONVERSATION_ID","eventType":"message","text":"Hello","metaData":[{"key":"key","value":"value"}],"cardIndex":1}`)
	},
	// Lower-case "metadata" is written as "metaData".
	"external/request_startSession_lowercase-metadata_zendesk-doc.json": func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"metadata"`), []byte(`"metaData"`), 1)
	},
	// The literal "saveAs?" is written as "saveAs".
	"external/webhook_action_developer-ultimate-doc_commafixed.json": saveAs,
	"doc/webhook_action.json": saveAs,
}

func saveAs(b []byte) []byte { return bytes.Replace(b, []byte(`"saveAs?"`), []byte(`"saveAs"`), 1) }

func TestEveryFixtureIsTested(t *testing.T) {
	for _, dir := range []string{"doc", "external"} {
		for _, f := range golden.Glob(t, "ultimate/"+dir+"/*.json") {
			if _, ok := fixtureKinds[strings.TrimPrefix(f, "ultimate/")]; !ok {
				t.Errorf("fixture %s is not in fixtureKinds", f)
			}
		}
	}
}

// typedData decodes a chat event's data into its typed struct.
func typedData(t *testing.T, e *ChatEvent) any {
	t.Helper()
	var v any
	var err error
	switch e.EventType {
	case EventSendMessage:
		v, err = e.Message()
	case EventEscalate:
		v, err = e.Escalation()
	case EventIsTeamOnline:
		v, err = e.TeamOnlineQuery()
	case EventWidgetMessage, EventWidgetEscalate, EventWidgetEndSession:
		v, err = e.WidgetEvent()
	default:
		t.Fatalf("fixture with unexpected event type %q", e.EventType)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFixturesRoundTrip(t *testing.T) {
	for name, kind := range fixtureKinds {
		t.Run(name, func(t *testing.T) {
			data := golden.Read(t, "ultimate/"+name)
			want := data
			var got []byte
			var err error
			switch kind {
			case "headers":
				var h []map[string]string
				if err := json.Unmarshal(data, &h); err != nil || len(h) != 2 {
					t.Fatalf("headers draft: %v", err)
				}
				return
			case "draft":
				var r ConverseRequest
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatal(err)
				}
				if r.EventType != "startSession|message|endSession" || r.Text != "" || r.Validate() == nil {
					t.Errorf("draft body decoded as %+v; it must not validate", r)
				}
				return
			case "chat":
				e, err := ParseChatEvent(data)
				if err != nil {
					t.Fatal(err)
				}
				typed := typedData(t, e)
				got, err = json.Marshal(typed)
				if err != nil {
					t.Fatal(err)
				}
				var envelope struct{ Data json.RawMessage }
				_ = json.Unmarshal(data, &envelope)
				want = envelope.Data
			case "action":
				r, perr := ParseActionRequest(data)
				if perr != nil {
					t.Fatal(perr)
				}
				got, err = json.Marshal(r)
			case "converse":
				var r ConverseRequest
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatal(err)
				}
				if err := r.Validate(); err != nil {
					t.Errorf("doc request does not validate: %v", err)
				}
				got, err = json.Marshal(r)
			case "widget":
				var w WidgetUpdate
				if err := json.Unmarshal(data, &w); err != nil {
					t.Fatal(err)
				}
				if err := w.Validate(); err != nil {
					t.Errorf("doc request does not validate: %v", err)
				}
				got, err = json.Marshal(w)
			case "results":
				var r ActionResponse
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatal(err)
				}
				got, err = json.Marshal(r)
			case "online":
				var r struct {
					IsOnline bool `json:"isOnline"`
				}
				if err := json.Unmarshal(data, &r); err != nil || !r.IsOnline {
					t.Fatalf("isOnline: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "ultimate/golden/"+path.Base(name), got)
			if n := normalised[name]; n != nil {
				want = n(data)
			}
			golden.JSONEqIgnoringEmpty(t, want, got)
		})
	}
}

func TestDecodeCarousel(t *testing.T) {
	e, err := ParseChatEvent(golden.Read(t, "ultimate/doc/webhook_sendMessage_carousel.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Message()
	if err != nil {
		t.Fatal(err)
	}
	want := &Message{
		EventType: EventSendMessage, PlatformConversationID: "session1", Type: MessageCarousel,
		ReplyID: "61e5439dce4387001311d6db", Buttons: []Button{}, Text: "",
		CarouselCards: []CarouselCard{
			{Title: "card 1", Description: "card 1 description", ImageURL: "URL", Buttons: []Button{{ButtonReply, "button 1"}, {ButtonReply, "button 2"}}},
			{Title: "card 2", Description: "card 2 description", ImageURL: "URL", Buttons: []Button{{ButtonReply, "button 1"}, {ButtonReply, "button 2"}}},
		},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if e.BotID != "618a30beee4e8e87d2f94015" || e.Channel != "" {
		t.Errorf("envelope = %q %q", e.BotID, e.Channel)
	}
	if _, err := e.Escalation(); err == nil {
		t.Error("Escalation() on a sendMessage should fail")
	}
}

// "The buttons array will be empty for a simple text message", "The
// carousel cards array will be empty for a simple text message", and every
// example sends [] (a carousel's top-level "buttons": [] too): a Message
// with nil slices encodes [], never null.
func TestMessageEncodesEmptyArrays(t *testing.T) {
	docData := func(name string) []byte {
		var envelope struct{ Data json.RawMessage }
		if err := json.Unmarshal(golden.Read(t, name), &envelope); err != nil {
			t.Fatal(err)
		}
		return envelope.Data
	}
	card := func(n string) CarouselCard {
		return CarouselCard{Title: "card " + n, Description: "card " + n + " description", ImageURL: "URL",
			Buttons: []Button{{ButtonReply, "button 1"}, {ButtonReply, "button 2"}}}
	}
	decoded := func(body string) Message {
		e, err := ParseChatEvent([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Message()
		if err != nil {
			t.Fatal(err)
		}
		return *m
	}
	tests := []struct {
		name string
		msg  Message
		want []byte
	}{
		{"text only, built", Message{EventType: EventSendMessage, PlatformConversationID: "session1", Type: MessageText,
			ReplyID: "618a30be1c2ffe001ab1078f", Text: "Hello, this is a bot text message"},
			docData("ultimate/doc/webhook_sendMessage_text.json")},
		{"buttons, built", Message{EventType: EventSendMessage, PlatformConversationID: "session1", Type: MessageText,
			ReplyID: "610abc338851860016485d79", Buttons: []Button{{ButtonReply, "YES"}, {ButtonReply, "NO"}},
			Text: "its a bot text message with 2 buttons"},
			docData("ultimate/doc/webhook_sendMessage_buttons.json")},
		{"carousel, built", Message{EventType: EventSendMessage, PlatformConversationID: "session1", Type: MessageCarousel,
			ReplyID: "61e5439dce4387001311d6db", CarouselCards: []CarouselCard{card("1"), card("2")}},
			docData("ultimate/doc/webhook_sendMessage_carousel.json")},
		{"decoded without the arrays", decoded(`{"botId":"b","data":{"eventType":"sendMessage","platformConversationId":"c","type":"text","text":"hi"}}`),
			[]byte(`{"eventType":"sendMessage","platformConversationId":"c","type":"text","buttons":[],"text":"hi","carouselCards":[]}`)},
		{"decoded with nulls", decoded(`{"botId":"b","data":{"eventType":"sendMessage","platformConversationId":"c","type":"text","buttons":null,"text":"hi","carouselCards":null}}`),
			[]byte(`{"eventType":"sendMessage","platformConversationId":"c","type":"text","buttons":[],"text":"hi","carouselCards":[]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []any{tt.msg, &tt.msg} {
				got, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				golden.JSONEq(t, tt.want, got)
			}
		})
	}
}

func TestDecodeTolerance(t *testing.T) {
	e, err := ParseChatEvent([]byte(`{"botId":"b","channel":"chat","data":{"eventType":"sendMessage","platformConversationId":"c",
		"type":"text","buttons":["YES","NO"],"text":"ok?","confidence":0.87,"messageId":"m1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.Message()
	if len(m.Buttons) != 2 || m.Buttons[1] != (Button{ButtonReply, "NO"}) || *m.Confidence != 0.87 || m.MessageID != "m1" {
		t.Errorf("message = %+v", m)
	}
	a, err := ParseActionRequest(golden.Read(t, "ultimate/external/webhook_action_developer-ultimate-doc_commafixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Param("userId"); p.SaveAs != "customerId" || p.String() != "123345" {
		t.Errorf("saveAs? not read: %+v", p)
	}
	if a.String("balance") != "100" || a.String("missing") != "" {
		t.Errorf("String = %q", a.String("balance"))
	}
	one, err := ParseActionRequest([]byte(`{"name":"n","data":[{"key":"k","value":42},{"key":"s","value":"x","sanitize":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if one.String("k") != "42" || one.String("s") != "x" || !one.Data[1].Sanitize {
		t.Errorf("single values: %+v", one.Data)
	}
	var r ConverseRequest
	if err := json.Unmarshal(golden.Read(t, "ultimate/external/request_startSession_lowercase-metadata_zendesk-doc.json"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.MetaData) != 2 || !r.MetaData[1].Sanitize {
		t.Errorf("metadata = %+v", r.MetaData)
	}
	for _, bad := range []string{`{"botId":"b"}`, `{"data":[1]}`, `[]`, `{"data":`} {
		if _, err := ParseChatEvent([]byte(bad)); err == nil {
			t.Errorf("ParseChatEvent(%s) succeeded", bad)
		}
	}
}

func TestConverseValidate(t *testing.T) {
	idx := func(i int) *int { return &i }
	tests := []struct {
		req  ConverseRequest
		want string
	}{
		{ConverseRequest{EventType: ConverseStartSession}, "platformConversationId: required"},
		{ConverseRequest{PlatformConversationID: "c"}, "eventType: required"},
		{ConverseRequest{PlatformConversationID: "c", EventType: "restart"}, `unknown event type "restart"`},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseMessage}, "text: required"},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseMessage, Text: "x", CardIndex: idx(-1)}, "cardIndex: must not be negative"},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseStartSession, CardIndex: idx(0)}, `cardIndex: only with eventType "message"`},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseEndSession, MetaData: []MetaData{{Key: "k"}}}, "not accepted with eventType"},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseMetadata}, `metaData: required for eventType "metadata"`},
		{ConverseRequest{PlatformConversationID: "c", EventType: ConverseMetadata, MetaData: []MetaData{{Value: "v"}}}, "metaData[0].key: required"},
	}
	for _, tt := range tests {
		err := tt.req.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: Validate() = %v, want %q", tt.req, err, tt.want)
		}
	}
	w := WidgetUpdate{PlatformConversationID: "c", EventType: WidgetTextMessage}
	if err := w.Validate(); err == nil || !strings.Contains(err.Error(), "text: required") {
		t.Errorf("widget message without text: %v", err)
	}
}
