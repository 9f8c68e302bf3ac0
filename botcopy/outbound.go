package botcopy

import (
	"errors"
	"strconv"

	"github.com/botwire/botwire/internal/check"
)

// DefaultMinutesPaused is what Botcopy uses when a pause gives no minutes.
const DefaultMinutesPaused = 10

// Decision is the webhook's answer: pause the bot (the live chat goes on),
// or let it continue. Build one with Pause, Continue or EndLiveChat.
type Decision struct {
	Paused        bool `json:"paused"`
	MinutesPaused *int `json:"minutesPaused,omitempty"`
}

// PauseFor keeps the bot paused for minutes; each later push with a pause
// extends it. minutes <= 0 leaves the field out and Botcopy pauses for its
// default of 10.
func PauseFor(minutes int) Decision {
	if minutes <= 0 {
		return Decision{Paused: true}
	}
	return Decision{Paused: true, MinutesPaused: &minutes}
}

// Continue does not pause: the message goes to Dialogflow
// ({"paused": false}).
func Continue() Decision { return Decision{} }

// EndLiveChat ends the live chat ({"paused": false, "minutesPaused": 0}).
func EndLiveChat() Decision {
	zero := 0
	return Decision{MinutesPaused: &zero}
}

// String describes the decision.
func (d Decision) String() string {
	switch {
	case d.Paused && d.MinutesPaused != nil:
		return "pause " + strconv.Itoa(*d.MinutesPaused) + " min"
	case d.Paused:
		return "pause (default 10 min)"
	case d.MinutesPaused != nil && *d.MinutesPaused == 0:
		return "end live chat"
	}
	return "continue"
}

// Push event types.
const (
	PushMessage       = "message"
	PushChannelUpdate = "channel_update"
	// PushTyping shows the agent's typing indicator (Botcopy calls it
	// user_typing; it disappears after 10 s).
	PushTyping = "user_typing"
)

// Values of PushEvent.UnpauseChatEvent besides a Dialogflow event name.
const (
	UnpauseDefault = "default" // show "NAME has left the conversation..."
	UnpauseNone    = "none"    // resume silently
)

// PushEvent is a body for POST /webhooks/handover/push.
type PushEvent struct {
	EventType     string `json:"eventType"`
	UserID        string `json:"userId"`
	BotID         string `json:"botId"`
	Paused        bool   `json:"paused"`
	MinutesPaused int    `json:"minutesPaused,omitempty"`
	Text          string `json:"text,omitempty"`
	// AgentProfile names the agent in the pause banner.
	AgentProfile *AgentProfile `json:"agentProfile,omitempty"`
	// UnpauseChatEvent is UnpauseDefault, UnpauseNone or a Dialogflow event
	// name to fire when the bot resumes.
	UnpauseChatEvent string `json:"unpauseChatEvent,omitempty"`
}

// AgentProfile is the live agent shown to the user.
type AgentProfile struct {
	Name      string `json:"name,omitempty"`
	AvatarURL string `json:"avatarUrl,omitempty"`
}

// ErrInvalidPush is wrapped by every validation error.
var ErrInvalidPush = errors.New("botcopy: invalid push")

// FieldError is a push that breaks a rule: Field is the JSON field,
// Problem the rule.
type FieldError = check.FieldError

// Validate checks the push before it is sent: ids, a known event type, a
// text for a message, minutesPaused > 0 while paused ("to keep the
// conversation going make sure that paused is true and minutesPaused
// greater than 0"), and unpauseChatEvent only when resuming.
func (e *PushEvent) Validate() error {
	v := check.New("botcopy", ErrInvalidPush)
	v.Required("userId", e.UserID)
	v.Required("botId", e.BotID)
	switch e.EventType {
	case PushMessage:
		v.Required("text", e.Text)
		if !e.Paused {
			v.Add("paused", "must be true for a message")
		}
	case PushTyping:
		if !e.Paused {
			v.Add("paused", "must be true for a typing indicator")
		}
	case PushChannelUpdate:
	case "":
		v.Add("eventType", "required")
	default:
		v.Add("eventType", "unknown event type %q", e.EventType)
	}
	if e.Paused && e.MinutesPaused <= 0 {
		v.Add("minutesPaused", "must be greater than 0 while paused, got %d", e.MinutesPaused)
	}
	if e.Paused && e.UnpauseChatEvent != "" {
		v.Add("unpauseChatEvent", "only when resuming (paused false)")
	}
	return v.Err()
}
