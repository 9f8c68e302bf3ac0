package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// floor is what Redis itself costs: producers pipeline XADD into one
// stream, each consumer reads it with XREADGROUP COUNT 256 BLOCK and
// acknowledges each batch with one XACK. It keeps no per-key order
// (consumers read interleaved batches) and has no dead letters: a failed
// message stays pending and its reader runs it again a retry delay later.
type floor struct {
	srv *redisServer
	rdb *redis.Client // the producers'
}

const (
	floorStream = "floor:stream"
	floorGroup  = "floor"
	floorBlock  = 2 * time.Second
)

func newFloor(ctx context.Context, srv *redisServer, _ sysOptions) (system, error) {
	rdb := srv.client()
	err := rdb.XGroupCreateMkStream(ctx, floorStream, floorGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		rdb.Close()
		return nil, err
	}
	return &floor{srv: srv, rdb: rdb}, nil
}

func (f *floor) send(ctx context.Context, items []item) error {
	pipe := f.rdb.Pipeline()
	for i := range items {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: floorStream, Values: []any{"p", items[i].stamp()}})
	}
	_, err := pipe.Exec(ctx)
	return err
}

func (f *floor) start(n int, h handlerFunc) func() {
	g := newGroup()
	var readers []*redis.Client
	for i := range n {
		rdb := f.srv.client()
		readers = append(readers, rdb)
		g.wg.Go(func() { f.read(g.ctx, rdb, fmt.Sprintf("bench-%d", i), h) })
	}
	return func() {
		g.cancel()
		for _, rdb := range readers {
			rdb.Close() // ends a blocked XREADGROUP at once
		}
		g.wg.Wait()
	}
}

type retryEntry struct {
	msg redis.XMessage
	due time.Time
}

// read is one consumer, on a client of its own that stop closes to end a
// blocked read. Redis calls use a context that is not cancelled: the loop
// checks ctx between reads.
func (f *floor) read(ctx context.Context, rdb *redis.Client, consumer string, h handlerFunc) {
	bg := context.WithoutCancel(ctx)
	var retries []retryEntry
	for ctx.Err() == nil {
		block := floorBlock
		if len(retries) > 0 {
			block = min(block, max(time.Until(retries[0].due), time.Millisecond))
		}
		res, err := rdb.XReadGroup(bg, &redis.XReadGroupArgs{Group: floorGroup, Consumer: consumer,
			Streams: []string{floorStream, ">"}, Count: 256, Block: block}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			if ctx.Err() != nil {
				return
			}
			consumerErrors.Printf("floor %s: %v", consumer, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var acks []string
		run := func(m redis.XMessage) {
			p, _ := m.Values["p"].(string)
			if h(ctx, []byte(p)) == nil {
				acks = append(acks, m.ID)
			} else {
				retries = append(retries, retryEntry{m, time.Now().Add(retryDelay)})
			}
		}
		for _, s := range res {
			for _, m := range s.Messages {
				run(m)
			}
		}
		// Retries are appended in the order they fall due.
		now := time.Now()
		var due []retryEntry
		for len(retries) > 0 && !retries[0].due.After(now) {
			due = append(due, retries[0])
			retries = retries[1:]
		}
		for _, r := range due {
			run(r.msg)
		}
		if len(acks) > 0 {
			if err := rdb.XAck(bg, floorStream, floorGroup, acks...).Err(); err != nil && ctx.Err() == nil {
				consumerErrors.Printf("floor %s: ack: %v", consumer, err)
			}
		}
	}
}

func (f *floor) close() { f.rdb.Close() }
