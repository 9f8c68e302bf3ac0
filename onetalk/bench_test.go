package onetalk

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

// The two benchmarks below run the same request through the Handler and
// through the least a hand-written handler must do (read the body, compare
// the secret, json.Unmarshal into the same structs, answer 200), so their
// ratio is measured in one run:
//
//	go test ./onetalk -run '^$' -bench 'Handler|Floor' -benchmem -count 6

func BenchmarkHandler(b *testing.B) {
	body := golden.Read(b, "onetalk/external/inbound_request_composed_from_docHEAD_fragments.json")
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{SecretHeader: {testSecret}})
}

func BenchmarkHandwrittenFloor(b *testing.B) {
	body := golden.Read(b, "onetalk/external/inbound_request_composed_from_docHEAD_fragments.json")
	secret := []byte(testSecret)
	fn := func(context.Context, *InboundRequest) error { return nil }
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), secret) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var req InboundRequest
		if err := json.Unmarshal(data, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		req.Raw = data
		if err := fn(r.Context(), &req); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	benchx.Run(b, floor, body, http.Header{SecretHeader: {testSecret}})
}
