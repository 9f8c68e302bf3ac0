package botwireotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/botwire/botwire/observe"
	botwireotel "github.com/botwire/botwire/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// benchObservers are the no-op base and the Observer on the SDK's real
// providers: every span sampled and recorded (no exporter), metrics
// aggregated for a manual reader.
func benchObservers(b *testing.B) []struct {
	name string
	obs  observe.Observer
} {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return []struct {
		name string
		obs  observe.Observer
	}{
		{"base", observe.Base{}},
		{"otel", botwireotel.NewObserver(botwireotel.WithTracerProvider(tp), botwireotel.WithMeterProvider(mp))},
	}
}

// BenchmarkDelivery is what the observer adds to one webhook delivery
// answered inline: the delivery, its authentication event, the callback.
func BenchmarkDelivery(b *testing.B) {
	for _, o := range benchObservers(b) {
		b.Run(o.name, func(b *testing.B) {
			obs := o.obs
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				d := observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Credential: -1}
				dctx := obs.DeliveryStart(ctx, &d)
				d.Credential, d.MessageID, d.Type = 0, "msg-1", "text"
				obs.Event(dctx, observe.Event{Kind: observe.KindAuthenticated, Platform: d.Platform, Endpoint: d.Endpoint})
				c := observe.Callback{Platform: d.Platform, Endpoint: d.Endpoint, Type: d.Type, Attempt: 1}
				cctx := obs.CallbackStart(dctx, &c)
				c.Duration = time.Millisecond
				obs.CallbackEnd(cctx, &c)
				d.Outcome, d.Status, d.Duration = observe.OutcomeAnswered, 200, time.Millisecond
				obs.DeliveryEnd(dctx, &d)
			}
		})
	}
}

// BenchmarkCall is what the observer adds to one client call of one
// attempt.
func BenchmarkCall(b *testing.B) {
	for _, o := range benchObservers(b) {
		b.Run(o.name, func(b *testing.B) {
			obs := o.obs
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c := observe.Call{Platform: observe.OneTalk, Operation: "SendMessage", URLTemplate: sendTemplate}
				cctx := obs.CallStart(ctx, &c)
				a := observe.Attempt{Call: &c, Method: "POST", Scheme: "https", Host: "onetalk-api.taptalk.io", Port: 443}
				actx := obs.AttemptStart(cctx, &a)
				a.Status, a.Duration = 200, time.Millisecond
				obs.AttemptEnd(actx, &a)
				c.Attempts, c.Status, c.Duration = 1, 200, time.Millisecond
				obs.CallEnd(cctx, &c)
			}
		})
	}
}

// BenchmarkSDKFloor is the SDK's own cost for what a delivery needs at
// least: two spans started and ended, one counter added, one histogram
// recorded, with no attribute: the floor any OpenTelemetry adapter pays.
func BenchmarkSDKFloor(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tr := tp.Tracer("floor")
	m := mp.Meter("floor")
	counter, _ := m.Int64Counter("c")
	hist, _ := m.Float64Histogram("h")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dctx, d := tr.Start(ctx, "d")
		_, c := tr.Start(dctx, "c")
		c.End()
		d.End()
		counter.Add(ctx, 1)
		hist.Record(ctx, 0.001)
	}
}
