// Package relay is the heart of examples/ultimate-relay, kept apart from its
// main package so examples/quickstart can run it against the fake Ultimate:
// a web chat posts visitor messages to a small JSON API, the relay forwards
// them to Ultimate's virtual agent, and keeps the agent's answers (which
// arrive on the chat webhook) for the web chat to poll.
package relay

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// What the relay keeps is bounded. POST /chat/send is public: an anonymous
// caller picks the conversation id and the text, so without bounds memory
// grew with whatever anyone sent, for ever (300 sends of 64 KiB under fresh
// ids held 18.8 MB). The caps make the worst case a fixed size:
// conversations × lines × text, 500 × 50 × 2 KiB = 50 MB of visitor text
// (real chats keep far less); past them the relay forgets the least
// recently active conversation and a conversation's oldest lines, which a
// web chat that polls has shown already.
//
// The caps bound memory, not abuse: a caller sending under fresh ids still
// pushes idle conversations out. A real deployment keys conversations by a
// session it issued (a signed cookie) rather than by an id the caller
// picks, and rate-limits the endpoint.
const (
	// DefaultMaxConversations is how many conversations the relay keeps
	// (Relay.MaxConversations).
	DefaultMaxConversations = 500
	// DefaultMaxEntries is how many lines it keeps per conversation
	// (Relay.MaxEntries).
	DefaultMaxEntries = 50
	// MaxTextBytes is the longest visitor text accepted: a chat message is
	// short, and Ultimate gets the same text.
	MaxTextBytes = 2 << 10
	// MaxIDBytes is the longest conversation id accepted (a UUID is 36).
	MaxIDBytes = 128
	// maxBodyBytes bounds the web chat's request body: room for the
	// longest id and text even if every byte comes \u-escaped (6 bytes).
	maxBodyBytes = 16 << 10
)

// Errors of Start and Say, before anything is kept or sent.
var (
	ErrTextTooLong = fmt.Errorf("text longer than %d bytes", MaxTextBytes)
	ErrBadID       = fmt.Errorf("conversation id empty or longer than %d bytes", MaxIDBytes)
)

// Relay connects web chat conversations to the virtual agent.
type Relay struct {
	Client *ultimate.Client
	// TeamOnline answers Ultimate's isTeamOnline question.
	TeamOnline func(teamID string) bool
	// OrderStatus runs the bot's getOrderStatus action.
	OrderStatus func(orderID string) string
	// MaxConversations and MaxEntries cap what the relay keeps (0:
	// DefaultMaxConversations, DefaultMaxEntries). Set them before use.
	MaxConversations, MaxEntries int

	mu     sync.Mutex
	convs  map[string]*conversation
	recent list.List // of *conversation, the most recently active first
}

// conversation is one conversation's newest lines; first is the index of
// entries[0] among all its lines, so indexes stay stable as old lines go.
type conversation struct {
	id      string
	entries []Entry
	first   int
	elem    *list.Element
}

func (r *Relay) add(id string, e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.convs == nil {
		r.convs = map[string]*conversation{}
	}
	c := r.convs[id]
	if c == nil {
		for len(r.convs) >= limit(r.MaxConversations, DefaultMaxConversations) {
			oldest := r.recent.Remove(r.recent.Back()).(*conversation)
			delete(r.convs, oldest.id)
		}
		c = &conversation{id: id}
		c.elem = r.recent.PushFront(c)
		r.convs[id] = c
	} else {
		r.recent.MoveToFront(c.elem)
	}
	if n := len(c.entries) - limit(r.MaxEntries, DefaultMaxEntries) + 1; n > 0 {
		// Shift in place, so the array never grows past the cap.
		k := copy(c.entries, c.entries[n:])
		clear(c.entries[k:])
		c.entries, c.first = c.entries[:k], c.first+n
	}
	c.entries = append(c.entries, e)
}

func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Transcript returns conversation id's entries from index after on. Lines
// count from the conversation's first; those dropped by the MaxEntries cap
// are gone, so an after before them starts at the oldest line kept.
func (r *Relay) Transcript(id string, after int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.convs[id]
	if c == nil {
		return nil
	}
	total := c.first + len(c.entries)
	if after < 0 || after > total {
		after = total
	}
	after = max(after, c.first)
	return append([]Entry(nil), c.entries[after-c.first:]...)
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
	if id == "" || len(id) > MaxIDBytes {
		return ErrBadID
	}
	return r.Client.StartSession(ctx, id)
}

// Say forwards what the visitor typed or clicked (cardIndex for a carousel
// card's button, else nil), as the web chat's POST /chat/send does. An id
// or a text over the limits (MaxIDBytes, MaxTextBytes) is refused before
// anything is kept or sent.
func (r *Relay) Say(ctx context.Context, id, text string, cardIndex *int) error {
	switch {
	case id == "" || len(id) > MaxIDBytes:
		return ErrBadID
	case len(text) > MaxTextBytes:
		return ErrTextTooLong
	}
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
		ev, ok := decode(w, req)
		if !ok {
			return
		}
		if ev.ConversationID == "" {
			http.Error(w, "want {\"conversationId\": ...}", http.StatusBadRequest)
			return
		}
		reply(w, r.Start(req.Context(), ev.ConversationID))
	})
	mux.HandleFunc("POST /chat/send", func(w http.ResponseWriter, req *http.Request) {
		ev, ok := decode(w, req)
		if !ok {
			return
		}
		if ev.ConversationID == "" || strings.TrimSpace(ev.Text) == "" {
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

// decode reads the web chat's body, at most maxBodyBytes; when it returns
// false it has answered 413 or 400.
func decode(w http.ResponseWriter, req *http.Request) (visitorEvent, bool) {
	var ev visitorEvent
	err := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxBodyBytes)).Decode(&ev)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("body longer than %d bytes", maxBodyBytes), http.StatusRequestEntityTooLarge)
		return ev, false
	case err != nil:
		http.Error(w, "want a JSON object", http.StatusBadRequest)
		return ev, false
	}
	return ev, true
}

func reply(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrTextTooLong):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	case errors.Is(err, ErrBadID):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, "the virtual agent is unavailable", http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
