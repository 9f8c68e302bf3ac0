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
	"time"
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

// Gate holds a callback until the check lets it go.
type Gate struct {
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{entered: make(chan struct{}), open: make(chan struct{})} }

// Pass is what the callback calls: the first call reports that the
// callback runs and blocks until the check opens the gate.
func (g *Gate) Pass() {
	g.once.Do(func() { close(g.entered) })
	<-g.open
}

// Budget checks the answer budget of a handler built with
// WithDeduplication(d, 0, store.DedupOptions{Wait: budget}) whose callback
// calls gate.Pass: while a first delivery of d runs its callback (held at
// the gate), a redelivery answers 503, not before half the budget and
// within twice the budget, and does not run the callback; once the first
// answered 200, a redelivery gets its answer byte for byte.
func Budget(t *testing.T, h http.Handler, d Delivery, budget time.Duration, gate *Gate) {
	t.Helper()
	send := func() (*httptest.ResponseRecorder, time.Duration) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(d.Body))
		for k, vs := range d.Header {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, r)
		return rec, time.Since(start)
	}
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { rec, _ := send(); first <- rec }()
	select {
	case <-gate.entered:
	case rec := <-first:
		t.Fatalf("the first delivery answered %d without reaching the callback: %s", rec.Code, rec.Body)
	}
	rec, took := send()
	close(gate.open)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a redelivery while the first ran answered %d, want 503", rec.Code)
	}
	if took < budget/2 || took > 2*budget {
		t.Errorf("a redelivery while the first ran answered after %v; the budget is %v", took, budget)
	}
	answer := <-first
	if answer.Code != http.StatusOK {
		t.Fatalf("the first delivery answered %d: %s", answer.Code, answer.Body)
	}
	again, _ := send()
	if again.Code != http.StatusOK || !bytes.Equal(again.Body.Bytes(), answer.Body.Bytes()) {
		t.Errorf("the redelivery after the first answered %d %q, want 200 %q", again.Code, again.Body, answer.Body)
	}
}
