package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botwire/botwire/store"
)

// queueAdmin checks the store.QueueAdmin contract of a queue that
// implements it, and is skipped otherwise.
func queueAdmin(t *testing.T, newQueue func(t *testing.T, o store.QueueOptions) store.Queue) {
	opts := store.QueueOptions{MaxAttempts: 1, RetryDelay: 20 * time.Millisecond, Lease: 2 * time.Second}
	admin := func(t *testing.T) (store.Queue, store.QueueAdmin) {
		q := newQueue(t, opts)
		a, ok := q.(store.QueueAdmin)
		if !ok {
			t.Skipf("%T does not implement store.QueueAdmin", q)
		}
		return q, a
	}
	t.Run("List pages through the pending messages", func(t *testing.T) { listPending(t, admin) })
	t.Run("dead letters: List, Message, DeleteDead, DeleteAllDead", func(t *testing.T) { deadAdmin(t, admin) })
	t.Run("ReplayAll puts every dead letter back", func(t *testing.T) { replayAll(t, admin) })
	t.Run("Pause stops every consumer until Resume", func(t *testing.T) { pauseResume(t, admin) })
	t.Run("a retrying message shows its attempts and last error", func(t *testing.T) {
		q := newQueue(t, store.QueueOptions{MaxAttempts: 3, RetryDelay: time.Minute, Lease: 2 * time.Second})
		a, ok := q.(store.QueueAdmin)
		if !ok {
			t.Skipf("%T does not implement store.QueueAdmin", q)
		}
		c := ctx(t)
		id := enqueue(t, c, q, "k", "fails")
		failed := make(chan struct{}, 1)
		consumers(t, c, q, func(context.Context, store.Message) error {
			failed <- struct{}{}
			return errors.New("first run failed")
		}, "a")
		waitFor(t, failed)
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := a.Message(c, id)
			must(t, err)
			page, err := a.List(c, store.ListOptions{State: store.StatePending})
			must(t, err)
			if len(page.Messages) != 1 || page.Messages[0].ID != id {
				t.Fatalf("List(pending) = %+v, want %s alone", page.Messages, id)
			}
			l := page.Messages[0]
			if m.Attempts >= 1 && m.Err == "first run failed" && l.Attempts == m.Attempts && l.Err == m.Err {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a failed run, Message = %+v and List gave %+v; want 1 attempt and its error", m, l)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// listAll pages through state with limit and returns every message and
// the number of pages, failing on a duplicate id.
func listAll(t *testing.T, c context.Context, a store.QueueAdmin, state store.MessageState, limit int, payload bool) ([]store.Message, []int) {
	t.Helper()
	var all []store.Message
	var sizes []int
	seen := map[string]bool{}
	cursor := ""
	for range 100 {
		page, err := a.List(c, store.ListOptions{State: state, Cursor: cursor, Limit: limit, Payload: payload})
		must(t, err)
		sizes = append(sizes, len(page.Messages))
		for _, m := range page.Messages {
			if seen[m.ID] {
				t.Fatalf("List(%s) gave %s twice", state, m.ID)
			}
			seen[m.ID] = true
			all = append(all, m)
		}
		if page.Next == "" {
			return all, sizes
		}
		if page.Next == cursor {
			t.Fatalf("List(%s) gave the cursor %q back", state, cursor)
		}
		cursor = page.Next
	}
	t.Fatalf("List(%s) did not end in 100 pages", state)
	return nil, nil
}

// listPending: 120 messages come in three pages of a Limit of 50 (the
// default too), each once, oldest first, payloads only on request; a
// pending message is found by Message with its payload.
func listPending(t *testing.T, admin func(t *testing.T) (store.Queue, store.QueueAdmin)) {
	q, a := admin(t)
	c := ctx(t)
	if page, err := a.List(c, store.ListOptions{State: store.StatePending}); err != nil || len(page.Messages) != 0 || page.Next != "" {
		t.Fatalf("an empty queue's List = %+v, %v; want an empty last page", page, err)
	}
	const n = 120
	byID := map[string]int{}
	for i := range n {
		id, err := q.Enqueue(c, store.Message{Key: fmt.Sprint("case-", i%7), Payload: []byte(fmt.Sprint("p", i)),
			Header: map[string]string{"n": fmt.Sprint(i)}})
		must(t, err)
		byID[id] = i
	}
	all, sizes := listAll(t, c, a, store.StatePending, 50, false)
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Errorf("pages of %v messages, want [50 50 20]", sizes)
	}
	if len(all) != n {
		t.Fatalf("List gave %d messages, want %d", len(all), n)
	}
	last := map[string]int{} // per key, the last message's number: in order
	for i, m := range all {
		k, ok := byID[m.ID]
		if !ok {
			t.Fatalf("List gave %q, not an id Enqueue returned", m.ID)
		}
		if m.Payload != nil {
			t.Fatalf("List without Payload gave %s's payload %q", m.ID, m.Payload)
		}
		if m.Key != fmt.Sprint("case-", k%7) || m.Header["n"] != fmt.Sprint(k) {
			t.Fatalf("List gave %s as %+v, want key case-%d and header n=%d", m.ID, m, k%7, k)
		}
		if m.Enqueued.IsZero() {
			t.Fatalf("List gave %s without its enqueue time", m.ID)
		}
		if i > 0 && m.Enqueued.Before(all[i-1].Enqueued) {
			t.Fatalf("List is not oldest first: %s (%v) after %s (%v)", m.ID, m.Enqueued, all[i-1].ID, all[i-1].Enqueued)
		}
		if p, ok := last[m.Key]; ok && p > k {
			t.Fatalf("List gave message %d of %s after %d", k, m.Key, p)
		}
		last[m.Key] = k
	}
	page, err := a.List(c, store.ListOptions{State: store.StatePending, Payload: true})
	must(t, err)
	if len(page.Messages) != 50 || page.Next == "" {
		t.Fatalf("the default Limit gave %d messages (next %q), want 50 and a next page", len(page.Messages), page.Next)
	}
	for _, m := range page.Messages {
		if string(m.Payload) != fmt.Sprint("p", byID[m.ID]) {
			t.Fatalf("List with Payload gave %s's payload %q, want p%d", m.ID, m.Payload, byID[m.ID])
		}
	}
	if page, err := a.List(c, store.ListOptions{State: store.StatePending, Limit: 5000}); err != nil || len(page.Messages) != n || page.Next != "" {
		t.Fatalf("List with Limit 5000 gave %d messages (next %q, %v), want all %d", len(page.Messages), page.Next, err, n)
	}
	for id, i := range byID {
		m, err := a.Message(c, id)
		must(t, err)
		if m.ID != id || string(m.Payload) != fmt.Sprint("p", i) || m.Header["n"] != fmt.Sprint(i) {
			t.Fatalf("Message(%s) = %+v, want payload p%d", id, m, i)
		}
		break
	}
	if _, err := a.Message(c, "no-such-id"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Message of an unknown id: %v, want store.ErrNotFound", err)
	}
	if _, err := a.List(c, store.ListOptions{State: "sideways"}); err == nil {
		t.Fatal("List of an unknown state did not fail")
	}
}

// makeDead enqueues n messages that fail (the queue's MaxAttempts is 1)
// and returns their ids once they are dead letters.
func makeDead(t *testing.T, c context.Context, q store.Queue, a store.QueueAdmin, n int, ok *atomic.Bool, ran chan<- string) map[string]string {
	t.Helper()
	ids := map[string]string{} // id: payload
	for i := range n {
		p := fmt.Sprint("dead-", i)
		id, err := q.Enqueue(c, store.Message{Key: fmt.Sprint("k", i%2), Payload: []byte(p), Header: map[string]string{"h": p}})
		must(t, err)
		ids[id] = p
	}
	consumers(t, c, q, func(_ context.Context, m store.Message) error {
		if ok.Load() {
			ran <- string(m.Payload)
			return nil
		}
		return errors.New("fails: " + string(m.Payload))
	}, "a")
	deadline := time.Now().Add(10 * time.Second)
	for {
		dead, err := q.DeadLetters(c)
		must(t, err)
		if len(dead) == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters after 10 s, want %d", len(dead), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func deadAdmin(t *testing.T, admin func(t *testing.T) (store.Queue, store.QueueAdmin)) {
	q, a := admin(t)
	c := ctx(t)
	var ok atomic.Bool
	ids := makeDead(t, c, q, a, 5, &ok, make(chan string, 10))

	all, sizes := listAll(t, c, a, store.StateDead, 2, false)
	if fmt.Sprint(sizes) != "[2 2 1]" || len(all) != 5 {
		t.Fatalf("dead letters in pages of %v, want [2 2 1]", sizes)
	}
	for i, m := range all {
		if _, ok := ids[m.ID]; !ok {
			t.Fatalf("List(dead) gave %q, not a dead letter's id", m.ID)
		}
		if m.Payload != nil || !strings.HasPrefix(m.Err, "fails: ") || m.Header["h"] != ids[m.ID] {
			t.Fatalf("List(dead) gave %+v, want no payload, its error and header", m)
		}
		if i > 0 && m.Enqueued.Before(all[i-1].Enqueued) {
			t.Fatalf("List(dead) is not oldest first: %s after %s", m.ID, all[i-1].ID)
		}
	}
	withPayload, _ := listAll(t, c, a, store.StateDead, 0, true)
	for _, m := range withPayload {
		if string(m.Payload) != ids[m.ID] {
			t.Fatalf("List(dead) with Payload gave %s's payload %q, want %q", m.ID, m.Payload, ids[m.ID])
		}
	}
	if page, err := a.List(c, store.ListOptions{State: store.StatePending}); err != nil || len(page.Messages) != 0 {
		t.Fatalf("List(pending) with only dead letters = %+v, %v; want none", page.Messages, err)
	}

	first := all[0].ID
	m, err := a.Message(c, first)
	must(t, err)
	if m.ID != first || string(m.Payload) != ids[first] || m.Err == "" || m.Header["h"] != ids[first] {
		t.Fatalf("Message(%s) of a dead letter = %+v", first, m)
	}
	must(t, a.DeleteDead(c, first))
	if _, err := a.Message(c, first); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Message of a deleted dead letter: %v, want store.ErrNotFound", err)
	}
	if err := a.DeleteDead(c, first); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteDead of a deleted dead letter: %v, want store.ErrNotFound", err)
	}
	if dead, err := q.DeadLetters(c); err != nil || len(dead) != 4 {
		t.Fatalf("after DeleteDead, %d dead letters (%v), want 4", len(dead), err)
	}
	n, err := a.DeleteAllDead(c)
	must(t, err)
	want(t, n, 4)
	if dead, err := q.DeadLetters(c); err != nil || len(dead) != 0 {
		t.Fatalf("after DeleteAllDead, %d dead letters (%v), want none", len(dead), err)
	}
	n, err = a.DeleteAllDead(c)
	must(t, err)
	want(t, n, 0)
}

func replayAll(t *testing.T, admin func(t *testing.T) (store.Queue, store.QueueAdmin)) {
	q, a := admin(t)
	c := ctx(t)
	var ok atomic.Bool
	ran := make(chan string, 10)
	ids := makeDead(t, c, q, a, 3, &ok, ran)
	ok.Store(true)
	n, err := a.ReplayAll(c)
	must(t, err)
	want(t, n, 3)
	got := map[string]bool{}
	for range 3 {
		got[recv(t, ran)] = true
	}
	for _, p := range ids {
		if !got[p] {
			t.Fatalf("after ReplayAll, ran %v, want every one of %v", got, ids)
		}
	}
	if dead, err := q.DeadLetters(c); err != nil || len(dead) != 0 {
		t.Fatalf("after ReplayAll, %d dead letters (%v), want none", len(dead), err)
	}
	n, err = a.ReplayAll(c)
	must(t, err)
	want(t, n, 0)
}

// pauseResume: with two consumers, a message running when Pause is called
// finishes; a message enqueued while paused does not run in 500 ms, and
// runs soon after Resume; Paused and Stats.Paused say so.
func pauseResume(t *testing.T, admin func(t *testing.T) (store.Queue, store.QueueAdmin)) {
	q, a := admin(t)
	c := ctx(t)
	paused := func(wanted bool) {
		t.Helper()
		p, err := a.Paused(c)
		must(t, err)
		if p != wanted {
			t.Fatalf("Paused = %v, want %v", p, wanted)
		}
		st, err := a.Stats(c)
		must(t, err)
		if st.Paused != wanted {
			t.Fatalf("Stats = %+v, want Paused %v", st, wanted)
		}
	}
	paused(false)
	ran := make(chan string, 10)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	consumers(t, c, q, func(ctx context.Context, m store.Message) error {
		if string(m.Payload) == "slow" {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ran <- string(m.Payload)
		return nil
	}, "a", "b")
	enqueue(t, c, q, "warm", "warm-up")
	want(t, recv(t, ran), "warm-up") // the consumers run
	enqueue(t, c, q, "slow", "slow")
	waitFor(t, started)

	must(t, a.Pause(c))
	paused(true)
	must(t, a.Pause(c)) // twice is once
	close(release)
	want(t, recv(t, ran), "slow") // a message running when paused finishes
	for i := range 4 {
		enqueue(t, c, q, fmt.Sprint("while-", i), fmt.Sprint("while-", i))
	}
	select {
	case p := <-ran:
		t.Fatalf("%s ran while the queue was paused", p)
	case <-time.After(500 * time.Millisecond):
	}
	paused(true)

	resumed := time.Now()
	must(t, a.Resume(c))
	paused(false)
	got := map[string]bool{}
	for range 4 {
		select {
		case p := <-ran:
			got[p] = true
		case <-time.After(3 * time.Second):
			t.Fatalf("after Resume, only %v ran in 3 s", got)
		}
	}
	if d := time.Since(resumed); d > 1500*time.Millisecond {
		t.Errorf("the messages ran %v after Resume, want about a second at most", d)
	}
	must(t, a.Resume(c)) // twice is once
	paused(false)
}
