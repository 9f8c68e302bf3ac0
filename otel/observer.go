package botwireotel

import (
	"context"
	"sync"

	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/observe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/botwire/botwire/otel"

// Version is the botwire release this module belongs to; it is the
// instrumentation scope's version.
const Version = version.Version

// Observer is an observe.Observer and an observe.Propagator that emits
// OpenTelemetry spans and metrics (see the package documentation). Create
// it with NewObserver; it is safe for concurrent use, and one Observer
// serves every handler, client and store of a process.
type Observer struct {
	// Base gives the methods added to observe.Observer later a no-op
	// default until this module implements them.
	observe.Base

	tracer       trace.Tracer
	prop         propagation.TextMapPropagator
	conversation bool // WithConversationAttribute
	noAttempts   bool // WithoutAttemptSpans
	m            instruments

	deliveries  cache[deliveryKey, *deliveryStatic]
	outcomes    cache[outcomeKey, measure]
	processes   cache[processKey, measure]
	callbacks   cache[callbackKey, *callbackStatic]
	enqueues    cache[string, *enqueueStatic]
	sent        cache[processKey, measure]
	calls       cache[callKey, *callStatic]
	callEnds    cache[callEndKey, measure]
	attempts    cache[attemptKey, *attemptStatic]
	attemptEnds cache[attemptEndKey, measure]
	events      cache[eventKey, measure]
}

var (
	_ observe.Observer   = (*Observer)(nil)
	_ observe.Propagator = (*Observer)(nil)
)

// Option configures NewObserver.
type Option func(*config)

type config struct {
	tp           trace.TracerProvider
	mp           metric.MeterProvider
	prop         propagation.TextMapPropagator
	conversation bool
	noAttempts   bool
}

// WithTracerProvider sets where spans go (default otel.GetTracerProvider(),
// read when NewObserver is called).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go (default otel.GetMeterProvider(),
// read when NewObserver is called).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagator sets how trace context is written into and read from a
// queued message's header. The default is otel.GetTextMapPropagator(),
// read on each Inject and Extract so that one set later applies, or W3C
// Trace Context (propagation.TraceContext) while no global propagator is
// set: the queue keeps the trace either way.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.prop = p }
}

// WithConversationAttribute puts the conversation id (OneTalk's case,
// Userlike's cid, ...) as messaging.message.conversation_id and the tenant
// as botwire.tenant on spans. They identify a customer's conversation, so
// they are off by default; they never go on metrics.
func WithConversationAttribute() Option {
	return func(c *config) { c.conversation = true }
}

// WithoutAttemptSpans turns off the CLIENT span of each HTTP attempt and
// the http.client.request.duration histogram: use it when the clients'
// http.Client already has an otelhttp.NewTransport, which records both.
// The logical call spans and botwire's client metrics stay.
func WithoutAttemptSpans() Option {
	return func(c *config) { c.noAttempts = true }
}

// NewObserver returns an Observer that reports to the providers of opts.
func NewObserver(opts ...Option) *Observer {
	var c config
	for _, opt := range opts {
		opt(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	o := &Observer{
		tracer: c.tp.Tracer(ScopeName,
			trace.WithInstrumentationVersion(Version), trace.WithSchemaURL(semconv.SchemaURL)),
		prop:         c.prop,
		conversation: c.conversation,
		noAttempts:   c.noAttempts,
	}
	o.m = newInstruments(c.mp.Meter(ScopeName,
		metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL)))
	return o
}

func (o *Observer) propagator() propagation.TextMapPropagator {
	if o.prop != nil {
		return o.prop
	}
	if p := otel.GetTextMapPropagator(); len(p.Fields()) > 0 {
		return p
	}
	// No global propagator was set: the queue still keeps the trace.
	return propagation.TraceContext{}
}

// Inject writes the trace context of ctx (the enqueue's span) into a
// queued message's header. A nil header is left alone.
func (o *Observer) Inject(ctx context.Context, header map[string]string) {
	if header == nil {
		return
	}
	o.propagator().Inject(ctx, propagation.MapCarrier(header))
}

// Extract returns ctx with the trace context of a queued message's header,
// the parent of the queued callback's span.
func (o *Observer) Extract(ctx context.Context, header map[string]string) context.Context {
	if len(header) == 0 {
		return ctx
	}
	return o.propagator().Extract(ctx, propagation.MapCarrier(header))
}

// The context keys under which a Start leaves its span for the matching
// End: one per operation, so an End finds its own span even in a context
// derived further (a callback's, a call's).
type (
	deliverySpanKey struct{}
	callbackSpanKey struct{}
	enqueueSpanKey  struct{}
	callSpanKey     struct{}
	attemptSpanKey  struct{}
)

func spanFrom(ctx context.Context, key any) trace.Span {
	s, _ := ctx.Value(key).(trace.Span)
	return s
}

// start starts a span and returns the context carrying it. Only a
// recording span is kept for End: a span that is not recorded has nothing
// to end, and its context (parent of what follows) is in ctx already.
func (o *Observer) start(ctx context.Context, key any, name string, opts []trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := o.tracer.Start(ctx, name, opts...)
	if span.IsRecording() {
		ctx = context.WithValue(ctx, key, span)
	}
	return ctx, span
}

// attrs is the list of attributes a span gets at its end or an event.
// The lists are pooled: the SDK copies what it is given (as any
// implementation must, the slice being a variadic argument).
type attrs []attribute.KeyValue

var attrPool = sync.Pool{New: func() any { a := make(attrs, 0, 16); return &a }}

func newAttrs() *attrs { return attrPool.Get().(*attrs) }

func (a *attrs) free() {
	if cap(*a) > 64 {
		return
	}
	clear(*a)
	*a = (*a)[:0]
	attrPool.Put(a)
}

func (a *attrs) add(kv attribute.KeyValue) { *a = append(*a, kv) }

func (a *attrs) str(k attribute.Key, v string) {
	if v != "" {
		*a = append(*a, k.String(v))
	}
}

// end sets the attributes, the status and ends span.
func end(span trace.Span, a *attrs, errType string, failed bool) {
	if len(*a) > 0 {
		span.SetAttributes(*a...)
	}
	if failed {
		span.SetStatus(codes.Error, errType)
	}
	span.End()
	a.free()
}

// conversationAttrs adds the opt-in ids.
func (o *Observer) conversationAttrs(a *attrs, conversation, tenant string) {
	if o.conversation {
		a.str(semconv.MessagingMessageConversationIDKey, conversation)
		a.str(keyTenant, tenant)
	}
}

// DeliveryStart starts the delivery's CONSUMER span.
func (o *Observer) DeliveryStart(ctx context.Context, d *observe.Delivery) context.Context {
	s := o.deliveryStatic(d.Platform, d.Endpoint)
	ctx, _ = o.start(ctx, deliverySpanKey{}, s.name, s.opts)
	return ctx
}

// DeliveryEnd ends the delivery's span and counts it.
func (o *Observer) DeliveryEnd(ctx context.Context, d *observe.Delivery) {
	errType, failed := deliveryError(d)
	s := o.deliveryStatic(d.Platform, d.Endpoint)
	if span := spanFrom(ctx, deliverySpanKey{}); span != nil {
		a := s.endAttrs()
		a.str(semconv.MessagingMessageIDKey, d.MessageID)
		a.str(keyDeliveryOutcome, string(d.Outcome))
		a.str(keyDeliveryReason, string(d.Reason))
		a.str(keyMessageType, d.Type)
		if d.Credential >= 0 && processed(d) {
			a.add(keyCredential.Int(d.Credential))
		}
		if d.Status > 0 {
			a.add(semconv.HTTPResponseStatusCode(d.Status))
		}
		a.str(semconv.ErrorTypeKey, errType)
		o.conversationAttrs(a, d.Conversation, d.Tenant)
		end(span, a, errType, failed)
	}
	m := s.answered
	if d.Outcome != observe.OutcomeAnswered || d.Reason != "" {
		m = o.outcome(d.Platform, d.Endpoint, d.Outcome, d.Reason)
	}
	o.m.deliveries.Add(ctx, 1, m.add...)
	if processed(d) {
		m := s.ok
		if errType != "" {
			m = o.process(d.Platform, s.dest, "process", errType)
		}
		o.m.processDuration.Record(ctx, d.Duration.Seconds(), m.rec...)
	}
}

// processed reports whether a delivery got past its authentication: the
// ones refused before (405, 413, 401, a failed tenant lookup) were never
// processed and stay out of messaging.process.duration.
func processed(d *observe.Delivery) bool {
	switch d.Reason {
	case observe.ReasonMethodNotAllowed, observe.ReasonTooLarge, observe.ReasonUnauthenticated, observe.ReasonTenantLookup:
		return false
	}
	return true
}

// deliveryError returns a delivery's error.type (empty when it has none)
// and whether its span's status is Error: a refused delivery (4xx) has an
// error.type but is the caller's error, as the HTTP server convention
// treats a 4xx.
func deliveryError(d *observe.Delivery) (errType string, failed bool) {
	switch d.Outcome {
	case observe.OutcomeRejected:
		return errorType(d.Reason, d.Err, 0), false
	case observe.OutcomeBusy, observe.OutcomeFailed, observe.OutcomeFallback:
		return errorType(d.Reason, d.Err, 0), true
	}
	if d.Err != nil {
		return errorType(d.Reason, d.Err, 0), true
	}
	return "", false
}

// CallbackStart starts the callback's span: CONSUMER "process {queue}"
// from a queue, INTERNAL "{platform} callback" inline.
func (o *Observer) CallbackStart(ctx context.Context, c *observe.Callback) context.Context {
	s := o.callbackStatic(c.Platform, c.Endpoint, c.Queued, c.Queue)
	if !c.Queued {
		ctx, _ = o.start(ctx, callbackSpanKey{}, s.name, s.opts)
		return ctx
	}
	// Single-message processing: the producer's context is the parent
	// and, as the messaging conventions ask of a process span, a link.
	opts := s.opts
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		opts = append(opts[:len(opts):len(opts)], trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	ctx, _ = o.start(ctx, callbackSpanKey{}, s.name, opts)
	return ctx
}

// CallbackEnd ends the callback's span; from a queue, it records
// messaging.process.duration and messaging.client.consumed.messages.
func (o *Observer) CallbackEnd(ctx context.Context, c *observe.Callback) {
	var errType string
	if c.Err != nil {
		errType = errorType(c.Reason, c.Err, 0)
	}
	s := o.callbackStatic(c.Platform, c.Endpoint, c.Queued, c.Queue)
	if span := spanFrom(ctx, callbackSpanKey{}); span != nil {
		a := s.endAttrs()
		a.str(keyCallbackType, c.Type)
		if c.Queued {
			a.str(semconv.MessagingMessageIDKey, c.QueueMessageID)
			if c.Attempt > 0 {
				a.add(keyAttempt.Int(c.Attempt))
			}
		}
		a.str(semconv.ErrorTypeKey, errType)
		o.conversationAttrs(a, c.Conversation, c.Tenant)
		end(span, a, errType, c.Err != nil)
	}
	if c.Queued {
		m := s.ok
		if errType != "" {
			m = o.process(systemBotwire, s.dest, "process", errType)
		}
		o.m.processDuration.Record(ctx, c.Duration.Seconds(), m.rec...)
		o.m.consumedMessages.Add(ctx, 1, m.add...)
	}
}

// EnqueueStart starts the PRODUCER span "send {queue}"; Inject then
// writes its context into the message's header.
func (o *Observer) EnqueueStart(ctx context.Context, e *observe.Enqueue) context.Context {
	s := o.enqueueStatic(queueName(e.Platform, e.Queue))
	ctx, _ = o.start(ctx, enqueueSpanKey{}, s.name, s.opts)
	return ctx
}

// EnqueueEnd ends the enqueue's span and counts
// messaging.client.sent.messages.
func (o *Observer) EnqueueEnd(ctx context.Context, e *observe.Enqueue) {
	var errType string
	if e.Err != nil {
		errType = errorType("", e.Err, 0)
	}
	s := o.enqueueStatic(queueName(e.Platform, e.Queue))
	if span := spanFrom(ctx, enqueueSpanKey{}); span != nil {
		a := s.endAttrs()
		a.str(semconv.MessagingMessageIDKey, e.QueueMessageID)
		a.str(semconv.ErrorTypeKey, errType)
		o.conversationAttrs(a, e.Conversation, e.Tenant)
		end(span, a, errType, e.Err != nil)
	}
	m := s.ok
	if errType != "" {
		m = o.process(systemBotwire, s.dest, "send", errType)
	}
	o.m.sentMessages.Add(ctx, 1, m.add...)
}

func queueName(platform, queue string) string {
	if queue != "" {
		return queue
	}
	return platform + ".queue"
}

// CallStart starts the call's INTERNAL span "{platform}.{Operation}".
func (o *Observer) CallStart(ctx context.Context, c *observe.Call) context.Context {
	s := o.callStatic(c.Platform, c.Operation, c.URLTemplate)
	ctx, _ = o.start(ctx, callSpanKey{}, s.name, s.opts)
	return ctx
}

// CallEnd ends the call's span and records botwire.client.call.duration.
func (o *Observer) CallEnd(ctx context.Context, c *observe.Call) {
	var errType string
	if c.Err != nil {
		errType = errorType("", c.Err, c.Status)
	}
	if span := spanFrom(ctx, callSpanKey{}); span != nil {
		a := o.callStatic(c.Platform, c.Operation, c.URLTemplate).endAttrs()
		a.add(keyClientAttempts.Int(c.Attempts))
		if c.Status > 0 {
			a.add(semconv.HTTPResponseStatusCode(c.Status))
		}
		a.str(semconv.ErrorTypeKey, errType)
		end(span, a, errType, c.Err != nil)
	}
	m := o.callEnd(c.Platform, c.Operation, errType)
	o.m.callDuration.Record(ctx, c.Duration.Seconds(), m.rec...)
}

// AttemptStart starts the attempt's CLIENT span (none under
// WithoutAttemptSpans).
func (o *Observer) AttemptStart(ctx context.Context, a *observe.Attempt) context.Context {
	if o.noAttempts {
		return ctx
	}
	var template string
	if a.Call != nil {
		template = a.Call.URLTemplate
	}
	s := o.attemptStatic(attemptKey{a.Method, template, a.Scheme, a.Host, a.Port})
	ctx, _ = o.start(ctx, attemptSpanKey{}, s.name, s.opts)
	return ctx
}

// AttemptEnd ends the attempt's span and records
// http.client.request.duration (neither under WithoutAttemptSpans).
func (o *Observer) AttemptEnd(ctx context.Context, a *observe.Attempt) {
	if o.noAttempts {
		return
	}
	var errType string
	failed := a.Err != nil || a.Status >= 400
	if failed {
		errType = errorType("", a.Err, a.Status)
	}
	if span := spanFrom(ctx, attemptSpanKey{}); span != nil {
		at := newAttrs()
		if a.Status > 0 {
			at.add(semconv.HTTPResponseStatusCode(a.Status))
		}
		if a.N > 0 {
			at.add(semconv.HTTPRequestResendCount(a.N))
		}
		at.str(semconv.ErrorTypeKey, errType)
		end(span, at, errType, failed)
	}
	m := o.attemptEnd(attemptEndKey{a.Method, a.Host, a.Port, a.Status, errType})
	o.m.httpClientDuration.Record(ctx, a.Duration.Seconds(), m.rec...)
}

// Event adds a span event "botwire.{kind}" to the span of ctx and counts
// what the metrics count.
//
// KindAuthenticated is the exception: it comes with every delivery, and
// its one fact, which credential matched, is the delivery span's
// botwire.credential.index attribute (from Delivery.Credential) rather
// than an event, which would cost the span an event list.
func (o *Observer) Event(ctx context.Context, e observe.Event) {
	if e.Kind == observe.KindAuthenticated {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		o.spanEvent(span, &e)
	}
	o.countEvent(ctx, &e)
}

func (o *Observer) spanEvent(span trace.Span, e *observe.Event) {
	a := newAttrs()
	a.str(keyOperation, e.Operation)
	a.str(keyReason, string(e.Reason))
	a.str(keyRateLimitSource, string(e.Source))
	a.str(keyStore, e.Store)
	a.str(keyStoreOperation, e.Op)
	a.str(keyQueue, e.Queue)
	a.str(semconv.MessagingMessageIDKey, e.MessageID)
	if e.Attempt > 0 || e.Kind == observe.KindRetry {
		a.add(keyAttempt.Int(e.Attempt))
	}
	if e.Wait > 0 {
		a.add(keyWait.Float64(e.Wait.Seconds()))
	}
	if e.Duration > 0 {
		a.add(keyDuration.Float64(e.Duration.Seconds()))
	}
	if e.Err != nil {
		a.add(semconv.ErrorTypeKey.String(errorType("", e.Err, 0)))
	}
	o.conversationAttrs(a, e.Key, e.Tenant)
	span.AddEvent(eventName(e.Kind), trace.WithAttributes(*a...))
	a.free()
}

// countEvent feeds the counters and histograms of an event.
func (o *Observer) countEvent(ctx context.Context, e *observe.Event) {
	switch e.Kind {
	case observe.KindDedupAcquired, observe.KindDedupReplayed, observe.KindDedupWaiting, observe.KindDedupTimeout:
		m := o.event(eventKey{kind: e.Kind, platform: e.Platform})
		o.m.dedupClaims.Add(ctx, 1, m.add...)
	case observe.KindFallbackSent:
		m := o.event(eventKey{kind: e.Kind, reason: string(e.Reason)})
		o.m.fallbacks.Add(ctx, 1, m.add...)
	case observe.KindRetry:
		m := o.event(eventKey{kind: e.Kind, platform: e.Platform, a: e.Operation, reason: string(e.Reason)})
		o.m.retries.Add(ctx, 1, m.add...)
		w := waitBackoff
		if e.Source == observe.SourceServer {
			w = waitRetryAfter
		}
		m = o.event(eventKey{kind: observe.KindRateLimited, platform: e.Platform, reason: w})
		o.m.waitDuration.Record(ctx, e.Wait.Seconds(), m.rec...)
	case observe.KindRateLimited:
		// A Retry-After wait is recorded by the retry it precedes.
		var w string
		switch e.Source {
		case observe.SourceLocal:
			w = waitLocal
		case observe.SourceShared:
			w = waitShared
		default:
			return
		}
		m := o.event(eventKey{kind: e.Kind, platform: e.Platform, reason: w})
		o.m.waitDuration.Record(ctx, e.Wait.Seconds(), m.rec...)
	case observe.KindStoreError:
		m := o.event(eventKey{kind: e.Kind, a: e.Store, b: e.Op})
		o.m.storeErrors.Add(ctx, 1, m.add...)
	case observe.KindDeadLettered:
		m := o.event(eventKey{kind: e.Kind, platform: e.Platform, a: e.Queue})
		o.m.deadLettered.Add(ctx, 1, m.add...)
	}
}
