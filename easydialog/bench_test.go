package easydialog

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	h, err := NewHandler(key, benchReply, WithMaxAge(-1)) // the vector was signed in 2022
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

// The size sweep runs the Handler beside a minimal floor (an exact-size
// read, the same HMAC-SHA512 check, json.Unmarshal into a small struct of
// the ids and the text, the same empty reply) at 1, 16, 256 and 900 KiB
// of text:
//
//	go test ./easydialog -run '^$' -bench 'Sweep' -benchmem -count 6
func sweepBody(size int) []byte {
	text := benchx.Text(size)
	b, _ := json.Marshal(map[string]any{
		"serviceUuid": "f3b5c1de-0000-4000-8000-000000000001", "dialogUuid": "d6a1e2f3-0000-4000-8000-000000000002", "channel": "viber",
		"message": map[string]any{"from": "u1", "to": []string{"+41790000000"}, "providerMsgID": 5645395498720001234,
			"allowedChannels": []string{"viber"}, "custom": []any{},
			"timestamp": map[string]any{"date": "2022-06-09 12:26:15.904000", "timezone_type": 3, "timezone": "Europe/Zurich"},
			"body":      map[string]any{"textMessage": map[string]any{"content": text}}},
		"contact": map[string]any{"uuid": "c1", "first_name": "Ada", "opt_status": "in"},
	})
	return b
}

const sweepKey = "sweep-signature-key"

func BenchmarkSweepHandler(b *testing.B) {
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			h, err := NewHandler(sweepKey, func(_ context.Context, r *Request) (*Response, error) {
				if r.Message.Text() == "" {
					return nil, errors.New("no text")
				}
				return nil, nil
			}, WithMaxBodyBytes(2<<20), WithMaxAge(-1)) // the sweep's bodies carry a fixed timestamp
			if err != nil {
				b.Fatal(err)
			}
			body := sweepBody(s.Size)
			benchx.Run(b, h, body, http.Header{SignatureHeader: {Sign(body, sweepKey)}})
		})
	}
}

func BenchmarkSweepMinimalFloor(b *testing.B) {
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				data := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, data); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				mac := hmac.New(sha512.New, []byte(sweepKey))
				mac.Write(data)
				got, _ := base64.StdEncoding.DecodeString(r.Header.Get(SignatureHeader))
				if !hmac.Equal(got, mac.Sum(nil)) {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var req struct {
					DialogUUID string `json:"dialogUuid"`
					Message    struct {
						From string `json:"from"`
						Body struct {
							Text struct {
								Content string `json:"content"`
							} `json:"textMessage"`
						} `json:"body"`
					} `json:"message"`
				}
				if err := json.Unmarshal(data, &req); err != nil || req.Message.Body.Text.Content == "" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"messages":[]}`))
			})
			body := sweepBody(s.Size)
			benchx.Run(b, floor, body, http.Header{SignatureHeader: {Sign(body, sweepKey)}})
		})
	}
}
