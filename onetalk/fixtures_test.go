package onetalk

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/botwire/botwire/internal/golden"
)

// fixtureTypes names the Go type each fixture of testdata/onetalk decodes
// into. Every file of testdata/onetalk/doc and /external must be listed, so a
// new fixture without a test fails TestEveryFixtureIsTested.
var fixtureTypes = map[string]func() any{
	"doc/inbound_request.json":                   func() any { return new(InboundRequest) },
	"doc/inbound_sender.json":                    func() any { return new(Sender) },
	"doc/inbound_message_text.json":              func() any { return new(InboundMessage) },
	"doc/inbound_message_document.json":          func() any { return new(InboundMessage) },
	"doc/inbound_message_image.json":             func() any { return new(InboundMessage) },
	"doc/inbound_message_video.json":             func() any { return new(InboundMessage) },
	"doc/inbound_message_location.json":          func() any { return new(InboundMessage) },
	"doc/inbound_message_waba_button.json":       func() any { return new(InboundMessage) },
	"doc/inbound_message_waba_button_reply.json": func() any { return new(InboundMessage) },
	"doc/inbound_text.json":                      func() any { return new(Text) },
	"doc/inbound_document.json":                  func() any { return new(Document) },
	"doc/inbound_media.json":                     func() any { return new(Media) },
	"doc/inbound_location.json":                  func() any { return new(Location) },
	"doc/inbound_waba_button.json":               func() any { return new(InboundWABA) },
	"doc/inbound_waba_interactive.json":          func() any { return new(InboundWABA) },
	"doc/inbound_waba_button_payload.json":       func() any { return new(TemplateButton) },
	"doc/inbound_interactive_button_reply.json":  func() any { return new(InboundInteractive) },
	"doc/inbound_interactive_list_reply.json":    func() any { return new(InboundInteractive) },
	"doc/inbound_button_reply.json":              func() any { return new(ButtonReply) },
	"doc/inbound_list_reply.json":                func() any { return new(ListReply) },

	"doc/outbound_webhook_messages.json":          func() any { return new(WebhookRequest) },
	"doc/outbound_webhook_handover_case.json":     func() any { return new(WebhookRequest) },
	"doc/outbound_webhook_close_case.json":        func() any { return new(WebhookRequest) },
	"doc/outbound_webhook_update_case.json":       func() any { return new(WebhookRequest) },
	"doc/outbound_webhook_update_contact.json":    func() any { return new(WebhookRequest) },
	"doc/outbound_message_text.json":              func() any { return new(OutboundMessage) },
	"doc/outbound_message_document.json":          func() any { return new(OutboundMessage) },
	"doc/outbound_message_image.json":             func() any { return new(OutboundMessage) },
	"doc/outbound_message_video.json":             func() any { return new(OutboundMessage) },
	"doc/outbound_message_whatsappba_button.json": func() any { return new(OutboundMessage) },
	"doc/outbound_message_whatsappba_list.json":   func() any { return new(OutboundMessage) },
	"doc/outbound_text.json":                      func() any { return new(Text) },
	"doc/outbound_document.json":                  func() any { return new(Document) },
	"doc/outbound_media.json":                     func() any { return new(Media) },
	"doc/outbound_waba_button.json":               func() any { return new(OutboundWABA) },
	"doc/outbound_waba_list.json":                 func() any { return new(OutboundWABA) },
	"doc/outbound_interactive_button.json":        func() any { return new(Interactive) },
	"doc/outbound_interactive_list.json":          func() any { return new(Interactive) },
	"doc/outbound_header_text.json":               func() any { return new(Header) },
	"doc/outbound_header_document.json":           func() any { return new(Header) },
	"doc/outbound_header_image.json":              func() any { return new(Header) },
	"doc/outbound_header_video.json":              func() any { return new(Header) },
	"doc/outbound_body.json":                      func() any { return new(InteractiveText) },
	"doc/outbound_footer.json":                    func() any { return new(InteractiveText) },
	"doc/outbound_button_action.json":             func() any { return new(ButtonAction) },
	"doc/outbound_button.json":                    func() any { return new(Button) },
	"doc/outbound_list_action.json":               func() any { return new(ListAction) },
	"doc/outbound_section.json":                   func() any { return new(Section) },
	"doc/outbound_row.json":                       func() any { return new(Row) },
	"doc/outbound_handover_case.json":             func() any { return new(HandoverCase) },
	"doc/outbound_close_case.json":                func() any { return new(CloseCase) },
	"doc/outbound_update_case.json":               func() any { return new(UpdateCase) },
	"doc/outbound_update_contact.json":            func() any { return new(UpdateContact) },
	"doc/outbound_update_contact_partial.json":    func() any { return new(UpdateContact) },

	"external/inbound_request_composed_from_docHEAD_fragments.json":                   func() any { return new(InboundRequest) },
	"external/inbound_sender_customerUserID_docHEAD.json":                             func() any { return new(Sender) },
	"external/inbound_whatsappba_interactive_nfm_reply_docHEAD.json":                  func() any { return new(InboundInteractive) },
	"external/outbound_flowActionPayload_docHEAD.json":                                func() any { return new(FlowActionPayload) },
	"external/outbound_handoverCase_with_summary_docHEAD.json":                        func() any { return new(HandoverCase) },
	"external/outbound_messages_text_thirdparty-script.json":                          func() any { return new(WebhookRequest) },
	"external/outbound_messages_text_extra-phone-empty-caseID_thirdparty-script.json": func() any { return new(WebhookRequest) },
	"external/customchannel_oneTalkURL_response_analog.json":                          nil, // an answer body; see TestClientRejected
}

// unknownFieldsExpected lists fixtures that carry fields the doc does not
// define. Every other fixture decodes with DisallowUnknownFields and must
// re-encode to itself, which proves each documented field is modelled
// (the round trip also covers types with their own UnmarshalJSON, which
// DisallowUnknownFields does not reach).
var unknownFieldsExpected = map[string]bool{
	"external/outbound_messages_text_extra-phone-empty-caseID_thirdparty-script.json": true, // "phone"
}

// videoUnderImage lists the fixtures where the doc puts a video under the
// key "image"; their re-encoding uses the documented key(s) instead.
var videoUnderImage = map[string]bool{
	"doc/inbound_message_video.json":  true,
	"doc/outbound_message_video.json": true,
	"doc/outbound_header_video.json":  true,
}

func TestEveryFixtureIsTested(t *testing.T) {
	for _, dir := range []string{"doc", "external"} {
		for _, f := range golden.Glob(t, "onetalk/"+dir+"/*.json") {
			name := strings.TrimPrefix(f, "onetalk/")
			if _, ok := fixtureTypes[name]; !ok {
				t.Errorf("fixture %s is not in fixtureTypes", name)
			}
		}
	}
}

// TestFixturesRoundTrip decodes every fixture strictly, re-encodes it, and
// checks the re-encoding against the fixture and against its golden file.
func TestFixturesRoundTrip(t *testing.T) {
	for name, newT := range fixtureTypes {
		if newT == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data := golden.Read(t, "onetalk/"+name)
			v := newT()
			dec := json.NewDecoder(bytes.NewReader(data))
			if !unknownFieldsExpected[name] {
				dec.DisallowUnknownFields()
			}
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			golden.JSON(t, "onetalk/golden/"+strings.TrimSuffix(path.Base(name), ".json")+".json", got)
			if unknownFieldsExpected[name] || videoUnderImage[name] {
				return // checked by their own tests below
			}
			golden.JSONEqIgnoringEmpty(t, data, got)
		})
	}
}

func decodeFixture[T any](t *testing.T, name string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(golden.Read(t, "onetalk/"+name), v); err != nil {
		t.Fatal(err)
	}
	return v
}

var ignoreRaw = cmpopts.IgnoreFields(InboundMessage{}, "Raw")

func TestDecodeInboundRequest(t *testing.T) {
	data := golden.Read(t, "onetalk/doc/inbound_request.json")
	got, err := ParseInbound(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &InboundRequest{
		CaseID:      "FBED34A1EF",
		ChannelType: ChannelWhatsAppBA,
		Sender:      Sender{Phone: "62851234567890", ContactName: "John Doe"},
		Message: InboundMessage{
			ID: "wamid.HBgNNjI...", Type: TypeText, Text: &Text{Body: "Talk to agent"},
			WhatsAppBA: &InboundWABA{Type: WABAInteractive, Interactive: &InboundInteractive{
				Type: ReplyTypeButton, ButtonReply: &ButtonReply{ID: "/agent", Title: "Talk to agent"}}},
		},
		Raw: data,
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Message.ReplyID() != "/agent" || got.Message.Body() != "Talk to agent" {
		t.Errorf("ReplyID/Body = %q/%q", got.Message.ReplyID(), got.Message.Body())
	}
	golden.JSONEq(t, data, got.Raw)
}

func TestDecodeNewerFields(t *testing.T) {
	got := decodeFixture[InboundRequest](t, "external/inbound_request_composed_from_docHEAD_fragments.json")
	if got.ChannelID != "2108211854" || got.ChannelName != "TapTalk.io" {
		t.Errorf("channel = %q %q", got.ChannelID, got.ChannelName)
	}
	if want := int64(1719934171955); got.Message.Timestamp.Time().UnixMilli() != want {
		t.Errorf("timestamp = %v, want %d ms", got.Message.Timestamp.Time(), want)
	}
	s := decodeFixture[Sender](t, "external/inbound_sender_customerUserID_docHEAD.json")
	if diff := cmp.Diff(&Sender{CustomerUserID: "user:6281234567890", ContactName: "John Doe"}, s); diff != "" {
		t.Error(diff)
	}
	nfm := decodeFixture[InboundInteractive](t, "external/inbound_whatsappba_interactive_nfm_reply_docHEAD.json")
	if nfm.Type != ReplyTypeFlow || nfm.NFMReply == nil || nfm.NFMReply.Name != "flow" {
		t.Fatalf("nfm_reply = %+v", nfm)
	}
	var flow map[string]string
	if err := nfm.NFMReply.Decode(&flow); err != nil {
		t.Fatal(err)
	}
	if flow["flow_token"] != "<FLOW_TOKEN>" {
		t.Errorf("flow = %v", flow)
	}
	h := decodeFixture[HandoverCase](t, "external/outbound_handoverCase_with_summary_docHEAD.json")
	if h.TopicID != 123 {
		t.Errorf("topicID = %d", h.TopicID)
	}
	p := decodeFixture[FlowActionPayload](t, "external/outbound_flowActionPayload_docHEAD.json")
	if p.Screen != "<SCREEN_NAME>" || p.Data["product_price"] != 100.0 {
		t.Errorf("payload = %+v", p)
	}
}

func TestVideoUnderImage(t *testing.T) {
	in := decodeFixture[InboundMessage](t, "doc/inbound_message_video.json")
	if in.Video == nil || in.Image != nil || in.Video.URL != "https://..." {
		t.Fatalf("inbound video: Video=%v Image=%v", in.Video, in.Image)
	}
	out := decodeFixture[OutboundMessage](t, "doc/outbound_message_video.json")
	if out.Video == nil || out.Image != nil || out.Video.Caption != "..." {
		t.Fatalf("outbound video: Video=%v Image=%v", out.Video, out.Image)
	}
	// Encoded, an outbound video carries both keys so either reading of the
	// doc finds it; an inbound one uses the table's key.
	b, _ := json.Marshal(out)
	golden.JSONEq(t, []byte(`{"type":"video","video":{"url":"https://...","caption":"..."},"image":{"url":"https://...","caption":"..."}}`), b)
	b, _ = json.Marshal(in)
	golden.JSONEqIgnoringEmpty(t, []byte(`{"id":"wamid.HBgNNjI...","type":"video","video":{"url":"https://..."}}`), b)

	h := decodeFixture[Header](t, "doc/outbound_header_video.json")
	if h.Video == nil || h.Image != nil || h.Video.Link != "https://..." {
		t.Fatalf("header video: %+v", h)
	}
	b, _ = json.Marshal(h)
	golden.JSONEq(t, []byte(`{"type":"video","video":{"link":"https://..."},"image":{"link":"https://..."}}`), b)
}

func TestUnknownFieldsAndTypesAreKept(t *testing.T) {
	wh := decodeFixture[WebhookRequest](t, "external/outbound_messages_text_extra-phone-empty-caseID_thirdparty-script.json")
	if wh.EventType != EventMessages || len(wh.Messages) != 1 {
		t.Fatalf("decoded %+v", wh)
	}
	// That script also sent caseID "": OneTalk needs one, and so do we.
	if err := wh.Validate(); err == nil || !strings.Contains(err.Error(), "caseID: required") {
		t.Errorf("Validate() = %v, want caseID required", err)
	}

	body := []byte(`{"caseID":"C1","channelType":"telegram","future":{"x":1},
		"sender":{"contactName":"Ann","newField":true},
		"message":{"id":"m1","type":"sticker","sticker":{"url":"https://s/1.webp","animated":true}}}`)
	req, err := ParseInbound(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Message.Known() {
		t.Error("sticker reported as known")
	}
	var sticker struct {
		Sticker struct{ URL string } `json:"sticker"`
	}
	if err := json.Unmarshal(req.Message.Raw, &sticker); err != nil || sticker.Sticker.URL != "https://s/1.webp" {
		t.Errorf("raw sticker = %s (%v)", req.Message.Raw, err)
	}
	// Re-encoding an unknown message writes its raw bytes back.
	b, _ := json.Marshal(req.Message)
	golden.JSONEq(t, []byte(`{"id":"m1","type":"sticker","sticker":{"url":"https://s/1.webp","animated":true}}`), b)
	if !bytes.Contains(req.Raw, []byte(`"future"`)) {
		t.Error("Raw lost the unknown top-level field")
	}
}

func TestUpdateContactPresence(t *testing.T) {
	full := decodeFixture[UpdateContact](t, "doc/outbound_update_contact.json")
	if full.JobTitle == nil || *full.JobTitle != "" {
		t.Errorf("jobTitle: want provided and empty, got %v", full.JobTitle)
	}
	if v, ok := full.CustomFields["account_manager"]; !ok || v != "" {
		t.Errorf("account_manager: want provided and empty")
	}
	if full.CustomFields["products"] != MultiSelect("OneTalk", "SendTalk", "PowerTalk") {
		t.Errorf("products = %q", full.CustomFields["products"])
	}
	part := decodeFixture[UpdateContact](t, "doc/outbound_update_contact_partial.json")
	want := &UpdateContact{FullName: String("John Doe"), Alias: String(""),
		CustomFields: map[string]string{"membership_id": "202401234567890"}}
	if diff := cmp.Diff(want, part); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(part)
	golden.JSONEq(t, []byte(`{"fullName":"John Doe","alias":"","customFields":{"membership_id":"202401234567890"}}`), b)

	uc := decodeFixture[UpdateCase](t, "doc/outbound_update_case.json")
	if uc.IsJunk == nil || !*uc.IsJunk || uc.AgentRemark == nil || *uc.AgentRemark != "..." {
		t.Errorf("updateCase = %+v", uc)
	}
	b, _ = json.Marshal(UpdateCase{IsJunk: Bool(false)})
	golden.JSONEq(t, []byte(`{"isJunk":false}`), b)
}

func TestTimestampForms(t *testing.T) {
	for _, in := range []string{`1719934171955`, `"1719934171955"`, `1.719934171955e12`} {
		var ms UnixMillis
		if err := json.Unmarshal([]byte(in), &ms); err != nil || ms != 1719934171955 {
			t.Errorf("%s: got %d, %v", in, ms, err)
		}
	}
	var ms UnixMillis
	if err := json.Unmarshal([]byte(`"soon"`), &ms); err == nil {
		t.Error("want an error for a non-numeric timestamp")
	}
	if !UnixMillis(0).Time().IsZero() {
		t.Error("zero timestamp should be the zero time")
	}
}
