package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

// watermillSys is watermill's Redis Streams publisher, and one subscriber
// per consumer in one consumer group; each subscriber handles one message
// at a time (Ack before it reads the next).
type watermillSys struct {
	srv     *redisServer
	rdb     *redis.Client
	pub     *redisstream.Publisher
	failing bool
}

const (
	watermillTopic = "bench-topic"
	watermillGroup = "bench"
)

func newWatermill(_ context.Context, srv *redisServer, o sysOptions) (system, error) {
	rdb := srv.client()
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: rdb}, watermill.NopLogger{})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return &watermillSys{srv: srv, rdb: rdb, pub: pub, failing: o.failing}, nil
}

func (w *watermillSys) send(ctx context.Context, items []item) error {
	for i := range items {
		m := message.NewMessage(watermill.NewUUID(), items[i].stamp())
		m.SetContext(ctx)
		if err := w.pub.Publish(watermillTopic, m); err != nil {
			return err
		}
	}
	return nil
}

func (w *watermillSys) start(n int, h handlerFunc) func() {
	g := newGroup()
	var subs []*redisstream.Subscriber
	for i := range n {
		cfg := redisstream.SubscriberConfig{
			// Each subscriber has a client of its own: Close closes it.
			Client:        w.srv.client(),
			Consumer:      fmt.Sprintf("bench-%d", i),
			ConsumerGroup: watermillGroup,
			// Without it the first read blocks forever and outlives Close.
			DisableIndefiniteInitialBlock: true,
		}
		if w.failing {
			cfg.NackResendSleep = retryDelay
		}
		sub, err := redisstream.NewSubscriber(cfg, watermill.NopLogger{})
		if err != nil {
			consumerErrors.Printf("watermill: %v", err)
			continue
		}
		msgs, err := sub.Subscribe(g.ctx, watermillTopic)
		if err != nil {
			consumerErrors.Printf("watermill: %v", err)
			sub.Close()
			continue
		}
		subs = append(subs, sub)
		g.wg.Go(func() {
			for m := range msgs {
				if h(m.Context(), m.Payload) == nil {
					m.Ack()
				} else {
					m.Nack()
				}
			}
		})
	}
	return func() {
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Go(func() { s.Close() })
		}
		wg.Wait()
		g.stop()
	}
}

func (w *watermillSys) close() { w.pub.Close() } // closes w.rdb
