package onetalk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tenant"
)

// durable is the WithQueue mode: messages are acknowledged once a
// store.Queue holds them, and consumers run the callbacks.
type durable struct {
	h         *Handler
	q         store.Queue
	consumers int

	consume context.Context    // the consumers' context, ended by stop
	stop    context.CancelFunc // stops taking messages
	work    context.Context    // the callbacks' context, cancelled when Shutdown gives up
	abort   context.CancelFunc
	done    sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

func newDurable(h *Handler, q store.Queue, consumers int) *durable {
	consume, stop := context.WithCancel(context.Background())
	work, abort := context.WithCancel(context.Background())
	d := &durable{h: h, q: q, consumers: consumers, consume: consume, stop: stop, work: work, abort: abort}
	for i := range consumers {
		d.done.Add(1)
		go func() {
			defer d.done.Done()
			// The name is only a readable prefix: the queue gives every
			// Consume call an identity of its own (hostname and pid are
			// the same in every container whose bot is PID 1, and in
			// every handler of one process).
			name := fmt.Sprintf("onetalk-%d", i)
			for consume.Err() == nil {
				if err := q.Consume(consume, name, d.process); err != nil && consume.Err() == nil {
					h.logger.Error("onetalk: queue consumer failed; retrying", "consumer", name, "error", err)
					h.probe.Event(consume, observe.Event{Kind: observe.KindConsumerRestarted, Queue: queueName, Err: err})
					sleep(consume, queueRetryWait)
				}
			}
		}()
	}
	return d
}

// queueName is the queue's name for the observer.
const queueName = "onetalk.queue"

var errShutDown = errors.New("onetalk: handler shut down")

// enqueue stores the message durably; only then may the webhook answer
// 200. With an observer that propagates trace context, the message's
// header carries the delivery's.
func (d *durable) enqueue(ctx context.Context, req *InboundRequest) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return errShutDown
	}
	m := store.Message{Key: req.CaseID, Payload: req.Raw}
	id, isTenant := tenant.FromContext(ctx)
	if d.h.tenants != nil {
		m.Key = tenantKey(id, req.CaseID)
	}
	obs := d.h.probe.Observer
	if obs == nil {
		_, err := d.q.Enqueue(ctx, m)
		return err
	}
	e := &observe.Enqueue{Platform: observe.OneTalk, Queue: queueName, Conversation: req.CaseID,
		MessageID: req.Message.ID, Start: time.Now()}
	if isTenant {
		e.Tenant = id
	}
	ctx = obs.EnqueueStart(ctx, e)
	if p, ok := obs.(observe.Propagator); ok {
		m.Header = map[string]string{}
		p.Inject(ctx, m.Header)
		e.Header = m.Header
	}
	qid, err := d.q.Enqueue(ctx, m)
	e.QueueMessageID, e.Err, e.Duration = qid, err, time.Since(e.Start)
	obs.EnqueueEnd(ctx, e)
	return err
}

// tenantKey is the queue key of a tenant's case: messages are in order per
// tenant and case. The tenant comes first with its length, so the consumer
// reads it back (splitTenantKey) whatever characters either holds.
func tenantKey(id, caseID string) string { return strconv.Itoa(len(id)) + ":" + id + caseID }

func splitTenantKey(key string) (id string, ok bool) {
	n, rest, found := strings.Cut(key, ":")
	l, err := strconv.Atoi(n)
	if !found || err != nil || l < 0 || l > len(rest) {
		return "", false
	}
	return rest[:l], true
}

// process runs the callback for a queued message. The callback's context
// outlives a stop of the consumers, so Shutdown lets it finish; it ends
// when the queue takes the message back while the consumers run (qctx
// ends before a stop: the consumer lost its lease and another runs the
// message), so the callback does not go on beside its successor.
func (d *durable) process(qctx context.Context, m store.Message) error {
	req, err := decodeInbound(m.Payload)
	if err != nil {
		return fmt.Errorf("onetalk: queued message %s is not a OneTalk request: %w", m.ID, err)
	}
	fn := d.h.fn
	if !req.Message.Known() && d.h.onUnknown != nil {
		fn = d.h.onUnknown
	}
	base := d.work
	var tenantID string
	if d.h.tenants != nil {
		id, ok := splitTenantKey(m.Key)
		if !ok {
			return fmt.Errorf("onetalk: queued message %s has no tenant in its key", m.ID)
		}
		base, tenantID = tenant.NewContext(base, id), id
	}
	var cb *observe.Callback
	if obs := d.h.probe.Observer; obs != nil {
		if p, ok := obs.(observe.Propagator); ok && len(m.Header) > 0 {
			base = p.Extract(base, m.Header)
		}
		cb = &observe.Callback{Tenant: tenantID, Conversation: req.CaseID, MessageID: req.Message.ID,
			Type: req.Message.Type, Queued: true, Queue: queueName, QueueMessageID: m.ID, Attempt: m.Attempts}
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	// qctx derives from d.consume, so a stop has ended d.consume by the
	// time this runs.
	defer context.AfterFunc(qctx, func() {
		if d.consume.Err() == nil {
			cancel()
		}
	})()
	if err := d.h.call(ctx, cb, req, fn); err != nil {
		d.h.logger.ErrorContext(d.work, "onetalk: callback failed (queued; it will be retried)",
			inbound.LogArgs(ctx, "caseID", req.CaseID, "messageID", req.Message.ID, "attempt", m.Attempts, "error", err)...)
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
