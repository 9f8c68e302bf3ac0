// Package tap captures a bot's real webhook deliveries, so that a delivery
// that broke the bot in production can be replayed locally (botwire replay)
// and kept as a regression fixture.
//
// A Tap is given to a handler with the vendor package's WithTap option.
// Each authenticated delivery is then written as one JSON line (a Record):
// the platform, the endpoint, the time, the request's method, path and
// headers, the body, the answer's status and latency, and the tenant. The
// credential headers are masked: those the handler checks, a fixed list
// (Authorization, X-Secret-Key, X-BM-Signature, Cookie, ...), any header
// whose name looks like a credential's (token, secret, key, password,
// signature, auth), and the names of WithMaskedHeaders. Botcopy's legacy
// body field accessToken is masked too. Bodies are bounded (WithMaxBody,
// 64 KiB by default) and can be left out (WithoutBodies).
//
// A Tap is safe for concurrent use. Writing never fails a delivery: the
// first failure is logged (without the record) and every failure is
// counted (Errors).
package tap

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// DefaultMaxBody is the default bound on a recorded body: 64 KiB.
const DefaultMaxBody = 64 << 10

// Masked is the value a masked credential is recorded as. An Authorization
// header keeps its scheme: "Basic [REDACTED]".
const Masked = "[REDACTED]"

// Record is one captured delivery, one JSON line of a tap.
type Record struct {
	// Time is when the delivery arrived.
	Time time.Time
	// Platform is the vendor package's platform (observe.OneTalk, ...) and
	// Endpoint the handler's endpoint ("webhook", "chat", "action", ...).
	Platform, Endpoint string
	// Tenant is the delivery's tenant, for a tenant handler.
	Tenant string
	// Method, Path and Query are the request's; Header its headers, with
	// the credentials masked.
	Method, Path, Query string
	Header              http.Header
	// Body is the body as the handler read it (at most the tap's
	// WithMaxBody bytes); BodySize the bytes the handler read in all.
	// Truncated says Body is not the whole body: it was longer than the
	// bound, or the handler stopped reading it (a 413). NoBody says the
	// tap drops bodies (WithoutBodies). MaskedBody says a credential in
	// the body (Botcopy's accessToken) was masked.
	Body       []byte
	BodySize   int64
	Truncated  bool
	NoBody     bool
	MaskedBody bool
	// Status is the answer's status and Latency the time to it.
	Status  int
	Latency time.Duration
}

// wire is a Record as a JSON line.
type wire struct {
	Time         time.Time   `json:"time"`
	Platform     string      `json:"platform"`
	Endpoint     string      `json:"endpoint,omitempty"`
	Tenant       string      `json:"tenant,omitempty"`
	Method       string      `json:"method"`
	Path         string      `json:"path"`
	Query        string      `json:"query,omitempty"`
	Header       http.Header `json:"headers"`
	Body         *string     `json:"body,omitempty"`
	BodyEncoding string      `json:"body_encoding,omitempty"`
	BodySize     int64       `json:"body_size"`
	Truncated    bool        `json:"body_truncated,omitempty"`
	NoBody       bool        `json:"body_omitted,omitempty"`
	MaskedBody   bool        `json:"body_masked,omitempty"`
	Status       int         `json:"status"`
	LatencyMS    float64     `json:"latency_ms"`
}

// MarshalJSON writes the record as a tap line (without the newline): the
// body as a JSON string when it is valid UTF-8, else base64 with
// "body_encoding": "base64".
func (r Record) MarshalJSON() ([]byte, error) {
	w := wire{Time: r.Time, Platform: r.Platform, Endpoint: r.Endpoint, Tenant: r.Tenant,
		Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header,
		BodySize: r.BodySize, Truncated: r.Truncated, NoBody: r.NoBody, MaskedBody: r.MaskedBody,
		Status: r.Status, LatencyMS: float64(r.Latency.Microseconds()) / 1000}
	if w.Header == nil {
		w.Header = http.Header{}
	}
	if !r.NoBody && r.Body != nil {
		s := string(r.Body)
		if !utf8.Valid(r.Body) {
			s, w.BodyEncoding = base64.StdEncoding.EncodeToString(r.Body), "base64"
		}
		w.Body = &s
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a tap line.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Record{Time: w.Time, Platform: w.Platform, Endpoint: w.Endpoint, Tenant: w.Tenant,
		Method: w.Method, Path: w.Path, Query: w.Query, Header: w.Header,
		BodySize: w.BodySize, Truncated: w.Truncated, NoBody: w.NoBody, MaskedBody: w.MaskedBody,
		Status: w.Status, Latency: time.Duration(w.LatencyMS * float64(time.Millisecond))}
	if w.Body != nil {
		switch w.BodyEncoding {
		case "":
			r.Body = []byte(*w.Body)
		case "base64":
			body, err := base64.StdEncoding.DecodeString(*w.Body)
			if err != nil {
				return fmt.Errorf("tap: body: %w", err)
			}
			r.Body = body
		default:
			return fmt.Errorf("tap: unknown body_encoding %q", w.BodyEncoding)
		}
	}
	return nil
}

// Option configures a Tap.
type Option func(*Tap)

// WithoutBodies records no body (only its size), for privacy: the records
// still show what arrived, when, and how the bot answered, but cannot be
// replayed.
func WithoutBodies() Option { return func(t *Tap) { t.noBodies = true } }

// WithMaxBody bounds each recorded body to n bytes (default 64 KiB); a
// longer body is recorded truncated, with "body_truncated": true. n <= 0
// keeps the default.
func WithMaxBody(n int) Option {
	return func(t *Tap) {
		if n > 0 {
			t.maxBody = n
		}
	}
}

// WithMaskedHeaders masks the headers named, besides those the handler
// checks and the fixed list: a tenant handler's credential headers, which
// come from its Lookup.
func WithMaskedHeaders(names ...string) Option {
	return func(t *Tap) {
		for _, n := range names {
			t.masked[http.CanonicalHeaderKey(n)] = true
		}
	}
}

// WithLogger logs the tap's first write failure to l (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(t *Tap) { t.logger = l } }

// Tap writes captured deliveries as JSON lines. The zero value is not
// usable; use New or NewFile.
type Tap struct {
	mu       sync.Mutex
	w        io.Writer
	file     *rotating // NewFile's; nil for New
	noBodies bool
	maxBody  int
	masked   map[string]bool
	logger   *slog.Logger
	errs     atomic.Int64
	logged   atomic.Bool
	written  atomic.Int64
}

// New returns a Tap writing to w, one JSON line per delivery. Writes to w
// are serialised.
func New(w io.Writer, opts ...Option) *Tap {
	t := &Tap{w: w, maxBody: DefaultMaxBody, masked: map[string]bool{}}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	return t
}

// NewFile returns a Tap appending to the file at path, rotated when a
// record would make it pass maxBytes: path is renamed path.1, path.1
// path.2, and so on up to path.keep; the oldest is dropped (keep 0: the
// file is started afresh). A record is never split across files. Close
// the Tap to close the file.
func NewFile(path string, maxBytes int64, keep int, opts ...Option) (*Tap, error) {
	if maxBytes <= 0 {
		return nil, errors.New("tap: NewFile needs maxBytes > 0")
	}
	if keep < 0 {
		return nil, errors.New("tap: NewFile needs keep >= 0")
	}
	f, err := openRotating(path, maxBytes, keep)
	if err != nil {
		return nil, err
	}
	t := New(f, opts...)
	t.file = f
	return t, nil
}

// Close closes NewFile's file; for New it does nothing.
func (t *Tap) Close() error {
	if t == nil || t.file == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.file.close()
}

// MaxBody is the most body bytes a record keeps: 0 with WithoutBodies. A
// handler tees at most this much of the body.
func (t *Tap) MaxBody() int {
	if t.noBodies {
		return 0
	}
	return t.maxBody
}

// Errors is the number of records that could not be written.
func (t *Tap) Errors() int64 { return t.errs.Load() }

// Written is the number of records written.
func (t *Tap) Written() int64 { return t.written.Load() }

// fixed are the headers masked on every platform.
var fixed = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"X-Secret-Key":        true, // OneTalk
	"Secret-Key":          true,
	"X-Bm-Signature":      true, // Easy Dialog
	"Api-Security-Token":  true, // Userlike's usual webhook header
	"X-Api-Key":           true,
}

// credentialWords make a header name look like a credential's.
var credentialWords = []string{"token", "secret", "key", "passw", "signature", "auth", "session", "cookie", "credential"}

func (t *Tap) isCredential(name string, extra []string) bool {
	if fixed[name] || t.masked[name] {
		return true
	}
	for _, e := range extra {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	lower := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// MaskHeader returns a copy of h with the credential headers masked: the
// fixed list, names (those the handler checks), WithMaskedHeaders and any
// name that looks like a credential's.
func (t *Tap) MaskHeader(h http.Header, names ...string) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if !t.isCredential(ck, names) {
			out[ck] = append([]string(nil), vs...)
			continue
		}
		masked := make([]string, len(vs))
		for i, v := range vs {
			masked[i] = Masked
			if ck == "Authorization" || ck == "Proxy-Authorization" {
				if scheme, _, ok := strings.Cut(v, " "); ok && scheme != "" {
					masked[i] = scheme + " " + Masked
				}
			}
		}
		out[ck] = masked
	}
	return out
}

// accessTokenRE finds Botcopy's legacy body credential.
var accessTokenRE = regexp.MustCompile(`"accessToken"\s*:\s*"(?:[^"\\]|\\.)*"`)

// Capture writes rec: its headers masked (see MaskHeader; names are the
// credential headers the handler checks), its body bounded or dropped as
// the tap says. It never fails: a write error is counted (Errors) and the
// first one logged.
func (t *Tap) Capture(rec Record, names ...string) {
	if t == nil {
		return
	}
	rec.Header = t.MaskHeader(rec.Header, names...)
	if rec.BodySize < int64(len(rec.Body)) {
		rec.BodySize = int64(len(rec.Body))
	}
	switch {
	case t.noBodies:
		rec.Body, rec.NoBody, rec.Truncated = nil, true, false
	case len(rec.Body) > t.maxBody:
		rec.Body, rec.Truncated = rec.Body[:t.maxBody], true
	}
	if bytes.Contains(rec.Body, []byte(`"accessToken"`)) {
		rec.Body = accessTokenRE.ReplaceAll(rec.Body, []byte(`"accessToken":"`+Masked+`"`))
		rec.MaskedBody = true
	}
	if rec.Body == nil && !rec.NoBody {
		rec.Body = []byte{}
	}
	line, err := json.Marshal(rec)
	if err == nil {
		line = append(line, '\n')
		t.mu.Lock()
		_, err = t.w.Write(line)
		t.mu.Unlock()
	}
	if err != nil {
		t.errs.Add(1)
		if !t.logged.Swap(true) {
			l := t.logger
			if l == nil {
				l = slog.Default()
			}
			l.Error("tap: writing a delivery's record failed; later failures are counted, not logged (Tap.Errors)",
				"platform", rec.Platform, "error", err)
		}
		return
	}
	t.written.Add(1)
}

// Read returns the records of a tap's lines in r, in order. A line that is
// not a record yields an error naming its line number, and reading goes on;
// a read error ends the sequence. Blank lines are skipped.
func Read(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		br := bufio.NewReader(r)
		for n := 1; ; n++ {
			line, err := br.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				var rec Record
				if uerr := json.Unmarshal(line, &rec); uerr != nil {
					if !yield(Record{}, fmt.Errorf("tap: line %d: %w", n, uerr)) {
						return
					}
				} else if !yield(rec, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("tap: reading line %d: %w", n, err))
				return
			}
		}
	}
}

// ReadFile returns every record of the tap file at path; it fails on the
// first line that is not a record.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	for rec, err := range Read(f) {
		if err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, rec)
	}
	return out, nil
}
