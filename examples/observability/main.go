// Command observability is the OneTalk echo bot (examples/onetalk-echo)
// wired to OpenTelemetry through botwire's otel module: it serves its
// metrics for Prometheus at /metrics (the OpenTelemetry Prometheus
// exporter) and prints its traces on standard output (stdouttrace), one
// JSON object per span. Messages go through a durable queue (here the
// in-memory one), so each trace runs from the webhook through the queue to
// the reply the consumer sends.
//
//	ONETALK_SECRET=s3cr3t \
//	ONETALK_URL=http://127.0.0.1:9090/api/visitor/v1/webhook/chatbot/custom/2178/2619482363 \
//	go run ./examples/observability
//
// and, in another terminal, the fake OneTalk on that URL:
//
//	go run ./cmd/botwire fake onetalk --addr 127.0.0.1:9090 --bot http://localhost:8080/onetalk --secret s3cr3t
//	curl -s localhost:8080/metrics | grep ^botwire_
//
// PORT (default 8080) is where the bot listens.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/onetalk"
	botwireotel "github.com/botwire/botwire/otel"
	"github.com/botwire/botwire/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func main() {
	if err := run(); err != nil {
		slog.Error("observability", "error", err)
		os.Exit(1)
	}
}

func run() error {
	secret, oneTalkURL := os.Getenv("ONETALK_SECRET"), os.Getenv("ONETALK_URL")
	if secret == "" || oneTalkURL == "" {
		return errors.New("set ONETALK_SECRET and ONETALK_URL")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	b, err := newBot(secret, oneTalkURL, os.Stdout)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           b,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("observability listening", "addr", srv.Addr, "webhook", "/onetalk", "metrics", "/metrics")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(shutdown), b.Shutdown(shutdown))
}

// bot is the bot's HTTP handler (the webhook at /onetalk, the metrics at
// /metrics) and what it shuts down.
type bot struct {
	http.Handler
	handler *onetalk.Handler
	tp      *sdktrace.TracerProvider
	mp      *sdkmetric.MeterProvider
	stopQ   func() error
}

// newBot wires the echo bot to OpenTelemetry: spans to traces (batched,
// printed on traces), metrics to a Prometheus registry served at /metrics.
func newBot(secret, oneTalkURL string, traces io.Writer) (*bot, error) {
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("onetalk-echo"))
	spans, err := stdouttrace.New(stdouttrace.WithWriter(traces))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(spans, sdktrace.WithBatchTimeout(time.Second)))

	registry := prometheus.NewRegistry()
	metrics, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(metrics))

	// One observer for the handler, the client and the queue.
	obs := botwireotel.NewObserver(
		botwireotel.WithTracerProvider(tp),
		botwireotel.WithMeterProvider(mp),
		botwireotel.WithPropagator(propagation.TraceContext{}),
	)
	client, err := onetalk.NewClient(oneTalkURL, secret, onetalk.WithObserver(obs))
	if err != nil {
		return nil, err
	}
	queue := store.NewMemoryQueue(store.QueueOptions{Observer: obs})
	stopQ, err := obs.ObserveQueue("onetalk.queue", queue) // botwire.queue.messages, botwire.queue.latency
	if err != nil {
		return nil, err
	}
	handler, err := onetalk.NewHandler(secret, echo.Bot(client), onetalk.WithObserver(obs), onetalk.WithQueue(queue, 4))
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/onetalk", handler)
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	return &bot{Handler: mux, handler: handler, tp: tp, mp: mp, stopQ: stopQ}, nil
}

// Shutdown stops the queue's consumers once the running callbacks end,
// then flushes the spans and metrics not exported yet.
func (b *bot) Shutdown(ctx context.Context) error {
	return errors.Join(b.handler.Shutdown(ctx), b.stopQ(), b.tp.Shutdown(ctx), b.mp.Shutdown(ctx))
}
