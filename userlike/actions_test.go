package userlike

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/botwire/botwire/internal/golden"
)

func TestActionBuildersGolden(t *testing.T) {
	yes := true
	choices := []Choice{{ID: "delivery", Label: "Delivery status"}, {ID: "human", Label: "Talk to a human"}}
	cases := map[string]Action{
		"message":          Message("Hello!"),
		"message_markdown": MarkdownMessage("**Hello!**"),
		"bubbles":          Bubbles("How can I help?", "Answer with a number:", choices...),
		"carousel": Carousel("Pick one", "Answer with a number:",
			CarouselOption{ID: "air", Label: "MacBook Air", ImageURL: "https://example.com/air.jpg"}),
		"button_template": ButtonTemplate("Welcome!", "Answer with a number:", choices...),
		"list_template": ListTemplate("Choose a topic", "Topics", "Answer with a number:",
			Choice{ID: "billing", Label: "Billing", Description: "Invoices and payments"}),
		"button":   Button("Open shop", "https://example.com"),
		"buttons":  Buttons("Links", URLButton{Label: "Shop", URL: "https://example.com"}),
		"media":    Media("https://example.com/a.png"),
		"navigate": Navigate("https://example.com/orders"),
		"contact_update": ContactUpdate(ContactUpdatePayload{Name: "John", Email: "john@example.com", MobileNumber: "+4912345",
			ExternalCustomerID: "C-1", CustomFields: map[string]any{"tier": "gold"}, Campaigns: &yes}),
		"abort":          Abort(),
		"end":            End(),
		"forward_group":  ForwardGroup("support", OnFailureFeedback),
		"forward_skills": ForwardSkills([]string{"german", "billing"}, ""),
		"forward_any":    ForwardAny(OnFailureFeedback),
		"delay":          Delay(1500 * time.Millisecond),
		"note_create":    NoteCreate("VIP customer", "12345"),
		"conversation_update": ConversationUpdate(ConversationUpdatePayload{Subject: "Order A1", Topics: []string{"delivery"},
			Locale: "de", CustomFields: map[string]any{"order": "A1"}}),
		"addon_dispatch": AddonDispatch("slack"),
		"email_dispatch": EmailDispatch(RecipientContact, ""),
		"custom":         Custom("typing_indicator", map[string]bool{"on": true}),
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			if err := a.Validate(); err != nil {
				t.Fatalf("builder output is invalid: %v", err)
			}
			ev := NewReply(docCID)
			ev.Add(a)
			b, err := json.Marshal(ev.Events()[0])
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, "userlike/golden/action_"+name+".json", b)
			// Decoding gives back the same action.
			var back OutboundEvent
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			golden.JSONEq(t, b, again)
		})
	}
}

func TestActionValidate(t *testing.T) {
	tests := []struct {
		name string
		a    Action
		want string
	}{
		{"empty message", Message(""), "payload.body: required"},
		{"5000 ok", Message(strings.Repeat("ü", 5000)), ""},
		{"5001", Message(strings.Repeat("ü", 5001)), "payload.body: at most 5000 characters, got 5001"},
		{"bubbles fallback", Bubbles("b", "", Choice{ID: "a", Label: "A"}), "payload.fallback: required"},
		{"carousel fallback", Carousel("b", "", CarouselOption{ID: "a", Label: "A"}), "payload.fallback: required"},
		{"button_template fallback", ButtonTemplate("b", "", Choice{ID: "a", Label: "A"}), "payload.fallback: required"},
		{"list_template fallback", ListTemplate("b", "Open", "", Choice{ID: "a", Label: "A"}), "payload.fallback: required"},
		{"button_template 4", ButtonTemplate("b", "f", Choice{"1", "A", ""}, Choice{"2", "B", ""}, Choice{"3", "C", ""}, Choice{"4", "D", ""}),
			"payload.options: at most 3 options, got 4"},
		{"button_template 3 ok", ButtonTemplate("b", "f", Choice{"1", "A", ""}, Choice{"2", "B", ""}, Choice{"3", "C", ""}), ""},
		{"list_template 11", ListTemplate("b", "Open", "f", func() []Choice {
			c := make([]Choice, 11)
			for i := range c {
				c[i] = Choice{ID: string(rune('a' + i)), Label: "x"}
			}
			return c
		}()...), "payload.options: at most 10 options, got 11"},
		{"bubbles without options", Bubbles("b", "f"), "payload.options: at least 1 option"},
		{"choice id", Bubbles("b", "f", Choice{Label: "A"}), "options[0].id: required"},
		{"contact_update empty", ContactUpdate(ContactUpdatePayload{}), "needs one of name"},
		{"conversation_update empty", ConversationUpdate(ConversationUpdatePayload{}), "needs one of subject"},
		{"media link", Media(""), "payload.link: required"},
		{"media relative link", Media("/img/a.png"), "payload.link: must be an absolute http(s) URL, got a relative reference"},
		{"media scheme-less link", Media("example.com/a.png"), "payload.link: must be an absolute http(s) URL, got a relative reference"},
		{"media protocol-relative link", Media("//cdn.example.com/a.png"), "payload.link: must be an absolute http(s) URL, got a relative reference"},
		{"media ftp link", Media("ftp://example.com/a.png"), `payload.link: must be an absolute http(s) URL, got scheme "ftp"`},
		{"media data link", Media("data:image/png;base64,AAAA"), `payload.link: must be an absolute http(s) URL, got scheme "data"`},
		{"media link without host", Media("https:///a.png"), "payload.link: must be an absolute http(s) URL, got no host"},
		{"media link with a space", Media("https://example.com/a b.png"), "payload.link: must be an absolute http(s) URL, got a space or control character"},
		{"media https link", Media("https://example.com/a.png?sig=1#x"), ""},
		{"media HTTP link", Media("HTTP://user@[::1]:8080/a.png"), ""},
		{"forward skills", ForwardSkills(nil, ""), "payload.skills: at least 1 skill"},
		{"forward skills on_failure", ForwardSkills([]string{"de"}, "retry"), `payload.on_failure: must be "feedback"`},
		{"on_failure", ForwardAny("retry"), `on_failure: must be "feedback"`},
		{"delay", Delay(0), "payload.seconds: must be positive"},
		{"email recipient", EmailDispatch("boss", ""), "recipient_type"},
		{"no name", Action{}, "action.name: required"},
		{"custom unchecked", Custom("anything", json.RawMessage(`{}`)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidAction) {
				t.Error("does not wrap ErrInvalidAction")
			}
		})
	}
}

func TestBubblesWarnings(t *testing.T) {
	opts := func(n int, label string) []Choice {
		c := make([]Choice, n)
		for i := range c {
			c[i] = Choice{ID: string(rune('a' + i)), Label: label}
		}
		return c
	}
	tests := []struct {
		name     string
		a        Action
		channels []string
	}{
		{"10 short options fit both", Bubbles("b", "f", opts(10, "ok")...), nil},
		{"11 options: WhatsApp falls back", Bubbles("b", "f", opts(11, "ok")...), []string{ChannelWhatsAppBusiness}},
		{"14 options: both fall back", Bubbles("b", "f", opts(14, "ok")...), []string{ChannelWhatsAppBusiness, ChannelFacebook}},
		{"21-character label: both", Bubbles("b", "f", Choice{ID: "a", Label: strings.Repeat("x", 21)}), []string{ChannelWhatsAppBusiness, ChannelFacebook}},
		{"20-character label fits", Bubbles("b", "f", Choice{ID: "a", Label: strings.Repeat("x", 20)}), nil},
		{"not bubbles", ButtonTemplate("b", "f", opts(3, strings.Repeat("x", 30))...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := tt.a.Warnings()
			var got []string
			for _, w := range ws {
				got = append(got, w.Channel)
			}
			if strings.Join(got, ",") != strings.Join(tt.channels, ",") {
				t.Errorf("warnings = %v, want channels %v", ws, tt.channels)
			}
			if err := tt.a.Validate(); err != nil {
				t.Errorf("a warning must not be an error: %v", err)
			}
		})
	}
}

// Handlers validate every reply: checking a good media link must not
// allocate.
func TestMediaLinkCheckDoesNotAllocate(t *testing.T) {
	actions := []Action{Media("https://example.com/a.png"), Message("hi")}
	allocs := testing.AllocsPerRun(100, func() {
		if ValidateActions(actions...) != nil {
			t.Fatal("unexpected error")
		}
	})
	if allocs != 0 {
		t.Errorf("validating a media link allocated %v times", allocs)
	}
}
