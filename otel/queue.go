package botwireotel

import (
	"context"
	"errors"
	"time"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// StatsTimeout bounds each read of a queue's statistics when metrics are
// collected, so a slow store cannot hold a scrape.
const StatsTimeout = 5 * time.Second

// ObserveQueue reports q's state as the observable instruments
// botwire.queue.messages (one series per botwire.queue.state: pending,
// running, retrying, dead) and botwire.queue.latency (the age of the oldest
// message not yet acknowledged), with botwire.queue.name = name
// ("onetalk.queue"). q.Stats is read each time the metrics are collected,
// so every replica reports the queue's one truth; a failed read reports
// nothing for that collection and counts a botwire.store.errors
// {botwire.store.name="queue", botwire.store.operation="stats"}.
//
// The memory and Redis queues implement store.QueueInspector. Call
// unregister to stop reporting q.
func (o *Observer) ObserveQueue(name string, q store.QueueInspector) (unregister func() error, err error) {
	if name == "" {
		return nil, errors.New("botwireotel: ObserveQueue needs the queue's name")
	}
	if q == nil {
		return nil, errors.New("botwireotel: ObserveQueue needs a queue")
	}
	queue := keyQueue.String(name)
	state := func(s string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(queue, keyQueueState.String(s)))
	}
	pending, running, retrying, dead := state("pending"), state("running"), state("retrying"), state("dead")
	latency := metric.WithAttributeSet(attribute.NewSet(queue))
	failed := o.event(eventKey{kind: observe.KindStoreError, a: observe.StoreQueue, b: "stats"})

	reg, err := o.m.meter.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, StatsTimeout)
		defer cancel()
		st, err := q.Stats(ctx)
		if err != nil {
			o.m.storeErrors.Add(ctx, 1, failed.add...)
			return nil
		}
		obs.ObserveInt64(o.m.queueMessages, int64(st.Pending), pending)
		obs.ObserveInt64(o.m.queueMessages, int64(st.Running), running)
		obs.ObserveInt64(o.m.queueMessages, int64(st.Retrying), retrying)
		obs.ObserveInt64(o.m.queueMessages, int64(st.Dead), dead)
		obs.ObserveFloat64(o.m.queueLatency, st.OldestPending.Seconds(), latency)
		return nil
	}, o.m.queueMessages, o.m.queueLatency)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
