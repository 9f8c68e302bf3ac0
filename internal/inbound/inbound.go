// Package inbound is the webhook plumbing shared by every vendor package:
// the method check, a bounded body read (exact-size, or through pooled
// buffers when the length is unknown), constant-time
// secret comparison, the status mapping of DESIGN.md's handler table, and
// JSON answers.
package inbound

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBody is the default limit on a webhook body: 1 MiB.
const DefaultMaxBody int64 = 1 << 20

// ErrBodyTooLarge is returned by ReadBody when the body passes the limit.
var ErrBodyTooLarge = errors.New("request body too large")

// smallBody is the largest declared body read straight into an exact-size
// slice. Larger bodies, and bodies of unknown length, are gathered in pooled
// blocks of blockSize as their bytes arrive: a caller that declares 1 MiB
// and sends nothing holds one block, not a megabyte.
const (
	smallBody = 4 << 10
	blockSize = 16 << 10
)

var blockPool = sync.Pool{New: func() any { return new([blockSize]byte) }}

// ReadBody reads at most limit bytes of r's body and returns them; the
// slice is the caller's to keep (handlers keep it as the request's Raw). It
// returns ErrBodyTooLarge without reading further when the declared or
// actual length passes limit.
//
// Memory follows the bytes actually received, never the declared
// Content-Length alone: a body up to 4 KiB is read into a slice of its
// declared size; a larger one (or one of unknown length) is read into
// pooled 16 KiB blocks and copied once into an exact-size slice when it is
// complete. An unauthenticated caller who declares a large body and sends
// nothing therefore holds at most one block.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	switch {
	case r.ContentLength > limit:
		return nil, ErrBodyTooLarge
	case r.Body == nil || r.ContentLength == 0:
		return []byte{}, nil
	case r.ContentLength > 0 && r.ContentLength <= smallBody:
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return readBlocks(r.Body, r.ContentLength, limit)
}

// readBlocks reads body into pooled blocks: exactly declared bytes when
// declared >= 0, else up to EOF, failing past limit.
func readBlocks(body io.Reader, declared, limit int64) ([]byte, error) {
	var (
		blocks []*[blockSize]byte
		total  int64
		inline [8]*[blockSize]byte // 128 KiB of block pointers without a heap slice
	)
	blocks = inline[:0]
	defer func() {
		for _, b := range blocks {
			blockPool.Put(b)
		}
	}()
	for {
		blk := blockPool.Get().(*[blockSize]byte)
		blocks = append(blocks, blk)
		want := int64(blockSize)
		if declared >= 0 && declared-total < want {
			want = declared - total
		}
		n, err := io.ReadFull(body, blk[:want])
		total += int64(n)
		if total > limit {
			return nil, ErrBodyTooLarge
		}
		switch {
		case declared >= 0 && total == declared:
			return joinBlocks(blocks, total), nil
		case declared < 0 && (err == io.EOF || err == io.ErrUnexpectedEOF):
			return joinBlocks(blocks, total), nil
		case declared >= 0 && err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
	}
}

func joinBlocks(blocks []*[blockSize]byte, total int64) []byte {
	out := make([]byte, total)
	off := 0
	for _, b := range blocks {
		off += copy(out[off:], b[:])
	}
	return out
}

// Begin runs the first rows of the handler table: AllowPost, then Read.
// When it returns ok == false it has written the answer.
func Begin(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	if !AllowPost(w, r) {
		return nil, false
	}
	return Read(w, r, limit)
}

// AllowPost answers 405 with Allow: POST, and returns false, for any other
// method.
func AllowPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	Error(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

// Read reads the body with ReadBody, answering 413 for a body over limit
// and 400 for an unreadable one. When it returns ok == false it has written
// the answer. Handlers whose secret is a header check it before Read, so an
// unauthenticated caller cannot make them read a large body.
func Read(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	body, err := ReadBody(r, limit)
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		Error(w, http.StatusRequestEntityTooLarge, "request body too large")
		return nil, false
	case err != nil:
		Error(w, http.StatusBadRequest, "unreadable request body")
		return nil, false
	}
	return body, true
}

// Secret holds a secret in a form that can be compared in constant time,
// whatever the length of the candidate. Its String and GoString never
// reveal it.
//
// The digest sits behind a pointer so that printing a struct that holds a
// Secret with %+v shows an address, not even a hash of the secret.
type Secret struct {
	sum *[sha256.Size]byte // nil for an empty secret
}

// NewSecret prepares s for comparison.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	sum := sha256.Sum256([]byte(s))
	return Secret{sum: &sum}
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.sum == nil }

// Equal reports whether got is the secret. Hashing both sides first makes the
// comparison constant-time in the length of got as well.
func (s Secret) Equal(got string) bool {
	if s.sum == nil || got == "" {
		return false
	}
	sum := digest(got)
	return subtle.ConstantTimeCompare(s.sum[:], sum[:]) == 1
}

// String redacts the secret.
func (s Secret) String() string { return "[REDACTED]" }

// GoString redacts the secret.
func (s Secret) GoString() string { return "[REDACTED]" }

// Equal compares two strings in constant time (length included).
func Equal(a, b string) bool {
	x, y := digest(a), digest(b)
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// digest hashes s; a header-sized s is copied to the stack first, which
// keeps the []byte conversion from allocating on every request.
func digest(s string) [sha256.Size]byte {
	var buf [128]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], s)])
	}
	return sha256.Sum256([]byte(s))
}

// Error writes a small JSON error body {"error": msg} with status. msg must
// be generic: it is seen by whoever called the webhook.
func Error(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	b = append(b, '\n')
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Unauthorized writes the generic 401 answer.
func Unauthorized(w http.ResponseWriter) {
	Error(w, http.StatusUnauthorized, "unauthorized")
}

// BadRequest writes 400 for a body that is not the platform's JSON. A 4xx,
// not a 5xx, tells the platform the message can never succeed; a platform
// that retries any non-200 (OneTalk does, a limited number of times) still
// redelivers, but each attempt is refused at once.
func BadRequest(w http.ResponseWriter, reason string) {
	Error(w, http.StatusBadRequest, reason)
}

// Unavailable writes 503 with Retry-After so the platform redelivers later.
func Unavailable(w http.ResponseWriter, retryAfterSeconds int) {
	if retryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	Error(w, http.StatusServiceUnavailable, "busy, retry later")
}

// CallbackFailed writes 500 so the platform retries.
func CallbackFailed(w http.ResponseWriter) {
	Error(w, http.StatusInternalServerError, "internal error")
}

// OK writes 200 with an empty body.
func OK(w http.ResponseWriter) {
	w.WriteHeader(http.StatusOK)
}

// JSON writes status and v as JSON. Marshalling happens before the header is
// written, so a failure still produces a clean 500.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		CallbackFailed(w)
		return err
	}
	JSONBytes(w, status, b)
	return nil
}

// JSONBytes writes status and b, which is already JSON. net/http declares
// the length of a small answer written by a handler that returns without
// flushing; an answer sent while the handler goes on uses JSONNow.
func JSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// JSONNow writes status and b with a declared Content-Length and flushes
// them, so the answer is complete on the wire while the handler is still
// running (Botcopy's deadline fallback). Without the length net/http sends
// a flushed answer chunked, and its last chunk leaves only when the handler
// returns.
func JSONNow(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// SyntaxReason turns a json decoding error into a short reason for a 400
// body, without echoing input beyond what encoding/json reports.
func SyntaxReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) && strings.HasPrefix(se.Error(), "unexpected end"):
		return "truncated JSON"
	case errors.As(err, &se):
		return "malformed JSON at offset " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		if te.Field != "" {
			return "wrong JSON type for field " + te.Field
		}
		return "wrong JSON type"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return "malformed JSON"
}
