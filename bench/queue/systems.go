package main

import (
	"context"
	"log"
	"os"
	"sync"
	"time"
)

// handlerFunc is the benchmark's handler (recorder.handle).
type handlerFunc func(ctx context.Context, payload []byte) error

// system is one queue implementation under test, set up on a flushed
// Redis for one scenario.
type system interface {
	// send enqueues the items; one producer goroutine calls it at a time.
	// The floor pipelines a batch, the others enqueue one by one. Each
	// item is stamped (item.stamp) right before it is handed over.
	send(ctx context.Context, items []item) error
	// start runs n consumers calling h until the returned stop, which
	// waits for them to end.
	start(n int, h handlerFunc) (stop func())
	// close frees the system's clients.
	close()
}

// sysOptions is what a scenario asks of a system.
type sysOptions struct {
	// failing: one key fails every attempt; retry after 1 s, and keep
	// retrying (no dead letter within the run).
	failing bool
}

type impl struct {
	name string
	make func(ctx context.Context, srv *redisServer, o sysOptions) (system, error)
}

var impls = []impl{
	{"botwire", newBotwire},
	{"asynq", newAsynq},
	{"watermill", newWatermill},
	{"floor", newFloor},
}

// retryDelay is the retry delay of the failing scenario, for every
// implementation that has one.
const retryDelay = time.Second

// consumerErrors reports errors a consumer loop returned (a Consume that
// failed is started again after 100 ms, as onetalk's WithQueue does).
var consumerErrors = log.New(os.Stderr, "consumer: ", 0)

// group runs goroutines until stop; stop cancels their context and waits.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newGroup() *group {
	ctx, cancel := context.WithCancel(context.Background())
	return &group{ctx: ctx, cancel: cancel}
}

func (g *group) stop() {
	g.cancel()
	g.wg.Wait()
}
