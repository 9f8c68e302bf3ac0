package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// botwire is redisstore's queue, used only through store.Queue.
type botwire struct {
	rdb *redis.Client
	q   store.Queue
}

func botwireOptions(o sysOptions) redisstore.Options {
	opts := redisstore.Options{Prefix: "bench", Partitions: 16}
	if o.failing {
		opts.Queue = store.QueueOptions{RetryDelay: retryDelay, MaxAttempts: 1000}
	}
	return opts
}

func newBotwire(_ context.Context, srv *redisServer, o sysOptions) (system, error) {
	rdb := srv.client()
	return &botwire{rdb: rdb, q: redisstore.New(rdb, botwireOptions(o))}, nil
}

func (b *botwire) send(ctx context.Context, items []item) error {
	for i := range items {
		if _, err := b.q.Enqueue(ctx, store.Message{Key: items[i].key, Payload: items[i].stamp()}); err != nil {
			return err
		}
	}
	return nil
}

func (b *botwire) start(n int, h handlerFunc) func() {
	g := newGroup()
	for i := range n {
		g.wg.Go(func() { consumeLoop(g.ctx, b.q, fmt.Sprintf("bench-%d", i), h) })
	}
	return g.stop
}

// consumeLoop is one consumer goroutine: one Consume call, started again
// when it fails, as onetalk's WithQueue runs its consumers.
func consumeLoop(ctx context.Context, q store.Queue, name string, h handlerFunc) {
	for ctx.Err() == nil {
		err := q.Consume(ctx, name, func(ctx context.Context, m store.Message) error { return h(ctx, m.Payload) })
		if err != nil && ctx.Err() == nil {
			consumerErrors.Printf("botwire %s: %v", name, err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (b *botwire) close() { b.rdb.Close() }
