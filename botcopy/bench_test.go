package botcopy

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

// BenchmarkHandler and BenchmarkHandwrittenFloor run the same step-two call
// through the Handler and through the least a hand-written webhook must do
// (read the body, compare the token, json.Unmarshal into the same structs,
// decide, write the decision), so their ratio comes from one run:
//
//	go test ./botcopy -run '^$' -bench 'Handler|Floor' -benchmem -count 6

func benchDecide(_ context.Context, r *HandoverRequest) (Decision, error) {
	if r.Text() == "" {
		return Continue(), nil
	}
	return PauseFor(10), nil
}

func BenchmarkHandler(b *testing.B) {
	body := golden.Read(b, "botcopy/doc/webhook_step_two.json")
	h, err := NewHandler(accessToken, benchDecide)
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{"Authorization": {accessToken}})
}

func BenchmarkHandwrittenFloor(b *testing.B) {
	body := golden.Read(b, "botcopy/doc/webhook_step_two.json")
	token := []byte(accessToken)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), token) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req HandoverRequest
		if err := json.Unmarshal(data, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		req.Raw = data
		d, err := benchDecide(r.Context(), &req)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		out, _ := json.Marshal(d)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	})
	benchx.Run(b, floor, body, http.Header{"Authorization": {accessToken}})
}
