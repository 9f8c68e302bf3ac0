package onetalk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func TestBuildersGolden(t *testing.T) {
	buttons := NewReplyButtons("How can we help you?",
		ReplyButton{ID: "/hours", Title: "Opening hours"},
		ReplyButton{ID: "/agent", Title: "Talk to agent"},
	)
	cases := map[string]any{
		"text":     NewText("Hi, what's your name?"),
		"document": NewDocument("https://example.com/r.pdf", "Receipt.pdf", "Your receipt"),
		"image":    NewImage("https://example.com/a.jpg", "A picture"),
		"video":    NewVideo("https://example.com/a.mp4", "A video"),
		"reply_buttons_with_header_footer": buttons.
			WithHeader(TextHeader("Welcome!")).WithFooter("This is an automatic reply"),
		"reply_buttons_image_header": buttons.WithHeader(ImageHeader("https://example.com/h.jpg")),
		"reply_buttons_video_header": buttons.WithHeader(VideoHeader("https://example.com/h.mp4")),
		"reply_buttons_doc_header":   buttons.WithHeader(DocumentHeader("https://example.com/h.pdf", "h.pdf")),
		"list": NewList("Pick a topic", "Select topic",
			Section{Title: "Frequently selected", Rows: []Row{{ID: "/agent 0", Title: "More options", Description: "For more topic options"}}},
			Section{Title: "Other", Rows: []Row{{ID: "/billing", Title: "Billing"}}},
		),
		"flow":                 NewFlow("Book a visit", "1234567890", "Book now"),
		"request_contact_info": NewRequestContactInfo("May we have your contact details?"),
		"custom_data":          OutboundMessage{Type: TypeText, Text: &Text{Body: "hi"}, CustomData: `{"type":"interactive","interactive":{}}`},
		"update_contact": WebhookRequest{CaseID: "FBED34A1EF", EventType: EventUpdateContact, UpdateContact: &UpdateContact{
			FullName: String("John Doe"), JobTitle: String(""),
			CustomFields: map[string]string{"products": MultiSelect("OneTalk", "SendTalk"), "account_manager": ""},
		}},
		"update_case_clear_remark": WebhookRequest{CaseID: "FBED34A1EF", EventType: EventUpdateCase,
			UpdateCase: &UpdateCase{AgentRemark: String("")}},
		"handover_case": WebhookRequest{CaseID: "FBED34A1EF", EventType: EventHandoverCase,
			HandoverCase: &HandoverCase{TopicID: 123, AgentEmail: "agent@example.com", ChatbotHandoverSummary: "Wants a refund"}},
		"close_case": WebhookRequest{CaseID: "FBED34A1EF", EventType: EventCloseCase, CloseCase: &CloseCase{}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			if m, ok := v.(OutboundMessage); ok {
				if err := m.Validate(); err != nil {
					t.Fatalf("builder output is invalid: %v", err)
				}
			}
			if r, ok := v.(WebhookRequest); ok {
				if err := r.Validate(); err != nil {
					t.Fatalf("request is invalid: %v", err)
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "onetalk/golden/builder_"+name+".json", b)
		})
	}
}

func TestWithHeaderDoesNotAlias(t *testing.T) {
	base := NewReplyButtons("body", ReplyButton{ID: "a", Title: "A"})
	withHeader := base.WithHeader(TextHeader("H"))
	if base.WhatsAppBA.Interactive.Header != nil {
		t.Error("WithHeader changed the original message")
	}
	if withHeader.WhatsAppBA.Interactive.Header == nil {
		t.Error("WithHeader did not set the header")
	}
	if txt := NewText("x").WithFooter("f"); txt.WhatsAppBA != nil {
		t.Error("WithFooter on a text message should do nothing")
	}
}

func rows(n int) []Row {
	out := make([]Row, n)
	for i := range out {
		out[i] = Row{ID: "r" + string(rune('a'+i)), Title: "Row " + string(rune('A'+i))}
	}
	return out
}

func TestValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // runes, not bytes
	btn := func(bs ...ReplyButton) OutboundMessage { return NewReplyButtons("body", bs...) }
	tests := []struct {
		name string
		msg  OutboundMessage
		want string // substring of the error; "" means valid
	}{
		{"text ok", NewText("hi"), ""},
		{"text empty", NewText(""), "message.text.body: required"},
		{"type missing", OutboundMessage{Text: &Text{Body: "x"}}, "message.type: required"},
		{"unknown type", OutboundMessage{Type: "sticker"}, `unknown message type "sticker"`},
		{"field of type missing", OutboundMessage{Type: TypeImage, Text: &Text{Body: "x"}}, `message.image: required for type "image"`},
		{"document no url", NewDocument("", "a.pdf", ""), "message.document.url: required"},
		{"video no url", NewVideo("", ""), "message.video.url: required"},
		// "The document's file URL", "The image or video's file URL": an
		// absolute http(s) URL OneTalk can fetch, as in every example.
		{"document http url ok", NewDocument("http://example.com/r.pdf", "r.pdf", ""), ""},
		{"document doc placeholder ok", NewDocument("https://...", "Receipt.pdf", ""), ""},
		{"document path", NewDocument("/files/r.pdf", "r.pdf", ""), "message.document.url: must be an absolute http(s) URL"},
		{"document bare file name", NewDocument("Receipt.pdf", "Receipt.pdf", ""), "message.document.url: must be an absolute http(s) URL"},
		{"document ftp", NewDocument("ftp://example.com/r.pdf", "r.pdf", ""), "message.document.url: must be an absolute http(s) URL"},
		{"image path", NewImage("images/a.jpg", ""), "message.image.url: must be an absolute http(s) URL"},
		{"image no host", NewImage("https:///a.jpg", ""), "message.image.url: must be an absolute http(s) URL"},
		{"image file scheme", NewImage("file:///tmp/a.jpg", ""), "message.image.url: must be an absolute http(s) URL"},
		{"video ftp", NewVideo("ftp://example.com/a.mp4", ""), "message.video.url: must be an absolute http(s) URL"},
		{"video scheme-relative", NewVideo("//example.com/a.mp4", ""), "message.video.url: must be an absolute http(s) URL"},
		{"header document path", btn(ReplyButton{"a", "A"}).WithHeader(DocumentHeader("r.pdf", "r.pdf")),
			"header.document.link: must be an absolute http(s) URL"},
		{"header image ftp", btn(ReplyButton{"a", "A"}).WithHeader(ImageHeader("ftp://example.com/h.jpg")),
			"header.image.link: must be an absolute http(s) URL"},
		{"header video path", btn(ReplyButton{"a", "A"}).WithHeader(VideoHeader("/h.mp4")),
			"header.video.link: must be an absolute http(s) URL"},
		{"3 buttons ok", btn(ReplyButton{"a", "A"}, ReplyButton{"b", "B"}, ReplyButton{"c", "C"}), ""},
		{"4 buttons", btn(ReplyButton{"a", "A"}, ReplyButton{"b", "B"}, ReplyButton{"c", "C"}, ReplyButton{"d", "D"}),
			"buttonAction.buttons: at most 3 buttons, got 4"},
		{"no buttons", btn(), "buttonAction.buttons: at least 1 button"},
		{"title 20 ok", btn(ReplyButton{"a", long(20)}), ""},
		{"title 21", btn(ReplyButton{"a", long(21)}), "buttons[0].reply.title: at most 20 characters, got 21"},
		{"id 256 ok", btn(ReplyButton{long(256), "A"}), ""},
		{"id 257", btn(ReplyButton{long(257), "A"}), "buttons[0].reply.id: at most 256 characters, got 257"},
		{"duplicate title", btn(ReplyButton{"a", "Same"}, ReplyButton{"b", "Same"}), "buttons[1].reply.title: must be unique"},
		{"body missing", NewReplyButtons("", ReplyButton{"a", "A"}), "interactive.body.text: required"},
		{"list ok", NewList("b", "Open", Section{Rows: rows(10)}), ""},
		{"list button 21", NewList("b", long(21), Section{Rows: rows(1)}), "listAction.button: at most 20 characters, got 21"},
		{"11 rows across sections", NewList("b", "Open", Section{Title: "1", Rows: rows(6)}, Section{Title: "2", Rows: rows(5)}),
			"at most 10 rows across all sections, got 11"},
		{"11 sections", NewList("b", "Open", func() []Section {
			s := make([]Section, 11)
			for i := range s {
				s[i] = Section{Title: "s", Rows: rows(0)}
			}
			return s
		}()...), "at most 10 sections, got 11"},
		{"section title needed", NewList("b", "Open", Section{Title: "1", Rows: rows(1)}, Section{Rows: rows(1)}),
			"sections[1].title: required when there is more than one section"},
		{"row id 201", NewList("b", "Open", Section{Rows: []Row{{ID: long(201), Title: "t"}}}), "rows[0].id: at most 200 characters, got 201"},
		{"row title 25", NewList("b", "Open", Section{Rows: []Row{{ID: "i", Title: long(25)}}}), "rows[0].title: at most 24 characters, got 25"},
		{"row description 73", NewList("b", "Open", Section{Rows: []Row{{ID: "i", Title: "t", Description: long(73)}}}),
			"rows[0].description: at most 72 characters, got 73"},
		{"row description 72 ok", NewList("b", "Open", Section{Rows: []Row{{ID: "i", Title: "t", Description: long(72)}}}), ""},
		{"header without media", btn(ReplyButton{"a", "A"}).WithHeader(Header{Type: TypeImage}), "header.image.link: required"},
		{"flow cta 31", NewFlow("b", "f1", long(31)), "flowAction.flowCTA: at most 30 characters, got 31"},
		{"flow cta emoji", NewFlow("b", "f1", "Book now 📅"), "flowAction.flowCTA: must not contain emoji"},
		{"flow cta flag", NewFlow("b", "f1", "Go 🇩🇪"), "flowCTA: must not contain emoji"},
		{"flow cta star", NewFlow("b", "f1", "Rate ⭐"), "flowCTA: must not contain emoji"},
		{"flow cta accents ok", NewFlow("b", "f1", "Réserver à 10 h – 5 €"), ""},
		{"duplicate button id", btn(ReplyButton{"/agent", "Agent"}, ReplyButton{"/agent", "Human"}),
			"buttons[1].reply.id: must be unique within the message (same as buttons[0])"},
		{"duplicate row id in a section", NewList("b", "Open", Section{Rows: []Row{{ID: "x", Title: "A"}, {ID: "x", Title: "B"}}}),
			"sections[0].rows[1].id: must be unique across all sections (same as sections[0].rows[0])"},
		{"duplicate row id across sections", NewList("b", "Open", Section{Title: "1", Rows: []Row{{ID: "x", Title: "A"}}},
			Section{Title: "2", Rows: []Row{{ID: "y", Title: "B"}, {ID: "x", Title: "C"}}}),
			"sections[1].rows[1].id: must be unique across all sections (same as sections[0].rows[0])"},
		{"distinct row ids across sections ok", NewList("b", "Open", Section{Title: "1", Rows: []Row{{ID: "x", Title: "A"}}},
			Section{Title: "2", Rows: []Row{{ID: "y", Title: "A"}}}), ""},
		{"flow mode", func() OutboundMessage {
			m := NewFlow("b", "f1", "Go")
			m.WhatsAppBA.Interactive.FlowAction.FlowMode = "live"
			return m
		}(), `flowMode: must be "draft" or "published"`},
		{"interactive type", OutboundMessage{Type: TypeWhatsAppBA, WhatsAppBA: &OutboundWABA{Type: WABAInteractive,
			Interactive: &Interactive{Type: "carousel", Body: &InteractiveText{Text: "b"}}}}, `unknown interactive type "carousel"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.msg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidRequest) {
				t.Error("error does not wrap ErrInvalidRequest")
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Error("error is not a *FieldError with a field path")
			}
		})
	}
}

func TestValidateWebhookRequest(t *testing.T) {
	tests := []struct {
		name string
		req  WebhookRequest
		want string
	}{
		{"no caseID", WebhookRequest{EventType: EventMessages, Messages: []OutboundMessage{NewText("x")}}, "caseID: required"},
		{"no eventType", WebhookRequest{CaseID: "C"}, "eventType: required"},
		{"unknown eventType", WebhookRequest{CaseID: "C", EventType: "delete_case"}, `unknown event type "delete_case"`},
		{"messages missing", WebhookRequest{CaseID: "C", EventType: EventMessages}, `messages: required for eventType "messages"`},
		{"two payloads", WebhookRequest{CaseID: "C", EventType: EventCloseCase, CloseCase: &CloseCase{},
			HandoverCase: &HandoverCase{}}, `handoverCase: not allowed with eventType "close_case"`},
		{"message path", WebhookRequest{CaseID: "C", EventType: EventMessages,
			Messages: []OutboundMessage{NewText("ok"), NewText("")}}, "messages[1].text.body: required"},
		{"empty update case", WebhookRequest{CaseID: "C", EventType: EventUpdateCase, UpdateCase: &UpdateCase{}}, "updateCase: no field to update"},
		{"empty update contact", WebhookRequest{CaseID: "C", EventType: EventUpdateContact, UpdateContact: &UpdateContact{}}, "updateContact: no field to update"},
		{"clear full name", WebhookRequest{CaseID: "C", EventType: EventUpdateContact,
			UpdateContact: &UpdateContact{FullName: String("")}}, "updateContact.fullName: cannot be cleared"},
		{"clear alias ok", WebhookRequest{CaseID: "C", EventType: EventUpdateContact, UpdateContact: &UpdateContact{Alias: String("")}}, ""},
		{"handover ok", WebhookRequest{CaseID: "C", EventType: EventHandoverCase, HandoverCase: &HandoverCase{}}, ""},
		// handoverCase and closeCase are "Optional" in the doc's table.
		{"handover without details ok", WebhookRequest{CaseID: "C", EventType: EventHandoverCase}, ""},
		{"close without details ok", WebhookRequest{CaseID: "C", EventType: EventCloseCase}, ""},
		{"close with handover details", WebhookRequest{CaseID: "C", EventType: EventCloseCase, HandoverCase: &HandoverCase{}},
			`handoverCase: not allowed with eventType "close_case"`},
		{"handover with close details", WebhookRequest{CaseID: "C", EventType: EventHandoverCase, CloseCase: &CloseCase{}},
			`closeCase: not allowed with eventType "handover_case"`},
		{"update case still needs details", WebhookRequest{CaseID: "C", EventType: EventUpdateCase}, `updateCase: required for eventType "update_case"`},
		{"update contact still needs details", WebhookRequest{CaseID: "C", EventType: EventUpdateContact},
			`updateContact: required for eventType "update_contact"`},
		{"message url path", WebhookRequest{CaseID: "C", EventType: EventMessages,
			Messages: []OutboundMessage{NewText("ok"), NewImage("a.jpg", "")}}, "messages[1].image.url: must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
