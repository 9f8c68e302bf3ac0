package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
	"github.com/botwire/botwire/store/storetest"
)

var prefixes atomic.Int64

// fresh gives every store its own key prefix on one server.
func fresh(t *testing.T, srv *redisServer, o store.QueueOptions) *redisstore.Store {
	return redisstore.New(srv.client(t), redisstore.Options{Prefix: fmt.Sprint("t", prefixes.Add(1)), Partitions: 4, Queue: o})
}

func TestContract(t *testing.T) {
	srv := startRedis(t)
	storetest.Deduplicator(t, func(t *testing.T) store.Deduplicator { return fresh(t, srv, store.QueueOptions{}) })
	storetest.RateLimiter(t, func(t *testing.T) store.RateLimiter { return fresh(t, srv, store.QueueOptions{}) })
	storetest.Queue(t, func(t *testing.T, o store.QueueOptions) store.Queue { return fresh(t, srv, o) })
}

// shared returns a store on its own client with a fixed prefix, so several
// calls (replicas) share state.
func shared(t *testing.T, srv *redisServer, prefix string) *redisstore.Store {
	return redisStore(t, srv, prefix)
}

func redisStore(t testing.TB, srv *redisServer, prefix string) *redisstore.Store {
	return redisstore.New(srv.client(t), redisstore.Options{Prefix: prefix})
}
