package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// readmeClient is the Redis client as the README builds it: a call ends at
// its context's deadline even in the middle of a blocked read, and
// go-redis retries only within that deadline.
func readmeClient(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           3 * time.Second,
		WriteTimeout:          3 * time.Second,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func onetalkBody(id string) string {
	return `{"caseID":"C1","message":{"id":"` + id + `","type":"text","text":{"body":"hi"}}}`
}

// deliverTo sends one OneTalk delivery to h and returns the status and
// how long the answer took.
func deliverTo(h http.Handler, id string) (int, time.Duration) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(onetalkBody(id)))
	r.Header.Set(onetalk.SecretHeader, secret)
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, r)
	return rec.Code, time.Since(start)
}

// A replica dies in the middle of a callback (its Redis connection gone,
// the callback never returns): with the default options its claim frees
// within the 5 s lease, and a redelivery to another replica runs then,
// each answer within the 4 s budget. It used to take the fixed 60 s lease.
func TestDeadReplicaFreesItsClaimWithinTheLease(t *testing.T) {
	srv := startRedis(t)
	dying := readmeClient(t, srv.Addr)
	started, hang := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(hang) })
	a, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error {
		close(started)
		<-hang // the process is dead: nothing after this runs in time
		return nil
	}, onetalk.WithDeduplication(redisstore.New(dying, redisstore.Options{Prefix: "dead"}), 0), onetalk.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	go deliverTo(a, "m1")
	<-started
	dying.Close() // no more renewals, no completion
	killed := time.Now()

	var runs atomic.Int32
	b, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { runs.Add(1); return nil },
		onetalk.WithDeduplication(redisstore.New(readmeClient(t, srv.Addr), redisstore.Options{Prefix: "dead"}), 0),
		onetalk.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	for {
		code, took := deliverTo(b, "m1")
		if took > 2*4*time.Second {
			t.Errorf("a redelivery took %v, past twice the 4 s budget", took)
		}
		if code == http.StatusOK {
			break
		}
		if code != http.StatusServiceUnavailable {
			t.Fatalf("redelivery answered %d", code)
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("the dead replica's claim still held the message %v after it died", time.Since(killed).Round(time.Second))
		}
	}
	freed := time.Since(killed)
	t.Logf("the redelivery ran %v after the replica died", freed.Round(10*time.Millisecond))
	if freed > 2*5*time.Second {
		t.Errorf("the claim freed after %v, past twice the 5 s lease", freed)
	}
	if runs.Load() != 1 {
		t.Errorf("the redelivery ran the callback %d times", runs.Load())
	}
}

// A delivery whose callback runs three leases keeps its claim (renewed);
// redeliveries meanwhile, to another replica, answer 503 within the budget
// and never run the callback; once it completed, a redelivery replays it.
func TestRedeliveryWhileAnotherRunsAnswers503WithinTheBudget(t *testing.T) {
	srv := startRedis(t)
	opts := store.DedupOptions{Lease: time.Second, Wait: time.Second}
	var runs atomic.Int32
	started := make(chan struct{})
	replica := func() http.Handler {
		h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error {
			if runs.Add(1) == 1 {
				close(started)
				time.Sleep(3 * time.Second)
			}
			return nil
		}, onetalk.WithDeduplication(redisstore.New(readmeClient(t, srv.Addr), redisstore.Options{Prefix: "busy"}), 0, opts),
			onetalk.WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b := replica(), replica()
	first := make(chan int)
	go func() { code, _ := deliverTo(a, "m1"); first <- code }()
	<-started
	for i := range 2 {
		code, took := deliverTo(b, "m1")
		t.Logf("redelivery %d: %d after %v", i+1, code, took.Round(10*time.Millisecond))
		if code != http.StatusServiceUnavailable {
			t.Errorf("redelivery %d while the first ran: %d, want 503", i+1, code)
		}
		if took < opts.Wait/2 || took > 2*opts.Wait {
			t.Errorf("redelivery %d answered after %v; the budget is %v", i+1, took, opts.Wait)
		}
	}
	if code := <-first; code != http.StatusOK {
		t.Fatalf("the first delivery answered %d", code)
	}
	if code, _ := deliverTo(b, "m1"); code != http.StatusOK {
		t.Fatalf("the redelivery after the first completed answered %d", code)
	}
	if runs.Load() != 1 {
		t.Errorf("the callback ran %d times", runs.Load())
	}
}

// startDebugRedis starts a redis-server that accepts DEBUG (off by default
// since Redis 7), on a free loopback port, killed when the test ends.
func startDebugRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server is not installed and BOTWIRE_REQUIRE_REDIS=1")
		}
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if out, _ := exec.Command(bin, "--version").Output(); !strings.Contains(string(out), "v=6.") {
		args = append(args, "--enable-debug-command", "yes")
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer PING in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

// Redis stalls for 3 s while deliveries arrive: each answers 503 within
// the 1 s budget (not when the stall ends, nor after go-redis's read
// timeout), and the redelivery of each right after the stall runs at once,
// although under DEBUG SLEEP the claims that timed out on the client were
// applied by the server when it woke, with a 5 s lease.
func TestRedisStallAnswers503WithinTheBudget(t *testing.T) {
	addr := startDebugRedis(t)
	const stall, budget, n = 3 * time.Second, time.Second, 10
	for _, how := range []string{"CLIENT PAUSE", "DEBUG SLEEP"} {
		t.Run(how, func(t *testing.T) {
			var mu sync.Mutex
			runs := map[string]int{}
			rdb := readmeClient(t, addr)
			st := redisstore.New(rdb, redisstore.Options{Prefix: "stall" + how[:1]})
			h, err := onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
				mu.Lock()
				runs[r.Message.ID]++
				mu.Unlock()
				return nil
			}, onetalk.WithDeduplication(st, 0, store.DedupOptions{Wait: budget}), onetalk.WithLogger(quietLogger()))
			if err != nil {
				t.Fatal(err)
			}
			admin := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: 2 * stall})
			defer admin.Close()
			// Warm the script cache and the pool, so the stall meets the
			// claims themselves rather than new connections' handshakes.
			var warm sync.WaitGroup
			for i := range 2 * n {
				warm.Add(1)
				go func() {
					defer warm.Done()
					if code, _ := deliverTo(h, fmt.Sprint("warm", i)); code != http.StatusOK {
						t.Errorf("before the stall: %d", code)
					}
				}()
			}
			warm.Wait()
			t.Logf("%d connections in the pool", rdb.PoolStats().TotalConns)
			stalled := make(chan error, 1)
			began := time.Now()
			if how == "CLIENT PAUSE" {
				stalled <- admin.Do(context.Background(), "CLIENT", "PAUSE", stall.Milliseconds(), "ALL").Err()
			} else {
				go func() { stalled <- admin.Do(context.Background(), "DEBUG", "SLEEP", stall.Seconds()).Err() }()
				time.Sleep(100 * time.Millisecond) // let DEBUG SLEEP reach the server first
			}
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, took := deliverTo(h, fmt.Sprint("m", i))
					if code != http.StatusServiceUnavailable || took > 2*budget {
						t.Errorf("delivery %d during the stall: %d after %v, want 503 within %v", i, code, took, budget)
					}
				}()
			}
			wg.Wait()
			if err := <-stalled; err != nil {
				t.Fatal(err)
			}
			for admin.Ping(context.Background()).Err() != nil || time.Since(began) < stall {
				time.Sleep(10 * time.Millisecond)
			}
			after := time.Now()
			for i := range n {
				code, took := deliverTo(h, fmt.Sprint("m", i))
				if code != http.StatusOK || took > budget {
					t.Errorf("redelivery %d after the stall: %d after %v, want 200 at once", i, code, took)
				}
			}
			t.Logf("%d redeliveries after the stall answered in %v", n, time.Since(after).Round(time.Millisecond))
			mu.Lock()
			defer mu.Unlock()
			for i := range n {
				if id := fmt.Sprint("m", i); runs[id] != 1 {
					t.Errorf("%s ran %d times", id, runs[id])
				}
			}
		})
	}
}
