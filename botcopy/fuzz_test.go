package botcopy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func seed(f *testing.F) {
	for _, name := range golden.Glob(f, "botcopy/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	f.Add([]byte(`{"messageHistory":[{"payload":{"queryParameters":"x","text":7}}],"dialogflowResponse":[1]}`))
}

// FuzzParseRequest checks that no input panics, the history and
// Dialogflow readers included.
func FuzzParseRequest(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			return
		}
		_ = r.Kind()
		_ = r.Text()
		_, _ = r.Dialogflow()
		_ = FormatTranscript(Transcript(r.MessageHistory))
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("parsed request does not re-encode: %v", err)
		}
	})
}

// FuzzHandler checks the handler answers only with statuses of its table,
// and a decision or {} on 200.
func FuzzHandler(f *testing.F) {
	seed(f)
	h, err := NewHandler(accessToken, func(_ context.Context, r *HandoverRequest) (Decision, error) {
		_ = FormatTranscript(Transcript(r.MessageHistory))
		return PauseFor(1), nil
	}, WithLogger(testLogger(nil)), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hook(string(data), accessToken))
		switch rec.Code {
		case http.StatusOK:
			if !strings.HasPrefix(rec.Body.String(), "{") {
				t.Fatalf("200 without a JSON object: %q", rec.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, data)
		}
		// Without a header the legacy body token decides.
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, hook(string(data), ""))
		if rec.Code == http.StatusOK && !strings.Contains(string(data), accessToken) {
			t.Fatalf("accepted without a token: %q", data)
		}
	})
}
