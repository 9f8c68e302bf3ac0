// Package relay is the heart of examples/ultimate-relay, kept apart from its
// main package so examples/quickstart can run it against the fake Ultimate:
// a web chat posts visitor messages to a small JSON API, the relay forwards
// them to Ultimate's virtual agent, and keeps the agent's answers (which
// arrive on the chat webhook) for the web chat to poll.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/botwire/botwire/ultimate"
)

// Entry is one line of a conversation as the web chat shows it.
type Entry struct {
	From    string   `json:"from"` // "visitor", "bot" or "system"
	Text    string   `json:"text,omitempty"`
	Buttons []string `json:"buttons,omitempty"`
	Cards   []Card   `json:"cards,omitempty"`
}

// Card is a carousel card with the texts of its reply buttons.
type Card struct {
	Title   string   `json:"title"`
	Buttons []string `json:"buttons,omitempty"`
}

// Relay connects web chat conversations to the virtual agent.
type Relay struct {
	Client *ultimate.Client
	// TeamOnline answers Ultimate's isTeamOnline question.
	TeamOnline func(teamID string) bool
	// OrderStatus runs the bot's getOrderStatus action.
	OrderStatus func(orderID string) string

	mu    sync.Mutex
	convs map[string][]Entry
}

func (r *Relay) add(id string, e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.convs == nil {
		r.convs = map[string][]Entry{}
	}
	r.convs[id] = append(r.convs[id], e)
}

// Transcript returns conversation id's entries from index after on.
func (r *Relay) Transcript(id string, after int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.convs[id]
	if after < 0 || after > len(c) {
		after = len(c)
	}
	return append([]Entry(nil), c[after:]...)
}

// Callbacks are the chat webhook's callbacks.
func (r *Relay) Callbacks() ultimate.ChatCallbacks {
	return ultimate.ChatCallbacks{
		OnMessage: func(_ context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
			e := Entry{From: "bot", Text: m.Text}
			for _, b := range m.Buttons {
				if b.Type == ultimate.ButtonReply {
					e.Buttons = append(e.Buttons, b.Text)
				}
			}
			for _, c := range m.CarouselCards {
				card := Card{Title: c.Title}
				for _, b := range c.Buttons {
					if b.Type == ultimate.ButtonReply {
						card.Buttons = append(card.Buttons, b.Text)
					}
				}
				e.Cards = append(e.Cards, card)
			}
			r.add(m.PlatformConversationID, e)
			return nil
		},
		OnEscalate: func(_ context.Context, _ *ultimate.ChatEvent, x *ultimate.Escalation) error {
			r.add(x.PlatformConversationID, Entry{From: "system", Text: "handed over to a human (" + x.EscalateTo + ")"})
			return nil
		},
		OnTeamOnline: func(_ context.Context, _ *ultimate.ChatEvent, q *ultimate.TeamOnlineQuery) (bool, error) {
			return r.TeamOnline != nil && r.TeamOnline(q.TeamID), nil
		},
	}
}

// Action runs the bot's actions.
func (r *Relay) Action(_ context.Context, req *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
	switch req.Name {
	case "getOrderStatus":
		status := "not found"
		if r.OrderStatus != nil {
			status = r.OrderStatus(req.String("orderId"))
		}
		return []ultimate.ActionResult{{Key: "status", Value: status}}, nil
	}
	return nil, ultimate.WithStatus(http.StatusNotFound, errors.New("unknown action "+req.Name))
}

// visitorEvent is the web chat's request body.
type visitorEvent struct {
	ConversationID string `json:"conversationId"`
	Text           string `json:"text"`
	CardIndex      *int   `json:"cardIndex,omitempty"`
}

// Start starts a conversation, as the web chat's POST /chat/start does.
func (r *Relay) Start(ctx context.Context, id string) error {
	return r.Client.StartSession(ctx, id)
}

// Say forwards what the visitor typed or clicked (cardIndex for a carousel
// card's button, else nil), as the web chat's POST /chat/send does.
func (r *Relay) Say(ctx context.Context, id, text string, cardIndex *int) error {
	r.add(id, Entry{From: "visitor", Text: text})
	if cardIndex != nil {
		return r.Client.SelectCard(ctx, id, text, *cardIndex)
	}
	return r.Client.SendText(ctx, id, text)
}

// ChatAPI is the web chat's JSON API: POST /chat/start and POST /chat/send
// with {"conversationId", "text", "cardIndex"}, and
// GET /chat/messages?conversationId=...&after=N.
func (r *Relay) ChatAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /chat/start", func(w http.ResponseWriter, req *http.Request) {
		var ev visitorEvent
		if json.NewDecoder(http.MaxBytesReader(w, req.Body, 64<<10)).Decode(&ev) != nil || ev.ConversationID == "" {
			http.Error(w, "want {\"conversationId\": ...}", http.StatusBadRequest)
			return
		}
		reply(w, r.Start(req.Context(), ev.ConversationID))
	})
	mux.HandleFunc("POST /chat/send", func(w http.ResponseWriter, req *http.Request) {
		var ev visitorEvent
		if json.NewDecoder(http.MaxBytesReader(w, req.Body, 64<<10)).Decode(&ev) != nil || ev.ConversationID == "" || strings.TrimSpace(ev.Text) == "" {
			http.Error(w, "want {\"conversationId\": ..., \"text\": ...}", http.StatusBadRequest)
			return
		}
		reply(w, r.Say(req.Context(), ev.ConversationID, ev.Text, ev.CardIndex))
	})
	mux.HandleFunc("GET /chat/messages", func(w http.ResponseWriter, req *http.Request) {
		after, _ := strconv.Atoi(req.URL.Query().Get("after"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Transcript(req.URL.Query().Get("conversationId"), after))
	})
	return mux
}

func reply(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, "the virtual agent is unavailable", http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
