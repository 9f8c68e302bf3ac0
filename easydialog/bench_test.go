package easydialog

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHandler and BenchmarkHandwrittenFloor run the same signed request
// through the Handler and through the least a hand-written webhook must do
// (read the body, HMAC-SHA512 it, compare with the header, json.Unmarshal
// into the same structs, marshal and write the same reply), so their ratio
// comes from one run:
//
//	go test ./easydialog -run '^$' -bench 'Handler|Floor' -benchmem -count 6

type benchBody struct{ *bytes.Reader }

func (benchBody) Close() error { return nil }

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchReply(_ context.Context, r *Request) (*Response, error) {
	return Reply(NewTextMessage("Hello " + r.Contact.Name())), nil
}

func runBench(b *testing.B, h http.Handler) {
	body, key, _ := vector(b)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set(SignatureHeader, Sign(body, key))
	r.ContentLength = int64(len(body))
	rb := &benchBody{bytes.NewReader(body)}
	r.Body = rb
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkHandler(b *testing.B) {
	_, key, _ := vector(b)
	h, err := NewHandler(key, benchReply)
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, h)
}

func BenchmarkHandwrittenFloor(b *testing.B) {
	_, key, _ := vector(b)
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
		got, err := base64.StdEncoding.DecodeString(r.Header.Get(SignatureHeader))
		m := hmac.New(sha512.New, []byte(key))
		m.Write(data)
		if err != nil || !hmac.Equal(got, m.Sum(nil)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req Request
		if err := json.Unmarshal(data, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		req.Raw = data
		resp, err := benchReply(r.Context(), &req)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		out, err := json.Marshal(resp)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	})
	runBench(b, floor)
}
