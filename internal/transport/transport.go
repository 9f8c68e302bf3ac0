// Package transport is the outbound HTTP plumbing shared by every vendor
// package: a go-retryablehttp client configured with botwire's retry policy,
// JSON POSTs, and capture of non-2xx answers as *APIError.
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
// retryablehttp's own defaults are all overridden: it would retry every POST
// on any 5xx, drop the final status on give-up, log to stderr and wait for an
// uncapped Retry-After.
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
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
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
	rc        *retryablehttp.Client
	userAgent string
	policy    RetryPolicy
	header    http.Header
	secrets   [][]byte // the header values, redacted from answers
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
	switch {
	case cfg.Timeout > 0:
		hc.Timeout = cfg.Timeout
	case hc.Timeout == 0:
		hc.Timeout = DefaultTimeout
	}
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
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: wmin,
		RetryWaitMax: wmax,
		RetryMax:     retries,
		Backoff:      backoff,
		ErrorHandler: passthrough,
	}
	if cfg.Logger != nil {
		rc.Logger = cfg.Logger // *slog.Logger is a retryablehttp.LeveledLogger
	}
	c := &Client{rc: rc, userAgent: cfg.UserAgent, policy: cfg.RetryPolicy, header: cfg.Header.Clone()}
	if c.userAgent == "" {
		c.userAgent = defaultUA
	}
	for _, vs := range c.header {
		for _, v := range vs {
			c.secrets = appendSecret(c.secrets, v)
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				c.secrets = appendSecret(c.secrets, v[7:])
			}
		}
	}
	rc.CheckRetry = c.checkRetry
	rc.PrepareRetry = prepareRetry
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

// call is the state of one PostJSON across its attempts, carried in the
// request's context (retryablehttp's hooks see only the request).
type call struct {
	idempotent bool
	before     func(context.Context) error
	last       *APIError // the latest non-2xx answer that was retried
}

type callKey struct{}

func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return &call{}
	}
	return c
}

// prepareRetry runs the request's BeforeAttempt hook before each retry.
func prepareRetry(req *http.Request) error {
	if c := callOf(req.Context()); c.before != nil {
		return c.before(req.Context())
	}
	return nil
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
}

// Response is a 2xx answer with its body read (capped at MaxErrorBody).
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// PostJSON sends r and returns the 2xx answer, or *APIError for any other
// status after the last attempt, or the transport error.
func (c *Client) PostJSON(ctx context.Context, r Request) (*Response, error) {
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
	st := &call{idempotent: r.Idempotent, before: r.BeforeAttempt}
	ctx = context.WithValue(ctx, callKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, r.URL, payload)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	// Set canonicalises names ("SECURITY-TOKEN" is sent as Security-Token;
	// HTTP header names are case-insensitive).
	for _, h := range []http.Header{c.header, r.Header} {
		for k, vs := range h {
			req.Header.Del(k)
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	if st.before != nil {
		if err := st.before(ctx); err != nil {
			return nil, err
		}
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		ctxErr := ctx.Err()
		switch {
		case ctxErr != nil && st.last != nil:
			// The context ended while waiting to retry a non-2xx answer:
			// keep both, so errors.Is(err, context.DeadlineExceeded) and
			// errors.As(err, &apiErr) hold.
			err = &WaitError{Err: ctxErr, Last: st.last}
		case ctxErr != nil && !errors.Is(err, ctxErr):
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, err
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.apiError(resp)
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	if readErr != nil {
		return nil, fmt.Errorf("read response: %w", readErr)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// passthrough replaces retryablehttp's give-up handler, which would close the
// response and lose its status code.
func passthrough(resp *http.Response, err error, _ int) (*http.Response, error) {
	return resp, err
}

// apiError reads a non-2xx answer into an *APIError, its body capped and
// with the client's credentials redacted.
func (c *Client) apiError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
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

type readCloser struct {
	io.Reader
	io.Closer
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

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, stop := c.shouldRetry(ctx, resp, err)
	if retry && err == nil && resp != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		// Keep the answer: if the context ends during the wait, the caller
		// still learns what the platform said. The body is put back, since
		// this may be the last attempt, whose answer PostJSON reads.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		resp.Body = readCloser{bytes.NewReader(body), resp.Body}
		callOf(ctx).last = &APIError{StatusCode: resp.StatusCode, Header: resp.Header,
			Body: c.redact(bytes.Clone(body)), RetryAfter: retryAfter(resp)}
	}
	return retry, stop
}

func (c *Client) shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	if c.policy == RetryNever {
		return false, nil
	}
	idempotent := callOf(ctx).idempotent || c.policy == RetryAlways
	if err != nil {
		if NotSent(err) {
			return true, nil
		}
		return idempotent, nil
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		wait := retryAfter(resp)
		if wait > MaxRetryAfter {
			wait = MaxRetryAfter
		}
		if dl, ok := ctx.Deadline(); ok && wait > 0 && time.Until(dl) < wait {
			// Waiting would outlast the caller; hand back the answer now so
			// the caller sees APIError.RetryAfter instead of a ctx error.
			return false, nil
		}
		return true, nil
	case code >= 500:
		return idempotent, nil
	}
	return false, nil
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
