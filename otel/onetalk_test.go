package botwireotel_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

const oneTalkSecret = "s3cr3t-onetalk-Xy7"

// normalize masks the fake's random loopback port and message ids, and
// the measured histogram sums and buckets.
var (
	ports     = regexp.MustCompile(`server\.port( = |=)\d+`)
	wamid     = regexp.MustCompile(`wamid\.TEST[0-9a-f]+`)
	histogram = regexp.MustCompile(`count=(\d+) sum=\S+ \[.*\]`)
)

func normalize(s string) string {
	s = ports.ReplaceAllString(s, "server.port${1}PORT")
	s = wamid.ReplaceAllString(s, "wamid.TEST…")
	return histogram.ReplaceAllString(s, "count=$1")
}

// A OneTalk delivery through a real handler with WithQueue: one trace
// from the webhook's span, through the enqueue and the message's header,
// to the queued callback and the client call it makes to the fake.
func TestOneTalkQueueEndToEnd(t *testing.T) {
	h := newHarness(t)
	fake := onetalktest.NewServer(onetalktest.Config{Secret: oneTalkSecret})
	defer fake.Close()
	client, err := onetalk.NewClient(fake.URL, oneTalkSecret, onetalk.WithObserver(h.obs))
	require.NoError(t, err)
	queue := store.NewMemoryQueue(store.QueueOptions{Observer: h.obs})
	bot, err := onetalk.NewHandler(oneTalkSecret, func(ctx context.Context, req *onetalk.InboundRequest) error {
		return client.SendMessages(ctx, req.CaseID, onetalk.NewText("echo: "+req.Message.Text.Body))
	}, onetalk.WithObserver(h.obs), onetalk.WithQueue(queue, 1))
	require.NoError(t, err)
	fake.SetBot(bot)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := fake.Deliver(ctx, onetalktest.Text("FBED34A1EF", "hello"))
	require.NoError(t, err)
	require.Equal(t, 200, d.StatusCode)
	_, err = fake.WaitFor(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, bot.Shutdown(ctx)) // the consumer's spans have ended

	spans := h.spans.Ended()
	require.NotEmpty(t, spans)
	names := map[string]trace.SpanContext{}
	for _, s := range spans {
		names[s.Name()] = s.SpanContext()
		assert.Equal(t, spans[0].SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in another trace", s.Name())
	}
	for _, want := range []string{"process onetalk.webhook", "send onetalk.queue", "process onetalk.queue",
		"onetalk.SendMessages", "POST {oneTalkURL}"} {
		assert.Contains(t, names, want)
	}
	h.goldenNormalized("onetalk_queue")
}

// A refused OneTalk delivery counts with its reason; the wrong secret
// appears nowhere.
func TestOneTalkRejected(t *testing.T) {
	h := newHarness(t)
	bot, err := onetalk.NewHandler(oneTalkSecret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithObserver(h.obs))
	require.NoError(t, err)
	const wrong = "wr0ng-secret-Qp4"
	fake := onetalktest.NewServer(onetalktest.Config{Secret: wrong, Bot: bot})
	defer fake.Close()
	d, err := fake.Deliver(context.Background(), onetalktest.Text("FBED34A1EF", "hello"))
	require.NoError(t, err)
	require.Equal(t, 401, d.StatusCode)

	rm := h.metrics()
	assert.Equal(t, int64(1), counterValue(t, rm, "botwire.webhook.deliveries",
		attribute.String("botwire.delivery.outcome", "rejected"), attribute.String("botwire.delivery.reason", "unauthenticated")))
	all := renderSpans(h.spans.Started(), h.spans.Ended()) + renderMetrics(rm)
	assert.NotContains(t, all, wrong)
	assert.NotContains(t, all, oneTalkSecret)
	h.goldenNormalized("onetalk_rejected")
}

// counterValue is the value of the int64 counter name's data point that
// has the attributes want (among others).
func counterValue(t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
		points:
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				for _, kv := range want {
					if v, ok := p.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				return p.Value
			}
		}
	}
	t.Fatalf("no %s data point with %v", name, want)
	return 0
}

func (h *harness) goldenNormalized(name string) {
	h.t.Helper()
	got := "# spans\n" + renderSpans(h.spans.Started(), h.spans.Ended()) + "\n# metrics\n" + renderMetrics(h.metrics())
	golden(h.t, name+".golden", normalize(got))
}
