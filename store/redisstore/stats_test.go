package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// Stats reads Redis: a replica whose Store consumes nothing reports what
// another replica's consumers do. Running counts the messages a consumer
// holds: the one running and those of its case it read ahead.
func TestStatsSameFromEveryReplica(t *testing.T) {
	srv := startRedis(t)
	opts := redisstore.Options{Prefix: "stats-replicas", Partitions: 4,
		Queue: store.QueueOptions{MaxAttempts: 3, RetryDelay: 5 * time.Second, Lease: 5 * time.Second}}
	a, b := redisstore.New(srv.client(t), opts), redisstore.New(srv.client(t), opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range [][2]string{{"slow", "slow-1"}, {"slow", "slow-2"}, {"slow", "slow-3"}, {"fail", "fail-1"}, {"x", "x-1"}, {"x", "x-2"}} {
		if _, err := a.Enqueue(ctx, store.Message{Key: m[0], Payload: []byte(m[1])}); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []*redisstore.Store{a, b} {
		got, err := st.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Pending != 6 || got.Running+got.Retrying+got.Dead != 0 || got.OldestPending <= 0 {
			t.Fatalf("6 messages, no consumer: Stats = %+v", got)
		}
	}

	release := make(chan struct{})
	var xDone atomic.Int32
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	for range 2 {
		wg.Go(func() {
			_ = a.Consume(cctx, "replica-a", func(ctx context.Context, m store.Message) error {
				switch string(m.Payload) {
				case "slow-1":
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
				case "fail-1":
					return errors.New("fail-1 fails")
				default:
					xDone.Add(1)
				}
				return nil
			})
		})
	}
	defer close(release)
	wanted := store.QueueStats{Running: 3, Retrying: 1}
	deadline := time.Now().Add(4 * time.Second) // inside fail-1's retry delay
	for {
		sa, errA := a.Stats(ctx)
		sb, errB := b.Stats(ctx)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		oa, ob := sa.OldestPending, sb.OldestPending
		sa.OldestPending, sb.OldestPending = 0, 0
		if sa == wanted && sb == wanted && xDone.Load() == 2 {
			if oa <= 0 || ob < oa || ob-oa > time.Second {
				t.Errorf("OldestPending %v then %v from the other replica", oa, ob)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v from the consuming replica, %+v from the other; want %+v", sa, sb, wanted)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countingHook counts the commands a client sends and the round trips
// (a command alone, or a pipeline) it takes.
type countingHook struct {
	mu       sync.Mutex
	trips    int
	commands []string
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.trips++
		h.commands = append(h.commands, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.trips++
		for _, c := range cmds {
			h.commands = append(h.commands, c.Name())
		}
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// Stats costs one round trip of Partitions + 2 commands, however many
// messages the queue holds.
func TestStatsCost(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	writer := redisstore.New(srv.client(t), redisstore.Options{Prefix: "stats-cost"})
	have := 0
	for _, total := range []int{0, 50, 2000} {
		for ; have < total; have++ {
			if _, err := writer.Enqueue(ctx, store.Message{Key: string(rune('a' + have%26)), Payload: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
		rdb := srv.client(t)
		if err := rdb.Ping(ctx).Err(); err != nil { // connected: no handshake counted
			t.Fatal(err)
		}
		hook := &countingHook{}
		rdb.AddHook(hook)
		st, err := redisstore.New(rdb, redisstore.Options{Prefix: "stats-cost"}).Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != total {
			t.Errorf("Stats = %+v, want %d pending", st, total)
		}
		evals := slices.DeleteFunc(slices.Clone(hook.commands), func(c string) bool { return c != "eval" })
		if hook.trips != 1 || len(hook.commands) != 18 || len(evals) != 16 {
			t.Errorf("with %d messages, Stats took %d round trips of %d commands %v; want 1 of 18 (16 partitions' scripts, 1 HLEN, 1 EXISTS of the pause flag)",
				total, hook.trips, len(hook.commands), hook.commands)
		}
	}
}

// The header is one stream field per name ("h.<name>"); a message without
// a header adds no field, and only a replayed one carries its first
// enqueue time ("t").
func TestHeaderWireFormat(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	rdb := srv.client(t)
	st := redisstore.New(rdb, redisstore.Options{Prefix: "wire", Partitions: 1,
		Queue: store.QueueOptions{MaxAttempts: 1, RetryDelay: 10 * time.Millisecond, Lease: 5 * time.Second}})
	withID, err := st.Enqueue(ctx, store.Message{Key: "k", Payload: []byte("p"), Header: map[string]string{"traceparent": "00-ab-cd-01", "b": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	plainID, err := st.Enqueue(ctx, store.Message{Key: "k", Payload: []byte("p"), Header: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	const stream = "{wire:q:0}:stream"
	fields := func(id string) []string {
		t.Helper()
		id = strings.TrimPrefix(id, "0:") // the message id is "<partition>:<entry id>"
		// The raw reply keeps the fields' order (XMessage.Values is a map).
		res, err := rdb.Do(ctx, "XRANGE", stream, id, id).Slice()
		if err != nil || len(res) != 1 {
			t.Fatalf("XRANGE %s: %v %v", id, res, err)
		}
		var names []string
		kv := res[0].([]any)[1].([]any)
		for i := 0; i < len(kv); i += 2 {
			names = append(names, kv[i].(string))
		}
		return names
	}
	if got := fields(withID); !slices.Equal(got, []string{"key", "payload", "h.b", "h.traceparent"}) {
		t.Errorf("a message with a header has fields %q", got)
	}
	if got := fields(plainID); !slices.Equal(got, []string{"key", "payload"}) {
		t.Errorf("a message without a header has fields %q", got)
	}

	// Dead at its first attempt, then replayed: the new entry keeps the
	// first enqueue time.
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = st.Consume(cctx, "c", func(context.Context, store.Message) error { return errors.New("no") })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dead, err := st.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters in 10 s, want 2", len(dead))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	if err := st.Replay(ctx, withID); err != nil {
		t.Fatal(err)
	}
	res, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(res) != 1 {
		t.Fatalf("after the replay the stream holds %v (%v), want one entry", res, err)
	}
	if got := fields(res[0].ID); !slices.Equal(got, []string{"key", "payload", "t", "h.b", "h.traceparent"}) {
		t.Errorf("a replayed message has fields %q", got)
	}
	if want := strings.TrimSuffix(strings.TrimPrefix(withID, "0:"), "-0"); res[0].Values["t"] != want {
		t.Errorf("the replayed entry's t = %v, want the first entry's time %s", res[0].Values["t"], want)
	}
}

// The pool's own Redis calls that fail reach the observer as
// KindStoreError events of the queue.
func TestStoreErrorEvents(t *testing.T) {
	srv := startRedis(t)
	rec := observetest.NewRecorder()
	st := redisstore.New(srv.client(t), redisstore.Options{Prefix: "errs", Observer: rec,
		Queue: store.QueueOptions{Lease: 600 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := st.Enqueue(ctx, store.Message{Key: "k", Payload: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	consumed := make(chan error, 1)
	go func() {
		consumed <- st.Consume(ctx, "c", func(context.Context, store.Message) error {
			ran <- struct{}{}
			return nil
		})
	}()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the message did not run")
	}
	if n := len(rec.Events(observe.KindStoreError)); n != 0 {
		t.Fatalf("%d store errors with Redis up: %+v", n, rec.Events(observe.KindStoreError))
	}
	srv.stop()
	err := rec.Wait(ctx, func(recs []observetest.Record) bool {
		for _, r := range recs {
			if e := r.Event; e != nil && e.Kind == observe.KindStoreError && e.Store == observe.StoreQueue && e.Op != "" && e.Err != nil && e.Queue == "errs" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no KindStoreError event of the queue with Redis down: %+v", rec.Events())
	}
	var ops []string
	for _, e := range rec.Events(observe.KindStoreError) {
		ops = append(ops, e.Op)
	}
	t.Logf("store errors: %v", ops)
	cancel()
	<-consumed
}
