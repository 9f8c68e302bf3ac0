package ultimate

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/botwire/botwire/internal/benchx"
	"github.com/botwire/botwire/internal/golden"
)

// BenchmarkChatHandler and BenchmarkHandwrittenFloor run the same
// sendMessage event through the ChatHandler and through the least a
// hand-written webhook must do (read the body, compare the header,
// json.Unmarshal into the same structs, answer 200), so their ratio comes
// from one run:
//
//	go test ./ultimate -run '^$' -bench 'ChatHandler|Floor' -benchmem -count 6

func benchOnMessage(_ context.Context, _ *ChatEvent, m *Message) error {
	if m.PlatformConversationID == "" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

const benchHeader, benchToken = "X-Ultimate-Token", "bench-token-0123456789"

func BenchmarkChatHandler(b *testing.B) {
	body := golden.Read(b, "ultimate/doc/webhook_sendMessage_carousel.json")
	h, err := NewChatHandler(ChatCallbacks{OnMessage: benchOnMessage}, WithWebhookHeader(benchHeader, benchToken))
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{benchHeader: {benchToken}})
}

func BenchmarkHandwrittenFloor(b *testing.B) {
	body := golden.Read(b, "ultimate/doc/webhook_sendMessage_carousel.json")
	token := []byte(benchToken)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(benchHeader)), token) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var e struct {
			BotID   string  `json:"botId"`
			Channel string  `json:"channel"`
			Data    Message `json:"data"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if e.Data.EventType != EventSendMessage {
			w.WriteHeader(http.StatusOK)
			return
		}
		if err := benchOnMessage(r.Context(), nil, &e.Data); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	benchx.Run(b, floor, body, http.Header{benchHeader: {benchToken}})
}

// The size sweep runs the ChatHandler beside a minimal floor (an exact-size
// read, the same constant-time header check, json.Unmarshal into a small
// struct of the ids and the text, 200) at 1, 16, 256 and 900 KiB of text:
//
//	go test ./ultimate -run '^$' -bench 'Sweep' -benchmem -count 6
func sweepBody(size int) []byte {
	text := benchx.Text(size)
	b, _ := json.Marshal(map[string]any{"botId": "618a30beee4e8e87d2f94015", "channel": "chat", "data": map[string]any{
		"eventType": "sendMessage", "platformConversationId": "session1", "type": "text",
		"replyId": "618a30be1c2ffe001ab1078f", "buttons": []any{}, "text": text, "carouselCards": []any{}}})
	return b
}

func BenchmarkSweepHandler(b *testing.B) {
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			h, err := NewChatHandler(ChatCallbacks{OnMessage: func(_ context.Context, _ *ChatEvent, m *Message) error {
				if m.Text == "" {
					return io.ErrUnexpectedEOF
				}
				return nil
			}}, WithWebhookHeader(benchHeader, benchToken))
			if err != nil {
				b.Fatal(err)
			}
			benchx.Run(b, h, sweepBody(s.Size), http.Header{benchHeader: {benchToken}})
		})
	}
}

func BenchmarkSweepMinimalFloor(b *testing.B) {
	token := []byte(benchToken)
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if subtle.ConstantTimeCompare([]byte(r.Header.Get(benchHeader)), token) != 1 {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				data := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, data); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				var e struct {
					BotID string `json:"botId"`
					Data  struct {
						EventType              string `json:"eventType"`
						PlatformConversationID string `json:"platformConversationId"`
						Text                   string `json:"text"`
					} `json:"data"`
				}
				if err := json.Unmarshal(data, &e); err != nil || e.Data.Text == "" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			benchx.Run(b, floor, sweepBody(s.Size), http.Header{benchHeader: {benchToken}})
		})
	}
}
