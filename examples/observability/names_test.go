package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/botwire/botwire/observe"
	botwireotel "github.com/botwire/botwire/otel"
	"github.com/botwire/botwire/store"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The names every metric of the otel module gets from the Prometheus
// exporter's default translation: unit suffixes, _total on counters, the
// dots of names and labels as underscores.
func TestPrometheusNames(t *testing.T) {
	registry := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutTargetInfo())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer mp.Shutdown(context.Background())
	o := botwireotel.NewObserver(botwireotel.WithMeterProvider(mp))
	if _, err := o.ObserveQueue("onetalk.queue", store.NewMemoryQueue(store.QueueOptions{})); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Credential: 0}
	o.DeliveryEnd(o.DeliveryStart(ctx, d), d)
	cb := &observe.Callback{Platform: observe.OneTalk, Queued: true, Queue: "onetalk.queue"}
	o.CallbackEnd(o.CallbackStart(ctx, cb), cb)
	e := &observe.Enqueue{Platform: observe.OneTalk, Queue: "onetalk.queue"}
	o.EnqueueEnd(o.EnqueueStart(ctx, e), e)
	c := &observe.Call{Platform: observe.OneTalk, Operation: "SendMessages"}
	o.CallEnd(o.CallStart(ctx, c), c)
	a := &observe.Attempt{Call: c, Method: "POST", Host: "h", Port: 443, Status: 200}
	o.AttemptEnd(o.AttemptStart(ctx, a), a)
	for _, ev := range []observe.Event{
		{Kind: observe.KindRetry, Platform: observe.OneTalk, Operation: "SendMessages", Reason: observe.ReasonStatus503, Wait: time.Second},
		{Kind: observe.KindDedupAcquired, Platform: observe.OneTalk},
		{Kind: observe.KindStoreError, Store: observe.StoreDedup, Op: "claim"},
		{Kind: observe.KindDeadLettered, Queue: "onetalk.queue"},
		{Kind: observe.KindFallbackSent, Platform: observe.Botcopy, Reason: observe.ReasonDeadline},
	} {
		o.Event(ctx, ev)
	}

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(rec.Body.String(), -1) {
		names = append(names, m[1]+" "+m[2])
	}
	slices.Sort(names)
	want := []string{
		"botwire_botcopy_fallbacks_total counter",
		"botwire_client_call_duration_seconds histogram",
		"botwire_client_retries_total counter",
		"botwire_client_wait_duration_seconds histogram",
		"botwire_dedup_claims_total counter",
		"botwire_queue_dead_lettered_total counter",
		"botwire_queue_latency_seconds gauge",
		"botwire_queue_messages gauge",
		"botwire_store_errors_total counter",
		"botwire_webhook_deliveries_total counter",
		"http_client_request_duration_seconds histogram",
		"messaging_client_consumed_messages_total counter",
		"messaging_client_sent_messages_total counter",
		"messaging_process_duration_seconds histogram",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Prometheus names (-want +got):\n%s\n%s", diff, rec.Body.String())
	}
}
