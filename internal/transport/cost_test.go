//go:build unix

package transport_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// BenchmarkCost compares, call by call on one loopback server, what every
// client call costs beside a raw http.Client.Do POST of the same bytes
// (the same header and body, captured from the client's own request):
// PostJSON and each vendor client's ordinary send, with no observer, with
// observe.Base and with an observetest.Recorder. The variants run in turn,
// in batches of costBatch calls, each batch timed by the process's CPU
// time (client and server, as -benchmem counts both) and its allocations,
// so a machine that gets busier slows every variant alike. It reports, per
// variant, cpu-ns/op and allocs/op, and the ratio to its raw floor
// (x-cpu). Run it on one P, interleaved:
//
//	go test ./internal/transport -run '^$' -bench Cost -cpu 1 -benchtime 40x -count 8 | tee cost.txt
//	benchstat cost.txt
//
// raw+timeout is the floor with http.Client.Timeout set to the client's
// per-attempt timeout (10 s), for scale: a deadline per attempt is part of
// every client call (botwire sets it on the attempt's context, which costs
// less than http.Client.Timeout's timer and body wrapper).
func BenchmarkCost(b *testing.B) {
	srv, capture := costServer(b)
	ctx := context.Background()
	rawTransport := http.DefaultTransport.(*http.Transport).Clone()
	rawTransport.MaxIdleConnsPerHost = transport.IdleConnsPerHost
	b.Cleanup(rawTransport.CloseIdleConnections)
	raw := &http.Client{Transport: rawTransport}
	rawTimeout := &http.Client{Transport: rawTransport, Timeout: transport.DefaultTimeout}

	// floor returns a raw POST of what call sent, captured from the server.
	floor := func(hc *http.Client, call func() error) func() error {
		req := capture(call)
		return func() error {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+req.path, bytes.NewReader(req.body))
			if err != nil {
				return err
			}
			r.Header = req.header.Clone()
			resp, err := hc.Do(r)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
	}
	recorders := []*observetest.Recorder{}
	observers := []struct {
		name string
		obs  func() observe.Observer
	}{
		{"", func() observe.Observer { return nil }},
		{"+base", func() observe.Observer { return observe.Base{} }},
		{"+recorder", func() observe.Observer {
			r := observetest.NewRecorder()
			recorders = append(recorders, r)
			return r
		}},
	}

	type variant struct {
		name, floor string
		call        func() error
	}
	var vs []variant
	add := func(name string, floorOf string, call func() error) { vs = append(vs, variant{name, floorOf, call}) }

	payload := []byte(`{"caseID":"C1","eventType":"messages","messages":[{"type":"text","text":{"body":"You said: hello"}}]}`)
	post := func(o observe.Observer) func() error {
		c := transport.New(transport.Config{Header: http.Header{"Secret-Key": {"s3cr3t-key"}}, Observer: o, Platform: "bench"}, "ua/1")
		return func() error {
			_, err := c.PostJSON(ctx, transport.Request{URL: srv.URL + "/post", Body: payload})
			return err
		}
	}
	add("raw", "", floor(raw, post(nil)))
	add("raw+timeout", "raw", floor(rawTimeout, post(nil)))
	for _, o := range observers {
		add("PostJSON"+o.name, "raw", post(o.obs()))
	}

	vendors := []struct {
		name string
		make func(o observe.Observer) func() error
	}{
		{"onetalk", func(o observe.Observer) func() error {
			c, err := onetalk.NewClient(srv.URL+"/onetalk", "onetalk-secret", onetalk.WithObserver(o))
			if err != nil {
				b.Fatal(err)
			}
			msg := onetalk.NewText("You said: hello")
			return func() error { return c.SendMessages(ctx, "FBED34A1EF", msg) }
		}},
		{"ultimate", func(o observe.Observer) func() error {
			c, err := ultimate.NewClient("ultimate-key", "5f0c9c1a2b3d4e5f60718293", ultimate.WithBaseURL(srv.URL), ultimate.WithObserver(o))
			if err != nil {
				b.Fatal(err)
			}
			return func() error { return c.SendText(ctx, "conv-1", "hello") }
		}},
		{"userlike", func(o observe.Observer) func() error {
			// A window that never fills: the limiter's bookkeeping, no wait.
			c, err := userlike.NewClient(srv.URL+"/userlike", "userlike-token", userlike.WithObserver(o),
				userlike.WithRateLimit(20, time.Nanosecond), userlike.WithRateMargin(-1))
			if err != nil {
				b.Fatal(err)
			}
			msg := userlike.Message("You said: hello")
			return func() error { return c.Send(ctx, "cid-1", msg) }
		}},
		{"botcopy", func(o observe.Observer) func() error {
			c, err := botcopy.NewClient("botcopy-key", botcopy.WithBaseURL(srv.URL), botcopy.WithObserver(o))
			if err != nil {
				b.Fatal(err)
			}
			to := botcopy.Target{UserID: "u-1", BotID: "b-1"}
			return func() error { return c.SendMessage(ctx, to, "You said: hello") }
		}},
	}
	for _, v := range vendors {
		add(v.name+"/raw", "", floor(raw, v.make(nil)))
		for _, o := range observers {
			add(v.name+o.name, v.name+"/raw", v.make(o.obs()))
		}
	}

	cpu := make([]time.Duration, len(vs))
	allocs := make([]uint64, len(vs))
	calls := 0
	var ms runtime.MemStats
	for b.Loop() {
		for i, v := range vs {
			runtime.ReadMemStats(&ms)
			m0 := ms.Mallocs
			t0 := cpuTime()
			for range costBatch {
				if err := v.call(); err != nil {
					b.Fatal(v.name, err)
				}
			}
			cpu[i] += cpuTime() - t0
			runtime.ReadMemStats(&ms)
			allocs[i] += ms.Mallocs - m0
			for _, r := range recorders {
				r.Reset()
			}
		}
		calls += costBatch
	}
	index := map[string]int{}
	for i, v := range vs {
		index[v.name] = i
	}
	for i, v := range vs {
		perCall := float64(cpu[i]) / float64(calls)
		b.ReportMetric(perCall, v.name+"-cpu-ns/op")
		b.ReportMetric(float64(allocs[i])/float64(calls), v.name+"-allocs/op")
		if v.floor != "" {
			f := index[v.floor]
			b.ReportMetric(float64(cpu[i])/float64(cpu[f]), v.name+"-x-cpu")
			b.ReportMetric(float64(allocs[i])/float64(calls)-float64(allocs[f])/float64(calls), v.name+"-extra-allocs/op")
		}
	}
	b.ReportMetric(0, "ns/op")
}

const costBatch = 50

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type captured struct {
	path   string
	header http.Header
	body   []byte
}

// costServer answers every POST as the platforms do on success; the
// request made while capture runs is kept, for the raw floors. Otherwise
// it does what benchServer does, so the server's share of a call is the
// same for every variant.
func costServer(b *testing.B) (*httptest.Server, func(call func() error) captured) {
	var capturing atomic.Bool
	var last captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if capturing.Load() {
			body, _ := io.ReadAll(r.Body)
			last = captured{path: r.URL.Path, header: r.Header.Clone(), body: body}
		} else {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true,"message":""}`)
	}))
	b.Cleanup(srv.Close)
	return srv, func(call func() error) captured {
		capturing.Store(true)
		defer capturing.Store(false)
		if err := call(); err != nil {
			b.Fatal(err)
		}
		// What the transport adds itself.
		last.header.Del("Content-Length")
		last.header.Del("Accept-Encoding")
		return last
	}
}

// memTransport answers every request from memory, so BenchmarkOverhead
// measures botwire's own work per call, without the network's noise.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, ContentLength: 29, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(`{"success":true,"message":""}`)), Request: r}, nil
}

// BenchmarkOverhead is PostJSON's own cost per call on an in-memory
// transport, with no observer, observe.Base and an observetest.Recorder:
// the observer's price without the loopback's noise.
//
//	go test ./internal/transport -run '^$' -bench Overhead -benchmem -count 8
func BenchmarkOverhead(b *testing.B) {
	payload := []byte(`{"caseID":"C1","eventType":"messages","messages":[{"type":"text","text":{"body":"You said: hello"}}]}`)
	for _, o := range []struct {
		name string
		obs  observe.Observer
	}{{"none", nil}, {"base", observe.Base{}}, {"recorder", observetest.NewRecorder()}} {
		b.Run(o.name, func(b *testing.B) {
			c := transport.New(transport.Config{HTTPClient: &http.Client{Transport: memTransport{}},
				Header: http.Header{"Secret-Key": {"s3cr3t-key"}}, Observer: o.obs, Platform: "bench"}, "ua/1")
			// A deadline before the client's timeout: net/http then adds no
			// timer of its own, which on a transport it does not know takes
			// a goroutine per call and hides what is measured here.
			ctx, cancel := context.WithTimeout(context.Background(), transport.DefaultTimeout-time.Second)
			defer cancel()
			rec, _ := o.obs.(*observetest.Recorder)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.PostJSON(ctx, transport.Request{URL: "https://x.test/a", Body: payload, Operation: "SendMessages"}); err != nil {
					b.Fatal(err)
				}
				if rec != nil {
					rec.Reset()
				}
			}
		})
	}
}
