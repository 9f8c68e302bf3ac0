package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The client's per-call cost beside a raw http.Client.Do of the same bytes
// to the same loopback server, in one run:
//
//	go test ./internal/transport -run '^$' -bench 'PostJSON|RawDo' -benchmem -count 6
//
// BenchmarkCost (cost_test.go) measures every vendor client's send the
// same way, interleaved call by call, with and without an observer.
func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true,"message":""}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

var benchBody = []byte(`{"caseID":"C1","eventType":"messages","messages":[{"type":"text","text":{"body":"You said: hello"}}]}`)

func BenchmarkPostJSON(b *testing.B) {
	srv := benchServer(b)
	c := New(Config{Header: http.Header{"Secret-Key": {"s3cr3t-key"}}}, "ua/1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PostJSON(ctx, Request{URL: srv.URL, Body: benchBody}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawDo(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: defaultTransport}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(benchBody))
		req.Header.Set("Secret-Key", "s3cr3t-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}
