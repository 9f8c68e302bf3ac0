package botwireotel_test

import (
	"context"
	"log"
	"net/http"

	"github.com/botwire/botwire/onetalk"
	botwireotel "github.com/botwire/botwire/otel"
	"github.com/botwire/botwire/store"
	"go.opentelemetry.io/otel"
)

// One observer for a OneTalk bot's handler, its client and its queue,
// reporting to the global providers (set by the program's OpenTelemetry
// setup, otel.SetTracerProvider and otel.SetMeterProvider).
func ExampleNewObserver() {
	obs := botwireotel.NewObserver(
		botwireotel.WithTracerProvider(otel.GetTracerProvider()),
		botwireotel.WithMeterProvider(otel.GetMeterProvider()),
	)
	client, err := onetalk.NewClient("https://onetalk-api.taptalk.io/api/visitor/v1/webhook/chatbot/custom/1/2",
		"secret", onetalk.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	queue := store.NewMemoryQueue(store.QueueOptions{Observer: obs})
	if _, err := obs.ObserveQueue("onetalk.queue", queue); err != nil { // depth and age gauges
		log.Fatal(err)
	}
	h, err := onetalk.NewHandler("secret", func(ctx context.Context, req *onetalk.InboundRequest) error {
		return client.SendMessages(ctx, req.CaseID, onetalk.NewText("hello"))
	}, onetalk.WithObserver(obs), onetalk.WithQueue(queue, 2))
	if err != nil {
		log.Fatal(err)
	}
	// With otelhttp, wrap h in otelhttp.NewHandler: the delivery's span
	// becomes a child of its SERVER span.
	http.Handle("/onetalk", h)
}

// When the clients' http.Client already has an otelhttp.NewTransport,
// drop botwire's own attempt spans and http.client.request.duration; with
// WithConversationAttribute the spans also carry the conversation id and
// the tenant.
func ExampleWithoutAttemptSpans() {
	obs := botwireotel.NewObserver(botwireotel.WithoutAttemptSpans(), botwireotel.WithConversationAttribute())
	_, _ = onetalk.NewClient("https://onetalk-api.taptalk.io/api/visitor/v1/webhook/chatbot/custom/1/2", "secret",
		onetalk.WithObserver(obs), onetalk.WithHTTPClient(&http.Client{ /* Transport: otelhttp.NewTransport(...) */ }))
}
