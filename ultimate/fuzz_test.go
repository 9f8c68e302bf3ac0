package ultimate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

func seed(f *testing.F) {
	for _, name := range golden.Glob(f, "ultimate/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	f.Add([]byte(`{"botId":"b","data":{"eventType":"sendMessage","buttons":"x"}}`))
}

// FuzzParseChatEvent checks that no input panics, accessors included.
func FuzzParseChatEvent(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseChatEvent(data)
		if err == nil {
			_, _ = e.Message()
			_, _ = e.Escalation()
			_, _ = e.TeamOnlineQuery()
			_, _ = e.WidgetEvent()
		}
		if a, err := ParseActionRequest(data); err == nil {
			for _, p := range a.Data {
				_ = p.String()
			}
		}
	})
}

// FuzzHandler checks both webhooks answer only with statuses of their
// tables.
func FuzzHandler(f *testing.F) {
	seed(f)
	chat, err := NewChatHandler(ChatCallbacks{
		OnMessage:    func(context.Context, *ChatEvent, *Message) error { return nil },
		OnEscalate:   func(context.Context, *ChatEvent, *Escalation) error { return nil },
		OnTeamOnline: func(context.Context, *ChatEvent, *TeamOnlineQuery) (bool, error) { return true, nil },
	}, WithoutAuthentication(), WithLogger(testLogger(nil)), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	actions, err := NewActionHandler(func(_ context.Context, r *ActionRequest) ([]ActionResult, error) {
		return []ActionResult{{Key: "k", Value: r.String("k")}}, nil
	}, WithoutAuthentication(), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range []http.Handler{chat, actions} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(data))))
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("%T answered %d for %q", h, rec.Code, data)
			}
		}
	})
}
