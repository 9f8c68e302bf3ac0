package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
)

// sameName: two consumers given one name are still two.
func sameName(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	// Replicas in containers share a hostname and are all PID 1, and
	// two handlers in one process pick the same names: a name given to
	// Consume must never make two consumers one.
	q, c := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 5 * time.Second}), ctx(t)
	const keys, per = 3, 20
	for i := range per {
		for k := range keys {
			enqueue(t, c, q, fmt.Sprint("case-", k), fmt.Sprint(k, "-", i))
		}
	}
	var mu sync.Mutex
	runs := map[string]int{}
	running := map[string]bool{}
	var overlaps []string
	seen := make(chan struct{})
	cc, cancel := context.WithCancel(c)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = q.Consume(cc, "replica-1", func(_ context.Context, m store.Message) error {
				mu.Lock()
				if running[m.Key] {
					overlaps = append(overlaps, string(m.Payload))
				}
				running[m.Key] = true
				mu.Unlock()
				time.Sleep(2 * time.Millisecond) // long enough for the other to meet it
				mu.Lock()
				defer mu.Unlock()
				running[m.Key] = false
				if runs[string(m.Payload)]++; runs[string(m.Payload)] == 1 && len(runs) == keys*per {
					close(seen)
				}
				return nil
			})
		}()
	}
	waitFor(t, seen)
	time.Sleep(100 * time.Millisecond) // let a duplicate in flight finish
	cancel()
	wg.Wait()
	if len(overlaps) > 0 {
		t.Errorf("%d messages ran while another of their key was running: %v", len(overlaps), overlaps)
	}
	for p, n := range runs {
		if n != 1 {
			t.Errorf("message %s ran %d times", p, n)
		}
	}
}

// Binder checks the store.Binder contract: a store serves one bot, bound
// any number of times by the handlers of that bot, and refuses another.
func Binder(t *testing.T, newStore func(t *testing.T) store.Binder) {
	t.Run("one bot, any number of times", func(t *testing.T) {
		b := newStore(t)
		for range 3 {
			must(t, b.Bind("vendor:0123456789abcdef"))
		}
	})
	t.Run("a second bot is refused", func(t *testing.T) {
		b := newStore(t)
		must(t, b.Bind("vendor:0123456789abcdef"))
		if err := b.Bind("vendor:fedcba9876543210"); !errors.Is(err, store.ErrSharedStore) {
			t.Fatalf("Bind of a second bot: %v, want store.ErrSharedStore", err)
		}
		if err := b.Bind("other:0123456789abcdef"); !errors.Is(err, store.ErrSharedStore) {
			t.Fatalf("Bind of another platform's bot: %v, want store.ErrSharedStore", err)
		}
		must(t, b.Bind("vendor:0123456789abcdef")) // the first keeps its store
	})
	t.Run("of concurrent binds of different bots one wins", func(t *testing.T) {
		b := newStore(t)
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := b.Bind(fmt.Sprintf("vendor:%016x", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrSharedStore):
					t.Errorf("Bind: %v", err)
				}
			}()
		}
		wg.Wait()
		want(t, won, 1)
	})
}
