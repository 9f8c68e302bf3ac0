package userlike

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
	for _, name := range golden.Glob(f, "userlike/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	f.Add([]byte(`[{"info":{"cid":"a"},"packet":{"name":"click","payload":{"value":{"id":1}}}}]`))
	f.Add([]byte(`{"info":{"cid":"a","context":[1]},"packet":{"name":"start","payload":null}}`))
}

// FuzzParseEvents checks that no input panics, and that the accessors of
// whatever parses do not panic either.
func FuzzParseEvents(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := ParseEvents(data)
		if err != nil {
			return
		}
		for _, e := range events {
			_ = e.Text() + e.Channel()
			_, _ = e.Start()
			_, _ = e.Click()
			_, _ = e.Media()
			_, _ = e.Location()
			var v map[string]any
			_ = e.DecodeContext(&v)
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("parsed event does not re-encode: %v", err)
			}
		}
	})
}

// FuzzHandler checks the handler only answers with statuses of its table
// and that a 200 body is empty or a list of events.
func FuzzHandler(f *testing.F) {
	seed(f)
	h, err := NewHandler(func(_ context.Context, e *Event, r *Reply) error {
		var state map[string]any
		_ = e.DecodeContext(&state)
		if txt := e.Text(); txt != "" {
			r.Add(Message("echo: " + txt))
		}
		return nil
	}, WithWebhookHeader(hookHeader, hookToken), WithLogger(testLogger(nil)), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hook(string(data), hookToken))
		switch rec.Code {
		case http.StatusOK:
			if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
				var out []OutboundEvent
				if err := json.Unmarshal(b, &out); err != nil {
					t.Fatalf("200 with a body that is not events: %q", b)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
			// 500: a message over 5,000 characters echoed back is invalid.
		default:
			t.Fatalf("status %d for %q", rec.Code, data)
		}
	})
}
