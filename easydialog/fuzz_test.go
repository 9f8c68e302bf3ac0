package easydialog

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func seed(f *testing.F) {
	for _, name := range golden.Glob(f, "easydialog/doc/*.json") {
		f.Add(golden.Read(f, name))
	}
	f.Add(golden.Read(f, "easydialog/signed/request_php.json"))
	f.Add([]byte(`{"message":{"to":["a",{"number":"b"}],"providerMsgID":-1e400,"body":{"x\u0041":{}}}}`))
}

// FuzzParseRequest checks that no input panics and that what parses
// re-encodes to JSON that parses again to the same dialog and body.
func FuzzParseRequest(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("parsed request does not re-encode: %v", err)
		}
		again, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v\n%s", err, b)
		}
		if again.DialogUUID != req.DialogUUID || again.Message.Body.Known() != req.Message.Body.Known() ||
			again.Message.ProviderMsgID != req.Message.ProviderMsgID {
			t.Fatalf("round trip changed the request:\n%s\n%s", data, b)
		}
	})
}

// FuzzHandler signs every input, so the fuzzer reaches decoding, and checks
// the handler answers only with statuses of its table.
func FuzzHandler(f *testing.F) {
	seed(f)
	const key = "fuzz-key"
	h, err := NewHandler(key, func(_ context.Context, r *Request) (*Response, error) {
		return Reply(NewTextMessage("echo " + r.Message.Text())), nil
	}, WithLogger(logger(nil)), WithMaxBodyBytes(1<<16), WithMaxAge(-1)) // seeds carry old timestamps: reach the callback
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedPost(data, key))
		switch rec.Code {
		case http.StatusOK:
			var resp Response
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Messages == nil {
				t.Fatalf("200 with a body that is not a reply: %q", rec.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, data)
		}
		// An unsigned copy never reaches the callback.
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(data)))
		if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("unsigned request got %d", rec.Code)
		}
	})
}
