package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/onetalk/onetalktest"
)

const secret = "s3cr3t-example-Kd2"

// syncBuffer is the traces' writer: the batcher writes from its own
// goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The bot against the fake OneTalk: a message is answered through the
// queue, a delivery with a wrong secret is refused, /metrics shows both
// with their labels, and the printed spans of the message are one trace.
func TestMetricsAndTraces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fake := onetalktest.NewServer(onetalktest.Config{Secret: secret})
	defer fake.Close()
	var traces syncBuffer
	b, err := newBot(secret, fake.URL, &traces)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b)
	defer srv.Close()
	fake.SetBotURL(srv.URL + "/onetalk")

	d, err := fake.Deliver(ctx, onetalktest.Text("FBED34A1EF", "hello"))
	if err != nil || d.StatusCode != http.StatusOK {
		t.Fatalf("delivery: %v, %+v", err, d)
	}
	recs, err := fake.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0].Request.Messages[0].Text.Body; got != "You said: hello" {
		t.Fatalf("the bot answered %q", got)
	}
	wrong := onetalktest.NewServer(onetalktest.Config{Secret: "wr0ng", BotURL: srv.URL + "/onetalk"})
	defer wrong.Close()
	if d, err := wrong.Deliver(ctx, onetalktest.Text("FBED34A1EF", "hi")); err != nil || d.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %v, %+v", err, d)
	}

	want := []string{
		`botwire_webhook_deliveries_total{botwire_delivery_outcome="queued",botwire_endpoint="webhook",botwire_platform="onetalk"`,
		`botwire_webhook_deliveries_total{botwire_delivery_outcome="rejected",botwire_delivery_reason="unauthenticated",botwire_endpoint="webhook",botwire_platform="onetalk"`,
		`botwire_client_call_duration_seconds_count{botwire_operation="SendMessages",botwire_platform="onetalk"`,
		`messaging_process_duration_seconds_count{messaging_destination_name="onetalk.queue"`,
		`messaging_client_sent_messages_total{messaging_destination_name="onetalk.queue"`,
		`http_client_request_duration_seconds_count{http_request_method="POST",http_response_status_code="200"`,
		`botwire_queue_messages{botwire_queue_name="onetalk.queue",botwire_queue_state="pending"`,
		`botwire_queue_latency_seconds{botwire_queue_name="onetalk.queue"`,
	}
	// The consumer's call ends just after the fake got the reply.
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		metrics = scrape(t, srv.URL+"/metrics")
		if containsAll(metrics, want) || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(metrics, w) {
			t.Errorf("/metrics has no %s", w)
		}
	}
	if strings.Contains(metrics, secret) || strings.Contains(metrics, "wr0ng") {
		t.Error("/metrics shows a secret")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}

	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The message's spans, from the webhook to the reply, are one trace.
	traceOf := map[string]string{} // span name -> trace id, within the message's trace
	var queued string
	spans := decodeSpans(t, traces.String())
	for _, s := range spans {
		if s.Name == "process onetalk.queue" {
			queued = s.SpanContext.TraceID
		}
	}
	for _, s := range spans {
		if s.SpanContext.TraceID == queued {
			traceOf[s.Name] = s.SpanContext.TraceID
		}
	}
	for _, name := range []string{"process onetalk.webhook", "send onetalk.queue", "process onetalk.queue",
		"onetalk.SendMessages", "POST {oneTalkURL}"} {
		if _, ok := traceOf[name]; !ok {
			t.Errorf("no span %q in the message's trace; printed:\n%s", name, traces.String())
		}
	}
	if strings.Contains(traces.String(), secret) {
		t.Error("a printed span shows the secret")
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(body)
}

// span is what the test reads of a span stdouttrace printed.
type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
}

func decodeSpans(t *testing.T, out string) []span {
	t.Helper()
	var spans []span
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var s span
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			return spans
		} else if err != nil {
			t.Fatalf("traces: %v\n%s", err, out)
		}
		spans = append(spans, s)
	}
}
