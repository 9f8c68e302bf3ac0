package userlike

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/botwire/botwire/internal/benchx"
	"github.com/botwire/botwire/internal/golden"
)

// BenchmarkHandler and BenchmarkHandwrittenFloor run the same webhook event
// through the Handler and through the least a hand-written webhook must do
// (read the body, compare the header, json.Unmarshal into the same structs,
// build the same reply, marshal and write it), so their ratio comes from one
// run:
//
//	go test ./userlike -run '^$' -bench 'Handler|Floor' -benchmem -count 6

func benchCallback(_ context.Context, e *Event, r *Reply) error {
	r.Add(Message("You said: " + e.Text()))
	return nil
}

func BenchmarkHandler(b *testing.B) {
	body := golden.Read(b, "userlike/external/inbound_message_aliz-ai_hello.json")
	h, err := NewHandler(benchCallback, WithWebhookHeader(hookHeader, hookToken))
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{hookHeader: {hookToken}})
}

func BenchmarkHandwrittenFloor(b *testing.B) {
	body := golden.Read(b, "userlike/external/inbound_message_aliz-ai_hello.json")
	token := []byte(hookToken)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(hookHeader)), token) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var e Event
		if err := json.Unmarshal(data, &e); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		e.Raw = data
		reply := NewReply(e.Info.CID)
		if err := benchCallback(r.Context(), &e, reply); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		out, err := json.Marshal(reply.Events())
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	})
	benchx.Run(b, floor, body, http.Header{hookHeader: {hookToken}})
}

// The size sweep runs the Handler beside a minimal floor (an exact-size
// read, the same constant-time header check, json.Unmarshal into a small
// struct of the cid, the event name and the text, the same empty answer)
// at 1, 16, 256 and 900 KiB of text:
//
//	go test ./userlike -run '^$' -bench 'Sweep' -benchmem -count 6
func sweepBody(size int) []byte {
	text := benchx.Text(size)
	b, _ := json.Marshal(map[string]any{
		"info": map[string]any{"cid": "chatbot::258:a56785fb6fb84edd890905913b0c0821", "approach_mode": "normal",
			"conversation": map[string]any{"contact_channel": map[string]any{"state": "valid", "type": "web"}}},
		"packet": map[string]any{"name": "message", "payload": map[string]any{"body": text}},
	})
	return b
}

func BenchmarkSweepHandler(b *testing.B) {
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			h, err := NewHandler(func(_ context.Context, e *Event, _ *Reply) error {
				if e.Text() == "" {
					return errors.New("no text")
				}
				return nil
			}, WithWebhookHeader(hookHeader, hookToken))
			if err != nil {
				b.Fatal(err)
			}
			benchx.Run(b, h, sweepBody(s.Size), http.Header{hookHeader: {hookToken}})
		})
	}
}

func BenchmarkSweepMinimalFloor(b *testing.B) {
	token := []byte(hookToken)
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if subtle.ConstantTimeCompare([]byte(r.Header.Get(hookHeader)), token) != 1 {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				data := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, data); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				var e struct {
					Info struct {
						CID string `json:"cid"`
					} `json:"info"`
					Packet struct {
						Name    string `json:"name"`
						Payload struct {
							Body string `json:"body"`
						} `json:"payload"`
					} `json:"packet"`
				}
				if err := json.Unmarshal(data, &e); err != nil || e.Packet.Payload.Body == "" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			benchx.Run(b, floor, sweepBody(s.Size), http.Header{hookHeader: {hookToken}})
		})
	}
}
