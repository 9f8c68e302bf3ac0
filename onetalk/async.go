package onetalk

import (
	"context"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/observe"
)

// job is one acknowledged message waiting for its callback.
type job struct {
	ctx context.Context // the request's values, without its cancellation
	req *InboundRequest
	fn  HandlerFunc
	cb  *observe.Callback // what the observer is told of the run (nil: none)
}

// caseQueue holds the waiting messages of one case. A case is handed to at
// most one worker at a time, so its messages run one after the other in
// arrival order while other cases run in parallel.
type caseQueue struct {
	id        string
	jobs      []job
	scheduled bool // in pool.ready
	running   bool // a worker runs its head message
}

// pool is the WithAsync worker pool. Messages wait in per-case queues; a
// case with waiting messages and no running one is in ready, which workers
// take from. The bound counts messages that wait: at most queue of them,
// plus one for each idle worker (as an unbuffered hand-off would accept).
type pool struct {
	h       *Handler
	workers int
	queue   int
	timeout time.Duration
	ready   chan *caseQueue // capacity queue+workers: never blocks a send

	mu      sync.Mutex
	cases   map[string]*caseQueue
	waiting int // acknowledged messages not yet started
	idle    int // workers not running a callback
	closed  bool
	readyOK bool // ready is still open

	base   context.Context // cancelled when Shutdown gives up
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func newPool(h *Handler, workers, queue int, timeout time.Duration) *pool {
	base, cancel := context.WithCancel(context.Background())
	p := &pool{
		h: h, workers: workers, queue: queue, timeout: timeout,
		ready: make(chan *caseQueue, queue+workers), cases: make(map[string]*caseQueue),
		idle: workers, readyOK: true, base: base, cancel: cancel,
	}
	p.done.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

// enqueue accepts the message unless the pool is full or shutting down
// (closed).
func (p *pool) enqueue(ctx context.Context, req *InboundRequest, fn HandlerFunc) (ok, closed bool) {
	cb := p.h.probe.NewCallback(ctx)
	if cb != nil {
		cb.Queued = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false, true
	}
	if p.waiting >= p.queue+p.idle {
		return false, false
	}
	p.waiting++
	cq := p.cases[req.CaseID]
	if cq == nil {
		cq = &caseQueue{id: req.CaseID}
		p.cases[req.CaseID] = cq
	}
	cq.jobs = append(cq.jobs, job{ctx: context.WithoutCancel(ctx), req: req, fn: fn, cb: cb})
	p.schedule(cq)
	return true, false
}

// schedule puts cq in ready when it has a message to run and no worker has
// it. p.mu is held. Each case is in ready at most once and only while it has
// waiting messages, so ready holds at most waiting <= queue+workers entries
// and the send never blocks.
func (p *pool) schedule(cq *caseQueue) {
	if cq.scheduled || cq.running || len(cq.jobs) == 0 {
		return
	}
	cq.scheduled = true
	p.ready <- cq
}

func (p *pool) work() {
	defer p.done.Done()
	for cq := range p.ready {
		p.mu.Lock()
		j := cq.jobs[0]
		cq.jobs[0] = job{}
		cq.jobs = cq.jobs[1:]
		cq.scheduled, cq.running = false, true
		p.waiting--
		p.idle--
		p.mu.Unlock()

		if p.base.Err() != nil {
			p.h.logger.Error("onetalk: message dropped at shutdown", "caseID", j.req.CaseID, "messageID", j.req.Message.ID)
		} else {
			p.run(j)
		}

		p.mu.Lock()
		cq.running = false
		p.idle++
		if len(cq.jobs) == 0 {
			delete(p.cases, cq.id)
		} else {
			p.schedule(cq)
		}
		p.closeIfDrained()
		p.mu.Unlock()
	}
}

// closeIfDrained closes ready once the pool is shut and nothing waits or
// runs, which ends the workers. p.mu is held.
func (p *pool) closeIfDrained() {
	if p.closed && p.readyOK && p.waiting == 0 && p.idle == p.workers {
		p.readyOK = false
		close(p.ready)
	}
}

func (p *pool) run(j job) {
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	stop := context.AfterFunc(p.base, cancel)
	defer stop()
	if p.timeout > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, p.timeout)
		defer c2()
	}
	if err := p.h.call(ctx, j.cb, j.req, j.fn); err != nil {
		// The message was acknowledged already: OneTalk will not redeliver.
		p.h.logger.ErrorContext(ctx, "onetalk: callback failed (async; message not redelivered)",
			inbound.LogArgs(ctx, "caseID", j.req.CaseID, "messageID", j.req.Message.ID, "error", err)...)
	}
}

// waitingCount is the number of acknowledged messages not yet started.
func (p *pool) waitingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

func (p *pool) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.closeIfDrained()
	p.mu.Unlock()

	drained := make(chan struct{})
	go func() {
		p.done.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		p.cancel()
		return nil
	case <-ctx.Done():
		// Running callbacks see their context cancelled and waiting
		// messages are dropped; the workers end as soon as the callbacks
		// return.
		p.cancel()
		return ctx.Err()
	}
}

// queueRetryWait is the pause before a consumer whose queue failed tries
// again.
const queueRetryWait = time.Second

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
