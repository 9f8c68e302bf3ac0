package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/store"
)

// The cost of deduplication per delivery and the queue's throughput, on a
// loopback redis-server beside the in-memory stores, in one run:
//
//	cd store/redisstore && go test -run '^$' -bench . -benchtime 2000x -count 6
func BenchmarkDedupDelivery(b *testing.B) {
	srv := startRedis(b)
	for _, c := range []struct {
		name string
		d    store.Deduplicator
	}{{"none", nil}, {"memory", store.NewMemoryDeduplicator()}, {"redis", redisStore(b, srv, "bench-dedup")}} {
		b.Run(c.name, func(b *testing.B) {
			var opts []onetalk.Option
			if c.d != nil {
				opts = append(opts, onetalk.WithDeduplication(c.d, time.Minute))
			}
			h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil }, opts...)
			if err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				i++
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(fmt.Sprintf(
					`{"caseID":"C1","message":{"id":"%s-%d","type":"text","text":{"body":"hi"}}}`, c.name, i)))
				r.Header.Set(onetalk.SecretHeader, secret)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, r)
				lat = append(lat, time.Since(start))
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func BenchmarkQueue(b *testing.B) {
	srv := startRedis(b)
	opts := store.QueueOptions{Lease: 5 * time.Second}
	for _, c := range []struct {
		name string
		q    store.Queue
	}{{"memory", store.NewMemoryQueue(opts)}, {"redis", redisStore(b, srv, "bench-queue")}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			start := time.Now()
			for i := range b.N {
				if _, err := c.q.Enqueue(ctx, store.Message{Key: fmt.Sprint("case-", i%64), Payload: []byte("payload")}); err != nil {
					b.Fatal(err)
				}
			}
			enq := time.Since(start)
			var done atomic.Int64
			finished := make(chan struct{})
			cctx, cancel := context.WithCancel(ctx)
			for n := range 2 {
				go func() {
					_ = c.q.Consume(cctx, fmt.Sprint("c", n), func(context.Context, store.Message) error {
						if done.Add(1) == int64(b.N) {
							close(finished)
						}
						return nil
					})
				}()
			}
			<-finished
			cancel()
			total := time.Since(start)
			b.ReportMetric(float64(b.N)/enq.Seconds(), "enqueued/s")
			b.ReportMetric(float64(b.N)/(total-enq).Seconds(), "processed/s")
		})
	}
}
