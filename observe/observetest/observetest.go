// Package observetest records what botwire reports to an observer, for
// tests: give a Recorder to WithObserver and assert on what it saw.
//
//	rec := observetest.NewRecorder()
//	h, _ := onetalk.NewHandler(secret, fn, onetalk.WithObserver(rec))
//	// ... deliver a webhook ...
//	d := rec.Deliveries()[0] // Outcome, Reason, Status, Conversation, ...
//
// A Recorder is also an observe.Propagator: it gives every operation
// started outside any other a trace id, passes it to the operations
// started in its context, and carries it through a queue's message header,
// so a test can check that a queued callback and the client calls it makes
// belong to the delivery that queued the message (Record.Trace).
package observetest

import (
	"context"
	"strconv"
	"sync"

	"github.com/botwire/botwire/observe"
)

// Header is the message header in which a Recorder carries its trace id.
const Header = "observetest-trace"

// Record is one call the Recorder received. Op names the method
// ("DeliveryEnd", "Event", ...); exactly one of the pointers is set, to a
// copy of what the observer was given at that moment.
type Record struct {
	Op    string
	Trace string

	Delivery *observe.Delivery
	Callback *observe.Callback
	Call     *observe.Call
	Attempt  *observe.Attempt
	Enqueue  *observe.Enqueue
	Event    *observe.Event
}

// Recorder is an observe.Observer that keeps everything it receives. It is
// safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records []Record
	traces  int
	changed chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

var _ observe.Propagator = (*Recorder)(nil)

type traceKey struct{}

// trace returns ctx's trace id, or a new one in a derived context.
func (r *Recorder) trace(ctx context.Context) (context.Context, string) {
	if t, ok := ctx.Value(traceKey{}).(string); ok {
		return ctx, t
	}
	r.mu.Lock()
	r.traces++
	t := "t" + strconv.Itoa(r.traces)
	r.mu.Unlock()
	return context.WithValue(ctx, traceKey{}, t), t
}

func traceOf(ctx context.Context) string {
	t, _ := ctx.Value(traceKey{}).(string)
	return t
}

func (r *Recorder) add(rec Record) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *Recorder) DeliveryStart(ctx context.Context, d *observe.Delivery) context.Context {
	ctx, t := r.trace(ctx)
	c := *d
	r.add(Record{Op: "DeliveryStart", Trace: t, Delivery: &c})
	return ctx
}

func (r *Recorder) DeliveryEnd(ctx context.Context, d *observe.Delivery) {
	c := *d
	r.add(Record{Op: "DeliveryEnd", Trace: traceOf(ctx), Delivery: &c})
}

func (r *Recorder) CallbackStart(ctx context.Context, cb *observe.Callback) context.Context {
	ctx, t := r.trace(ctx)
	c := *cb
	r.add(Record{Op: "CallbackStart", Trace: t, Callback: &c})
	return ctx
}

func (r *Recorder) CallbackEnd(ctx context.Context, cb *observe.Callback) {
	c := *cb
	r.add(Record{Op: "CallbackEnd", Trace: traceOf(ctx), Callback: &c})
}

func (r *Recorder) CallStart(ctx context.Context, call *observe.Call) context.Context {
	ctx, t := r.trace(ctx)
	c := *call
	r.add(Record{Op: "CallStart", Trace: t, Call: &c})
	return ctx
}

func (r *Recorder) CallEnd(ctx context.Context, call *observe.Call) {
	c := *call
	r.add(Record{Op: "CallEnd", Trace: traceOf(ctx), Call: &c})
}

func (r *Recorder) AttemptStart(ctx context.Context, a *observe.Attempt) context.Context {
	ctx, t := r.trace(ctx)
	c := *a
	r.add(Record{Op: "AttemptStart", Trace: t, Attempt: &c})
	return ctx
}

func (r *Recorder) AttemptEnd(ctx context.Context, a *observe.Attempt) {
	c := *a
	r.add(Record{Op: "AttemptEnd", Trace: traceOf(ctx), Attempt: &c})
}

func (r *Recorder) EnqueueStart(ctx context.Context, e *observe.Enqueue) context.Context {
	ctx, t := r.trace(ctx)
	c := *e
	c.Header = copyHeader(e.Header)
	r.add(Record{Op: "EnqueueStart", Trace: t, Enqueue: &c})
	return ctx
}

func (r *Recorder) EnqueueEnd(ctx context.Context, e *observe.Enqueue) {
	c := *e
	c.Header = copyHeader(e.Header)
	r.add(Record{Op: "EnqueueEnd", Trace: traceOf(ctx), Enqueue: &c})
}

func (r *Recorder) Event(ctx context.Context, e observe.Event) {
	r.add(Record{Op: "Event", Trace: traceOf(ctx), Event: &e})
}

// Inject writes ctx's trace id into header.
func (r *Recorder) Inject(ctx context.Context, header map[string]string) {
	if t := traceOf(ctx); t != "" && header != nil {
		header[Header] = t
	}
}

// Extract returns ctx with the trace id of header, if it has one.
func (r *Recorder) Extract(ctx context.Context, header map[string]string) context.Context {
	if t := header[Header]; t != "" {
		return context.WithValue(ctx, traceKey{}, t)
	}
	return ctx
}

func copyHeader(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	c := make(map[string]string, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// Records returns everything recorded so far, in order.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.records = nil
	r.mu.Unlock()
}

// Deliveries returns the ended deliveries, in order.
func (r *Recorder) Deliveries() []observe.Delivery {
	var out []observe.Delivery
	for _, rec := range r.Records() {
		if rec.Op == "DeliveryEnd" {
			out = append(out, *rec.Delivery)
		}
	}
	return out
}

// Callbacks returns the ended callbacks, in order.
func (r *Recorder) Callbacks() []observe.Callback {
	var out []observe.Callback
	for _, rec := range r.Records() {
		if rec.Op == "CallbackEnd" {
			out = append(out, *rec.Callback)
		}
	}
	return out
}

// Calls returns the ended client calls, in order.
func (r *Recorder) Calls() []observe.Call {
	var out []observe.Call
	for _, rec := range r.Records() {
		if rec.Op == "CallEnd" {
			out = append(out, *rec.Call)
		}
	}
	return out
}

// Attempts returns the ended HTTP attempts, in order.
func (r *Recorder) Attempts() []observe.Attempt {
	var out []observe.Attempt
	for _, rec := range r.Records() {
		if rec.Op == "AttemptEnd" {
			out = append(out, *rec.Attempt)
		}
	}
	return out
}

// Enqueues returns the ended enqueues, in order.
func (r *Recorder) Enqueues() []observe.Enqueue {
	var out []observe.Enqueue
	for _, rec := range r.Records() {
		if rec.Op == "EnqueueEnd" {
			out = append(out, *rec.Enqueue)
		}
	}
	return out
}

// Events returns the point events, in order; with kinds, only those.
func (r *Recorder) Events(kinds ...observe.Kind) []observe.Event {
	var out []observe.Event
	for _, rec := range r.Records() {
		if rec.Op != "Event" {
			continue
		}
		if len(kinds) == 0 {
			out = append(out, *rec.Event)
			continue
		}
		for _, k := range kinds {
			if rec.Event.Kind == k {
				out = append(out, *rec.Event)
				break
			}
		}
	}
	return out
}

// Wait blocks until ok returns true for the records so far, or ctx ends
// (it returns ctx's error). Use it for what happens after a handler
// answered: a queued callback, a Botcopy late callback.
func (r *Recorder) Wait(ctx context.Context, ok func([]Record) bool) error {
	for {
		r.mu.Lock()
		recs := append([]Record(nil), r.records...)
		changed := r.changed
		r.mu.Unlock()
		if ok(recs) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
