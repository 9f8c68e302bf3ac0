package botwireotel

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/botwire/botwire/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// botwire's attribute keys. None names a namespace of another (the
// semantic conventions' naming rule): botwire.queue.name beside
// botwire.queue.state, botwire.store.name beside botwire.store.operation.
const (
	keyPlatform        = attribute.Key("botwire.platform")
	keyEndpoint        = attribute.Key("botwire.endpoint")
	keyOperation       = attribute.Key("botwire.operation")
	keyTenant          = attribute.Key("botwire.tenant")
	keyDeliveryOutcome = attribute.Key("botwire.delivery.outcome")
	keyDeliveryReason  = attribute.Key("botwire.delivery.reason")
	keyMessageType     = attribute.Key("botwire.message.type")
	keyCallbackType    = attribute.Key("botwire.callback.type")
	keyAttempt         = attribute.Key("botwire.attempt")
	keyClientAttempts  = attribute.Key("botwire.client.attempts")
	keyCredential      = attribute.Key("botwire.credential.index")
	keyReason          = attribute.Key("botwire.reason")
	keyRateLimitSource = attribute.Key("botwire.rate_limit.source")
	keyStore           = attribute.Key("botwire.store.name")
	keyStoreOperation  = attribute.Key("botwire.store.operation")
	keyQueue           = attribute.Key("botwire.queue.name")
	keyQueueState      = attribute.Key("botwire.queue.state")
	keyWait            = attribute.Key("botwire.wait.duration")
	keyDuration        = attribute.Key("botwire.duration")
	keyRetryReason     = attribute.Key("botwire.retry.reason")
	keyWaitReason      = attribute.Key("botwire.wait.reason")
	keyDedupState      = attribute.Key("botwire.dedup.state")
	keyFallbackReason  = attribute.Key("botwire.fallback.reason")
)

// systemBotwire is the messaging.system of botwire's queues.
const systemBotwire = "botwire"

// Values of botwire.wait.reason.
const (
	waitBackoff    = "backoff"
	waitRetryAfter = "retry_after"
	waitLocal      = "rate_limit_local"
	waitShared     = "rate_limit_shared"
)

// dedupStates are the botwire.dedup.state of each dedup event.
var dedupStates = map[observe.Kind]string{
	observe.KindDedupAcquired: "acquired",
	observe.KindDedupReplayed: "done",
	observe.KindDedupWaiting:  "busy",
	observe.KindDedupTimeout:  "timeout",
}

// eventNames are the span event names, "botwire.{kind}".
var eventNames = func() (names [64]string) {
	for k := range names {
		names[k] = "botwire." + observe.Kind(k).String()
	}
	return names
}()

func eventName(k observe.Kind) string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "botwire." + k.String()
}

// maxCached bounds each cache of attribute sets and span options: the keys
// are enums, so a bound is reached only when a caller passes something
// else; past it, values are built on each call instead of kept.
const maxCached = 1024

// cache is a read-mostly map: lookups read an immutable map without a
// lock, a miss copies it with the new entry.
type cache[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex
}

func (c *cache[K, V]) get(k K, build func(K) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	v := build(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	var n int
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
		n = len(*old)
	}
	if n >= maxCached {
		return v
	}
	m := make(map[K]V, n+1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[k] = v
	c.m.Store(&m)
	return v
}

// measure is the options of a measurement with one attribute set, built
// once: recording with them allocates nothing.
type measure struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func newMeasure(kv ...attribute.KeyValue) measure {
	opt := metric.WithAttributeSet(attribute.NewSet(kv...))
	return measure{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
}

// spanStatic is what every span of one kind and one platform (endpoint,
// operation, ...) shares: its name, start options and the attributes that
// do not change from one span to the next.
//
// Those attributes are set with the others when the span ends, in one
// call: the SDK then allocates one attribute list per span instead of
// three (the start options' copy, the span's copy, its growth at the
// end). A sampler deciding at span start sees the name and the kind
// ("process onetalk.webhook", CONSUMER). Attempt spans are the exception:
// the HTTP client conventions (stable) ask for their method, server
// address and port at creation, for samplers, so they are start options.
type spanStatic struct {
	name  string
	dest  string // messaging.destination.name, for messaging spans
	opts  []trace.SpanStartOption
	attrs []attribute.KeyValue // set at the end (empty when in opts)
	// ok is the measurement of a messaging span that ended without
	// error (messaging.process.duration, messaging.client.*.messages): the
	// common case, kept here to spare a lookup.
	ok measure
	// answered is a delivery's botwire.webhook.deliveries measurement
	// when answered.
	answered measure
}

func newStatic(name, dest string, kind trace.SpanKind, kv ...attribute.KeyValue) *spanStatic {
	return &spanStatic{name: name, dest: dest, opts: []trace.SpanStartOption{trace.WithSpanKind(kind)}, attrs: kv}
}

// endAttrs returns a pooled attribute list holding s's attributes.
func (s *spanStatic) endAttrs() *attrs {
	a := newAttrs()
	*a = append(*a, s.attrs...)
	return a
}

type (
	deliveryStatic = spanStatic
	callbackStatic = spanStatic
	enqueueStatic  = spanStatic
	callStatic     = spanStatic
	attemptStatic  = spanStatic
)

type deliveryKey struct{ platform, endpoint string }

func (o *Observer) deliveryStatic(platform, endpoint string) *deliveryStatic {
	return o.deliveries.get(deliveryKey{platform, endpoint}, func(k deliveryKey) *spanStatic {
		dest := k.platform + "." + k.endpoint
		s := newStatic("process "+dest, dest, trace.SpanKindConsumer,
			semconv.MessagingSystemKey.String(k.platform),
			semconv.MessagingOperationName("process"),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingDestinationName(dest),
		)
		s.ok = o.process(k.platform, dest, "process", "")
		s.answered = o.outcome(k.platform, k.endpoint, observe.OutcomeAnswered, "")
		return s
	})
}

type outcomeKey struct{ platform, endpoint, outcome, reason string }

func (o *Observer) outcome(platform, endpoint string, outcome observe.Outcome, reason observe.Reason) measure {
	return o.outcomes.get(outcomeKey{platform, endpoint, string(outcome), string(reason)}, func(k outcomeKey) measure {
		kv := []attribute.KeyValue{keyPlatform.String(k.platform), keyEndpoint.String(k.endpoint), keyDeliveryOutcome.String(k.outcome)}
		if k.reason != "" {
			kv = append(kv, keyDeliveryReason.String(k.reason))
		}
		return newMeasure(kv...)
	})
}

type processKey struct{ system, dest, op, errType string }

// process is the attribute set of messaging.process.duration and the
// messaging.client.*.messages counters.
func (o *Observer) process(system, dest, op, errType string) measure {
	c := &o.processes
	if op == "send" {
		c = &o.sent
	}
	return c.get(processKey{system, dest, op, errType}, func(k processKey) measure {
		kv := []attribute.KeyValue{
			semconv.MessagingSystemKey.String(k.system),
			semconv.MessagingOperationName(k.op),
			semconv.MessagingDestinationName(k.dest),
		}
		if k.errType != "" {
			kv = append(kv, semconv.ErrorTypeKey.String(k.errType))
		}
		return newMeasure(kv...)
	})
}

type callbackKey struct {
	platform, endpoint, queue string
	queued                    bool
}

func (o *Observer) callbackStatic(platform, endpoint string, queued bool, queue string) *callbackStatic {
	return o.callbacks.get(callbackKey{platform, endpoint, queue, queued}, func(k callbackKey) *spanStatic {
		if !k.queued {
			// The platform is in the name, and on the delivery span above.
			return newStatic(k.platform+" callback", "", trace.SpanKindInternal, keyEndpoint.String(k.endpoint))
		}
		dest := k.queue
		if dest == "" {
			dest = k.platform + ".async" // WithAsync's in-process pool
		}
		s := newStatic("process "+dest, dest, trace.SpanKindConsumer,
			semconv.MessagingSystemKey.String(systemBotwire),
			semconv.MessagingOperationName("process"),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingDestinationName(dest),
			keyPlatform.String(k.platform),
		)
		s.ok = o.process(systemBotwire, dest, "process", "")
		return s
	})
}

func (o *Observer) enqueueStatic(queue string) *enqueueStatic {
	return o.enqueues.get(queue, func(q string) *spanStatic {
		s := newStatic("send "+q, q, trace.SpanKindProducer,
			semconv.MessagingSystemKey.String(systemBotwire),
			semconv.MessagingOperationName("send"),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingDestinationName(q),
		)
		s.ok = o.process(systemBotwire, q, "send", "")
		return s
	})
}

type callKey struct{ platform, operation, template string }

func (o *Observer) callStatic(platform, operation, template string) *callStatic {
	return o.calls.get(callKey{platform, operation, template}, func(k callKey) *spanStatic {
		kv := []attribute.KeyValue{keyPlatform.String(k.platform), keyOperation.String(k.operation)}
		if k.template != "" {
			kv = append(kv, semconv.URLTemplate(k.template))
		}
		return newStatic(k.platform+"."+k.operation, "", trace.SpanKindInternal, kv...)
	})
}

type callEndKey struct{ platform, operation, errType string }

func (o *Observer) callEnd(platform, operation, errType string) measure {
	return o.callEnds.get(callEndKey{platform, operation, errType}, func(k callEndKey) measure {
		kv := []attribute.KeyValue{keyPlatform.String(k.platform), keyOperation.String(k.operation)}
		if k.errType != "" {
			kv = append(kv, semconv.ErrorTypeKey.String(k.errType))
		}
		return newMeasure(kv...)
	})
}

type attemptKey struct {
	method, template, scheme, host string
	port                           int
}

// httpMethod is the http.request.method of m: the known methods as they
// are, anything else "_OTHER" (the HTTP conventions' rule).
func httpMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	}
	return "_OTHER"
}

func (o *Observer) attemptStatic(key attemptKey) *attemptStatic {
	return o.attempts.get(key, func(k attemptKey) *spanStatic {
		method := httpMethod(k.method)
		name := method
		if method == "_OTHER" {
			name = "HTTP"
		}
		if k.template != "" {
			name += " " + k.template
		}
		kv := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method)}
		if k.host != "" {
			kv = append(kv, semconv.ServerAddress(k.host))
		}
		if k.port > 0 {
			kv = append(kv, semconv.ServerPort(k.port))
		}
		if k.scheme != "" {
			kv = append(kv, semconv.URLScheme(k.scheme))
		}
		if k.template != "" {
			kv = append(kv, semconv.URLTemplate(k.template))
		}
		return &spanStatic{name: name, opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(kv...)}}
	})
}

type attemptEndKey struct {
	method, host string
	port, status int
	errType      string
}

func (o *Observer) attemptEnd(key attemptEndKey) measure {
	return o.attemptEnds.get(key, func(k attemptEndKey) measure {
		kv := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(httpMethod(k.method))}
		if k.host != "" {
			kv = append(kv, semconv.ServerAddress(k.host))
		}
		if k.port > 0 {
			kv = append(kv, semconv.ServerPort(k.port))
		}
		if k.status > 0 {
			kv = append(kv, semconv.HTTPResponseStatusCode(k.status))
		}
		if k.errType != "" {
			kv = append(kv, semconv.ErrorTypeKey.String(k.errType))
		}
		return newMeasure(kv...)
	})
}

// eventKey is the attribute set of an event's metric: kind says which,
// a and b are its other enums (operation; store and op; queue).
type eventKey struct {
	kind                   observe.Kind
	platform, reason, a, b string
}

func (o *Observer) event(key eventKey) measure {
	return o.events.get(key, func(k eventKey) measure {
		var kv []attribute.KeyValue
		if k.platform != "" {
			kv = append(kv, keyPlatform.String(k.platform))
		}
		switch k.kind {
		case observe.KindDedupAcquired, observe.KindDedupReplayed, observe.KindDedupWaiting, observe.KindDedupTimeout:
			kv = append(kv, keyDedupState.String(dedupStates[k.kind]))
		case observe.KindFallbackSent:
			kv = append(kv, keyFallbackReason.String(k.reason))
		case observe.KindRetry:
			kv = append(kv, keyOperation.String(k.a), keyRetryReason.String(k.reason))
		case observe.KindRateLimited:
			kv = append(kv, keyWaitReason.String(k.reason))
		case observe.KindStoreError:
			kv = append(kv, keyStore.String(k.a), keyStoreOperation.String(k.b))
		case observe.KindDeadLettered:
			kv = append(kv, keyQueue.String(k.a))
		}
		return newMeasure(kv...)
	})
}

// statusText holds the error.type of the HTTP error statuses.
var statusText = func() (s [600]string) {
	for i := 400; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// errorType is the error.type of an operation that failed: its reason
// when it has one, else the HTTP status of an error answer, else the Go
// type of err. Never the error's text, which may carry what it was given.
func errorType(reason observe.Reason, err error, status int) string {
	if reason != "" {
		return string(reason)
	}
	if status >= 400 && status < len(statusText) {
		return statusText[status]
	}
	if err == nil {
		return ""
	}
	return goErrorType(err)
}

var (
	errorStringType = reflect.TypeOf(errors.New(""))
	joinErrorType   = reflect.TypeOf(errors.Join(errors.New("")))
)

// goErrorType names an error's type: its ErrorType method's answer when it
// has one (the semantic conventions' way), "timeout" or "canceled" for a
// context's end, the Go type past fmt.Errorf's wrappers
// ("*transport.WaitError", "*net.OpError"), or "_OTHER" for an error with
// no type of its own (errors.New, fmt.Errorf without %w).
func goErrorType(err error) string {
	var et interface{ ErrorType() string }
	if errors.As(err, &et) {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	for {
		t := reflect.TypeOf(err)
		if t.PkgPath() == "fmt" || (t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "fmt") {
			if u := errors.Unwrap(err); u != nil {
				err = u
				continue
			}
			return "_OTHER"
		}
		if t == errorStringType || t == joinErrorType {
			return "_OTHER"
		}
		return t.String()
	}
}
