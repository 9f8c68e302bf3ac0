package userlike

import (
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/botwire/botwire/internal/golden"
)

const docCID = "chatbot::258:a56785fb6fb84edd890905913b0c0821"

// fixtureKinds says how each fixture of testdata/userlike decodes:
// "inbound" (one webhook event or a list), "outbound" (one triggered event
// or a list).
var fixtureKinds = map[string]string{
	"doc/webhook_event_start.json":                         "inbound",
	"doc/webhook_event_channel_detection.json":             "inbound",
	"doc/triggerable_event_message_markdown.json":          "outbound",
	"doc/sample_campaign_welcome_button_template.json":     "outbound",
	"doc/sample_campaign_subscribe_reply.json":             "outbound",
	"doc/sample_campaign_support_reply.json":               "outbound",
	"doc/sample_server_start_forward_any.json":             "outbound",
	"doc/sample_server_ask_name.json":                      "outbound",
	"doc/sample_server_name_reply.json":                    "outbound",
	"doc/sample_server_email_reply.json":                   "outbound",
	"external/inbound_message_aliz-ai_card_number.json":    "inbound",
	"external/inbound_message_aliz-ai_hello.json":          "inbound",
	"external/inbound_message_aliz-ai_no_thanks.json":      "inbound",
	"external/outbound_message_aliz-ai_format_output.json": "outbound",
}

func TestEveryFixtureIsTested(t *testing.T) {
	for _, dir := range []string{"doc", "external"} {
		for _, f := range golden.Glob(t, "userlike/"+dir+"/*.json") {
			if _, ok := fixtureKinds[strings.TrimPrefix(f, "userlike/")]; !ok {
				t.Errorf("fixture %s is not in fixtureKinds", f)
			}
		}
	}
}

func decodeOutboundFixture(t *testing.T, data []byte) any {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
		var evs []OutboundEvent
		if err := json.Unmarshal(data, &evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	var e OutboundEvent
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFixturesRoundTrip(t *testing.T) {
	for name, kind := range fixtureKinds {
		t.Run(name, func(t *testing.T) {
			data := golden.Read(t, "userlike/"+name)
			var v any
			if kind == "inbound" {
				events, err := ParseEvents(data)
				if err != nil {
					t.Fatal(err)
				}
				v = events[0]
			} else {
				v = decodeOutboundFixture(t, data)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "userlike/golden/"+path.Base(name), got)
			golden.JSONEqIgnoringEmpty(t, data, got)
		})
	}
}

func TestDecodeInbound(t *testing.T) {
	events, err := ParseEvents(golden.Read(t, "userlike/external/inbound_message_aliz-ai_hello.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := events[0]
	if e.Info.CID != docCID || e.Info.ApproachMode != "normal" || !e.Known() {
		t.Errorf("info = %+v", e.Info)
	}
	m, err := e.Message()
	if err != nil || m.Body != "Hello, I have a question about my balance." {
		t.Errorf("message = %+v, %v", m, err)
	}
	if e.Text() != m.Body {
		t.Errorf("Text() = %q", e.Text())
	}
	if _, err := e.Click(); err == nil {
		t.Error("Click() on a message event should fail")
	}

	ch, err := ParseEvents(golden.Read(t, "userlike/doc/webhook_event_channel_detection.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ch[0].Channel() != ChannelWhatsAppBusiness {
		t.Errorf("Channel() = %q", ch[0].Channel())
	}
	if start, err := ch[0].Start(); err != nil || start.Body != "" {
		t.Errorf("start = %+v, %v", start, err)
	}
}

func TestDecodeOutboundTyped(t *testing.T) {
	got := decodeOutboundFixture(t, golden.Read(t, "userlike/doc/sample_campaign_welcome_button_template.json")).(OutboundEvent)
	want := OutboundEvent{
		Info: OutboundInfo{CID: docCID},
		Packet: ButtonTemplate("Welcome! Please click 'start' to subscribe to our campaign.",
			"Please click 'start' to subscribe to our campaign.", Choice{ID: "start", Label: "start"}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	list := decodeOutboundFixture(t, golden.Read(t, "userlike/doc/sample_campaign_subscribe_reply.json")).([]OutboundEvent)
	cu, ok := list[0].Packet.Payload.(*ContactUpdatePayload)
	if !ok || cu.Campaigns == nil || !*cu.Campaigns {
		t.Errorf("contact_update = %#v", list[0].Packet.Payload)
	}
	md := decodeOutboundFixture(t, golden.Read(t, "userlike/doc/triggerable_event_message_markdown.json")).(OutboundEvent)
	if diff := cmp.Diff(MarkdownMessage("Welcome!"), md.Packet); diff != "" {
		t.Error(diff)
	}
}

func TestUnknownEventKeepsPayload(t *testing.T) {
	body := `{"info":{"cid":"c1","widget":{"id":7}},"packet":{"name":"typing","payload":{"on":true}}}`
	events, err := ParseEvents([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	e := events[0]
	if e.Known() {
		t.Error("typing reported as known")
	}
	var p struct{ On bool }
	if err := e.DecodePayload(&p); err != nil || !p.On {
		t.Errorf("payload = %+v, %v", p, err)
	}
	if string(e.Info.Widget) != `{"id":7}` {
		t.Errorf("widget = %s", e.Info.Widget)
	}
	// An unknown action keeps its payload raw and re-encodes it unchanged.
	var a Action
	if err := json.Unmarshal([]byte(`{"name":"future","payload":{"x":[1,2]}}`), &a); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	golden.JSONEq(t, []byte(`{"name":"future","payload":{"x":[1,2]}}`), b)
}

func TestParseEventsErrors(t *testing.T) {
	for _, bad := range []string{``, `null`, `"x"`, `{"info":{},"packet":{"name":"message"}}`, `[{"info":{"cid":"a"}},{"info":{}}]`, `{"info":`} {
		if _, err := ParseEvents([]byte(bad)); err == nil {
			t.Errorf("ParseEvents(%q) succeeded", bad)
		}
	}
	list, err := ParseEvents([]byte(`[{"info":{"cid":"a"},"packet":{"name":"start"}},{"info":{"cid":"b"},"packet":{"name":"message","payload":{"body":"x"}}}]`))
	if err != nil || len(list) != 2 || list[1].Text() != "x" {
		t.Errorf("list = %v, %v", list, err)
	}
}

func TestContextRules(t *testing.T) {
	r := NewReply("c1")
	type state struct {
		Step  string `json:"step"`
		Order string `json:"order,omitempty"`
	}
	if err := r.SetContext(state{Step: "ask_order"}); err != nil {
		t.Fatal(err)
	}
	if string(r.Context()) != `{"step":"ask_order"}` {
		t.Errorf("context = %s", r.Context())
	}
	if err := r.SetContext([]int{1}); err == nil {
		t.Error("a context that is not an object must be refused")
	}
	big := map[string]string{"blob": strings.Repeat("x", MaxContextBytes)}
	if err := r.SetContext(big); err == nil || !strings.Contains(err.Error(), "10 KB") {
		t.Errorf("oversized context: %v", err)
	}
	e := &Event{Info: Info{Context: json.RawMessage(`{"step":"ask_order","order":"A1"}`)}}
	var s state
	if err := e.DecodeContext(&s); err != nil || s.Order != "A1" {
		t.Errorf("DecodeContext = %+v, %v", s, err)
	}
	s = state{Step: "kept"}
	for _, empty := range []string{``, `{}`, `null`} {
		e.Info.Context = json.RawMessage(empty)
		if err := e.DecodeContext(&s); err != nil || s.Step != "kept" {
			t.Errorf("empty context %q changed the value: %+v, %v", empty, s, err)
		}
	}
}
