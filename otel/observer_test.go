package botwireotel_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/botwire/botwire/observe"
	botwireotel "github.com/botwire/botwire/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

const sendTemplate = "/api/visitor/v1/webhook/chatbot/custom/{org}/{bot}"

// call plays a client call: one attempt per status, a Retry between two.
func call(ctx context.Context, o observe.Observer, platform, op string, statuses ...int) {
	c := &observe.Call{Platform: platform, Operation: op, URLTemplate: sendTemplate, Start: time.Now()}
	ctx = o.CallStart(ctx, c)
	for i, status := range statuses {
		a := &observe.Attempt{Call: c, N: i, Method: "POST", Scheme: "https", Host: "onetalk-api.taptalk.io", Port: 443,
			Start: time.Now()}
		actx := o.AttemptStart(ctx, a)
		a.Status, a.Duration = status, time.Duration(20+i)*time.Millisecond
		o.AttemptEnd(actx, a)
		c.Attempts, c.Status = i+1, status
		if status >= 300 && i < len(statuses)-1 {
			o.Event(ctx, observe.Event{Kind: observe.KindRetry, Platform: platform, Operation: op,
				Reason: observe.ReasonStatus503, Attempt: i, Wait: 200 * time.Millisecond})
		}
	}
	if c.Status >= 300 {
		c.Err = fmt.Errorf("onetalk: %d", c.Status)
	}
	c.Duration = 250 * time.Millisecond
	o.CallEnd(ctx, c)
}

// deliver plays a webhook delivery answered inline, whose callback makes
// a client call.
func deliver(ctx context.Context, o observe.Observer, outcome observe.Outcome, reason observe.Reason, cbErr error) {
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Start: time.Now(), Credential: -1}
	ctx = o.DeliveryStart(ctx, d)
	d.Credential, d.Conversation, d.MessageID, d.Type = 1, "FBED34A1EF", "msg-1", "text"
	o.Event(ctx, observe.Event{Kind: observe.KindAuthenticated, Platform: d.Platform, Endpoint: d.Endpoint, Credential: 1})
	o.Event(ctx, observe.Event{Kind: observe.KindDedupAcquired, Platform: d.Platform, Endpoint: d.Endpoint})
	cb := &observe.Callback{Platform: d.Platform, Endpoint: d.Endpoint, Conversation: d.Conversation,
		MessageID: d.MessageID, Type: d.Type, Attempt: 1, Start: time.Now()}
	cctx := o.CallbackStart(ctx, cb)
	call(cctx, o, observe.OneTalk, "SendMessage", 503, 200)
	cb.Err, cb.Duration = cbErr, 300*time.Millisecond
	if cbErr != nil {
		cb.Reason = observe.ReasonCallbackError
	}
	o.CallbackEnd(cctx, cb)
	d.Outcome, d.Reason, d.Err, d.Duration = outcome, reason, cbErr, 310*time.Millisecond
	d.Status = 200
	if cbErr != nil {
		d.Status = 500
	}
	o.DeliveryEnd(ctx, d)
}

func TestDeliveryAnswered(t *testing.T) {
	h := newHarness(t)
	deliver(context.Background(), h.obs, observe.OutcomeAnswered, "", nil)
	h.golden("delivery_answered")
}

func TestDeliveryFailed(t *testing.T) {
	h := newHarness(t)
	deliver(context.Background(), h.obs, observe.OutcomeFailed, observe.ReasonCallbackError, errors.New("boom"))
	h.golden("delivery_failed")
}

// A refused delivery counts with its reason in botwire.webhook.deliveries
// and stays out of messaging.process.duration.
func TestDeliveryRejected(t *testing.T) {
	h := newHarness(t)
	for _, r := range []struct {
		reason observe.Reason
		status int
	}{
		{observe.ReasonMethodNotAllowed, 405},
		{observe.ReasonUnauthenticated, 401},
		{observe.ReasonUnauthenticated, 401},
		{observe.ReasonTooLarge, 413},
		{observe.ReasonMalformed, 400},
	} {
		d := &observe.Delivery{Platform: observe.Userlike, Endpoint: "webhook", Credential: -1}
		ctx := h.obs.DeliveryStart(context.Background(), d)
		h.obs.Event(ctx, observe.Event{Kind: observe.KindRejected, Platform: d.Platform, Endpoint: d.Endpoint, Reason: r.reason})
		d.Outcome, d.Reason, d.Status, d.Duration = observe.OutcomeRejected, r.reason, r.status, time.Millisecond
		h.obs.DeliveryEnd(ctx, d)
	}
	d := &observe.Delivery{Platform: observe.Userlike, Endpoint: "webhook", Credential: 0}
	ctx := h.obs.DeliveryStart(context.Background(), d)
	d.Outcome, d.Reason, d.Status, d.Duration = observe.OutcomeBusy, observe.ReasonStoreUnavailable, 503, 2*time.Second
	h.obs.DeliveryEnd(ctx, d)
	h.golden("delivery_rejected")
}

// The queue keeps one trace: the webhook's CONSUMER span, the PRODUCER
// span of the enqueue, then, through the message's header, the queued
// callback's CONSUMER span (parent and link) and the client call it makes.
func TestQueueOneTrace(t *testing.T) {
	h := newHarness(t)
	o := h.obs
	header := enqueueDelivery(context.Background(), o)
	require.Contains(t, header, "traceparent")

	// The consumer runs elsewhere, in a context of its own.
	ctx := o.Extract(context.Background(), header)
	cb := &observe.Callback{Platform: observe.OneTalk, Endpoint: "webhook", Queued: true, Queue: "onetalk.queue",
		QueueMessageID: "1-0", Attempt: 2, Type: "text", Conversation: "FBED34A1EF"}
	cctx := o.CallbackStart(ctx, cb)
	call(cctx, o, observe.OneTalk, "SendMessage", 200)
	cb.Duration = 40 * time.Millisecond
	o.CallbackEnd(cctx, cb)

	spans := h.spans.Ended()
	require.Len(t, spans, 5)
	byName := map[string]trace.SpanContext{}
	for _, s := range spans {
		byName[s.Name()] = s.SpanContext()
		assert.Equal(t, spans[0].SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in another trace", s.Name())
	}
	for _, s := range spans {
		if s.Name() != "process onetalk.queue" {
			continue
		}
		assert.Equal(t, trace.SpanKindConsumer, s.SpanKind())
		assert.Equal(t, byName["send onetalk.queue"].SpanID(), s.Parent().SpanID())
		require.Len(t, s.Links(), 1)
		assert.Equal(t, byName["send onetalk.queue"], s.Links()[0].SpanContext.WithRemote(false))
	}
	h.golden("queue")
}

// enqueueDelivery plays a delivery acknowledged once queued and returns
// the queued message's header.
func enqueueDelivery(ctx context.Context, o *botwireotel.Observer) map[string]string {
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Credential: -1}
	ctx = o.DeliveryStart(ctx, d)
	d.Credential, d.MessageID, d.Type = 0, "msg-2", "text"
	e := &observe.Enqueue{Platform: observe.OneTalk, Queue: "onetalk.queue", Conversation: "FBED34A1EF",
		MessageID: "msg-2", Header: map[string]string{}}
	ectx := o.EnqueueStart(ctx, e)
	o.Inject(ectx, e.Header)
	e.QueueMessageID, e.Duration = "1-0", 2*time.Millisecond
	o.EnqueueEnd(ectx, e)
	d.Outcome, d.Reason, d.Status, d.Duration = observe.OutcomeQueued, "", 200, 3*time.Millisecond
	o.DeliveryEnd(ctx, d)
	return e.Header
}

func TestEnqueueFailed(t *testing.T) {
	h := newHarness(t)
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Credential: 0}
	ctx := h.obs.DeliveryStart(context.Background(), d)
	e := &observe.Enqueue{Platform: observe.OneTalk, Queue: "onetalk.queue", Header: map[string]string{}}
	ectx := h.obs.EnqueueStart(ctx, e)
	e.Err = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	h.obs.EnqueueEnd(ectx, e)
	h.obs.Event(ctx, observe.Event{Kind: observe.KindStoreError, Platform: d.Platform, Store: observe.StoreQueue,
		Op: "enqueue", Err: e.Err})
	d.Outcome, d.Reason, d.Status, d.Err = observe.OutcomeBusy, observe.ReasonStoreUnavailable, 503, e.Err
	h.obs.DeliveryEnd(ctx, d)
	h.golden("enqueue_failed")
}

// Every event kind: a span event on the span of its context, and the
// counters of the metrics table.
func TestEvents(t *testing.T) {
	h := newHarness(t)
	o := h.obs
	d := &observe.Delivery{Platform: observe.Botcopy, Endpoint: "handover", Credential: 0}
	ctx := o.DeliveryStart(context.Background(), d)
	bc := observe.Botcopy
	for _, e := range []observe.Event{
		{Kind: observe.KindUnknownType, Platform: bc},
		{Kind: observe.KindDedupReplayed, Platform: bc},
		{Kind: observe.KindDedupWaiting, Platform: bc, Wait: 50 * time.Millisecond},
		{Kind: observe.KindDedupWaiting, Platform: bc, Wait: 100 * time.Millisecond},
		{Kind: observe.KindDedupTimeout, Platform: bc, Wait: 10 * time.Second},
		{Kind: observe.KindFallbackSent, Platform: bc, Reason: observe.ReasonDeadline},
		{Kind: observe.KindFallbackSent, Platform: bc, Reason: observe.ReasonPanic},
		{Kind: observe.KindLateCallback, Platform: bc, Duration: 9 * time.Second},
		{Kind: observe.KindRetry, Platform: observe.Userlike, Operation: "SendMessage", Reason: observe.ReasonStatus429,
			Source: observe.SourceServer, Attempt: 0, Wait: 3 * time.Second},
		{Kind: observe.KindRetry, Platform: observe.Userlike, Operation: "SendMessage", Reason: observe.ReasonNotSent,
			Attempt: 1, Wait: 400 * time.Millisecond},
		{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: "SendMessage", Source: observe.SourceLocal,
			Wait: 700 * time.Millisecond, Key: "cid-1"},
		{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: "SendMessage", Source: observe.SourceShared,
			Wait: 1200 * time.Millisecond},
		{Kind: observe.KindRateLimited, Platform: observe.Userlike, Operation: "SendMessage", Source: observe.SourceServer,
			Wait: 3 * time.Second},
		{Kind: observe.KindGaveUp, Platform: observe.Userlike, Operation: "SendMessage", Attempt: 4,
			Err: context.DeadlineExceeded},
		{Kind: observe.KindStoreError, Store: observe.StoreDedup, Op: "claim", Err: context.DeadlineExceeded},
		{Kind: observe.KindStoreError, Store: observe.StoreRateLimit, Op: "take", Err: errors.New("redis: nil")},
		{Kind: observe.KindQueueRetry, Queue: "onetalk.queue", MessageID: "1-0", Attempt: 2, Err: errors.New("x")},
		{Kind: observe.KindDeadLettered, Platform: observe.OneTalk, Queue: "onetalk.queue", MessageID: "1-0", Attempt: 5},
		{Kind: observe.KindDeadLettered, Queue: "onetalk.queue", MessageID: "2-0", Attempt: 5},
		{Kind: observe.KindReplayed, Queue: "onetalk.queue", MessageID: "1-0"},
		{Kind: observe.KindConsumerRestarted, Queue: "onetalk.queue", Err: fmt.Errorf("consume: %w", context.Canceled)},
		{Kind: observe.Kind(200)},
	} {
		o.Event(ctx, e)
	}
	d.Outcome, d.Reason, d.Status, d.Duration = observe.OutcomeFallback, observe.ReasonDeadline, 200, 8*time.Second
	o.DeliveryEnd(ctx, d)
	// With no span in the context, the metrics still count.
	o.Event(context.Background(), observe.Event{Kind: observe.KindStoreError, Store: observe.StoreDedup, Op: "claim"})
	h.golden("events")
}

// WithConversationAttribute puts the conversation and tenant on spans
// only; WithoutAttemptSpans drops the CLIENT spans and
// http.client.request.duration.
func TestOptions(t *testing.T) {
	h := newHarness(t, botwireotel.WithConversationAttribute(), botwireotel.WithoutAttemptSpans())
	o := h.obs
	d := &observe.Delivery{Platform: observe.Ultimate, Endpoint: "chat", Tenant: "acme", Conversation: "conv-7",
		MessageID: "m-7", Type: "message", Credential: 0}
	ctx := o.DeliveryStart(context.Background(), d)
	cb := &observe.Callback{Platform: d.Platform, Endpoint: d.Endpoint, Tenant: d.Tenant, Conversation: d.Conversation,
		Type: "message", Attempt: 1}
	cctx := o.CallbackStart(ctx, cb)
	o.Event(cctx, observe.Event{Kind: observe.KindRateLimited, Platform: d.Platform, Tenant: "acme", Key: "conv-7",
		Source: observe.SourceLocal, Wait: time.Second})
	call(cctx, o, observe.Ultimate, "Converse", 200)
	o.CallbackEnd(cctx, cb)
	d.Outcome, d.Status = observe.OutcomeAnswered, 200
	o.DeliveryEnd(ctx, d)
	e := &observe.Enqueue{Platform: observe.Ultimate, Tenant: "acme", Conversation: "conv-7"}
	o.EnqueueEnd(o.EnqueueStart(context.Background(), e), e) // no header, no queue name
	h.golden("options")
}

// A client call that gives up: the CLIENT spans of a 4xx are errors, the
// call's error.type is its status.
func TestCallFailed(t *testing.T) {
	h := newHarness(t)
	o := h.obs
	c := &observe.Call{Platform: observe.EasyDialog, Operation: "Reply"}
	ctx := o.CallStart(context.Background(), c)
	for i, err := range []error{&net.OpError{Op: "dial", Err: errors.New("refused")}, context.DeadlineExceeded} {
		a := &observe.Attempt{Call: c, N: i, Method: "POST", Host: "api.example", Port: 443}
		actx := o.AttemptStart(ctx, a)
		a.Err, a.Duration = err, time.Second
		o.AttemptEnd(actx, a)
	}
	a := &observe.Attempt{Call: c, N: 2, Method: "PURGE", Host: "api.example"}
	actx := o.AttemptStart(ctx, a)
	a.Status, a.Duration = 404, 5*time.Millisecond
	o.AttemptEnd(actx, a)
	o.Event(ctx, observe.Event{Kind: observe.KindGaveUp, Platform: c.Platform, Operation: c.Operation, Attempt: 3})
	c.Attempts, c.Status, c.Err, c.Duration = 3, 404, errors.New("easydialog: 404"), 2*time.Second
	o.CallEnd(ctx, c)
	h.golden("call_failed")
}

// An End finds its own span even when given a context derived from a
// later Start (the callback's), and a stray End with no Start is a no-op.
func TestEndFindsItsSpan(t *testing.T) {
	h := newHarness(t)
	o := h.obs
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook"}
	ctx := o.DeliveryStart(context.Background(), d)
	cb := &observe.Callback{Platform: observe.OneTalk}
	cctx := o.CallbackStart(ctx, cb)
	o.CallbackEnd(cctx, cb)
	o.DeliveryEnd(cctx, d)
	o.CallEnd(context.Background(), &observe.Call{Platform: observe.OneTalk, Operation: "SendMessage"})
	o.AttemptEnd(context.Background(), &observe.Attempt{Method: "POST"})
	spans := h.spans.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "onetalk callback", spans[0].Name())
	assert.Equal(t, "process onetalk.webhook", spans[1].Name())
}

func TestPropagatorNilHeader(t *testing.T) {
	h := newHarness(t)
	ctx := h.obs.DeliveryStart(context.Background(), &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook"})
	h.obs.Inject(ctx, nil) // no panic
	ctx = h.obs.Extract(context.Background(), nil)
	assert.False(t, trace.SpanContextFromContext(ctx).IsValid())
}

// The Observer combines with others through observe.Multi and stays a
// Propagator there.
func TestMulti(t *testing.T) {
	h := newHarness(t)
	m := observe.Multi(h.obs, observe.Base{})
	p, ok := m.(observe.Propagator)
	require.True(t, ok)
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook"}
	ctx := m.DeliveryStart(context.Background(), d)
	header := map[string]string{}
	p.Inject(ctx, header)
	m.DeliveryEnd(ctx, d)
	assert.Contains(t, header, "traceparent")
	assert.Len(t, h.spans.Ended(), 1)
}

// Many goroutines share one Observer (its caches fill concurrently).
func TestConcurrent(t *testing.T) {
	h := newHarness(t)
	platforms := []string{observe.OneTalk, observe.Ultimate, observe.Userlike, observe.Botcopy, observe.EasyDialog}
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 50 {
				p := platforms[(i+j)%len(platforms)]
				d := &observe.Delivery{Platform: p, Endpoint: fmt.Sprint("e", j%3)}
				ctx := h.obs.DeliveryStart(context.Background(), d)
				call(ctx, h.obs, p, fmt.Sprint("Op", j%4), 200)
				d.Outcome = observe.OutcomeAnswered
				h.obs.DeliveryEnd(ctx, d)
			}
		}()
	}
	for range 8 {
		<-done
	}
	assert.Len(t, h.spans.Ended(), 8*50*3)
	assert.Contains(t, renderMetrics(h.metrics()), `{botwire.delivery.outcome="answered", botwire.endpoint="e2", botwire.platform="userlike"}`)
}

// With no propagator given or set globally, the queue still keeps the
// trace (W3C Trace Context).
func TestDefaultPropagator(t *testing.T) {
	h := newHarness(t)
	o := botwireotel.NewObserver(botwireotel.WithTracerProvider(h.tp))
	ctx := o.DeliveryStart(context.Background(), &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook"})
	header := map[string]string{}
	o.Inject(ctx, header)
	require.Contains(t, header, "traceparent")
	got := trace.SpanContextFromContext(o.Extract(context.Background(), header))
	assert.Equal(t, trace.SpanContextFromContext(ctx).TraceID(), got.TraceID())
}
