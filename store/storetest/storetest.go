// Package storetest is the contract of package store as tests: any
// Deduplicator, RateLimiter or Queue implementation runs them to show it
// behaves as the botwire handlers and clients expect.
//
//	func TestContract(t *testing.T) {
//		storetest.Deduplicator(t, func(t *testing.T) store.Deduplicator { return myDedup(t) })
//		storetest.RateLimiter(t, func(t *testing.T) store.RateLimiter { return myLimiter(t) })
//		storetest.Queue(t, func(t *testing.T, o store.QueueOptions) store.Queue { return myQueue(t, o) })
//	}
//
// Each factory returns a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// Deduplicator checks the Deduplicator contract.
func Deduplicator(t *testing.T, newDedup func(t *testing.T) store.Deduplicator) {
	t.Run("claim, complete, replay", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		cl, err := d.Claim(c, "k1", "t1", time.Minute)
		must(t, err)
		want(t, cl.State, store.Acquired)
		again, err := d.Claim(c, "k1", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Busy)
		must(t, d.Complete(c, "k1", "t1", []byte(`{"messages":[]}`), time.Minute))
		done, err := d.Claim(c, "k1", "t3", time.Minute)
		must(t, err)
		want(t, done.State, store.Done)
		want(t, string(done.Answer), `{"messages":[]}`)
		mine, err := d.Claim(c, "k1", "t1", time.Minute)
		must(t, err)
		want(t, mine.State, store.Done)
		other, err := d.Claim(c, "k2", "t4", time.Minute)
		must(t, err)
		want(t, other.State, store.Acquired)
	})
	t.Run("release lets a redelivery run again", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "k", "t1"))
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("another token changes nothing", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "k", "t2"))
		must(t, d.Complete(c, "k", "t2", []byte("x"), time.Minute))
		if err := d.Renew(c, "k", "t2", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew with another token: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "k", "t3", time.Minute)
		must(t, err)
		want(t, again.State, store.Busy)
	})
	t.Run("a claim with the holder's token is acquired again", func(t *testing.T) {
		// A claim whose reply was lost (a timeout, a reset) and is tried
		// again must not find its own claim Busy.
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 100*time.Millisecond)
		must(t, err)
		again, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
		time.Sleep(200 * time.Millisecond) // past the first lease: the second restarted it
		other, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, other.State, store.Busy)
		must(t, d.Release(c, "k", "t1"))
		other, err = d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, other.State, store.Acquired)
	})
	t.Run("an empty token is refused", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		if _, err := d.Claim(c, "k", "", time.Minute); err == nil {
			t.Fatal("Claim with an empty token succeeded")
		}
	})
	t.Run("a lease that runs out frees the key", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 50*time.Millisecond)
		must(t, err)
		time.Sleep(120 * time.Millisecond)
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("renew keeps the claim past its lease", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", 200*time.Millisecond)
		must(t, err)
		for range 4 { // 280 ms in all, past the first lease
			time.Sleep(70 * time.Millisecond)
			must(t, d.Renew(c, "k", "t1", 200*time.Millisecond))
		}
		busy, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, busy.State, store.Busy)
		time.Sleep(300 * time.Millisecond)
		if err := d.Renew(c, "k", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew after the lease ran out: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("renew of a completed or released key reports it lost", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "done", "t1", time.Minute)
		must(t, err)
		must(t, d.Complete(c, "done", "t1", []byte("a"), time.Minute))
		if err := d.Renew(c, "done", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew of a completed key: %v, want ErrClaimLost", err)
		}
		_, err = d.Claim(c, "gone", "t1", time.Minute)
		must(t, err)
		must(t, d.Release(c, "gone", "t1"))
		if err := d.Renew(c, "gone", "t1", time.Minute); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("Renew of a released key: %v, want ErrClaimLost", err)
		}
		again, err := d.Claim(c, "gone", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("a completed key expires after its ttl", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		_, err := d.Claim(c, "k", "t1", time.Minute)
		must(t, err)
		must(t, d.Complete(c, "k", "t1", []byte("a"), 50*time.Millisecond))
		time.Sleep(120 * time.Millisecond)
		again, err := d.Claim(c, "k", "t2", time.Minute)
		must(t, err)
		want(t, again.State, store.Acquired)
	})
	t.Run("of concurrent claims one is acquired", func(t *testing.T) {
		d, c := newDedup(t), ctx(t)
		var acquired atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl, err := d.Claim(c, "same", fmt.Sprint("t", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if cl.State == store.Acquired {
					acquired.Add(1)
				}
			}()
		}
		wg.Wait()
		want(t, acquired.Load(), int32(1))
	})
}

// RateLimiter checks the RateLimiter contract.
func RateLimiter(t *testing.T, newLimiter func(t *testing.T) store.RateLimiter) {
	t.Run("limit per window and per key", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		for i := range 5 {
			ok, _, err := l.Take(c, "cid-1", 5, time.Minute)
			must(t, err)
			if !ok {
				t.Fatalf("take %d refused under the limit", i+1)
			}
		}
		ok, wait, err := l.Take(c, "cid-1", 5, time.Minute)
		must(t, err)
		if ok || wait <= 0 || wait > time.Minute {
			t.Fatalf("the 6th take: ok %v, wait %v; want refused with a wait up to a minute", ok, wait)
		}
		ok, _, err = l.Take(c, "cid-2", 5, time.Minute)
		must(t, err)
		want(t, ok, true)
	})
	t.Run("the window slides", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		for range 3 {
			ok, _, err := l.Take(c, "k", 3, 200*time.Millisecond)
			must(t, err)
			want(t, ok, true)
		}
		ok, wait, err := l.Take(c, "k", 3, 200*time.Millisecond)
		must(t, err)
		want(t, ok, false)
		time.Sleep(wait + 20*time.Millisecond)
		ok, _, err = l.Take(c, "k", 3, 200*time.Millisecond)
		must(t, err)
		want(t, ok, true)
	})
	t.Run("concurrent takes never pass the limit", func(t *testing.T) {
		l, c := newLimiter(t), ctx(t)
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := l.Take(c, "hot", 20, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					taken.Add(1)
				}
			}()
		}
		wg.Wait()
		want(t, taken.Load(), int32(20))
	})
}

// Queue checks the Queue contract. newQueue gets the options to use (a
// short lease and retry delay, a small attempt limit).
func Queue(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	opts := store.QueueOptions{MaxAttempts: 3, RetryDelay: 20 * time.Millisecond, Lease: 300 * time.Millisecond}
	t.Run("every message once, in order per key", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		const keys, per = 4, 25
		for i := range per {
			for k := range keys {
				must(t, q.Enqueue(c, fmt.Sprint("case-", k), []byte(fmt.Sprint(i))))
			}
		}
		var mu sync.Mutex
		seen := map[string][]string{}
		total := 0
		done := make(chan struct{})
		consume := func(name string) {
			_ = q.Consume(c, name, func(_ context.Context, m store.Message) error {
				mu.Lock()
				defer mu.Unlock()
				seen[m.Key] = append(seen[m.Key], string(m.Payload))
				if total++; total == keys*per {
					close(done)
				}
				return nil
			})
		}
		cc, cancel := context.WithCancel(c)
		defer cancel()
		c = cc
		go consume("a")
		go consume("b")
		waitFor(t, done)
		cancel()
		for k := range keys {
			got := seen[fmt.Sprint("case-", k)]
			if len(got) != per {
				t.Fatalf("case-%d: %d messages, want %d", k, len(got), per)
			}
			for i, p := range got {
				if p != fmt.Sprint(i) {
					t.Fatalf("case-%d out of order: %v", k, got)
				}
			}
		}
	})
	t.Run("a failing message is retried, then dead, then replayed", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		must(t, q.Enqueue(c, "k", []byte("poison")))
		must(t, q.Enqueue(c, "k", []byte("after")))
		var attempts atomic.Int32
		fail := atomic.Bool{}
		fail.Store(true)
		got := make(chan string, 10)
		cc, cancel := context.WithCancel(c)
		defer cancel()
		go func() {
			_ = q.Consume(cc, "a", func(_ context.Context, m store.Message) error {
				if string(m.Payload) == "poison" && fail.Load() {
					attempts.Add(1)
					return errors.New("cannot process")
				}
				got <- string(m.Payload)
				return nil
			})
		}()
		want(t, recv(t, got), "after") // the poison message went dead first: order kept
		want(t, attempts.Load(), int32(opts.MaxAttempts))
		dead, err := q.DeadLetters(c)
		must(t, err)
		if len(dead) != 1 || string(dead[0].Payload) != "poison" || dead[0].Err == "" {
			t.Fatalf("dead letters = %+v", dead)
		}
		fail.Store(false)
		must(t, q.Replay(c, dead[0].ID))
		want(t, recv(t, got), "poison")
		dead, err = q.DeadLetters(c)
		must(t, err)
		want(t, len(dead), 0)
		if err := q.Replay(c, "no-such-id"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Replay of an unknown id: %v", err)
		}
	})
	t.Run("consumers with the same name never run a message twice", func(t *testing.T) { sameName(t, newQueue) })
	t.Run("a consumer that stops mid-message hands it to another", func(t *testing.T) {
		q, c := newQueue(t, opts), ctx(t)
		must(t, q.Enqueue(c, "k", []byte("m1")))
		must(t, q.Enqueue(c, "k", []byte("m2")))
		started := make(chan struct{})
		first, stop := context.WithCancel(c)
		go func() {
			_ = q.Consume(first, "dies", func(ctx context.Context, m store.Message) error {
				close(started)
				<-ctx.Done() // dies in the middle of m1
				return ctx.Err()
			})
		}()
		waitFor(t, started)
		stop()
		got := make(chan string, 10)
		cc, cancel := context.WithCancel(c)
		defer cancel()
		go func() {
			_ = q.Consume(cc, "survives", func(_ context.Context, m store.Message) error {
				got <- string(m.Payload)
				return nil
			})
		}()
		want(t, recv(t, got), "m1")
		want(t, recv(t, got), "m2")
	})
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing processed in 10 s")
		return ""
	}
}

func waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatal("timed out")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func want[T comparable](t *testing.T, got, wanted T) {
	t.Helper()
	if got != wanted {
		t.Fatalf("got %v, want %v", got, wanted)
	}
}
