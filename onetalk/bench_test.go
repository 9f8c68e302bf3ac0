package onetalk

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/internal/benchx"
	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/tenant"
)

// The two benchmarks below run the same request through the Handler and
// through the least a hand-written handler must do (read the body, compare
// the secret, json.Unmarshal into the same structs, answer 200), so their
// ratio is measured in one run:
//
//	go test ./onetalk -run '^$' -bench 'Handler|Floor' -benchmem -count 6

func BenchmarkHandler(b *testing.B) {
	body := golden.Read(b, "onetalk/external/inbound_request_composed_from_docHEAD_fragments.json")
	h, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{SecretHeader: {testSecret}})
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
	benchx.Run(b, floor, body, http.Header{SecretHeader: {testSecret}})
}

// BenchmarkModes delivers from 64 concurrent senders to a callback that
// takes 5 ms, in sync mode and with WithAsync(16, 1024), and reports
// messages processed per second (503s are redelivered, not counted). The
// messages go round 64 cases, since one case's messages run one at a time:
//
//	go test ./onetalk -run '^$' -bench Modes -benchtime 2000x -count 3
func BenchmarkModes(b *testing.B) {
	work := func(ctx context.Context, _ *InboundRequest) error {
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	}
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"sync", nil}, {"async-16x1024", []Option{WithAsync(16, 1024)}}} {
		b.Run(mode.name, func(b *testing.B) {
			var processed, refused atomic.Int64
			h, err := NewHandler(testSecret, func(ctx context.Context, r *InboundRequest) error {
				defer processed.Add(1)
				return work(ctx, r)
			}, mode.opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
			var sent atomic.Int64
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := []byte(fmt.Sprintf(`{"caseID":"case-%d","message":{"id":"m","type":"text","text":{"body":"hi"}}}`, sent.Add(1)%64))
					for {
						rec := httptest.NewRecorder()
						r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
						r.Header.Set(SecretHeader, testSecret)
						h.ServeHTTP(rec, r)
						if rec.Code == http.StatusOK {
							break
						}
						refused.Add(1)
						time.Sleep(time.Millisecond) // OneTalk redelivers later
					}
				}
			})
			if err := h.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(processed.Load())/time.Since(start).Seconds(), "msgs/s")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "503s/msg")
		})
	}
}

// The size sweep runs the Handler beside a minimal floor: an exact-size
// read, the same constant-time secret check, and json.Unmarshal into a
// small struct of the ids and the text, at 1 KiB, 16 KiB, 256 KiB and
// 900 KiB of text:
//
//	go test ./onetalk -run '^$' -bench 'Sweep' -benchmem -count 6
func sweepBody(size int) []byte {
	text := benchx.Text(size)
	b, _ := json.Marshal(map[string]any{
		"caseID": "C-1", "channelType": "whatsapp", "channelID": "2108211854", "channelName": "Support",
		"sender":  map[string]any{"phone": "6281234567890", "contactName": "Ada", "customerUserID": "user:6281234567890"},
		"message": map[string]any{"id": "wamid.HBgN", "type": "text", "timestamp": 1719934171955, "text": map[string]any{"body": text}},
	})
	return b
}

func BenchmarkSweepHandler(b *testing.B) {
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			h, err := NewHandler(testSecret, func(_ context.Context, r *InboundRequest) error {
				if r.Message.Body() == "" {
					return errors.New("no text")
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			benchx.Run(b, h, sweepBody(s.Size), http.Header{SecretHeader: {testSecret}})
		})
	}
}

func BenchmarkSweepMinimalFloor(b *testing.B) {
	secret := []byte(testSecret)
	for _, s := range benchx.Sizes {
		b.Run(s.Name, func(b *testing.B) {
			floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), secret) != 1 {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				data := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, data); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				var req struct {
					CaseID  string `json:"caseID"`
					Message struct {
						ID   string `json:"id"`
						Type string `json:"type"`
						Text struct {
							Body string `json:"body"`
						} `json:"text"`
					} `json:"message"`
				}
				if err := json.Unmarshal(data, &req); err != nil || req.Message.Text.Body == "" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			benchx.Run(b, floor, sweepBody(s.Size), http.Header{SecretHeader: {testSecret}})
		})
	}
}

// BenchmarkTenantHandler is BenchmarkHandler through NewTenantHandler: the
// tenant from a header, its credentials from a map (a bot's cache), 1,000
// tenants.
func BenchmarkTenantHandler(b *testing.B) {
	body := golden.Read(b, "onetalk/external/inbound_request_composed_from_docHEAD_fragments.json")
	creds := map[string]Credentials{}
	for i := range 1000 {
		creds[fmt.Sprintf("tenant-%04d", i)] = Credentials{Secret: fmt.Sprintf("%s-%04d", testSecret, i)}
	}
	h, err := NewTenantHandler(Tenants{
		Resolve: tenant.Header("X-Tenant"),
		Lookup: func(_ context.Context, id string) (Credentials, error) {
			c, ok := creds[id]
			if !ok {
				return Credentials{}, tenant.ErrUnknown
			}
			return c, nil
		},
	}, func(context.Context, *InboundRequest) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	benchx.Run(b, h, body, http.Header{SecretHeader: {testSecret + "-0421"}, "X-Tenant": {"tenant-0421"}})
}
