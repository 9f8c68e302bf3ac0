package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// replicas returns n Stores on their own clients sharing one prefix, as
// replicas of a bot do.
func replicas(t *testing.T, srv *redisServer, n int) []*redisstore.Store {
	prefix := fmt.Sprint("admin", prefixes.Add(1))
	var out []*redisstore.Store
	for range n {
		out = append(out, redisstore.New(srv.client(t), redisstore.Options{Prefix: prefix, Partitions: 4,
			Queue: store.QueueOptions{Lease: 2 * time.Second}}))
	}
	return out
}

// consumeAll runs two Consume calls on every store, recording the payloads
// run, until the test ends.
func consumeAll(t *testing.T, ran chan<- string, stores ...*redisstore.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i, s := range stores {
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = s.Consume(ctx, fmt.Sprint("r", i, "-", j), func(_ context.Context, m store.Message) error {
					ran <- string(m.Payload)
					return nil
				})
			}()
		}
	}
}

func expectNone(t *testing.T, ran <-chan string, d time.Duration) {
	t.Helper()
	select {
	case p := <-ran:
		t.Fatalf("%s ran while the queue was paused", p)
	case <-time.After(d):
	}
}

func expectAll(t *testing.T, ran <-chan string, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for i := range n {
		select {
		case <-ran:
		case <-deadline:
			t.Fatalf("%d of %d messages ran in %v", i, n, within)
		}
	}
}

// A Pause through one replica stops the consumers of every replica, and a
// Resume through another starts them again at once.
func TestPauseAcrossReplicas(t *testing.T) {
	srv := startRedis(t)
	rs := replicas(t, srv, 2)
	ctx := context.Background()
	ran := make(chan string, 64)
	consumeAll(t, ran, rs...)
	if _, err := rs[0].Enqueue(ctx, store.Message{Key: "warm", Payload: []byte("warm")}); err != nil {
		t.Fatal(err)
	}
	expectAll(t, ran, 1, 5*time.Second)

	if err := rs[0].Pause(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if p, err := r.Paused(ctx); err != nil || !p {
			t.Fatalf("Paused = %v, %v on a replica, want true", p, err)
		}
	}
	for i := range 16 {
		if _, err := rs[i%2].Enqueue(ctx, store.Message{Key: fmt.Sprint("k", i), Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	expectNone(t, ran, 500*time.Millisecond)
	if err := rs[1].Resume(ctx); err != nil {
		t.Fatal(err)
	}
	expectAll(t, ran, 16, time.Second)
}

// A Store whose consumers start while the queue is paused takes nothing,
// and a Resume whose wake-up message was lost (the flag removed by hand)
// is seen within about a second.
func TestPausedAtStartAndResumeByFlag(t *testing.T) {
	srv := startRedis(t)
	rs := replicas(t, srv, 1)
	ctx := context.Background()
	if err := rs[0].Pause(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := rs[0].Enqueue(ctx, store.Message{Key: fmt.Sprint("k", i), Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	ran := make(chan string, 8)
	consumeAll(t, ran, rs...)
	expectNone(t, ran, 700*time.Millisecond)
	st, err := rs[0].Stats(ctx)
	if err != nil || !st.Paused || st.Pending+st.Running != 4 {
		t.Fatalf("Stats = %+v, %v; want paused with 4 messages", st, err)
	}

	rdb := srv.client(t)
	keys, err := rdb.Keys(ctx, "*paused*").Result()
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], "{admin") {
		t.Fatalf("pause keys %q (%v), want one under the store's hash tag", keys, err)
	}
	if err := rdb.Del(ctx, keys[0]).Err(); err != nil { // no wake-up message
		t.Fatal(err)
	}
	expectAll(t, ran, 4, 1500*time.Millisecond)
}

// Message finds a pending message by its id, and an id of this Store's
// form that names no message is store.ErrNotFound, as is a cursor of no
// page an error.
func TestAdminIDs(t *testing.T) {
	srv := startRedis(t)
	s := replicas(t, srv, 1)[0]
	ctx := context.Background()
	id, err := s.Enqueue(ctx, store.Message{Key: "k", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.Message(ctx, id); err != nil || string(m.Payload) != "x" || m.Attempts != 0 {
		t.Fatalf("Message(%s) = %+v, %v", id, m, err)
	}
	for _, bad := range []string{"0:1-0", "99:1-0", "x:1-0", "", "3:abc"} {
		if _, err := s.Message(ctx, bad); err != store.ErrNotFound {
			t.Errorf("Message(%q) = %v, want store.ErrNotFound", bad, err)
		}
	}
	for _, st := range []store.MessageState{store.StatePending, store.StateDead} {
		if _, err := s.List(ctx, store.ListOptions{State: st, Cursor: "garbage"}); err == nil {
			t.Errorf("List(%s) with a bad cursor did not fail", st)
		}
	}
}

// The last error of a retrying message is forgotten with its
// acknowledgement: no errors hash is left behind.
func TestLastErrorForgotten(t *testing.T) {
	srv := startRedis(t)
	s := redisstore.New(srv.client(t), redisstore.Options{Prefix: fmt.Sprint("admin", prefixes.Add(1)), Partitions: 4,
		Queue: store.QueueOptions{Lease: 2 * time.Second, RetryDelay: 50 * time.Millisecond, MaxAttempts: 3}})
	ctx := context.Background()
	id, err := s.Enqueue(ctx, store.Message{Key: "k", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := 0
	go func() {
		_ = s.Consume(cctx, "c", func(context.Context, store.Message) error {
			if runs++; runs == 1 {
				return fmt.Errorf("once")
			}
			close(done)
			return nil
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the message did not run twice in 10 s")
	}
	rdb := srv.client(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Message(ctx, id)
		keys, kerr := rdb.Keys(ctx, "*:errors").Result()
		if kerr != nil {
			t.Fatal(kerr)
		}
		if err == store.ErrNotFound && len(keys) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the acknowledgement, Message: %v, errors keys %q; want ErrNotFound and none", err, keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
