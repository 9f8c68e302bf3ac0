package onetalk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/botwire/botwire/store"
)

// durable is the WithQueue mode: messages are acknowledged once a
// store.Queue holds them, and consumers run the callbacks.
type durable struct {
	h         *Handler
	q         store.Queue
	consumers int

	stop   context.CancelFunc // stops taking messages
	work   context.Context    // the callbacks' context, cancelled when Shutdown gives up
	abort  context.CancelFunc
	done   sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

func newDurable(h *Handler, q store.Queue, consumers int) *durable {
	consume, stop := context.WithCancel(context.Background())
	work, abort := context.WithCancel(context.Background())
	d := &durable{h: h, q: q, consumers: consumers, stop: stop, work: work, abort: abort}
	host, _ := os.Hostname()
	for i := range consumers {
		d.done.Add(1)
		go func() {
			defer d.done.Done()
			name := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), i)
			for consume.Err() == nil {
				if err := q.Consume(consume, name, d.process); err != nil && consume.Err() == nil {
					h.logger.Error("onetalk: queue consumer failed; retrying", "consumer", name, "error", err)
					sleep(consume, queueRetryWait)
				}
			}
		}()
	}
	return d
}

// enqueue stores the message durably; only then may the webhook answer
// 200.
func (d *durable) enqueue(ctx context.Context, req *InboundRequest) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return errors.New("onetalk: handler shut down")
	}
	return d.q.Enqueue(ctx, req.CaseID, req.Raw)
}

// process runs the callback for a queued message. The callback's context
// outlives a stop of the consumers, so Shutdown lets it finish.
func (d *durable) process(_ context.Context, m store.Message) error {
	req, err := decodeInbound(m.Payload)
	if err != nil {
		return fmt.Errorf("onetalk: queued message %s is not a OneTalk request: %w", m.ID, err)
	}
	fn := d.h.fn
	if !req.Message.Known() && d.h.onUnknown != nil {
		fn = d.h.onUnknown
	}
	if err := d.h.call(d.work, req, fn); err != nil {
		d.h.logger.ErrorContext(d.work, "onetalk: callback failed (queued; it will be retried)",
			"caseID", req.CaseID, "messageID", req.Message.ID, "attempt", m.Attempts, "error", err)
		return err
	}
	return nil
}

// shutdown stops taking messages and waits for the callbacks running; the
// queued messages stay in the queue for the next consumer.
func (d *durable) shutdown(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.stop()
	finished := make(chan struct{})
	go func() {
		d.done.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		d.abort()
		return nil
	case <-ctx.Done():
		d.abort()
		<-finished
		return ctx.Err()
	}
}
