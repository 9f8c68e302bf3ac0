package botwireotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/botwire/botwire/internal/benchx"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
)

// BenchmarkOneTalkHandler is a real handler's delivery (a 1 KiB text
// message answered inline) with no observer, the no-op base and the
// OpenTelemetry observer, in one run: the difference is what observing a
// delivery costs.
func BenchmarkOneTalkHandler(b *testing.B) {
	in := onetalktest.Text("case-1", benchx.Text(1<<10))
	in.Message.ID = "msg-1"
	body, err := onetalktest.Encode(in)
	if err != nil {
		b.Fatal(err)
	}
	header := http.Header{onetalk.SecretHeader: {"bench-secret"}}
	cases := append([]struct {
		name string
		obs  observe.Observer
	}{{"none", nil}}, benchObservers(b)...)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, err := onetalk.NewHandler("bench-secret", func(context.Context, *onetalk.InboundRequest) error { return nil },
				onetalk.WithObserver(c.obs))
			if err != nil {
				b.Fatal(err)
			}
			benchx.Run(b, h, body, header)
		})
	}
}

// BenchmarkOneTalkClient is one SendMessages call to a loopback server
// with no observer, the base and the OpenTelemetry observer.
func BenchmarkOneTalkClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	defer srv.Close()
	cases := append([]struct {
		name string
		obs  observe.Observer
	}{{"none", nil}}, benchObservers(b)...)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			client, err := onetalk.NewClient(srv.URL, "bench-secret", onetalk.WithObserver(c.obs))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := client.SendMessages(ctx, "case-1", onetalk.NewText("hello")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
