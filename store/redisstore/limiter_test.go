package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store/redisstore"
	"github.com/botwire/botwire/userlike"
)

const limiterChildEnv = "BOTWIRE_REDISSTORE_LIMITER_CHILD"

// limiterSpec is what a sending replica process is told.
type limiterSpec struct {
	Redis  string
	API    string
	Limit  int
	Period time.Duration
	Margin time.Duration
	Sends  int
	Start  time.Time // all replicas start together
}

// runLimiterChild is one replica: a userlike.Client sharing the limit
// through Redis, sending Sends messages for one cid as fast as the limit
// lets it.
func runLimiterChild(spec string) int {
	var s limiterSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Redis})
	defer rdb.Close()
	c, err := userlike.NewClient(s.API, "token",
		userlike.WithRateLimiter(redisstore.New(rdb, redisstore.Options{Prefix: "limiter"})),
		userlike.WithRateLimit(s.Limit, s.Period), userlike.WithRateMargin(s.Margin))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	time.Sleep(time.Until(s.Start))
	for range s.Sends {
		if err := c.Send(context.Background(), "cid-1", userlike.Message("x")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// sendFromReplicas runs three replica processes that share the limiter
// through srv and returns the arrival times at the counting API, sorted.
func sendFromReplicas(t *testing.T, srv *redisServer, margin time.Duration, limit, sends int, period time.Duration) []time.Time {
	t.Helper()
	var mu sync.Mutex
	var seen []time.Time
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now() // Userlike counts what arrives
		mu.Lock()
		seen = append(seen, now)
		mu.Unlock()
	}))
	defer api.Close()
	spec, _ := json.Marshal(limiterSpec{Redis: srv.Addr, API: api.URL, Limit: limit, Period: period,
		Margin: margin, Sends: sends, Start: time.Now().Add(500 * time.Millisecond)})
	var children []*exec.Cmd
	for range 3 {
		child := exec.Command(os.Args[0], "-test.run", "^$")
		child.Env = append(os.Environ(), limiterChildEnv+"="+string(spec))
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child)
	}
	for _, child := range children {
		if err := child.Wait(); err != nil {
			t.Fatalf("a replica failed: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(seen, func(i, j int) bool { return seen[i].Before(seen[j]) })
	return seen
}

// busiestWindow returns the most arrivals within any period of seen.
func busiestWindow(seen []time.Time, period time.Duration) int {
	most := 0
	for i := range seen {
		n := 0
		for _, ts := range seen[i:] {
			if ts.Sub(seen[i]) < period {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// Three replica processes sending for one cid through one Redis: no window
// of the period at the receiving side holds more than the limit, counted
// where Userlike counts, on arrival (a 1 s period keeps the test short;
// the margin is the default).
func TestSharedLimiterHoldsWhereArrivalsAreCounted(t *testing.T) {
	srv := startRedis(t)
	const limit, period = 10, time.Second
	seen := sendFromReplicas(t, srv, 0, limit, 10, period)
	if len(seen) != 30 {
		t.Fatalf("%d requests arrived, want 30", len(seen))
	}
	if n := busiestWindow(seen, period); n > limit {
		t.Fatalf("%d requests arrived within %s; the limit is %d", n, period, limit)
	}
	if testing.Verbose() {
		// Without a margin, slots taken a period apart arrive closer
		// (measured, not asserted: it depends on the machine's load).
		seen := sendFromReplicas(t, srv, -1, limit, 10, period)
		overlap := time.Duration(0) // how much closer than a period the limit+1st arrived
		for i := 0; i+limit < len(seen); i++ {
			overlap = max(overlap, period-seen[i+limit].Sub(seen[i]))
		}
		t.Logf("without a margin, the busiest %s at the receiver held %d of a limit of %d (arrivals up to %s too close)",
			period, busiestWindow(seen, period), limit, overlap.Round(100*time.Microsecond))
	}
}
