package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/internal/deduptest"
	"github.com/botwire/botwire/onetalk"
)

const secret = "replica-secret"

// Two handler replicas sharing one Redis, 50 goroutines delivering the
// same 100 messages: each callback ran exactly once, every answer 200.
func TestReplicasRunEachDeliveryOnce(t *testing.T) {
	srv := startRedis(t)
	var mu sync.Mutex
	calls := map[string]int{}
	var replicas [2]http.Handler
	for i := range replicas {
		h, err := onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
			mu.Lock()
			calls[r.Message.ID]++
			mu.Unlock()
			return nil
		}, onetalk.WithDeduplication(shared(t, srv, "replicas"), 0))
		if err != nil {
			t.Fatal(err)
		}
		replicas[i] = h
	}
	var ds []deduptest.Delivery
	for i := range 100 {
		ds = append(ds, deduptest.Delivery{
			Body:   []byte(fmt.Sprintf(`{"caseID":"C%d","message":{"id":"m%d","type":"text","text":{"body":"hi"}}}`, i%7, i)),
			Header: http.Header{onetalk.SecretHeader: {secret}},
		})
	}
	deduptest.Replicas(t, replicas, ds, 50)
	if len(calls) != 100 {
		t.Fatalf("%d deliveries ran", len(calls))
	}
	for id, n := range calls {
		if n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
}

// Redis goes down mid-run: the handler answers 503 (OneTalk redelivers,
// nothing is lost) and recovers when Redis is back, without a restart.
func TestRedisRestartGives503ThenRecovers(t *testing.T) {
	srv := startRedis(t)
	st := shared(t, srv, "restart")
	calls := 0
	h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { calls++; return nil },
		onetalk.WithDeduplication(st, 0))
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(id string) int {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"caseID":"C1","message":{"id":"`+id+`","type":"text","text":{"body":"hi"}}}`))
		r.Header.Set(onetalk.SecretHeader, secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if code := deliver("before"); code != 200 {
		t.Fatalf("before: %d", code)
	}
	srv.stop()
	if code := deliver("during"); code != http.StatusServiceUnavailable {
		t.Fatalf("while Redis is down: %d, want 503", code)
	}
	if calls != 1 {
		t.Fatalf("a callback ran without its claim being recorded")
	}
	srv.restart(100 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for deliver("during") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the handler did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if calls != 2 {
		t.Fatalf("calls = %d, want 2", calls)
	}
}
