// Package rotationtest checks a vendor handler's secret rotation the same
// way in every package: every credential of a rotation accepted with its
// index, refusals byte-identical whichever credential they resemble, the
// debug line of a previous credential, and a rotation with deliveries in
// flight through the vendor's fake.
package rotationtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Platform is what a vendor test fills in for the checks.
type Platform struct {
	// Name is the vendor as its log lines name it ("onetalk").
	Name string
	// Credentials are the credentials of a rotation: the current one, then
	// at least one previous one.
	Credentials []string
	// CredentialIndex is the package's CredentialIndex.
	CredentialIndex func(context.Context) (int, bool)
	// Build returns a handler taking current and previous, logging to
	// bot.Logger, whose callback calls bot.Callback with the id of the
	// delivery it runs for.
	Build func(t *testing.T, bot Bot, current string, previous ...string) http.Handler
	// Request returns a delivery of a message with id, presenting
	// credential as the platform does; "" presents none.
	Request func(id, credential string) *http.Request
	// Fake returns how the platform's fake, sending with credential,
	// delivers a message with id to bot. Only InFlight uses it.
	Fake func(t *testing.T, bot http.Handler, credential string) Sender
	// Decode, if set, tells what a 200's body says, and Reply what it
	// should say for the delivery of id.
	Decode func(body []byte) string
	Reply  func(id string) string
	// Secrets, if set, returns what else DebugLog must not find in the log
	// after a delivery of body: the other credentials the handler has,
	// what the credentials make of the body (a MAC).
	Secrets func(body []byte) []string
	// Async is true when a 200 may come before the callback has run.
	Async bool
	// Held is how many deliveries of each credential InFlight holds in
	// their callback across the swap; 0 holds them all.
	Held int
}

// Bot is what Platform.Build wires into the handler it builds.
type Bot struct {
	// Callback is what the handler's callback calls, with the id the
	// delivery was made with (Platform.Request, Sender).
	Callback func(ctx context.Context, id string)
	Logger   *slog.Logger
}

// Sender delivers a message with id through the platform's fake.
type Sender func(ctx context.Context, id string) (Answer, error)

// Answer is the handler's answer to one delivery.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Refusals are deliveries that must be refused, by name: each returns the
// request for a message with id.
type Refusals map[string]func(id string) *http.Request

// Presenting returns the delivery of a message presenting credential.
func (p Platform) Presenting(credential string) func(id string) *http.Request {
	return func(id string) *http.Request { return p.Request(id, credential) }
}

// Unauthorized is the body of every refusal.
const Unauthorized = `{"error":"unauthorized"}` + "\n"

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(h http.Handler, r *http.Request) Answer {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return Answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// wrongReply says how a 200 answer to id does not say what it should, or
// returns "".
func (p Platform) wrongReply(id string, a Answer) string {
	if p.Decode == nil || p.Reply == nil {
		return ""
	}
	if got, want := p.Decode(a.Body), p.Reply(id); got != want {
		return fmt.Sprintf("%s: the answer says %q, want %q", id, got, want)
	}
	return ""
}

// A run is one callback run: which handler, and the index it saw.
type run struct {
	handler string
	index   int
	ok      bool
}

func (r run) String() string { return fmt.Sprintf("%s %d %v", r.handler, r.index, r.ok) }

// recorder keeps the runs of the callbacks by delivery id, and holds the
// deliveries marked held until it is opened.
type recorder struct {
	p       Platform
	mu      sync.Mutex
	runs    map[string][]run
	held    map[string]bool
	entered chan string
	release chan struct{}
	once    sync.Once
}

func newRecorder(p Platform, capacity int) *recorder {
	return &recorder{p: p, runs: map[string][]run{}, held: map[string]bool{},
		entered: make(chan string, capacity), release: make(chan struct{})}
}

func (c *recorder) hook(handler string) func(ctx context.Context, id string) {
	return func(ctx context.Context, id string) {
		i, ok := c.p.CredentialIndex(ctx)
		c.mu.Lock()
		c.runs[id] = append(c.runs[id], run{handler, i, ok})
		held := c.held[id]
		c.mu.Unlock()
		if held {
			c.entered <- id
			<-c.release
		}
	}
}

func (c *recorder) open() { c.once.Do(func() { close(c.release) }) }

func (c *recorder) runsOf(id string) []run {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.runs[id])
}

func (c *recorder) all() map[string][]run {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]run, len(c.runs))
	for id, rs := range c.runs {
		out[id] = slices.Clone(rs)
	}
	return out
}

// wait returns once every id has run, or fails t after timeout.
func (c *recorder) wait(t *testing.T, timeout time.Duration, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var missing []string
		for _, id := range ids {
			if len(c.runsOf(id)) == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the callback did not run for %d deliveries, e.g. %s", len(missing), missing[0])
		}
		time.Sleep(time.Millisecond)
	}
}

// quiet waits a moment for a callback that should not run (a worker's, in
// an async handler) and fails t if any ran.
func (c *recorder) quiet(t *testing.T, what string) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if runs := c.all(); len(runs) > 0 {
		t.Errorf("the callback ran for %s: %v", what, runs)
	}
}

func flip(s string) string { return s[:len(s)-1] + string(s[len(s)-1]^1) }

// derived are the wrong presentations every platform refuses: each
// credential with its last bit flipped, with a byte more, with a byte
// less; the current one in upper case; the current and the first previous
// joined; none.
func (p Platform) derived() Refusals {
	r := Refusals{"no credential": p.Presenting("")}
	for i, c := range p.Credentials {
		r[fmt.Sprintf("credential %d, last bit flipped", i)] = p.Presenting(flip(c))
		r[fmt.Sprintf("credential %d with a byte more", i)] = p.Presenting(c + "x")
		r[fmt.Sprintf("credential %d less its last byte", i)] = p.Presenting(c[:len(c)-1])
	}
	if up := strings.ToUpper(p.Credentials[0]); up != p.Credentials[0] {
		r["credential 0 in upper case"] = p.Presenting(up)
	}
	r["credentials 0 and 1 joined"] = p.Presenting(p.Credentials[0] + "," + p.Credentials[1])
	return r
}

func (p Platform) check(t *testing.T) {
	t.Helper()
	if len(p.Credentials) < 2 {
		t.Fatal("rotationtest: a rotation needs a current and a previous credential")
	}
}

// Accepted checks that a handler taking all of p.Credentials accepts each
// (in order, then in reverse) and that its callback runs once, seeing the
// credential's index; that a handler taking only the current credential
// refuses the previous ones; and that outside a delivery there is no index.
func Accepted(t *testing.T, p Platform) {
	t.Helper()
	p.check(t)
	rec := newRecorder(p, 0)
	cur, prev := p.Credentials[0], p.Credentials[1:]
	h := p.Build(t, Bot{Callback: rec.hook("rotating"), Logger: discard()}, cur, prev...)
	order := make([]int, 0, 2*len(p.Credentials))
	for i := range p.Credentials {
		order = append(order, i)
	}
	for i := range p.Credentials {
		order = append(order, len(p.Credentials)-1-i)
	}
	for k, i := range order {
		id := fmt.Sprintf("accepted-%d-credential-%d", k, i)
		a := serve(h, p.Request(id, p.Credentials[i]))
		if a.Status != http.StatusOK {
			t.Fatalf("credential %d answered %d: %s", i, a.Status, a.Body)
		}
		if wrong := p.wrongReply(id, a); wrong != "" {
			t.Error(wrong)
		}
		rec.wait(t, 5*time.Second, id)
		if got, want := rec.runsOf(id), []run{{"rotating", i, true}}; !slices.Equal(got, want) {
			t.Errorf("credential %d: the callback ran %v, want %v", i, got, want)
		}
	}

	alone := newRecorder(p, 0)
	only := p.Build(t, Bot{Callback: alone.hook("rotated"), Logger: discard()}, cur)
	for i := 1; i < len(p.Credentials); i++ {
		id := fmt.Sprintf("after-the-rotation-credential-%d", i)
		if a := serve(only, p.Request(id, p.Credentials[i])); a.Status != http.StatusUnauthorized {
			t.Errorf("without the previous credentials, credential %d answered %d, want 401", i, a.Status)
		}
	}
	alone.quiet(t, "a previous credential after the rotation")

	if i, ok := p.CredentialIndex(context.Background()); ok {
		t.Errorf("outside a delivery CredentialIndex says %d", i)
	}
}

// IdenticalRefusals checks that a handler taking all of p.Credentials
// refuses the derived wrong presentations (each credential with its last
// bit flipped, with a byte more or less, the current one in upper case,
// two joined, none) and extra, all with the same 401, byte for byte, and
// runs no callback. It returns that 401, for a platform with more than one
// webhook to compare.
func IdenticalRefusals(t *testing.T, p Platform, extra Refusals) Answer {
	t.Helper()
	p.check(t)
	rec := newRecorder(p, 0)
	h := p.Build(t, Bot{Callback: rec.hook("rotating"), Logger: discard()}, p.Credentials[0], p.Credentials[1:]...)
	refusals := p.derived()
	for name, r := range extra {
		refusals[name] = r
	}
	names := slices.Sorted(maps.Keys(refusals))
	var first Answer
	for k, name := range names {
		a := serve(h, refusals[name](fmt.Sprint("refused-", k)))
		if a.Status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401: %s", name, a.Status, a.Body)
			continue
		}
		if first.Status == 0 {
			first = a
			if string(a.Body) != Unauthorized {
				t.Errorf("%s: the 401 says %q, want %q", name, a.Body, Unauthorized)
			}
			continue
		}
		if !bytes.Equal(a.Body, first.Body) {
			t.Errorf("%s: the 401 body %q tells it from %s's %q", name, a.Body, names[0], first.Body)
		}
		if !maps.EqualFunc(a.Header, first.Header, slices.Equal) {
			t.Errorf("%s: the 401 headers %v tell it from %s's %v", name, a.Header, names[0], first.Header)
		}
	}
	rec.quiet(t, "a wrong credential")
	return first
}

// lockedBuffer is a log destination safe for the handler's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fanout sends each record to every handler that takes its level.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	return slices.ContainsFunc(f, func(h slog.Handler) bool { return h.Enabled(ctx, l) })
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (f fanout) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(a)
	}
	return out
}

func (f fanout) WithGroup(g string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(g)
	}
	return out
}

// DebugLog checks the log of a handler taking all of p.Credentials, whose
// logger writes at debug to one buffer and at info to another: the current
// credential and the refusals (derived as in IdenticalRefusals) log
// nothing; each previous credential i logs one DEBUG line "<Name>:
// authenticated with a previous credential" with credential=i; nothing is
// logged above debug; and no credential nor p.Secrets, no 8 bytes of
// one, nor its base64, nor any header value presented, is in the log.
func DebugLog(t *testing.T, p Platform) {
	t.Helper()
	p.check(t)
	var debug, info lockedBuffer
	logger := slog.New(fanout{
		slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}),
	})
	rec := newRecorder(p, 0)
	h := p.Build(t, Bot{Callback: rec.hook("logged"), Logger: logger}, p.Credentials[0], p.Credentials[1:]...)
	var presented []string
	secret := slices.Clone(p.Credentials)
	n := 0
	send := func(r func(id string) *http.Request) int {
		n++
		req := r(fmt.Sprint("logged-", n))
		for _, vs := range req.Header {
			presented = append(presented, vs...)
		}
		if p.Secrets != nil {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			secret = append(secret, p.Secrets(body)...)
		}
		return serve(h, req).Status
	}
	refuse := func(when string) {
		t.Helper()
		before := debug.String()
		refusals := p.derived()
		for _, name := range slices.Sorted(maps.Keys(refusals)) {
			if status := send(refusals[name]); status != http.StatusUnauthorized {
				t.Errorf("%s: answered %d, want 401", name, status)
			}
		}
		if got := debug.String(); got != before {
			t.Errorf("a refusal %s logs %q", when, strings.TrimPrefix(got, before))
		}
	}

	if status := send(p.Presenting(p.Credentials[0])); status != http.StatusOK {
		t.Fatalf("the current credential answered %d", status)
	}
	if got := debug.String(); got != "" {
		t.Errorf("the current credential is not news, yet logs %q", got)
	}
	refuse("before a previous credential")
	for i := 1; i < len(p.Credentials); i++ {
		if status := send(p.Presenting(p.Credentials[i])); status != http.StatusOK {
			t.Fatalf("credential %d answered %d", i, status)
		}
		lines := strings.Split(strings.TrimSuffix(debug.String(), "\n"), "\n")
		if len(lines) != i {
			t.Fatalf("after credential %d the log has %d lines, want one per delivery with a previous credential: %q",
				i, len(lines), debug.String())
		}
		line := lines[i-1]
		for _, want := range []string{"level=DEBUG", p.Name + ": authenticated with a previous credential",
			fmt.Sprintf(" credential=%d", i)} {
			if !strings.Contains(line, want) {
				t.Errorf("credential %d: the line %q does not say %q", i, line, want)
			}
		}
	}
	refuse("after a previous credential")
	if status := send(p.Presenting(p.Credentials[0])); status != http.StatusOK {
		t.Fatalf("the current credential answered %d", status)
	}
	if got := info.String(); got != "" {
		t.Errorf("above debug, neither a rotation nor a wrong credential is logged, yet: %q", got)
	}

	logged := debug.String() + info.String()
	var shown []string
	for _, c := range secret {
		shown = append(shown, c, base64.StdEncoding.EncodeToString([]byte(c)))
		for i := 0; i+8 <= len(c); i++ {
			shown = append(shown, c[i:i+8])
		}
	}
	for _, v := range presented {
		shown = append(shown, v)
		shown = append(shown, strings.Fields(v)...)
	}
	for _, s := range shown {
		if len(s) >= 8 && strings.Contains(logged, s) {
			t.Errorf("the log shows %q, part of a credential or of what presented one: %q", s, logged)
		}
	}
}

// InFlight checks a rotation with deliveries in flight. A handler taking
// the current credential and the first previous one (rotating) serves 2×50
// concurrent deliveries through p's fakes, the old and the new credential
// interleaved; p.Held of each (all by default) are held in their callback,
// the others answered, when the handler is swapped for one taking the
// current credential only (rotated). 2×50 more are then delivered, with
// the held ones still held, and only then released. Every delivery before
// the swap gets 200, the held ones too; after it, the old credential gets
// 401 and the new one 200. Each callback ran once, in the handler it was
// delivered to, seeing the index of its credential.
func InFlight(t *testing.T, p Platform) {
	t.Helper()
	p.check(t)
	const n = 50 // deliveries per credential and phase
	hold := p.Held
	if hold <= 0 || hold > n {
		hold = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec := newRecorder(p, 2*n)
	defer rec.open()

	cur, old := p.Credentials[0], p.Credentials[1]
	rotating := p.Build(t, Bot{Callback: rec.hook("rotating"), Logger: discard()}, cur, old)
	rotated := p.Build(t, Bot{Callback: rec.hook("rotated"), Logger: discard()}, cur)
	var current atomic.Pointer[http.Handler]
	swap := func(h http.Handler) { current.Store(&h) }
	swap(rotating)
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) })
	fakes := map[string]Sender{"old": p.Fake(t, front, old), "new": p.Fake(t, front, cur)}

	type result struct {
		id, kind string
		answer   Answer
		err      error
	}
	// send delivers n messages with each credential, interleaved, at once.
	send := func(phase string, held int) <-chan result {
		out := make(chan result, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			kind := [2]string{"old", "new"}[i%2]
			id := fmt.Sprintf("%s-%s-%d", phase, kind, i/2)
			if i/2 < held {
				rec.mu.Lock()
				rec.held[id] = true
				rec.mu.Unlock()
			}
			wg.Go(func() {
				a, err := fakes[kind](ctx, id)
				out <- result{id, kind, a, err}
			})
		}
		go func() { wg.Wait(); close(out) }()
		return out
	}
	isHeld := func(id string) bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.held[id]
	}

	phase1 := send("rotating", hold)
	var before []result
	answers, entered := 2*(n-hold), 2*hold
	if p.Async { // acknowledged before the callbacks run: all answer
		answers, entered = 2*n, 0
	}
	for len(before) < answers || entered > 0 {
		select {
		case r := <-phase1:
			if !p.Async && isHeld(r.id) {
				t.Fatalf("%s answered %d before its callback was released", r.id, r.answer.Status)
			}
			before = append(before, r)
		case <-rec.entered:
			entered--
		case <-ctx.Done():
			t.Fatalf("before the swap %d of %d deliveries answered, %d held ones are still to reach the callback",
				len(before), answers, entered)
		}
	}

	swap(rotated)
	var after []result
	for r := range send("rotated", 0) {
		after = append(after, r)
	}
	rec.open()
	for r := range phase1 {
		before = append(before, r)
	}

	// Wait for the callbacks of the deliveries answered 200: in an async
	// handler they run after the answer.
	var ran []string
	for _, r := range append(slices.Clone(before), after...) {
		if r.err == nil && r.answer.Status == http.StatusOK {
			ran = append(ran, r.id)
		}
	}
	rec.wait(t, 10*time.Second, ran...)

	if len(before) != 2*n || len(after) != 2*n {
		t.Fatalf("%d deliveries answered before the swap and %d after, want %d each", len(before), len(after), 2*n)
	}
	var wrong problems
	for _, r := range before {
		switch {
		case r.err != nil:
			wrong.add("%s, during the rotation: %v", r.id, r.err)
		case r.answer.Status != http.StatusOK:
			wrong.add("%s, during the rotation: answered %d: %s", r.id, r.answer.Status, r.answer.Body)
		default:
			wrong.add("%s", p.wrongReply(r.id, r.answer))
		}
	}
	for _, r := range after {
		want := map[string]int{"old": http.StatusUnauthorized, "new": http.StatusOK}[r.kind]
		switch {
		case r.err != nil:
			wrong.add("%s, after the rotation: %v", r.id, r.err)
		case r.answer.Status != want:
			wrong.add("%s, after the rotation: answered %d, want %d: %s", r.id, r.answer.Status, want, r.answer.Body)
		case want == http.StatusOK:
			wrong.add("%s", p.wrongReply(r.id, r.answer))
		case string(r.answer.Body) != Unauthorized:
			wrong.add("%s, after the rotation: the 401 says %q", r.id, r.answer.Body)
		}
	}
	wrong.report(t, "deliveries answered wrong")

	runs := rec.all()
	want := map[string]run{}
	for _, r := range before {
		want[r.id] = run{"rotating", map[string]int{"old": 1, "new": 0}[r.kind], true}
	}
	for _, r := range after {
		if r.kind == "new" {
			want[r.id] = run{"rotated", 0, true}
		}
	}
	var badRuns problems
	for id, w := range want {
		if got := runs[id]; !slices.Equal(got, []run{w}) {
			badRuns.add("%s: the callback ran %v, want once: %v", id, got, w)
		}
	}
	for id, got := range runs {
		if _, ok := want[id]; !ok {
			badRuns.add("%s: the callback ran %v, want never (an old credential after the rotation)", id, got)
		}
	}
	badRuns.report(t, "callbacks ran wrong (handler, CredentialIndex, ok)")
	if len(runs) != 3*n {
		t.Errorf("the callback ran for %d deliveries, want %d: both credentials before the swap, the new one after", len(runs), 3*n)
	}
}

// problems gathers the failures of many deliveries, to report a few.
type problems []string

func (p *problems) add(format string, args ...any) {
	if s := fmt.Sprintf(format, args...); s != "" {
		*p = append(*p, s)
	}
}

func (p problems) report(t *testing.T, what string) {
	t.Helper()
	if len(p) == 0 {
		return
	}
	slices.Sort(p)
	t.Errorf("%d %s, e.g.:\n\t%s", len(p), what, strings.Join(p[:min(len(p), 4)], "\n\t"))
}
