package easydialog

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/botwire/botwire/internal/benchx"
)

// BenchmarkHandler and BenchmarkHandwrittenFloor run the same signed request
// through the Handler and through the least a hand-written webhook must do
// (read the body, HMAC-SHA512 it, compare with the header, json.Unmarshal
// into the same structs, marshal and write the same reply), so their ratio
// comes from one run:
//
//	go test ./easydialog -run '^$' -bench 'Handler|Floor' -benchmem -count 6

func benchReply(_ context.Context, r *Request) (*Response, error) {
	return Reply(NewTextMessage("Hello " + r.Contact.Name())), nil
}

func runBench(b *testing.B, h http.Handler) {
	body, key, _ := vector(b)
	benchx.Run(b, h, body, http.Header{SignatureHeader: {Sign(body, key)}})
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
