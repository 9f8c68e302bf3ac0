// Package botwireotel reports what botwire does with OpenTelemetry: it is an
// observe.Observer (and an observe.Propagator) that turns botwire's
// deliveries, callbacks, client calls, HTTP attempts, queue operations and
// point events into spans and metrics named after the OpenTelemetry
// semantic conventions (HTTP: stable; messaging: development), plus
// botwire's own botwire.* counters and histograms.
//
//	obs := botwireotel.NewObserver(
//		botwireotel.WithTracerProvider(tp), // default otel.GetTracerProvider()
//		botwireotel.WithMeterProvider(mp),  // default otel.GetMeterProvider()
//	)
//	h, _ := onetalk.NewHandler(secret, fn, onetalk.WithObserver(obs), onetalk.WithQueue(q, 4))
//	client, _ := onetalk.NewClient(url, secret, onetalk.WithObserver(obs))
//	unregister, _ := obs.ObserveQueue("onetalk.queue", q) // queue depth and age gauges
//
// The module is github.com/botwire/botwire/otel, released with botwire (its
// own go.mod, so that only programs importing it download OpenTelemetry).
// Its package is named botwireotel, as go-redis names its redisotel: a file
// imports it beside go.opentelemetry.io/otel (package otel) without a
// rename, and its identifiers read as what they are
// (botwireotel.NewObserver).
//
// # Spans
//
//   - A delivery (one webhook request) is a CONSUMER span "process
//     {platform}.{endpoint}" ("process onetalk.webhook"), a child of the
//     span in the request's context: the user's otelhttp SERVER span when
//     the handler is wrapped in otelhttp.NewHandler. Attributes:
//     messaging.system (the platform), messaging.operation.name and .type
//     ("process"), messaging.destination.name, messaging.message.id (the
//     platform's message id), botwire.delivery.outcome and .reason,
//     botwire.message.type, botwire.credential.index (which credential
//     authenticated it: 0 the current one, i the i-th previous one),
//     http.response.status_code, error.type.
//   - A message put on a durable queue is a PRODUCER span "send
//     {queue}" ("send onetalk.queue"), messaging.system "botwire"; its
//     context goes into the message's header (Inject).
//   - A callback run from the queue is a CONSUMER span "process {queue}"
//     whose parent is the context extracted from the message's header
//     (single-message processing, as the messaging conventions allow) and
//     which also links to it; botwire.attempt is the queue's attempt. A
//     callback run by the handler itself is an INTERNAL span
//     "{platform} callback".
//   - A client call is an INTERNAL span "{platform}.{Operation}"
//     ("userlike.SendMessage"): a logical operation, not an HTTP span, with
//     botwire.client.attempts.
//   - Each HTTP attempt is a CLIENT span "POST {url.template}" with the
//     HTTP client conventions' attributes, http.request.resend_count on a
//     resend. WithoutAttemptSpans turns them (and
//     http.client.request.duration) off when the client's transport is
//     already wrapped in otelhttp.NewTransport.
//   - Point events (rejected, dedup, retry, rate-limit waits, store
//     errors, queue retries, dead letters, ...) are span events
//     "botwire.{kind}" on the span of the context they are reported in,
//     with their enums, wait and message id as attributes. The one event
//     of every delivery, authenticated, is the delivery span's
//     botwire.credential.index instead.
//
// A delivery's, callback's, enqueue's and call's attributes are set when
// the span ends, in one call (one attribute list per span instead of
// three); a sampler deciding at span start sees their name and kind. An
// attempt's HTTP attributes are given at its start, as the HTTP client
// conventions ask.
//
// # Metrics
//
//	http.client.request.duration        histogram, s       http.request.method, server.address, server.port, http.response.status_code, error.type
//	messaging.process.duration          histogram, s       messaging.system, messaging.operation.name, messaging.destination.name, error.type
//	messaging.client.sent.messages      counter, {message} messaging.system, messaging.operation.name, messaging.destination.name, error.type
//	messaging.client.consumed.messages  counter, {message} messaging.system, messaging.operation.name, messaging.destination.name, error.type
//	botwire.webhook.deliveries          counter, {delivery} botwire.platform, botwire.endpoint, botwire.delivery.outcome, botwire.delivery.reason
//	botwire.client.call.duration        histogram, s       botwire.platform, botwire.operation, error.type
//	botwire.client.retries              counter, {retry}   botwire.platform, botwire.operation, botwire.retry.reason
//	botwire.client.wait.duration        histogram, s       botwire.platform, botwire.wait.reason
//	botwire.dedup.claims                counter, {claim}   botwire.platform, botwire.dedup.state
//	botwire.store.errors                counter, {error}   botwire.store.name, botwire.store.operation
//	botwire.queue.dead_lettered         counter, {message} botwire.queue.name, botwire.platform
//	botwire.botcopy.fallbacks           counter, {answer}  botwire.fallback.reason
//	botwire.queue.messages              up-down counter (observed), {message} botwire.queue.name, botwire.queue.state
//	botwire.queue.latency               gauge (observed), s botwire.queue.name
//
// messaging.process.duration counts the deliveries that passed
// authentication (a delivery refused with 405, 401 or 413, or whose tenant
// lookup failed, was never processed) and the callbacks run from a queue
// (destination "{platform}.queue", or "{platform}.async" for WithAsync's
// pool); botwire.webhook.deliveries counts every delivery, refused ones
// included. The queue gauges read store.QueueInspector.Stats when the
// metrics are collected (ObserveQueue), so every replica reports the same
// numbers.
//
// botwire.client.wait.duration records the Wait of each KindRetry
// (botwire.wait.reason "backoff", or "retry_after" when the event's Source
// is observe.SourceServer) and of each KindRateLimited of the local or the
// shared limit ("rate_limit_local", "rate_limit_shared"); a KindRateLimited
// from the server (Retry-After) is the wait of the retry it precedes and is
// not recorded twice.
//
// # What is exported
//
// Metric attributes are small enums only: platforms, endpoints, outcomes,
// reasons, operations, HTTP methods, status codes, the platform's host.
// Ids go on spans only: message ids always, the conversation (case, cid,
// session) and the tenant only with WithConversationAttribute. No body and
// no credential is ever exported, and neither is an error's text: error.type
// is the observe.Reason when there is one, the HTTP status code of a
// failed HTTP answer, else the error's Go type ("*transport.WaitError",
// "timeout", "canceled", "_OTHER"), and a span's status description is that
// same error.type, never err.Error().
package botwireotel
