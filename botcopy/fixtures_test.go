package botcopy

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/botwire/botwire/internal/golden"
)

// fixtureTypes names the Go type of every fixture of testdata/botcopy.
var fixtureTypes = map[string]func() any{
	"doc/webhook_step_one.json":                               func() any { return new(HandoverRequest) },
	"doc/webhook_step_two.json":                               func() any { return new(HandoverRequest) },
	"doc/history_message_to_dialogflow.json":                  func() any { return new(HistoryItem) },
	"doc/history_event_to_dialogflow.json":                    func() any { return new(HistoryItem) },
	"doc/history_dialogflow_response.json":                    func() any { return new(HistoryItem) },
	"doc/history_agent_message.json":                          func() any { return new(HistoryItem) },
	"doc/history_customer_to_agent.json":                      func() any { return new(HistoryItem) },
	"doc/push_message.json":                                   func() any { return new(PushEvent) },
	"doc/push_channel_update_pause.json":                      func() any { return new(PushEvent) },
	"doc/push_channel_update_resume.json":                     func() any { return new(PushEvent) },
	"doc/push_user_typing.json":                               func() any { return new(PushEvent) },
	"doc/decision_pause.json":                                 func() any { return new(Decision) },
	"doc/decision_continue.json":                              func() any { return new(Decision) },
	"doc/decision_end_live_chat.json":                         func() any { return new(Decision) },
	"external/webhook_step1_trigger_legacy-2023-02.json":      func() any { return new(HandoverRequest) },
	"external/webhook_step2_user_message_legacy-2023-02.json": func() any { return new(HandoverRequest) },
	"external/push_message_legacy-2023-02.json":               func() any { return new(PushEvent) },
	"external/push_channel_update_pause_legacy-2023-02.json":  func() any { return new(PushEvent) },
	"external/push_channel_update_resume_legacy-2023-02.json": func() any { return new(PushEvent) },
	"external/push_user_typing_legacy-2023-02.json":           func() any { return new(PushEvent) },
}

// legacyPush lists pushes with the 2023 body accessToken, which PushEvent
// does not send (the key goes in the header since August 2023).
var legacyPush = map[string]bool{
	"external/push_message_legacy-2023-02.json":               true,
	"external/push_channel_update_pause_legacy-2023-02.json":  true,
	"external/push_channel_update_resume_legacy-2023-02.json": true,
	"external/push_user_typing_legacy-2023-02.json":           true,
}

func TestEveryFixtureIsTested(t *testing.T) {
	for _, dir := range []string{"doc", "external"} {
		for _, f := range golden.Glob(t, "botcopy/"+dir+"/*.json") {
			if _, ok := fixtureTypes[strings.TrimPrefix(f, "botcopy/")]; !ok {
				t.Errorf("fixture %s is not in fixtureTypes", f)
			}
		}
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	for name, newT := range fixtureTypes {
		t.Run(name, func(t *testing.T) {
			data := golden.Read(t, "botcopy/"+name)
			v := newT()
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "botcopy/golden/"+path.Base(name), got)
			want := data
			if legacyPush[name] {
				var m map[string]any
				_ = json.Unmarshal(data, &m)
				delete(m, "accessToken")
				if _, ok := m["paused"]; !ok {
					m["paused"] = false // the documented form always says
				}
				want, _ = json.Marshal(m)
			}
			golden.JSONEqIgnoringEmpty(t, want, got)
		})
	}
}

func TestKinds(t *testing.T) {
	for name, want := range map[string]Kind{
		"doc/webhook_step_one.json":                               KindTrigger,
		"doc/webhook_step_two.json":                               KindUserMessage,
		"external/webhook_step1_trigger_legacy-2023-02.json":      KindTrigger,
		"external/webhook_step2_user_message_legacy-2023-02.json": KindUserMessage,
	} {
		r, err := ParseRequest(golden.Read(t, "botcopy/"+name))
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind() != want {
			t.Errorf("%s: Kind() = %s, want %s", name, r.Kind(), want)
		}
	}
	typing, _ := ParseRequest([]byte(`{"userId":"u","botId":"b","sessionId":"s","eventType":"user_typing"}`))
	step2, _ := ParseRequest([]byte(`{"userId":"u","botId":"b","eventType":"message","queryInput":{"text":{"text":"hi"}}}`))
	odd, _ := ParseRequest([]byte(`{"userId":"u","eventType":"user_left"}`))
	if typing.Kind() != KindUserTyping || step2.Kind() != KindUserMessage || step2.Text() != "hi" || odd.Kind() != KindUnknown {
		t.Errorf("kinds: %s %s %s", typing.Kind(), step2.Kind(), odd.Kind())
	}
	for _, bad := range []string{``, `null`, `[]`, `{"userId":`} {
		if _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("ParseRequest(%q) succeeded", bad)
		}
	}
}

func TestTranscript(t *testing.T) {
	var items []HistoryItem
	for _, n := range []string{"event_to_dialogflow", "message_to_dialogflow", "dialogflow_response", "agent_message", "customer_to_agent"} {
		var h HistoryItem
		if err := json.Unmarshal(golden.Read(t, "botcopy/doc/history_"+n+".json"), &h); err != nil {
			t.Fatal(err)
		}
		items = append(items, h)
	}
	kinds := []HistoryKind{HistoryEventToBot, HistoryCustomerToBot, HistoryBotResponse, HistoryAgentMessage, HistoryCustomerToAgent}
	for i, h := range items {
		if h.Kind() != kinds[i] {
			t.Errorf("item %d: Kind() = %s, want %s", i, h.Kind(), kinds[i])
		}
	}
	got := FormatTranscript(Transcript(items))
	want := `09:29 Event: WELCOME
09:30 Customer: Where is my order?
09:30 Bot: Let me connect you with a human agent.
09:31 Agent: Hi, I'm Jane. How can I help?
09:31 Customer: My order A-1001 has not arrived.
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	// The other nesting of a message to Dialogflow (query beside
	// queryParameters, as in the event item) reads the same.
	flat := HistoryItem{Payload: json.RawMessage(`{"queryParameters":{},"query":"hello","lang":"en"}`)}
	if flat.Kind() != HistoryCustomerToBot || flat.Text() != "hello" {
		t.Errorf("flat nesting: %s %q", flat.Kind(), flat.Text())
	}
	odd := HistoryItem{Payload: json.RawMessage(`[1,2]`), CreatedAt: "yesterday"}
	if odd.Kind() != HistoryUnknown || len(Transcript([]HistoryItem{odd})) != 0 {
		t.Error("an unreadable item must be skipped, not fail")
	}
}

func TestDialogflowView(t *testing.T) {
	r, err := ParseRequest(golden.Read(t, "botcopy/external/webhook_step1_trigger_legacy-2023-02.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Dialogflow()
	if err != nil {
		t.Fatal(err)
	}
	want := &DialogflowView{Version: "ES", ResponseID: "***-***-***-***-***-***", QueryText: "handover",
		Texts: []string{"human handover text"}, Intent: "Human Handover Context", Confidence: 1, LanguageCode: "en",
		Parameters: map[string]any{}, OutputContexts: []string{"handover-test", "botcopy-timezone"}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	cx, err := parseDialogflow(json.RawMessage(`{"responseId":"r","queryResult":{"text":"hi","languageCode":"de",
		"responseMessages":[{"text":{"text":["Hallo!"]}}],"match":{"intent":{"displayName":"greet"},"confidence":0.7}}}`))
	if err != nil || cx.Version != "CX" || cx.Intent != "greet" || cx.Texts[0] != "Hallo!" || cx.Confidence != 0.7 || cx.QueryText != "hi" {
		t.Errorf("CX view = %+v, %v", cx, err)
	}
	none, err := (&HandoverRequest{}).Dialogflow()
	if none != nil || err != nil {
		t.Errorf("no response should give nil, nil")
	}
}

func TestTokenIsRedacted(t *testing.T) {
	r, err := ParseRequest([]byte(`{"accessToken":"super-secret","userId":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, r) + fmt.Sprintf(f, *r) + fmt.Sprintf(f, []*HandoverRequest{r}); strings.Contains(s, "super-secret") {
			t.Errorf("%s leaks the token: %s", f, s)
		}
	}
	if r.AccessToken != "super-secret" {
		t.Error("the token must still be readable")
	}
}

func TestDecisions(t *testing.T) {
	for d, want := range map[*Decision]string{
		ptr(PauseFor(10)):  `{"paused":true,"minutesPaused":10}`,
		ptr(PauseFor(0)):   `{"paused":true}`,
		ptr(Continue()):    `{"paused":false}`,
		ptr(EndLiveChat()): `{"paused":false,"minutesPaused":0}`,
	} {
		b, _ := json.Marshal(d)
		if string(b) != want {
			t.Errorf("%s marshals as %s, want %s", d, b, want)
		}
	}
}

func ptr(d Decision) *Decision { return &d }

func TestPushValidate(t *testing.T) {
	tests := []struct {
		e    PushEvent
		want string
	}{
		{PushEvent{EventType: PushMessage, BotID: "b", Paused: true, MinutesPaused: 5, Text: "x"}, "userId: required"},
		{PushEvent{EventType: PushMessage, UserID: "u", BotID: "b", Paused: true, MinutesPaused: 5}, "text: required"},
		{PushEvent{EventType: PushMessage, UserID: "u", BotID: "b", Paused: true, Text: "x"}, "minutesPaused: must be greater than 0 while paused"},
		{PushEvent{EventType: PushMessage, UserID: "u", BotID: "b", MinutesPaused: 5, Text: "x"}, "paused: must be true for a message"},
		{PushEvent{EventType: PushTyping, UserID: "u", BotID: "b"}, "paused: must be true for a typing indicator"},
		{PushEvent{EventType: PushChannelUpdate, UserID: "u", BotID: "b", Paused: true, MinutesPaused: 5, UnpauseChatEvent: "none"}, "unpauseChatEvent: only when resuming"},
		{PushEvent{EventType: "agent_typing", UserID: "u", BotID: "b"}, `unknown event type "agent_typing"`},
	}
	for _, tt := range tests {
		err := tt.e.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: Validate() = %v, want %q", tt.e, err, tt.want)
		}
	}
	ok := PushEvent{EventType: PushChannelUpdate, UserID: "u", BotID: "b", UnpauseChatEvent: "WELCOME_BACK"}
	if err := ok.Validate(); err != nil {
		t.Errorf("resume with an event name: %v", err)
	}
}
