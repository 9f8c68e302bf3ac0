package onetalk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func seedFixtures(f *testing.F) {
	for _, name := range golden.Glob(f, "onetalk/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	f.Add([]byte(`{"caseID":"C","message":{"type":"video","image":{"url":"u"},"video":null}}`))
	f.Add([]byte(`{"caseID":"C","message":{"type":"text","timestamp":"x"}}`))
	f.Add([]byte(`null`))
}

// FuzzParseInbound checks that no input panics, and that whatever parses
// re-encodes to JSON that parses again to the same case.
func FuzzParseInbound(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseInbound(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("parsed input does not re-encode: %v", err)
		}
		again, err := ParseInbound(b)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v\n%s", err, b)
		}
		if again.CaseID != req.CaseID || again.Message.Type != req.Message.Type {
			t.Fatalf("round trip changed the request: %q/%q -> %q/%q",
				req.CaseID, req.Message.Type, again.CaseID, again.Message.Type)
		}
	})
}

// FuzzHandler checks that the handler never panics and only answers with
// the statuses of its behaviour table.
func FuzzHandler(f *testing.F) {
	seedFixtures(f)
	h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
		_ = r.Message.Body() + r.Message.ReplyID()
		return nil
	}, WithLogger(quietLogger(nil)), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, post(string(data), testSecret))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, data)
		}
		if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("error answer without a reason: %q", rec.Body)
		}
	})
}
