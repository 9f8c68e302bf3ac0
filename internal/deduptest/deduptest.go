// Package deduptest checks a vendor handler's WithDeduplication the same
// way in every package: two replicas sharing one store, many goroutines
// delivering the same deliveries at once.
package deduptest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Delivery is one webhook: its body and the headers that authenticate it.
type Delivery struct {
	Body   []byte
	Header http.Header
}

// Replicas delivers every delivery from goroutines goroutines, spread over
// the two replicas, and checks that every delivery got 200 with the same
// answer each time. The caller then checks its callback counts.
func Replicas(t *testing.T, replicas [2]http.Handler, deliveries []Delivery, goroutines int) {
	t.Helper()
	answers := make([][][]byte, len(deliveries))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, d := range deliveries {
				r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(d.Body))
				for k, vs := range d.Header {
					for _, v := range vs {
						r.Header.Add(k, v)
					}
				}
				rec := httptest.NewRecorder()
				replicas[(g+i)%2].ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					t.Errorf("delivery %d answered %d: %s", i, rec.Code, rec.Body)
					return
				}
				mu.Lock()
				answers[i] = append(answers[i], rec.Body.Bytes())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i, as := range answers {
		for _, a := range as[1:] {
			if !bytes.Equal(a, as[0]) {
				t.Fatalf("delivery %d: answers differ: %q and %q", i, as[0], a)
			}
		}
	}
}
