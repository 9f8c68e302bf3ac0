package botcopy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// HistoryItem is one entry of the message history Botcopy sends with a
// trigger.
type HistoryItem struct {
	ID          string `json:"_id"`
	BotPlatform string `json:"botPlatform"` // "dialogflowES" or "dialogFlowCX" (sic)
	// Direction is "in" (customer to bot) or "out"; the doc marks a
	// customer's message to the live agent "out" too, so Kind does not rely
	// on it.
	Direction string          `json:"direction"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt string          `json:"createdAt"` // ISO 8601
}

// HistoryKind says what a history item is.
type HistoryKind string

// History item kinds.
const (
	HistoryCustomerToBot   HistoryKind = "customer_to_bot"   // a message sent to Dialogflow
	HistoryEventToBot      HistoryKind = "event_to_bot"      // an event sent to Dialogflow
	HistoryBotResponse     HistoryKind = "bot_response"      // Dialogflow's response
	HistoryAgentMessage    HistoryKind = "agent_message"     // from a live agent to the customer
	HistoryCustomerToAgent HistoryKind = "customer_to_agent" // from the customer to a live agent
	HistoryUnknown         HistoryKind = "unknown"
)

// historyPayload holds the fields of every payload variant. The doc nests
// "Message sent to Dialogflow" as payload.queryParameters.{query, lang,
// sessionId}, while the other variants have query, lang and sessionId
// beside queryParameters; both readings are taken.
type historyPayload struct {
	Text            json.RawMessage `json:"text"`
	Query           string          `json:"query"`
	QueryParameters json.RawMessage `json:"queryParameters"`
	Event           *struct {
		Name string          `json:"name"`
		Data json.RawMessage `json:"data"`
	} `json:"event"`
	QueryResult json.RawMessage `json:"queryResult"`
	ResponseID  string          `json:"responseId"`
}

type nestedQuery struct {
	Query          string          `json:"query"`
	Payload        json.RawMessage `json:"payload"`
	WebhookHeaders json.RawMessage `json:"webhookHeaders"`
}

func (h *HistoryItem) read() (historyPayload, nestedQuery) {
	var p historyPayload
	var n nestedQuery
	if t := bytes.TrimSpace(h.Payload); len(t) > 0 && t[0] == '{' {
		_ = json.Unmarshal(t, &p)
	}
	if t := bytes.TrimSpace(p.QueryParameters); len(t) > 0 && t[0] == '{' {
		_ = json.Unmarshal(t, &n)
	}
	return p, n
}

// Kind classifies the item by the shape of its payload.
func (h *HistoryItem) Kind() HistoryKind {
	kind, _ := h.classify()
	return kind
}

// Text returns the item's readable text: the message, the event name, or
// the bot's replies joined by newlines.
func (h *HistoryItem) Text() string {
	_, text := h.classify()
	return text
}

func (h *HistoryItem) classify() (HistoryKind, string) {
	p, n := h.read()
	switch {
	case p.Event != nil:
		return HistoryEventToBot, p.Event.Name
	case len(p.QueryResult) > 0 || p.ResponseID != "":
		text := ""
		if v, err := parseDialogflow(h.Payload); err == nil {
			text = strings.Join(v.Texts, "\n")
		}
		return HistoryBotResponse, text
	}
	var agent string
	if json.Unmarshal(p.Text, &agent) == nil && agent != "" {
		return HistoryAgentMessage, agent
	}
	query := p.Query
	if query == "" {
		query = n.Query
	}
	if query == "" {
		return HistoryUnknown, ""
	}
	// A customer's message to the live agent carries Botcopy's own query
	// parameters (payload, webhookHeaders) beside the query.
	if p.Query != "" && (n.Payload != nil || n.WebhookHeaders != nil) {
		return HistoryCustomerToAgent, query
	}
	return HistoryCustomerToBot, query
}

// Time parses CreatedAt.
func (h *HistoryItem) Time() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, h.CreatedAt)
}

// Line is one readable line of a transcript.
type Line struct {
	At      time.Time // zero when createdAt was unreadable
	Speaker string    // "Customer", "Bot", "Agent" or "Event"
	Text    string
	Kind    HistoryKind
}

// Transcript turns a message history into lines for the human agent,
// skipping items with nothing to read.
func Transcript(items []HistoryItem) []Line {
	var out []Line
	for i := range items {
		kind, text := items[i].classify()
		if strings.TrimSpace(text) == "" {
			continue
		}
		at, _ := items[i].Time()
		out = append(out, Line{At: at, Speaker: speaker(kind), Text: text, Kind: kind})
	}
	return out
}

// FormatTranscript writes lines as "15:04 Customer: text", one per line.
func FormatTranscript(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		if !l.At.IsZero() {
			b.WriteString(l.At.UTC().Format("15:04") + " ")
		}
		fmt.Fprintf(&b, "%s: %s\n", l.Speaker, strings.ReplaceAll(l.Text, "\n", " / "))
	}
	return b.String()
}

func speaker(k HistoryKind) string {
	switch k {
	case HistoryCustomerToBot, HistoryCustomerToAgent:
		return "Customer"
	case HistoryBotResponse:
		return "Bot"
	case HistoryAgentMessage:
		return "Agent"
	case HistoryEventToBot:
		return "Event"
	}
	return ""
}
