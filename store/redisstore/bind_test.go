package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
	"github.com/botwire/botwire/store/storetest"
	"github.com/botwire/botwire/userlike"
)

func TestBinder(t *testing.T) {
	srv := startRedis(t)
	storetest.Binder(t, func(t *testing.T) store.Binder { return fresh(t, srv, store.QueueOptions{}) })
}

// Two bots on one Store ran each other's callbacks (40 deliveries to bot A
// ran bot B's callback 23 times): a Store serves one bot, and a second is
// refused at construction; replicas of the bot share it.
func TestStoreServesOneBot(t *testing.T) {
	srv := startRedis(t)
	st := shared(t, srv, "one-bot")
	noop := func(context.Context, *onetalk.InboundRequest) error { return nil }
	for range 2 {
		h, err := onetalk.NewHandler(secret, noop, onetalk.WithQueue(st, 1), onetalk.WithDeduplication(st, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Shutdown(context.Background())
	}
	_, err := onetalk.NewHandler("bot-b-secret", noop, onetalk.WithQueue(st, 1))
	if err == nil || !strings.Contains(err.Error(), "onetalk: the store passed to WithQueue already serves another bot") {
		t.Fatalf("a second OneTalk bot on the queue: %v", err)
	}
	_, err = userlike.NewHandler(func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
		userlike.WithWebhookHeader("X-Token", secret), userlike.WithDeduplication(st, 0))
	if err == nil || !strings.Contains(err.Error(), "userlike: the store passed to WithDeduplication already serves another bot") {
		t.Fatalf("another platform's bot on the store: %v", err)
	}
}

// Two bots on one Redis, each on its own Prefix, with the same case and
// message ids: each callback runs for its own bot's deliveries only, once
// each (neither the queues nor the delivery keys meet).
func TestBotsOnTheirOwnPrefixNeverMeet(t *testing.T) {
	srv := startRedis(t)
	var mu sync.Mutex
	ran := map[string][]string{}
	bots := map[string]*onetalk.Handler{}
	secrets := map[string]string{"a": "secret-of-a", "b": "secret-of-b"}
	for name, sec := range secrets {
		st := redisstore.New(srv.client(t), redisstore.Options{Prefix: "bot-" + name, Partitions: 2,
			Queue: store.QueueOptions{Lease: 5 * time.Second, RetryDelay: 20 * time.Millisecond}})
		h, err := onetalk.NewHandler(sec, func(_ context.Context, r *onetalk.InboundRequest) error {
			mu.Lock()
			defer mu.Unlock()
			ran[name] = append(ran[name], r.Message.Body())
			return nil
		}, onetalk.WithQueue(st, 2), onetalk.WithDeduplication(st, 0))
		if err != nil {
			t.Fatal(err)
		}
		bots[name] = h
	}
	const n = 40
	for i := range n {
		for name, h := range bots {
			// Same case and message id for both bots; the body says whose.
			r := fmt.Sprintf(`{"caseID":"C%d","message":{"id":"m%d","type":"text","text":{"body":"%s-%d"}}}`, i%3, i, name, i)
			deliverBody(t, h, secrets[name], r)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		done := len(ran["a"]) >= n && len(ran["b"]) >= n
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ran %d and %d of %d in 20 s", len(ran["a"]), len(ran["b"]), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	for _, h := range bots {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for name, bodies := range ran {
		if len(bodies) != n {
			t.Errorf("bot %s ran %d callbacks for %d deliveries", name, len(bodies), n)
		}
		for _, b := range bodies {
			if !strings.HasPrefix(b, name+"-") {
				t.Errorf("bot %s ran %s", name, b)
			}
		}
	}
}
