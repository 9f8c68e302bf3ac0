package onetalk

import (
	"errors"
	"strconv"

	"github.com/botwire/botwire/internal/check"
)

// Limits stated by the OneTalk doc (and, for flows, its newer revision).
const (
	MaxReplyButtons      = 3
	MaxButtonIDLen       = 256
	MaxButtonTitleLen    = 20
	MaxListButtonLen     = 20
	MaxSections          = 10
	MaxRows              = 10 // across all sections
	MaxRowIDLen          = 200
	MaxRowTitleLen       = 24
	MaxRowDescriptionLen = 72
	MaxFlowCTALen        = 30
)

// ErrInvalidRequest is wrapped by every validation error.
var ErrInvalidRequest = errors.New("invalid request")

// FieldError is a request that breaks a documented rule: Field is the JSON
// path ("messages[0].whatsappba.interactive.buttonAction.buttons"), Problem
// says which rule. Validation errors join one *FieldError per problem.
type FieldError = check.FieldError

type validator = check.Collector

func newValidator() *validator { return check.New("onetalk", ErrInvalidRequest) }

// Validate checks r against the doc's rules before it is sent: a caseID, a
// known event type whose field is set (and no other), and every limit of
// the messages. The error joins one *FieldError per problem.
func (r *WebhookRequest) Validate() error {
	v := newValidator()
	v.Required("caseID", r.CaseID)
	set := map[EventType]bool{
		EventMessages:      len(r.Messages) > 0,
		EventHandoverCase:  r.HandoverCase != nil,
		EventCloseCase:     r.CloseCase != nil,
		EventUpdateCase:    r.UpdateCase != nil,
		EventUpdateContact: r.UpdateContact != nil,
	}
	field := map[EventType]string{
		EventMessages:      "messages",
		EventHandoverCase:  "handoverCase",
		EventCloseCase:     "closeCase",
		EventUpdateCase:    "updateCase",
		EventUpdateContact: "updateContact",
	}
	if _, known := set[r.EventType]; !known {
		if r.EventType == "" {
			v.Add("eventType", "required")
		} else {
			v.Add("eventType", "unknown event type %q", r.EventType)
		}
		return v.Err()
	}
	for _, ev := range []EventType{EventMessages, EventHandoverCase, EventCloseCase, EventUpdateCase, EventUpdateContact} {
		ok := set[ev]
		switch {
		case ev == r.EventType && !ok:
			v.Add(field[ev], "required for eventType %q", r.EventType)
		case ev != r.EventType && ok:
			v.Add(field[ev], "not allowed with eventType %q", r.EventType)
		}
	}
	for i := range r.Messages {
		r.Messages[i].validate(v, "messages["+strconv.Itoa(i)+"]")
	}
	if u := r.UpdateCase; u != nil && u.AgentRemark == nil && u.IsJunk == nil {
		v.Add("updateCase", "no field to update")
	}
	if u := r.UpdateContact; u != nil {
		if u.FullName == nil && u.Alias == nil && u.CompanyName == nil && u.JobTitle == nil && len(u.CustomFields) == 0 {
			v.Add("updateContact", "no field to update")
		}
		if u.FullName != nil && *u.FullName == "" {
			v.Add("updateContact.fullName", "cannot be cleared (only alias, companyName and jobTitle may be empty)")
		}
		if _, empty := u.CustomFields[""]; empty {
			v.Add("updateContact.customFields", "empty field code")
		}
	}
	if h := r.HandoverCase; h != nil && h.TopicID < 0 {
		v.Add("handoverCase.topicID", "must not be negative")
	}
	return v.Err()
}

// Validate checks one message against the doc's rules.
func (m *OutboundMessage) Validate() error {
	v := newValidator()
	m.validate(v, "message")
	return v.Err()
}

func (m *OutboundMessage) validate(v *validator, path string) {
	named := map[string]bool{
		TypeText:       m.Text != nil,
		TypeDocument:   m.Document != nil,
		TypeImage:      m.Image != nil,
		TypeVideo:      m.Video != nil,
		TypeWhatsAppBA: m.WhatsAppBA != nil,
	}
	if _, ok := named[m.Type]; !ok {
		if m.Type == "" {
			v.Add(path+".type", "required")
		} else {
			v.Add(path+".type", "unknown message type %q", m.Type)
		}
		return
	}
	if !named[m.Type] {
		v.Add(path+"."+m.Type, "required for type %q", m.Type)
		return
	}
	switch m.Type {
	case TypeText:
		v.Required(path+".text.body", m.Text.Body)
	case TypeDocument:
		v.Required(path+".document.url", m.Document.URL)
	case TypeImage:
		v.Required(path+".image.url", m.Image.URL)
	case TypeVideo:
		v.Required(path+".video.url", m.Video.URL)
	case TypeWhatsAppBA:
		m.WhatsAppBA.validate(v, path+".whatsappba")
	}
}

func (w *OutboundWABA) validate(v *validator, path string) {
	if w.Type != WABAInteractive {
		v.Add(path+".type", "must be %q, got %q", WABAInteractive, w.Type)
	}
	in := w.Interactive
	if in == nil {
		v.Add(path+".interactive", "required")
		return
	}
	path += ".interactive"
	if in.Body == nil || in.Body.Text == "" {
		v.Add(path+".body.text", "required")
	}
	if h := in.Header; h != nil {
		h.validate(v, path+".header")
	}
	switch in.Type {
	case InteractiveButton:
		if in.ButtonAction == nil {
			v.Add(path+".buttonAction", "required for type %q", in.Type)
			return
		}
		in.ButtonAction.validate(v, path+".buttonAction")
	case InteractiveList:
		if in.ListAction == nil {
			v.Add(path+".listAction", "required for type %q", in.Type)
			return
		}
		in.ListAction.validate(v, path+".listAction")
	case InteractiveFlow:
		if in.FlowAction == nil {
			v.Add(path+".flowAction", "required for type %q", in.Type)
			return
		}
		in.FlowAction.validate(v, path+".flowAction")
	case InteractiveRequestContactInfo:
	case "":
		v.Add(path+".type", "required")
	default:
		v.Add(path+".type", "unknown interactive type %q", in.Type)
	}
}

func (h *Header) validate(v *validator, path string) {
	switch h.Type {
	case TypeText:
		v.Required(path+".text", h.Text)
	case TypeDocument:
		if h.Document == nil || h.Document.Link == "" {
			v.Add(path+".document.link", "required for header type %q", h.Type)
		}
	case TypeImage:
		if h.Image == nil || h.Image.Link == "" {
			v.Add(path+".image.link", "required for header type %q", h.Type)
		}
	case TypeVideo:
		if h.Video == nil || h.Video.Link == "" {
			v.Add(path+".video.link", "required for header type %q", h.Type)
		}
	case "":
		v.Add(path+".type", "required")
	default:
		v.Add(path+".type", "unknown header type %q", h.Type)
	}
}

func (a *ButtonAction) validate(v *validator, path string) {
	path += ".buttons"
	switch n := len(a.Buttons); {
	case n == 0:
		v.Add(path, "at least 1 button")
	case n > MaxReplyButtons:
		v.Add(path, "at most %d buttons, got %d", MaxReplyButtons, n)
	}
	titles := make(map[string]int, len(a.Buttons))
	for i, b := range a.Buttons {
		p := path + "[" + strconv.Itoa(i) + "]"
		if b.Type != "reply" {
			v.Add(p+".type", `must be "reply", got %q`, b.Type)
		}
		v.Required(p+".reply.id", b.Reply.ID)
		v.MaxLen(p+".reply.id", b.Reply.ID, MaxButtonIDLen)
		v.Required(p+".reply.title", b.Reply.Title)
		v.MaxLen(p+".reply.title", b.Reply.Title, MaxButtonTitleLen)
		if j, dup := titles[b.Reply.Title]; dup {
			v.Add(p+".reply.title", "must be unique within the message (same as buttons[%d])", j)
		} else {
			titles[b.Reply.Title] = i
		}
	}
}

func (a *ListAction) validate(v *validator, path string) {
	v.Required(path+".button", a.Button)
	v.MaxLen(path+".button", a.Button, MaxListButtonLen)
	sp := path + ".sections"
	switch n := len(a.Sections); {
	case n == 0:
		v.Add(sp, "at least 1 section")
	case n > MaxSections:
		v.Add(sp, "at most %d sections, got %d", MaxSections, n)
	}
	rows := 0
	for i, s := range a.Sections {
		p := sp + "[" + strconv.Itoa(i) + "]"
		if len(a.Sections) > 1 && s.Title == "" {
			v.Add(p+".title", "required when there is more than one section")
		}
		if len(s.Rows) == 0 {
			v.Add(p+".rows", "at least 1 row")
		}
		rows += len(s.Rows)
		for j, r := range s.Rows {
			rp := p + ".rows[" + strconv.Itoa(j) + "]"
			v.Required(rp+".id", r.ID)
			v.MaxLen(rp+".id", r.ID, MaxRowIDLen)
			v.Required(rp+".title", r.Title)
			v.MaxLen(rp+".title", r.Title, MaxRowTitleLen)
			v.MaxLen(rp+".description", r.Description, MaxRowDescriptionLen)
		}
	}
	if rows > MaxRows {
		v.Add(sp, "at most %d rows across all sections, got %d", MaxRows, rows)
	}
}

func (a *FlowAction) validate(v *validator, path string) {
	v.Required(path+".flowID", a.FlowID)
	v.Required(path+".flowCTA", a.FlowCTA)
	v.MaxLen(path+".flowCTA", a.FlowCTA, MaxFlowCTALen)
	switch a.FlowMode {
	case "", "draft", "published":
	default:
		v.Add(path+".flowMode", `must be "draft" or "published", got %q`, a.FlowMode)
	}
	switch a.FlowAction {
	case "", "navigate", "data_exchange":
	default:
		v.Add(path+".flowAction", `must be "navigate" or "data_exchange", got %q`, a.FlowAction)
	}
	if p := a.FlowActionPayload; p != nil && p.Data != nil && len(p.Data) == 0 {
		v.Add(path+".flowActionPayload.data", "must not be an empty object")
	}
}
