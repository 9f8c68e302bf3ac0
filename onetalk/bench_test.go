package onetalk

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

// The two benchmarks below run the same request through the Handler and
// through the least a hand-written handler must do (read the body, compare
// the secret, json.Unmarshal into the same structs, answer 200), so their
// ratio is measured in one run:
//
//	go test ./onetalk -run '^$' -bench 'Handler|Floor' -benchmem -count 6

type benchBody struct{ *bytes.Reader }

func (benchBody) Close() error { return nil }

func benchRequest(b *testing.B, body []byte) (*http.Request, *benchBody) {
	r := httptest.NewRequest(http.MethodPost, "/onetalk", nil)
	r.Header.Set(SecretHeader, testSecret)
	r.ContentLength = int64(len(body))
	rb := &benchBody{bytes.NewReader(body)}
	r.Body = rb
	return r, rb
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkHandler(b *testing.B) {
	body := golden.Read(b, "onetalk/external/inbound_request_composed_from_docHEAD_fragments.json")
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	r, rb := benchRequest(b, body)
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body)
		h.ServeHTTP(w, r)
	}
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
	r, rb := benchRequest(b, body)
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body)
		floor.ServeHTTP(w, r)
	}
}
