package botwireotel

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// instruments are the Observer's metrics (the package documentation lists
// them).
type instruments struct {
	meter              metric.Meter
	httpClientDuration metric.Float64Histogram
	processDuration    metric.Float64Histogram
	sentMessages       metric.Int64Counter
	consumedMessages   metric.Int64Counter
	deliveries         metric.Int64Counter
	callDuration       metric.Float64Histogram
	retries            metric.Int64Counter
	waitDuration       metric.Float64Histogram
	dedupClaims        metric.Int64Counter
	storeErrors        metric.Int64Counter
	deadLettered       metric.Int64Counter
	fallbacks          metric.Int64Counter
	queueMessages      metric.Int64ObservableUpDownCounter
	queueLatency       metric.Float64ObservableGauge
}

// durationBuckets are the HTTP conventions' advised boundaries, in
// seconds; waitBuckets reach Retry-After's 60 s cap.
var (
	durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	waitBuckets     = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
)

func newInstruments(m metric.Meter) instruments {
	// A meter returns an error only for an invalid name or option, with a
	// working (no-op at worst) instrument: report it and go on.
	check := func(err error) {
		if err != nil {
			otel.Handle(err)
		}
	}
	hist := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(buckets...))
		check(err)
		return h
	}
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		check(err)
		return c
	}
	in := instruments{
		meter:              m,
		httpClientDuration: hist("http.client.request.duration", "Duration of HTTP client requests.", durationBuckets),
		processDuration:    hist("messaging.process.duration", "Duration of processing operation.", durationBuckets),
		sentMessages: counter("messaging.client.sent.messages", "{message}",
			"Number of messages producer attempted to send to the broker."),
		consumedMessages: counter("messaging.client.consumed.messages", "{message}",
			"Number of messages that were delivered to the application."),
		deliveries: counter("botwire.webhook.deliveries", "{delivery}",
			"Webhook deliveries into a botwire handler, by outcome and reason, refused ones included."),
		callDuration: hist("botwire.client.call.duration",
			"Duration of a botwire client call, its retries and waits included.", durationBuckets),
		retries: counter("botwire.client.retries", "{retry}", "Client attempts retried, by reason."),
		waitDuration: hist("botwire.client.wait.duration",
			"Time a botwire client waited before an attempt: backoff, Retry-After, rate limits.", waitBuckets),
		dedupClaims:  counter("botwire.dedup.claims", "{claim}", "Deduplication claims of deliveries, by state."),
		storeErrors:  counter("botwire.store.errors", "{error}", "Failed store calls, by store and operation."),
		deadLettered: counter("botwire.queue.dead_lettered", "{message}", "Queued messages moved to the dead letters."),
		fallbacks:    counter("botwire.botcopy.fallbacks", "{answer}", "Botcopy fallback decisions answered, by reason."),
	}
	var err error
	in.queueMessages, err = m.Int64ObservableUpDownCounter("botwire.queue.messages", metric.WithUnit("{message}"),
		metric.WithDescription("Messages in a botwire queue, by state (pending, running, retrying, dead)."))
	check(err)
	in.queueLatency, err = m.Float64ObservableGauge("botwire.queue.latency", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest message of a botwire queue not yet acknowledged."))
	check(err)
	return in
}
