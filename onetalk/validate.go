package onetalk

import (
	"errors"

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
var ErrInvalidRequest = errors.New("onetalk: invalid request")

// FieldError is a request that breaks a documented rule: Field is the JSON
// path ("messages[0].whatsappba.interactive.buttonAction.buttons"), Problem
// says which rule. Validation errors join one *FieldError per problem.
type FieldError = check.FieldError

func newValidator() check.Collector { return check.New("onetalk", ErrInvalidRequest) }

// eventField names the field of each event type, and whether the event
// needs it. The doc marks every one "Optional" in the table, but a
// messages event without messages sends nothing, and an update without
// its fields updates nothing ("Only provided fields will be updated").
// handoverCase and closeCase are optional: every field inside them is
// "Optional" too, with a documented default (topicID "not set", no
// closing message).
var eventField = []struct {
	event    EventType
	field    string
	required bool
}{
	{EventMessages, "messages", true},
	{EventHandoverCase, "handoverCase", false},
	{EventCloseCase, "closeCase", false},
	{EventUpdateCase, "updateCase", true},
	{EventUpdateContact, "updateContact", true},
}

func (r *WebhookRequest) has(ev EventType) bool {
	switch ev {
	case EventMessages:
		return len(r.Messages) > 0
	case EventHandoverCase:
		return r.HandoverCase != nil
	case EventCloseCase:
		return r.CloseCase != nil
	case EventUpdateCase:
		return r.UpdateCase != nil
	case EventUpdateContact:
		return r.UpdateContact != nil
	}
	return false
}

// Validate checks r against the doc's rules before it is sent: a caseID, a
// known event type whose field is set where the event needs it (and no
// other field), and every limit of the messages. HandoverCase and
// CloseCase may be nil. The error joins one *FieldError per problem.
func (r *WebhookRequest) Validate() error {
	v := newValidator()
	v.Required("caseID", r.CaseID)
	known := false
	for _, ef := range eventField {
		known = known || ef.event == r.EventType
	}
	if !known {
		if r.EventType == "" {
			v.Add("eventType", "required")
		} else {
			v.Add("eventType", "unknown event type %q", r.EventType)
		}
		return v.Err()
	}
	for _, ef := range eventField {
		switch ok := r.has(ef.event); {
		case ef.event == r.EventType && !ok && ef.required:
			v.Add(ef.field, "required for eventType %q", r.EventType)
		case ef.event != r.EventType && ok:
			v.Add(ef.field, "not allowed with eventType %q", r.EventType)
		}
	}
	for i := range r.Messages {
		v.EnterIndex("messages", i)
		r.Messages[i].validate(&v)
		v.Leave()
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
	v.Enter("message")
	m.validate(&v)
	return v.Err()
}

func (m *OutboundMessage) validate(v *check.Collector) {
	var set bool
	switch m.Type {
	case TypeText:
		set = m.Text != nil
	case TypeDocument:
		set = m.Document != nil
	case TypeImage:
		set = m.Image != nil
	case TypeVideo:
		set = m.Video != nil
	case TypeWhatsAppBA:
		set = m.WhatsAppBA != nil
	case "":
		v.Add("type", "required")
		return
	default:
		v.Add("type", "unknown message type %q", m.Type)
		return
	}
	if !set {
		v.Add(m.Type, "required for type %q", m.Type)
		return
	}
	switch m.Type {
	case TypeText:
		v.Required("text.body", m.Text.Body)
	case TypeDocument:
		fileURL(v, "document.url", m.Document.URL)
	case TypeImage:
		fileURL(v, "image.url", m.Image.URL)
	case TypeVideo:
		fileURL(v, "video.url", m.Video.URL)
	case TypeWhatsAppBA:
		v.Enter("whatsappba")
		m.WhatsAppBA.validate(v)
		v.Leave()
	}
}

func (w *OutboundWABA) validate(v *check.Collector) {
	if w.Type != WABAInteractive {
		v.Add("type", "must be %q, got %q", WABAInteractive, w.Type)
	}
	in := w.Interactive
	if in == nil {
		v.Add("interactive", "required")
		return
	}
	v.Enter("interactive")
	defer v.Leave()
	if in.Body == nil || in.Body.Text == "" {
		v.Add("body.text", "required")
	}
	if h := in.Header; h != nil {
		v.Enter("header")
		h.validate(v)
		v.Leave()
	}
	switch in.Type {
	case InteractiveButton:
		if in.ButtonAction == nil {
			v.Add("buttonAction", "required for type %q", in.Type)
			return
		}
		v.Enter("buttonAction")
		in.ButtonAction.validate(v)
		v.Leave()
	case InteractiveList:
		if in.ListAction == nil {
			v.Add("listAction", "required for type %q", in.Type)
			return
		}
		v.Enter("listAction")
		in.ListAction.validate(v)
		v.Leave()
	case InteractiveFlow:
		if in.FlowAction == nil {
			v.Add("flowAction", "required for type %q", in.Type)
			return
		}
		v.Enter("flowAction")
		in.FlowAction.validate(v)
		v.Leave()
	case InteractiveRequestContactInfo:
	case "":
		v.Add("type", "required")
	default:
		v.Add("type", "unknown interactive type %q", in.Type)
	}
}

func (h *Header) validate(v *check.Collector) {
	switch h.Type {
	case TypeText:
		v.Required("text", h.Text)
	case TypeDocument:
		if h.Document == nil || h.Document.Link == "" {
			v.Add("document.link", "required for header type %q", h.Type)
		} else {
			fileURL(v, "document.link", h.Document.Link)
		}
	case TypeImage:
		if h.Image == nil || h.Image.Link == "" {
			v.Add("image.link", "required for header type %q", h.Type)
		} else {
			fileURL(v, "image.link", h.Image.Link)
		}
	case TypeVideo:
		if h.Video == nil || h.Video.Link == "" {
			v.Add("video.link", "required for header type %q", h.Type)
		} else {
			fileURL(v, "video.link", h.Video.Link)
		}
	case "":
		v.Add("type", "required")
	default:
		v.Add("type", "unknown header type %q", h.Type)
	}
}

func (a *ButtonAction) validate(v *check.Collector) {
	switch n := len(a.Buttons); {
	case n == 0:
		v.Add("buttons", "at least 1 button")
	case n > MaxReplyButtons:
		v.Add("buttons", "at most %d buttons, got %d", MaxReplyButtons, n)
	}
	for i, b := range a.Buttons {
		v.EnterIndex("buttons", i)
		if b.Type != "reply" {
			v.Add("type", `must be "reply", got %q`, b.Type)
		}
		v.Required("reply.id", b.Reply.ID)
		v.MaxLen("reply.id", b.Reply.ID, MaxButtonIDLen)
		v.Required("reply.title", b.Reply.Title)
		v.MaxLen("reply.title", b.Reply.Title, MaxButtonTitleLen)
		for j := range i {
			if a.Buttons[j].Reply.Title == b.Reply.Title {
				v.Add("reply.title", "must be unique within the message (same as buttons[%d])", j)
				break
			}
		}
		for j := range i {
			if a.Buttons[j].Reply.ID == b.Reply.ID && b.Reply.ID != "" {
				v.Add("reply.id", "must be unique within the message (same as buttons[%d])", j)
				break
			}
		}
		v.Leave()
	}
}

func (a *ListAction) validate(v *check.Collector) {
	v.Required("button", a.Button)
	v.MaxLen("button", a.Button, MaxListButtonLen)
	switch n := len(a.Sections); {
	case n == 0:
		v.Add("sections", "at least 1 section")
	case n > MaxSections:
		v.Add("sections", "at most %d sections, got %d", MaxSections, n)
	}
	rows := 0
	for i, s := range a.Sections {
		v.EnterIndex("sections", i)
		if len(a.Sections) > 1 && s.Title == "" {
			v.Add("title", "required when there is more than one section")
		}
		if len(s.Rows) == 0 {
			v.Add("rows", "at least 1 row")
		}
		rows += len(s.Rows)
		for j, r := range s.Rows {
			v.EnterIndex("rows", j)
			if si, sj, dup := a.rowWithID(r.ID, i, j); dup {
				v.Add("id", "must be unique across all sections (same as sections[%d].rows[%d])", si, sj)
			}
			v.Required("id", r.ID)
			v.MaxLen("id", r.ID, MaxRowIDLen)
			v.Required("title", r.Title)
			v.MaxLen("title", r.Title, MaxRowTitleLen)
			v.MaxLen("description", r.Description, MaxRowDescriptionLen)
			v.Leave()
		}
		v.Leave()
	}
	if rows > MaxRows {
		v.Add("sections", "at most %d rows across all sections, got %d", MaxRows, rows)
	}
}

// rowWithID finds an earlier row (before sections[si].rows[sj]) with id:
// "Unique identifier for the row", and rows count across all sections.
func (a *ListAction) rowWithID(id string, si, sj int) (int, int, bool) {
	if id == "" {
		return 0, 0, false
	}
	for i := 0; i <= si; i++ {
		for j, r := range a.Sections[i].Rows {
			if i == si && j >= sj {
				break
			}
			if r.ID == id {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func (a *FlowAction) validate(v *check.Collector) {
	v.Required("flowID", a.FlowID)
	v.Required("flowCTA", a.FlowCTA)
	v.MaxLen("flowCTA", a.FlowCTA, MaxFlowCTALen)
	v.NoEmoji("flowCTA", a.FlowCTA)
	switch a.FlowMode {
	case "", "draft", "published":
	default:
		v.Add("flowMode", `must be "draft" or "published", got %q`, a.FlowMode)
	}
	switch a.FlowAction {
	case "", "navigate", "data_exchange":
	default:
		v.Add("flowAction", `must be "navigate" or "data_exchange", got %q`, a.FlowAction)
	}
	if p := a.FlowActionPayload; p != nil && p.Data != nil && len(p.Data) == 0 {
		v.Add("flowActionPayload.data", "must not be an empty object")
	}
}

// fileURL checks a media or document URL: "The document's file URL", "The
// image or video's file URL" (for the header's link too), which OneTalk
// fetches, so an absolute http(s) URL as in every example ("https://...").
// A path, a bare file name or another scheme would reach OneTalk and fail
// there, after the customer's other messages went out.
func fileURL(v *check.Collector, field, value string) {
	v.Required(field, value)
	v.HTTPURL(field, value)
}
