package peers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/onetalk"
)

const secret = "peer-benchmark-secret-0123456789"

var sizes = []struct {
	name string
	size int
}{{"1.5KiB", 1536}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}}

func text(size int) string {
	return strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", size/56+1)[:size]
}

// fill pads a body template to size bytes by the length of its text.
func fill(size int, build func(text string) []byte) []byte {
	body := build("")
	return build(text(max(size-len(body), 1)))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run benchmarks serve on a POST of body with header, and reports the CPU
// time per operation.
func run(b *testing.B, body []byte, header http.Header, serve func(*http.Request) error) {
	b.Helper()
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		for k, v := range header {
			for _, x := range v {
				r.Header.Add(k, x)
			}
		}
		return r
	}
	if err := serve(req()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if err := serve(req()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// handler turns an http.Handler into serve, failing unless it answers 200.
func handler(h http.Handler) func(*http.Request) error {
	return func(r *http.Request) error {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			return fmt.Errorf("answered %d: %s", w.Code, w.Body)
		}
		return nil
	}
}

func BenchmarkOneTalk(b *testing.B) {
	h, err := onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
		if r.Message.Body() == "" {
			return fmt.Errorf("no text")
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			body := fill(s.size, func(t string) []byte {
				out, _ := json.Marshal(map[string]any{"caseID": "C-1", "channelType": "whatsapp",
					"sender":  map[string]any{"phone": "6281234567890", "contactName": "Ada"},
					"message": map[string]any{"id": "wamid.HBgN", "type": "text", "text": map[string]any{"body": t}}})
				return out
			})
			run(b, body, http.Header{"X-Secret-Key": {secret}}, handler(h))
		})
	}
}

func BenchmarkEasyDialog(b *testing.B) {
	h, err := easydialog.NewHandler(secret, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		if r.Message.Text() == "" {
			return nil, fmt.Errorf("no text")
		}
		return nil, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			body := fill(s.size, func(t string) []byte {
				out, _ := json.Marshal(map[string]any{"serviceUuid": "s", "dialogUuid": "d", "channel": "viber",
					"message": map[string]any{"from": "u1", "providerMsgID": 1, "body": map[string]any{"textMessage": map[string]any{"content": t}}},
					"contact": map[string]any{"uuid": "c1"}})
				return out
			})
			run(b, body, http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, secret)}}, handler(h))
		})
	}
}

func BenchmarkLINE(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			body := fill(s.size, func(t string) []byte {
				out, _ := json.Marshal(map[string]any{"destination": "Uxxxxxxxx", "events": []any{map[string]any{
					"type": "message", "mode": "active", "timestamp": 1719934171955, "webhookEventId": "01H",
					"replyToken": "r", "source": map[string]any{"type": "user", "userId": "U1"},
					"deliveryContext": map[string]any{"isRedelivery": false},
					"message":         map[string]any{"type": "text", "id": "1", "quoteToken": "q", "text": t}}}})
				return out
			})
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			run(b, body, http.Header{"X-Line-Signature": {sig}}, func(r *http.Request) error {
				cb, err := webhook.ParseRequest(secret, r)
				if err != nil {
					return err
				}
				if len(cb.Events) != 1 {
					return fmt.Errorf("%d events", len(cb.Events))
				}
				return nil
			})
		})
	}
}

func BenchmarkGitHub(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			body := fill(s.size, func(t string) []byte {
				out, _ := json.Marshal(map[string]any{"action": "created",
					"issue":      map[string]any{"number": 1, "title": "t"},
					"comment":    map[string]any{"id": 1, "body": t},
					"repository": map[string]any{"id": 1, "name": "r", "full_name": "o/r"},
					"sender":     map[string]any{"login": "ada", "id": 1}})
				return out
			})
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			header := http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"issue_comment"},
				"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
			run(b, body, header, func(r *http.Request) error {
				payload, err := github.ValidatePayload(r, []byte(secret))
				if err != nil {
					return err
				}
				ev, err := github.ParseWebHook(github.WebHookType(r), payload)
				if err != nil {
					return err
				}
				if c, ok := ev.(*github.IssueCommentEvent); !ok || c.GetComment().GetBody() == "" {
					return fmt.Errorf("not a comment: %T", ev)
				}
				return nil
			})
		})
	}
}
