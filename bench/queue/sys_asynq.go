package main

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// asynqSys is a hibiken/asynq client enqueuing tasks and a server with
// Concurrency = consumers, on asynq's defaults otherwise (TaskCheckInterval
// 1 s: a processor that finds the queue empty sleeps 0.5–1.5 s).
type asynqSys struct {
	rdb     *redis.Client
	client  *asynq.Client
	failing bool
}

const asynqTask = "bench:message"

func newAsynq(_ context.Context, srv *redisServer, o sysOptions) (system, error) {
	rdb := srv.client()
	return &asynqSys{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), failing: o.failing}, nil
}

func (a *asynqSys) send(ctx context.Context, items []item) error {
	var opts []asynq.Option
	if a.failing {
		opts = append(opts, asynq.MaxRetry(1000))
	}
	for i := range items {
		if _, err := a.client.EnqueueContext(ctx, asynq.NewTask(asynqTask, items[i].stamp()), opts...); err != nil {
			return err
		}
	}
	return nil
}

func (a *asynqSys) config(n int) asynq.Config {
	cfg := asynq.Config{Concurrency: n, Logger: nopLogger{}, LogLevel: asynq.FatalLevel}
	if a.failing {
		// A retry 1 s after the failure, like the others. The forwarder
		// moves due retries back to the queue every
		// DelayedTaskCheckInterval (default 5 s): 1 s too, so the retry
		// delay is about 1 s and not up to 6.
		cfg.RetryDelayFunc = func(int, error, *asynq.Task) time.Duration { return retryDelay }
		cfg.DelayedTaskCheckInterval = time.Second
	}
	return cfg
}

func (a *asynqSys) start(n int, h handlerFunc) func() {
	srv := asynq.NewServerFromRedisClient(a.rdb, a.config(n))
	mux := asynq.NewServeMux()
	mux.HandleFunc(asynqTask, func(ctx context.Context, t *asynq.Task) error { return h(ctx, t.Payload()) })
	if err := srv.Start(mux); err != nil {
		consumerErrors.Printf("asynq: %v", err)
	}
	return srv.Shutdown
}

func (a *asynqSys) close() {
	a.client.Close()
	a.rdb.Close()
}

type nopLogger struct{}

func (nopLogger) Debug(...any) {}
func (nopLogger) Info(...any)  {}
func (nopLogger) Warn(...any)  {}
func (nopLogger) Error(...any) {}
func (nopLogger) Fatal(...any) {}
