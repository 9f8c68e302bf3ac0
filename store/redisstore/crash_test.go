package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

const childEnv = "BOTWIRE_REDISSTORE_CHILD"

var crashOpts = store.QueueOptions{MaxAttempts: 5, RetryDelay: 20 * time.Millisecond, Lease: 500 * time.Millisecond}

// TestMain lets the test binary run as the consumer that gets killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv(childEnv); addr != "" {
		runChild(addr)
		return
	}
	if spec := os.Getenv(limiterChildEnv); spec != "" {
		os.Exit(runLimiterChild(spec))
	}
	if spec := os.Getenv(chaosChildEnv); spec != "" {
		os.Exit(runChaosChild(spec))
	}
	os.Exit(m.Run())
}

// record is the consumers' work: append "key:payload" to a list.
func record(rdb *redis.Client) store.Handler {
	return func(ctx context.Context, m store.Message) error {
		return rdb.RPush(ctx, "crash:processed", m.Key+":"+string(m.Payload)).Err()
	}
}

// runChild consumes until it reaches "slow", announces it, and hangs there
// until it is killed.
func runChild(addr string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	st := redisstore.New(rdb, redisstore.Options{Prefix: "crash", Partitions: 2, Queue: crashOpts})
	work := record(rdb)
	_ = st.Consume(context.Background(), "child", func(ctx context.Context, m store.Message) error {
		if string(m.Payload) == "slow" {
			rdb.RPush(ctx, "crash:started", m.ID)
			select {} // killed here, in the middle of the message
		}
		return work(ctx, m)
	})
}

// A consumer in a child process is killed with SIGKILL in the middle of a
// message; a second consumer finishes it after the lease: every message is
// processed, none lost, and each case's order kept.
func TestKilledConsumerIsTakenOver(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.client(t)
	ctx := context.Background()
	st := redisstore.New(rdb, redisstore.Options{Prefix: "crash", Partitions: 2, Queue: crashOpts})
	want := map[string][]string{}
	for i := range 6 {
		for _, key := range []string{"case-a", "case-b", "case-c"} {
			payload := fmt.Sprint(i)
			if key == "case-a" && i == 2 {
				payload = "slow"
			}
			if _, err := st.Enqueue(ctx, store.Message{Key: key, Payload: []byte(payload)}); err != nil {
				t.Fatal(err)
			}
			want[key] = append(want[key], payload)
		}
	}

	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), childEnv+"="+srv.Addr)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	if err := rdb.BLPop(ctx, 20*time.Second, "crash:started").Err(); err != nil {
		t.Fatalf("the child never reached the slow message: %v", err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = st.Consume(cctx, "survivor", record(rdb)) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := rdb.LLen(ctx, "crash:processed").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n >= 18 {
			break
		}
		if time.Now().After(deadline) {
			got, _ := rdb.LRange(ctx, "crash:processed", 0, -1).Result()
			t.Fatalf("only %d of 18 messages processed: %v", n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	done, _ := rdb.LRange(ctx, "crash:processed", 0, -1).Result()
	got := map[string][]string{}
	for _, d := range done {
		key, payload, _ := strings.Cut(d, ":")
		got[key] = append(got[key], payload)
	}
	for key, w := range want {
		if strings.Join(got[key], ",") != strings.Join(w, ",") {
			t.Errorf("%s processed %v, want %v (each once, in order)", key, got[key], w)
		}
	}
	dead, err := st.DeadLetters(ctx)
	if err != nil || len(dead) != 0 {
		t.Errorf("dead letters %v, %v", dead, err)
	}
}
