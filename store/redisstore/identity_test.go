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

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// Two replicas that are PID 1 in containers on one host network used to
// name their consumers alike, took the same partition lease at once and ran
// messages twice (60 deliveries gave 62 and 69 replies). Two replicas (two
// Stores) with two Consume calls each, all with the same name, on a
// one-partition queue: every message runs exactly once, and never while
// another message of its case runs.
func TestSameConsumerNameRunsEachMessageOnce(t *testing.T) {
	srv := startRedis(t)
	opts := redisstore.Options{Prefix: "same-name", Partitions: 1,
		Queue: store.QueueOptions{Lease: 5 * time.Second, RetryDelay: 20 * time.Millisecond}}
	replicas := []*redisstore.Store{redisstore.New(srv.client(t), opts), redisstore.New(srv.client(t), opts)}
	ctx := context.Background()
	const n = 200
	for i := range n {
		if _, err := replicas[0].Enqueue(ctx, store.Message{Key: fmt.Sprint("case-", i%5), Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	runs := map[string]int{}
	running := map[string]int{}
	overlaps := 0
	all := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, st := range replicas {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.Consume(cctx, "host-1-0", func(_ context.Context, m store.Message) error {
					mu.Lock()
					if running[m.Key]++; running[m.Key] > 1 {
						overlaps++
					}
					mu.Unlock()
					time.Sleep(time.Millisecond)
					mu.Lock()
					defer mu.Unlock()
					running[m.Key]--
					if runs[string(m.Payload)]++; runs[string(m.Payload)] == 1 && len(runs) == n {
						close(all)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatal("not every message ran in 30 s")
	}
	time.Sleep(100 * time.Millisecond) // a duplicate in flight finishes
	cancel()
	wg.Wait()
	if overlaps > 0 {
		t.Errorf("%d messages ran while another message of their case was running", overlaps)
	}
	dups := 0
	for _, c := range runs {
		dups += c - 1
	}
	if dups > 0 {
		t.Errorf("%d messages ran more than once (%d runs for %d messages)", dups, n+dups, n)
	}
}

// Two OneTalk handlers of one bot in one process (or two replicas with the
// same hostname and pid) on one queue: each delivery runs once.
func TestTwoQueueHandlersInOneProcessRunEachMessageOnce(t *testing.T) {
	srv := startRedis(t)
	st := redisstore.New(srv.client(t), redisstore.Options{Prefix: "two-handlers", Partitions: 1,
		Queue: store.QueueOptions{Lease: 5 * time.Second, RetryDelay: 20 * time.Millisecond}})
	var mu sync.Mutex
	runs := map[string]int{}
	var handlers [2]*onetalk.Handler
	for i := range handlers {
		h, err := onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
			time.Sleep(time.Millisecond)
			mu.Lock()
			runs[r.Message.ID]++
			mu.Unlock()
			return nil
		}, onetalk.WithQueue(st, 2))
		if err != nil {
			t.Fatal(err)
		}
		handlers[i] = h
	}
	const n = 60
	for i := range n {
		deliverOneTalk(t, handlers[i%2], secret, fmt.Sprint("C", i%4), fmt.Sprint("m", i))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		got := len(runs)
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages ran in 20 s", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	for _, h := range handlers {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, c := range runs {
		total += c
	}
	if total != n {
		t.Fatalf("%d deliveries ran the callback %d times", n, total)
	}
}

func deliverOneTalk(t *testing.T, h http.Handler, secret, caseID, id string) {
	t.Helper()
	deliverBody(t, h, secret, `{"caseID":"`+caseID+`","message":{"id":"`+id+`","type":"text","text":{"body":"`+id+`"}}}`)
}

func deliverBody(t *testing.T, h http.Handler, secret, body string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set(onetalk.SecretHeader, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("delivery %s answered %d", body, rec.Code)
	}
}

// A renewal extends only its holder's lease. When the lease is gone (it
// expired, or was freed) or another consumer's, the running handler's
// context ends, the consumer takes no more messages of the partition, and
// the message is left for the holder, who runs it.
func TestLostLeaseStopsTheHolder(t *testing.T) {
	for _, taken := range []bool{false, true} {
		t.Run(fmt.Sprintf("taken=%v", taken), func(t *testing.T) {
			srv := startRedis(t)
			rdb := srv.client(t)
			prefix := fmt.Sprint("lost-lease-", taken)
			st := redisstore.New(rdb, redisstore.Options{Prefix: prefix, Partitions: 1,
				Queue: store.QueueOptions{Lease: 300 * time.Millisecond, RetryDelay: 20 * time.Millisecond}})
			ctx := context.Background()
			for _, p := range []string{"m1", "m2"} {
				if _, err := st.Enqueue(ctx, store.Message{Key: "case", Payload: []byte(p)}); err != nil {
					t.Fatal(err)
				}
			}
			leaseKey := "{" + prefix + ":q:0}:lease"
			var mu sync.Mutex
			var ran []string
			started := make(chan struct{}, 10)
			cut := make(chan struct{}, 10)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				_ = st.Consume(cctx, "a", func(hctx context.Context, m store.Message) error {
					mu.Lock()
					ran = append(ran, string(m.Payload))
					first := len(ran) == 1
					mu.Unlock()
					if !first {
						return nil
					}
					started <- struct{}{}
					<-hctx.Done() // the first run of m1 lasts until the lease is lost
					cut <- struct{}{}
					return hctx.Err()
				})
			}()
			<-started
			if taken {
				rdb.Set(ctx, leaseKey, "intruder", 2*time.Second)
			} else {
				rdb.Del(ctx, leaseKey)
			}
			select {
			case <-cut:
			case <-time.After(2 * time.Second):
				t.Fatal("the handler kept running after its lease was lost")
			}
			if taken {
				time.Sleep(500 * time.Millisecond)
				mu.Lock()
				n := len(ran)
				mu.Unlock()
				if n != 1 {
					t.Fatalf("the consumer went on with the partition another holds: %v", ran)
				}
				rdb.Del(ctx, leaseKey) // the intruder gives it back
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				got := append([]string(nil), ran...)
				mu.Unlock()
				if len(got) >= 3 {
					if strings.Join(got, ",") != "m1,m1,m2" {
						t.Fatalf("ran %v, want m1 (cut off), m1, m2", got)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ran %v in 10 s", got)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A OneTalk callback whose consumer loses the partition's lease sees its
// context end, so it does not go on beside the new holder; a callback
// running when its handler shuts down keeps its context and its lease
// (renewed past the consumers' stop), so the other replica does not run
// the message a second time.
func TestQueueCallbackAndItsLease(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.client(t)
	opts := redisstore.Options{Partitions: 1, Queue: store.QueueOptions{Lease: 300 * time.Millisecond, RetryDelay: 20 * time.Millisecond}}

	t.Run("lost lease cancels the callback", func(t *testing.T) {
		o := opts
		o.Prefix = "callback-lost"
		st := redisstore.New(rdb, o)
		cut := make(chan error, 1)
		started := make(chan struct{}, 4)
		var mu sync.Mutex
		runs := 0
		h, err := onetalk.NewHandler(secret, func(ctx context.Context, _ *onetalk.InboundRequest) error {
			mu.Lock()
			runs++
			first := runs == 1
			mu.Unlock()
			if !first {
				return nil
			}
			started <- struct{}{}
			select {
			case <-ctx.Done():
				cut <- ctx.Err()
				return ctx.Err()
			case <-time.After(3 * time.Second):
				cut <- nil
				return nil
			}
		}, onetalk.WithQueue(st, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		deliverOneTalk(t, h, secret, "C1", "slow")
		<-started
		rdb.Set(context.Background(), "{callback-lost:q:0}:lease", "another", time.Second)
		if err := <-cut; err == nil {
			t.Fatal("the callback ran on for 3 s after its consumer lost the lease")
		}
	})

	t.Run("shutdown keeps the lease of a running callback", func(t *testing.T) {
		o := opts
		o.Prefix = "callback-shutdown"
		var mu sync.Mutex
		var runs []string
		started := make(chan int, 4)
		var handlers [2]*onetalk.Handler
		for i := range handlers {
			h, err := onetalk.NewHandler(secret, func(ctx context.Context, _ *onetalk.InboundRequest) error {
				mu.Lock()
				runs = append(runs, fmt.Sprint("replica ", i))
				mu.Unlock()
				started <- i
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Second): // three leases
					return nil
				}
			}, onetalk.WithQueue(redisstore.New(srv.client(t), o), 1))
			if err != nil {
				t.Fatal(err)
			}
			handlers[i] = h
		}
		defer handlers[0].Shutdown(context.Background())
		defer handlers[1].Shutdown(context.Background())
		deliverOneTalk(t, handlers[0], secret, "C1", "long")
		i := <-started
		if err := handlers[i].Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // a second run (the other replica took over during Shutdown) shows here
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 1 {
			t.Fatalf("runs %v: the message ran again while its callback finished", runs)
		}
	})
}

// A renewal that hangs (Redis stalled, or cut off from this replica) does
// not keep the handler running past its lease: the handler's context ends
// a third of a lease before the lease could expire, whatever the client's
// read timeout.
func TestStalledRenewalStopsTheHandler(t *testing.T) {
	srv := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: 5 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	const lease = 600 * time.Millisecond
	st := redisstore.New(rdb, redisstore.Options{Prefix: "stalled", Partitions: 1, Queue: store.QueueOptions{Lease: lease}})
	ctx := context.Background()
	if _, err := st.Enqueue(ctx, store.Message{Key: "case", Payload: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	cut := make(chan time.Time, 1)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = st.Consume(cctx, "a", func(hctx context.Context, m store.Message) error {
			close(started)
			<-hctx.Done()
			cut <- time.Now()
			return hctx.Err()
		})
	}()
	<-started
	time.Sleep(lease / 2) // a renewal went through
	admin := srv.client(t)
	paused := time.Now()
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "3000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-cut:
		if d := at.Sub(paused); d > lease {
			t.Fatalf("the handler ran %v into the stall, longer than its lease %v", d, lease)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler ran on through the stall")
	}
}
