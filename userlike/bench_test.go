package userlike

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
