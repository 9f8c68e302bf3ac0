// Package transport is the outbound HTTP plumbing shared by every vendor
// package: botwire's retry policy around net/http, JSON POSTs, capture of
// non-2xx answers as *APIError, and the client side of the observer
// (observe.Call, observe.Attempt, retries and waits).
//
// The retry policy (DESIGN.md, "Client behaviour") exists because sending a
// chat message twice is worse than failing once:
//
//   - connection failures that happened before the request was written (dial,
//     DNS, refused) are always retried;
//   - 429 and 503 are always retried, honouring Retry-After capped at 60 s and
//     at the context deadline;
//   - other 5xx and ambiguous network errors (a timeout or reset after the
//     request may have been sent) are retried only for idempotent operations,
//     unless the user chose RetryAlways;
//   - 4xx is never retried.
//
// The retry loop is botwire's own (it was go-retryablehttp's until the
// observer): it sleeps with the call's context, so an observer learns the
// real wait before each retry and every attempt runs in the context its
// AttemptStart returned (an otelhttp transport below sees the attempt's
// span); a failed call no longer closes the idle connections every client
// of the process shares; and a call costs what a raw http.Client.Do of the
// same bytes costs, within a few percent (BenchmarkCost): each attempt's
// request is built once, without a wrapper, on a header and a URL parsed
// when the client was made, and the per-attempt timeout is a deadline on
// the attempt's context, not http.Client.Timeout's timer and body wrapper.
package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/botwire/botwire/observe"
)

// Defaults of DESIGN.md "Client behaviour".
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 3 // 4 attempts in all
	DefaultWaitMin    = 200 * time.Millisecond
	DefaultWaitMax    = 5 * time.Second
	MaxRetryAfter     = 60 * time.Second
	MaxErrorBody      = 64 << 10
	// MaxDrain is how much of an answer beyond what is read is drained
	// before closing it, so the connection goes back to the pool; a longer
	// answer closes its connection.
	MaxDrain = 1 << 20
	// IdleConnsPerHost is the idle pool per host of the default transport:
	// net/http keeps 2, so 16 concurrent senders opened a new connection
	// (over TLS, a handshake) for about 1 call in 16.
	IdleConnsPerHost = 64
)

// defaultTransport is the transport of clients built without
// WithHTTPClient: http.DefaultTransport's settings with an idle pool that
// fits concurrent sending. One per process, so clients share connections.
var defaultTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = IdleConnsPerHost
	t.MaxIdleConns = 4 * IdleConnsPerHost
	return t
}()

// RetryPolicy says which failures are retried.
type RetryPolicy int

const (
	// RetryIdempotent is the default: ambiguous failures and 5xx other than
	// 503 are retried only for operations that are idempotent by nature.
	RetryIdempotent RetryPolicy = iota
	// RetryAlways also retries ambiguous failures and 5xx when sending a
	// message, accepting that the platform may deliver it twice.
	RetryAlways
	// RetryNever makes exactly one attempt, whatever happens.
	RetryNever
)

// String returns the policy's name.
func (p RetryPolicy) String() string {
	switch p {
	case RetryIdempotent:
		return "RetryIdempotent"
	case RetryAlways:
		return "RetryAlways"
	case RetryNever:
		return "RetryNever"
	}
	return "RetryPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Config is the client configuration every vendor package embeds. The zero
// value means "use the defaults".
type Config struct {
	HTTPClient  *http.Client
	Timeout     time.Duration // per attempt; 0 means DefaultTimeout
	MaxRetries  int           // retries after the first attempt; -1 means none
	retriesSet  bool
	WaitMin     time.Duration
	WaitMax     time.Duration
	Logger      *slog.Logger
	UserAgent   string
	RetryPolicy RetryPolicy
	// Observer sees every call and attempt (WithObserver); nil: none.
	Observer observe.Observer
	// Platform names the platform for the observer (observe.OneTalk, ...).
	Platform string
	// Header is sent with every request: the platform's authentication.
	// The vendor package sets it; it lives here, behind the *Client pointer,
	// so printing a vendor client never shows it.
	Header http.Header
}

// SetMaxRetries records an explicit retry count (0 is a valid choice, so the
// zero value of MaxRetries alone cannot mean "unset").
func (c *Config) SetMaxRetries(n int) {
	if n < 0 {
		n = 0
	}
	c.MaxRetries = n
	c.retriesSet = true
}

// Client sends JSON requests with the retry policy. It is immutable after New
// and safe for concurrent use.
type Client struct {
	hc         *http.Client
	timeout    time.Duration // per attempt
	retries    int
	wmin, wmax time.Duration
	logger     *slog.Logger
	userAgent  string
	policy     RetryPolicy
	// header is Config.Header with Content-Type, Accept and User-Agent,
	// canonicalised: every request's header.
	header http.Header
	// shared is true when hc is botwire's own (no WithHTTPClient): its
	// transport and redirect check never modify a request, so every request
	// uses header and the parsed URL as they are. A caller's client gets
	// copies: a RoundTripper that sets a header on the request it was given
	// (a common mistake) must not write to a map other calls read.
	shared   bool
	secrets  [][]byte // the header values, redacted from answers
	obs      observe.Observer
	platform string
	urls     atomic.Pointer[[]*target] // parsed request URLs, copy on write
	urlsMu   sync.Mutex
}

// New builds a Client from cfg. defaultUA is used when cfg.UserAgent is empty.
func New(cfg Config, defaultUA string) *Client {
	hc := &http.Client{Transport: defaultTransport}
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	// A copy (the caller's client is never mutated) whose redirects to
	// another origin carry none of the platform's credentials.
	hc = GuardRedirects(hc, HeaderNames(cfg.Header)...)
	// The per-attempt timeout is a deadline on each attempt's context
	// rather than hc.Timeout, which adds a timer, a closure and a body
	// wrapper of its own to every request.
	timeout := DefaultTimeout
	switch {
	case cfg.Timeout > 0:
		timeout = cfg.Timeout
	case hc.Timeout > 0:
		timeout = hc.Timeout
	}
	hc.Timeout = 0
	retries := DefaultMaxRetries
	if cfg.retriesSet {
		retries = cfg.MaxRetries
	}
	if cfg.RetryPolicy == RetryNever {
		retries = 0
	}
	wmin, wmax := cfg.WaitMin, cfg.WaitMax
	if wmin <= 0 {
		wmin = DefaultWaitMin
	}
	if wmax <= 0 {
		wmax = DefaultWaitMax
	}
	if wmax < wmin {
		wmax = wmin
	}
	c := &Client{
		hc: hc, timeout: timeout, retries: retries, wmin: wmin, wmax: wmax, logger: cfg.Logger,
		userAgent: cfg.UserAgent, policy: cfg.RetryPolicy,
		shared: cfg.HTTPClient == nil, obs: cfg.Observer, platform: cfg.Platform,
	}
	if c.userAgent == "" {
		c.userAgent = defaultUA
	}
	// Set canonicalises names ("SECURITY-TOKEN" is sent as Security-Token;
	// HTTP header names are case-insensitive).
	c.header = http.Header{}
	for k, vs := range cfg.Header {
		for _, v := range vs {
			c.header.Add(k, v)
			c.secrets = appendSecret(c.secrets, v)
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				c.secrets = appendSecret(c.secrets, v[7:])
			}
		}
	}
	c.header.Set("Content-Type", "application/json")
	c.header.Set("Accept", "application/json")
	c.header.Set("User-Agent", c.userAgent)
	return c
}

// appendSecret adds v to the values redacted from answers. A value shorter
// than 4 bytes would redact ordinary text and is left out.
func appendSecret(list [][]byte, v string) [][]byte {
	if len(strings.TrimSpace(v)) < 4 {
		return list
	}
	return append(list, []byte(v))
}

// redact replaces every credential the client sends in b with [REDACTED]: a
// platform that echoes the key ("invalid key <key>") must not put it in an
// error string or a log line. b is returned as it is when it holds none.
func (c *Client) redact(b []byte) []byte {
	for _, s := range c.secrets {
		if bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, []byte("[REDACTED]"))
		}
	}
	return b
}

// Request is one JSON POST.
type Request struct {
	URL    string
	Header http.Header // added to the request, after Config.Header
	Body   any         // marshalled as JSON; a []byte or json.RawMessage is sent as is
	// Idempotent marks an operation that may safely reach the platform twice
	// (pause/resume, typing indicators, case and contact updates).
	Idempotent bool
	// BeforeAttempt, when set, runs before every attempt, retries included
	// (a rate limiter takes its slot there). Its error ends the call.
	BeforeAttempt func(context.Context) error
	// Operation names the call for the observer: the vendor client's
	// method ("SendMessages").
	Operation string
	// URLTemplate is URL's path with its ids as placeholders, for the
	// observer ("/converse/chat", "{oneTalkURL}"): never an id or a token.
	URLTemplate string
}

// Response is a 2xx answer with its body read (capped at MaxErrorBody).
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// target is a parsed request URL and what an Attempt reports of it.
type target struct {
	raw    string
	u      *url.URL
	scheme string
	host   string
	port   int
}

// maxTargets bounds the parsed URLs a Client keeps: a vendor client posts to
// one or two URLs, and a caller of PostJSON with ever new URLs gets each
// parsed per call rather than a growing cache.
const maxTargets = 8

// target returns raw parsed, from the cache when it was seen before.
func (c *Client) target(raw string) (*target, error) {
	if list := c.urls.Load(); list != nil {
		for _, t := range *list {
			if t.raw == raw {
				return t, nil
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	// As http.NewRequest does: "host:" means host.
	u.Host = strings.TrimSuffix(u.Host, ":")
	t := &target{raw: raw, u: u, scheme: u.Scheme, host: u.Hostname()}
	t.port, _ = strconv.Atoi(port(u))
	c.urlsMu.Lock()
	defer c.urlsMu.Unlock()
	var list []*target
	if old := c.urls.Load(); old != nil {
		list = *old
	}
	if len(list) < maxTargets {
		list = append(list[:len(list):len(list)], t)
		c.urls.Store(&list)
	}
	return t, nil
}

// newBody is a request body over the payload; a new one for every attempt,
// since the transport may still be closing the previous one. It is what
// http.NewRequest makes of a *bytes.Reader: net/http writes such a body
// with the headers in one packet, any other type after a flush.
func newBody(p []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(p)) }

// request builds one attempt's request: the same fields http.NewRequest
// sets for a bytes body, without parsing the URL or building the header
// again.
func (c *Client) request(ctx context.Context, t *target, extra http.Header, payload []byte, getBody func() (io.ReadCloser, error)) *http.Request {
	u, h := t.u, c.header
	if !c.shared {
		cu := *u
		u = &cu
		h = c.header.Clone()
	}
	if len(extra) > 0 {
		if c.shared {
			h = c.header.Clone()
		}
		for k, vs := range extra {
			h.Del(k)
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	}
	r := http.Request{
		Method:     http.MethodPost,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
		Body:       http.NoBody,
		GetBody:    noBody,
	}
	if len(payload) > 0 {
		r.Body, r.GetBody, r.ContentLength = newBody(payload), getBody, int64(len(payload))
	}
	return r.WithContext(ctx)
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

// PostJSON sends r and returns the 2xx answer, or *APIError for any other
// status after the last attempt, or the transport error. With an observer
// it reports the call, each attempt, retries, Retry-After waits and giving
// up.
func (c *Client) PostJSON(ctx context.Context, r Request) (*Response, error) {
	if c.obs == nil {
		return c.post(ctx, &r, nil)
	}
	// One allocation for the call and its attempts: an observer keeps no
	// pointer past the matching End, so every attempt reuses one Attempt.
	st := &callState{call: observe.Call{Platform: c.platform, Operation: r.Operation, URLTemplate: r.URLTemplate, Start: time.Now()}}
	call := &st.call
	ctx = c.obs.CallStart(ctx, call)
	resp, err := c.post(ctx, &r, st)
	call.Err, call.Duration = err, time.Since(call.Start)
	c.obs.CallEnd(ctx, call)
	return resp, err
}

// callState is what PostJSON gives an observer.
type callState struct {
	call    observe.Call
	attempt observe.Attempt
}

// post is PostJSON; st is nil without an observer.
func (c *Client) post(ctx context.Context, r *Request, st *callState) (*Response, error) {
	var call *observe.Call
	if st != nil {
		call = &st.call
	}
	var payload []byte
	switch b := r.Body.(type) {
	case []byte:
		payload = b
	case json.RawMessage:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(r.Body); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	t, err := c.target(r.URL)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if r.BeforeAttempt != nil {
		if err := r.BeforeAttempt(ctx); err != nil {
			if ctx.Err() != nil {
				c.event(ctx, call, observe.Event{Kind: observe.KindGaveUp, Err: err})
			}
			return nil, err
		}
	}
	getBody := func() (io.ReadCloser, error) { return newBody(payload), nil }
	idempotent := r.Idempotent || c.policy == RetryAlways
	var (
		last    *APIError      // the latest non-2xx answer that was retried
		lastErr error          // the latest transport error that was retried
		reason  observe.Reason // why the latest attempt was retried
	)
	for n := 0; ; n++ {
		resp, done, err := c.attempt(ctx, st, n, t, r.Header, payload, getBody)
		if call != nil {
			call.Attempts = n + 1
			if resp != nil {
				call.Status = resp.StatusCode
			}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if resp != nil {
				closeBody(resp.Body)
			}
			done()
			err = ctxEnded(ctxErr, cmpOr(err, lastErr), last)
			c.event(ctx, call, observe.Event{Kind: observe.KindGaveUp, Attempt: n + 1, Reason: reason, Err: err})
			return nil, err
		}
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			ok, err := readOK(resp)
			done()
			return ok, err
		}
		why, retry, tooLong := c.shouldRetry(ctx, idempotent, resp, err)
		if !retry || n >= c.retries {
			if err != nil {
				c.logFailed(ctx, r, t, err)
			} else {
				err = c.apiError(resp)
			}
			done()
			if retry || tooLong {
				// Retries exhausted, or a Retry-After past the deadline.
				c.event(ctx, call, observe.Event{Kind: observe.KindGaveUp, Attempt: n + 1, Reason: why, Err: err})
			}
			return nil, err
		}
		reason = why
		wait := backoff(c.wmin, c.wmax, n, resp)
		fromServer := false
		if err != nil {
			c.logFailed(ctx, r, t, err)
			lastErr = err
		} else {
			fromServer = why != observe.ReasonStatus5xx && retryAfter(resp) > 0
			// Keep the answer: if the context ends during the wait, the
			// caller still learns what the platform said.
			last = c.apiError(resp)
		}
		done()
		if c.obs != nil {
			retry := observe.Event{Kind: observe.KindRetry, Attempt: n, Reason: why, Wait: wait, Err: err}
			if fromServer {
				retry.Source = observe.SourceServer
			}
			c.event(ctx, call, retry)
			if fromServer {
				c.event(ctx, call, observe.Event{Kind: observe.KindRateLimited, Source: observe.SourceServer, Attempt: n, Reason: why, Wait: wait})
			}
		}
		if c.logger != nil && c.logger.Enabled(ctx, slog.LevelDebug) {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			c.logger.DebugContext(ctx, "retrying request", "operation", r.Operation, "attempt", n,
				"reason", string(why), "status", status, "wait", wait, "remaining", c.retries-n)
		}
		if err := sleep(ctx, wait); err != nil {
			err = ctxEnded(err, lastErr, last)
			c.event(ctx, call, observe.Event{Kind: observe.KindGaveUp, Attempt: n + 1, Reason: why, Err: err})
			return nil, err
		}
		if r.BeforeAttempt != nil {
			if err := r.BeforeAttempt(ctx); err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					err = ctxEnded(ctxErr, err, last)
				}
				c.event(ctx, call, observe.Event{Kind: observe.KindGaveUp, Attempt: n + 1, Reason: why, Err: err})
				return nil, err
			}
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// attempt sends one request within the per-attempt timeout, reporting it
// to the observer. done ends the attempt's context: call it once the
// answer is read or closed.
func (c *Client) attempt(ctx context.Context, st *callState, n int, t *target, extra http.Header, payload []byte, getBody func() (io.ReadCloser, error)) (resp *http.Response, done context.CancelFunc, err error) {
	if c.obs == nil {
		actx, done := c.withTimeout(ctx)
		resp, err := c.hc.Do(c.request(actx, t, extra, payload, getBody))
		return resp, done, c.timedOut(ctx, actx, err)
	}
	a := &st.attempt
	*a = observe.Attempt{Call: &st.call, N: n, Method: http.MethodPost, Scheme: t.scheme, Host: t.host, Port: t.port, Start: time.Now()}
	actx := c.obs.AttemptStart(ctx, a)
	tctx, done := c.withTimeout(actx)
	resp, err = c.hc.Do(c.request(tctx, t, extra, payload, getBody))
	err = c.timedOut(ctx, tctx, err)
	if resp != nil {
		a.Status = resp.StatusCode
	}
	a.Err, a.Duration = err, time.Since(a.Start)
	c.obs.AttemptEnd(actx, a)
	return resp, done, err
}

// withTimeout returns ctx with the per-attempt deadline, or ctx itself when
// its own deadline comes first (done is then a no-op).
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.timeout {
		return ctx, nop
	}
	return context.WithTimeout(ctx, c.timeout)
}

func nop() {}

// timedOut says so in err when the attempt's own deadline ended it, rather
// than the caller's context: "context deadline exceeded" alone would blame
// a deadline the caller never set.
func (c *Client) timedOut(ctx, actx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		return &attemptTimeout{after: c.timeout, err: err}
	}
	return err
}

// attemptTimeout is an attempt that ran past the client's per-attempt
// timeout (WithTimeout). It wraps the transport's error, so errors.Is(err,
// context.DeadlineExceeded) holds, and it is a timeout as net.Error says,
// as an error of http.Client.Timeout is.
type attemptTimeout struct {
	after time.Duration
	err   error
}

func (e *attemptTimeout) Error() string {
	return e.err.Error() + " (attempt timeout " + e.after.String() + " exceeded)"
}

func (e *attemptTimeout) Unwrap() error { return e.err }
func (e *attemptTimeout) Timeout() bool { return true }

// event reports e with the call's platform and operation.
func (c *Client) event(ctx context.Context, call *observe.Call, e observe.Event) {
	if c.obs == nil {
		return
	}
	e.Platform = c.platform
	if call != nil {
		e.Operation = call.Operation
	}
	c.obs.Event(ctx, e)
}

// logFailed logs a transport error as go-retryablehttp did, with the URL's
// password, if any, redacted.
func (c *Client) logFailed(ctx context.Context, r *Request, t *target, err error) {
	if c.logger == nil {
		return
	}
	c.logger.ErrorContext(ctx, "request failed", "operation", r.Operation, "error", err,
		"method", http.MethodPost, "url", t.u.Redacted())
}

// ctxEnded is the error of a call whose context ended: a *WaitError when a
// non-2xx answer had been kept to be retried, else the context's error with
// the latest failure, if any.
func ctxEnded(ctxErr, cause error, last *APIError) error {
	switch {
	case last != nil:
		// Keep both, so errors.Is(err, context.DeadlineExceeded) and
		// errors.As(err, &apiErr) hold.
		return &WaitError{Err: ctxErr, Last: last}
	case cause != nil && !errors.Is(cause, ctxErr):
		return fmt.Errorf("%w (%v)", ctxErr, cause)
	}
	return ctxErr
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readOK reads a 2xx answer, its body capped at MaxErrorBody.
func readOK(resp *http.Response) (*Response, error) {
	body, readErr := readBody(resp)
	if readErr != nil {
		return nil, fmt.Errorf("read response: %w", readErr)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// readBody reads resp's body up to MaxErrorBody, drains what is left up to
// MaxDrain and closes it. It is io.ReadAll of an io.LimitReader, sized by
// Content-Length when the answer has one.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	size := 512
	if cl := resp.ContentLength; cl >= 0 && cl < MaxErrorBody {
		size = int(cl) + 1 // room for the read that sees EOF
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := min(cap(b), MaxErrorBody) - len(b)
		if room <= 0 {
			// Capped: drain the rest so the connection is reused.
			_, _ = io.CopyN(io.Discard, resp.Body, MaxDrain)
			return b, nil
		}
		n, err := resp.Body.Read(b[len(b) : len(b)+room])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// apiError reads a non-2xx answer into an *APIError, its body capped and
// with the client's credentials redacted.
func (c *Client) apiError(resp *http.Response) *APIError {
	body, _ := readBody(resp)
	return &APIError{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       c.redact(body),
		RetryAfter: retryAfter(resp),
	}
}

// closeBody drains what is left of an answer, up to MaxDrain, and closes
// it: a body closed before its end takes its connection down with it.
func closeBody(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, MaxDrain)
	body.Close()
}

// WaitError is returned when the context ends while the client waits to
// retry a non-2xx answer. It wraps both the context's error and the last
// *APIError.
type WaitError struct {
	Err  error     // context.Canceled or context.DeadlineExceeded
	Last *APIError // the answer that was to be retried
}

// Error reports both causes.
func (e *WaitError) Error() string {
	return e.Err.Error() + " while waiting to retry; last answer: " + e.Last.Error()
}

// Unwrap returns both causes for errors.Is and errors.As.
func (e *WaitError) Unwrap() []error { return []error{e.Err, e.Last} }

// shouldRetry says whether a failed attempt (a transport error, or a
// non-2xx answer) is retried under the policy, and why. tooLong is set for
// a 429 or 503 whose Retry-After ends after the context's deadline: the
// answer is handed back at once, so the caller sees APIError.RetryAfter
// rather than a context error.
func (c *Client) shouldRetry(ctx context.Context, idempotent bool, resp *http.Response, err error) (why observe.Reason, retry, tooLong bool) {
	if err != nil {
		if NotSent(err) {
			return observe.ReasonNotSent, c.policy != RetryNever, false
		}
		return observe.ReasonNetwork, idempotent && c.policy != RetryNever, false
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		why = observe.ReasonStatus429
		if code == http.StatusServiceUnavailable {
			why = observe.ReasonStatus503
		}
		if c.policy == RetryNever {
			return why, false, false
		}
		wait := min(retryAfter(resp), MaxRetryAfter)
		if dl, ok := ctx.Deadline(); ok && wait > 0 && time.Until(dl) < wait {
			return why, false, true
		}
		return why, true, false
	case code >= 500:
		return observe.ReasonStatus5xx, idempotent && c.policy != RetryNever, false
	}
	return "", false, false
}

// NotSent reports whether err happened before any byte of the request could
// reach the server: a DNS failure, or a failed dial (refused, unreachable).
func NotSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return false
}

// backoff is exponential with full jitter between min and max, or the
// server's Retry-After (capped) for 429 and 503.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra := retryAfter(resp); ra > 0 {
			return min(ra, MaxRetryAfter)
		}
	}
	ceiling := maxWait
	if attempt < 30 {
		if c := minWait << uint(attempt); c > 0 && c < maxWait {
			ceiling = c
		}
	}
	if ceiling <= minWait {
		return minWait
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	span := uint64(ceiling - minWait)
	return minWait + time.Duration(binary.LittleEndian.Uint64(b[:])%span)
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// APIError is a non-2xx answer from a platform, returned after the last
// attempt. Vendor packages alias it as their own APIError.
type APIError struct {
	StatusCode int
	Header     http.Header
	Body       []byte        // capped at 64 KiB
	RetryAfter time.Duration // from the Retry-After header, if any
	// Err is an optional sentinel the vendor package attaches (ErrBotNotFound,
	// ...) so callers can use errors.Is.
	Err error
}

// Error reports the status and a short excerpt of the body. It never prints
// request headers, where the secrets are.
func (e *APIError) Error() string {
	msg := "platform answered " + strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		msg += " " + t
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if ex := excerpt(e.Body); ex != "" {
		msg += ": " + ex
	}
	if e.RetryAfter > 0 {
		msg += " (retry after " + e.RetryAfter.String() + ")"
	}
	return msg
}

// Unwrap returns the vendor sentinel, if any.
func (e *APIError) Unwrap() error { return e.Err }

func excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
