package botwireotel_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	botwireotel "github.com/botwire/botwire/otel"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// harness is an Observer on the SDK's real providers, with an in-memory
// span recorder and a manual metric reader.
type harness struct {
	t      testing.TB
	tp     *sdktrace.TracerProvider
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	obs    *botwireotel.Observer
}

func newHarness(t testing.TB, opts ...botwireotel.Option) *harness {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	opts = append([]botwireotel.Option{
		botwireotel.WithTracerProvider(tp),
		botwireotel.WithMeterProvider(mp),
		botwireotel.WithPropagator(propagation.TraceContext{}),
	}, opts...)
	return &harness{t: t, tp: tp, spans: spans, reader: reader, obs: botwireotel.NewObserver(opts...)}
}

func (h *harness) metrics() metricdata.ResourceMetrics {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	return rm
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// renderSpans writes the ended spans in the order they started, naming
// traces t1, t2, ... and spans s1, s2, ...: a parent or link outside the
// recorded spans shows as "remote".
func renderSpans(started []sdktrace.ReadWriteSpan, ended []sdktrace.ReadOnlySpan) string {
	spanNames := map[trace.SpanID]string{}
	traceNames := map[trace.TraceID]string{}
	for _, s := range started {
		sc := s.SpanContext()
		spanNames[sc.SpanID()] = fmt.Sprintf("s%d", len(spanNames)+1)
		if _, ok := traceNames[sc.TraceID()]; !ok {
			traceNames[sc.TraceID()] = fmt.Sprintf("t%d", len(traceNames)+1)
		}
	}
	ref := func(sc trace.SpanContext) string {
		if !sc.IsValid() {
			return "-"
		}
		if n, ok := spanNames[sc.SpanID()]; ok {
			return n
		}
		return "remote"
	}
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range ended {
		byID[s.SpanContext().SpanID()] = s
	}
	var b strings.Builder
	for _, st := range started {
		sc := st.SpanContext()
		s, ok := byID[sc.SpanID()]
		if !ok {
			fmt.Fprintf(&b, "%s %q NOT ENDED\n", spanNames[sc.SpanID()], st.Name())
			continue
		}
		fmt.Fprintf(&b, "%s %q %s trace=%s parent=%s\n", spanNames[sc.SpanID()], s.Name(), s.SpanKind(),
			traceNames[sc.TraceID()], ref(s.Parent()))
		if st := s.Status(); st.Code != 0 {
			fmt.Fprintf(&b, "  status %s %q\n", st.Code, st.Description)
		}
		for _, l := range s.Links() {
			fmt.Fprintf(&b, "  link %s trace=%s\n", ref(l.SpanContext), traceNames[l.SpanContext.TraceID()])
		}
		writeAttrs(&b, "  ", s.Attributes())
		for _, e := range s.Events() {
			fmt.Fprintf(&b, "  event %s\n", e.Name)
			writeAttrs(&b, "    ", e.Attributes)
		}
	}
	return b.String()
}

func writeAttrs(b *strings.Builder, indent string, kv []attribute.KeyValue) {
	kv = slices.Clone(kv)
	slices.SortFunc(kv, func(a, b attribute.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
	for _, a := range kv {
		fmt.Fprintf(b, "%s%s = %s\n", indent, a.Key, attrValue(a.Value))
	}
}

func attrValue(v attribute.Value) string {
	if v.Type() == attribute.STRING {
		return fmt.Sprintf("%q", v.AsString())
	}
	return v.String()
}

func setString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+attrValue(kv.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// renderMetrics writes every metric of rm, sorted by name, with its data
// points sorted by attribute set: values, and for histograms the count,
// sum and the non-empty buckets.
func renderMetrics(rm metricdata.ResourceMetrics) string {
	var ms []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		ms = append(ms, sm.Metrics...)
	}
	slices.SortFunc(ms, func(a, b metricdata.Metrics) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	for _, m := range ms {
		var lines []string
		var kind string
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			kind = "counter"
			if !d.IsMonotonic {
				kind = "updowncounter"
			}
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("%s %d", setString(p.Attributes), p.Value))
			}
		case metricdata.Gauge[float64]:
			kind = "gauge"
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("%s %g", setString(p.Attributes), p.Value))
			}
		case metricdata.Histogram[float64]:
			kind = "histogram"
			for _, p := range d.DataPoints {
				var buckets []string
				for i, n := range p.BucketCounts {
					if n == 0 {
						continue
					}
					le := "+Inf"
					if i < len(p.Bounds) {
						le = fmt.Sprint(p.Bounds[i])
					}
					buckets = append(buckets, fmt.Sprintf("le %s: %d", le, n))
				}
				lines = append(lines, fmt.Sprintf("%s count=%d sum=%g [%s]", setString(p.Attributes), p.Count, p.Sum,
					strings.Join(buckets, ", ")))
			}
		default:
			kind = fmt.Sprintf("%T", d)
		}
		if len(lines) == 0 {
			continue
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s %s (%s)\n", m.Name, kind, m.Unit)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// golden renders what the harness recorded and compares it with
// testdata/name.golden.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := "# spans\n" + renderSpans(h.spans.Started(), h.spans.Ended()) + "\n# metrics\n" + renderMetrics(h.metrics())
	golden(h.t, name+".golden", got)
}
