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
