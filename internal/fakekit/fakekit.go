// Package fakekit is the part every fake platform (onetalktest,
// userliketest, ...) shares: it records the requests a bot's client sends,
// lets tests wait for them, and injects faults (a status, a delay, a
// dropped connection) into the next answers.
package fakekit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/botwire/botwire/internal/transport"
)

// Fault is an answer a fake gives instead of the normal one.
type Fault struct {
	Status int           // answer with this status (and a JSON error body)
	Header http.Header   // extra answer headers, e.g. Retry-After
	Delay  time.Duration // wait before answering (or before the status)
	Drop   bool          // close the connection without answering
}

// Recorded is one request a fake received and what it answered. Header has
// the credentials masked, so a failing test that prints a recording (fmt,
// testify's diffs) does not put a key in CI logs; RawHeader has them.
type Recorded struct {
	Path   string // the request's URL path: a fake with several endpoints tells its calls apart by it
	Header http.Header
	Body   []byte
	Status int   // 0 when the connection was dropped
	Err    error // why the fake refused it, if it did

	// raw is behind a func so that printers that read unexported fields
	// (go-spew, used by testify) cannot show it.
	raw func() http.Header
}

// RawHeader returns the request's headers as sent, credentials included.
func (r Recorded) RawHeader() http.Header {
	if r.raw == nil {
		return r.Header
	}
	return r.raw()
}

// credentialHeaders are the headers whose values a recording masks: every
// platform's authentication header.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie",
	"Secret-Key", "X-Secret-Key", "Security-Token", "Organizationid"}

// Masked is what a masked header value reads.
const Masked = "[REDACTED]"

// Mask returns a copy of h with the values of credential headers, and of
// the extra headers named (a platform's user-chosen webhook header),
// replaced by Masked.
func Mask(h http.Header, extra ...string) http.Header {
	out := h.Clone()
	for _, names := range [][]string{credentialHeaders, extra} {
		for _, name := range names {
			if vs := out.Values(name); len(vs) > 0 {
				masked := make([]string, len(vs))
				for i := range masked {
					masked[i] = Masked
				}
				out[http.CanonicalHeaderKey(name)] = masked
			}
		}
	}
	return out
}

// Kit records requests and injects faults. Its zero value is ready to use;
// it is safe for concurrent use.
type Kit struct {
	// Sensitive names headers to mask in recordings besides the usual
	// credential headers. Set it before the first request.
	Sensitive []string

	mu       sync.Mutex
	requests []Recorded
	faults   []Fault
	changed  chan struct{}
}

// Inject makes the next n requests get f, after faults already queued.
func (k *Kit) Inject(n int, f Fault) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for range n {
		k.faults = append(k.faults, f)
	}
}

// Requests returns every request received so far, in order.
func (k *Kit) Requests() []Recorded {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Recorded(nil), k.requests...)
}

// Reset forgets recorded requests and queued faults.
func (k *Kit) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.requests, k.faults = nil, nil
}

// Wait returns the recorded requests once there are at least n, or ctx's
// error.
func (k *Kit) Wait(ctx context.Context, n int) ([]Recorded, error) {
	for {
		k.mu.Lock()
		if k.changed == nil {
			k.changed = make(chan struct{})
		}
		got, changed := len(k.requests), k.changed
		k.mu.Unlock()
		if got >= n {
			return k.Requests(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return k.Requests(), fmt.Errorf("%d of %d requests: %w", got, n, ctx.Err())
		}
	}
}

// Handler answers one request that no fault intercepted: it writes the
// answer and returns its status and, for a refusal, the reason.
type Handler func(w http.ResponseWriter, r *http.Request, body []byte) (int, error)

// Serve reads the request, applies the next fault if one is queued, else
// calls h, and records the outcome. errBody writes a fault's error answer.
func (k *Kit) Serve(w http.ResponseWriter, r *http.Request, h Handler, errBody func(w http.ResponseWriter, status int, err error)) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	raw := r.Header.Clone()
	rec := Recorded{Path: r.URL.Path, Header: Mask(raw, k.Sensitive...), Body: body, raw: func() http.Header { return raw.Clone() }}

	k.mu.Lock()
	var fault *Fault
	if len(k.faults) > 0 {
		f := k.faults[0]
		k.faults = k.faults[1:]
		fault = &f
	}
	k.mu.Unlock()

	if fault != nil && fault.Drop {
		// Record before the connection goes down: the client sees the
		// drop at once, and a test that then reads the recordings must
		// find this request there.
		if !sleepCtx(r, fault.Delay) {
			rec.Err = r.Context().Err()
			k.Record(rec)
			return
		}
		rec.Err = errors.New("connection dropped (injected)")
		k.Record(rec)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	rec.Status, rec.Err = k.answer(w, r, body, fault, h, errBody)
	k.Record(rec)
}

// sleepCtx waits d, or until the request ends (false).
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Record adds rec to the recorded requests and wakes Wait. Fakes that make
// calls themselves (a scripted agent calling webhooks) record them with it.
func (k *Kit) Record(rec Recorded) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.requests = append(k.requests, rec)
	if k.changed != nil {
		close(k.changed)
	}
	k.changed = make(chan struct{})
}

func (k *Kit) answer(w http.ResponseWriter, r *http.Request, body []byte, f *Fault, h Handler,
	errBody func(http.ResponseWriter, int, error)) (int, error) {
	if f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return 0, r.Context().Err()
			}
		}
		if f.Status != 0 {
			for key, v := range f.Header {
				w.Header()[key] = v
			}
			err := fmt.Errorf("injected status %d", f.Status)
			errBody(w, f.Status, err)
			return f.Status, err
		}
	}
	return h(w, r, body)
}

// Bot is where a fake delivers webhooks: an in-process handler, or a URL.
type Bot struct {
	Handler http.Handler
	URL     string
}

// Answer is the bot's raw answer to one delivery.
type Answer struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Latency    time.Duration
}

// ErrNoBot is returned by Send when the fake has neither a handler nor a
// URL to deliver to.
var ErrNoBot = errors.New("no bot to deliver to: set Config.Bot or Config.BotURL, or call SetBot or SetBotURL")

// Send posts body with header to the bot, a handler in-process or a URL
// over HTTP with client (http.DefaultClient's settings when nil), and
// returns its answer. The answer body is read to 10 MiB.
func Send(ctx context.Context, client *http.Client, bot Bot, path string, body []byte, header http.Header) (*Answer, error) {
	target := bot.URL
	if bot.Handler != nil {
		target = "http://bot.test" + path
	}
	if target == "" {
		return nil, ErrNoBot
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	if bot.Handler != nil {
		rec := httptest.NewRecorder()
		bot.Handler.ServeHTTP(rec, req)
		return &Answer{StatusCode: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes(), Latency: time.Since(start)}, nil
	}
	// The platform's credentials reach the bot's URL and nowhere else, even
	// when the bot redirects.
	resp, err := transport.GuardRedirects(client, transport.HeaderNames(header)...).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, err
	}
	return &Answer{StatusCode: resp.StatusCode, Header: resp.Header, Body: b, Latency: time.Since(start)}, nil
}

// NewHTTPServer starts h on ln, or on a fresh loopback port when ln is nil
// (httptest's default).
func NewHTTPServer(h http.Handler, ln net.Listener) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	return srv
}
