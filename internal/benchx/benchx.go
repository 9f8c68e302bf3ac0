// Package benchx runs the handler benchmarks of every vendor package the
// same way: one request whose body is rewound before each call, and a
// response writer that discards, so the benchmark measures the handler and
// not httptest.
package benchx

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type body struct{ *bytes.Reader }

func (body) Close() error { return nil }

type discard struct {
	h      http.Header
	status int
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) Write(p []byte) (int, error) { return len(p), nil }
func (w *discard) WriteHeader(code int)        { w.status = code }

// Run benchmarks h serving a POST of payload with header, reporting
// allocations and throughput. It fails unless h answers 200, so a
// benchmark cannot quietly measure a rejection.
func Run(b *testing.B, h http.Handler, payload []byte, header http.Header) {
	b.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v) // canonicalises the name, as a real request would
		}
	}
	r.ContentLength = int64(len(payload))
	rb := body{bytes.NewReader(payload)}
	r.Body = rb
	w := &discard{h: http.Header{}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	rb.Reset(payload)
	h.ServeHTTP(w, r)
	if w.status != 0 && w.status != http.StatusOK {
		b.Fatalf("handler answered %d, want 200", w.status)
	}
	for b.Loop() {
		rb.Reset(payload)
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// Sizes are the text sizes of the sweep benchmarks (issue: 1 KiB to
// 900 KiB), the same in every package.
var Sizes = []struct {
	Name string
	Size int
}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}, {"900KiB", 900 << 10}}

// Text returns size bytes of ASCII prose for a sweep body.
func Text(size int) string {
	const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
	return strings.Repeat(line, size/len(line)+1)[:size]
}
