package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/botwire/botwire/store"
)

// Dedup defaults: a completed delivery is remembered a day; a delivery in
// progress holds its key for a minute (past that its process is taken for
// dead and a redelivery runs); a concurrent redelivery waits for the first
// up to DedupWait before answering 503.
const (
	DefaultDedupTTL   = 24 * time.Hour
	DefaultDedupLease = time.Minute
	DedupWait         = 10 * time.Second
)

// Dedup runs a handler's callback at most once per delivery key.
type Dedup struct {
	Store  store.Deduplicator
	TTL    time.Duration
	Lease  time.Duration
	Logger *slog.Logger
	Vendor string // the key prefix, and the log's
}

// BodyKey is the delivery key of a platform whose deliveries carry no id of
// their own: the SHA-256 of the raw body.
func BodyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// MaxKeyLen bounds a delivery key: Key, and Serve for any key it is given,
// hash a longer one. Ids come from the request, and a store keeps a key for
// the dedup ttl (a day by default): unbounded, a 1 MiB id became a 1 MiB
// Redis key held 24 h.
const MaxKeyLen = 200

// Key is the delivery key of the ids in parts, which name what they are
// ("case", caseID, "message", messageID). Different parts never give one
// key: a ':' or '\' inside a part is escaped with '\' before the parts are
// joined with ':', so case "A:message:B" with message "C" and case "A" with
// message "B:message:C" stay apart. Ids holding neither character keep the
// plain form (case:C1:message:m1), the form keys had before they were
// escaped, so keys stored by an earlier version still match.
//
// A key longer than MaxKeyLen becomes "sha256:" and the hex SHA-256 of the
// escaped form (71 bytes). It cannot meet a plain key, whose first part is a
// label other than "sha256", nor in practice a BodyKey, which would need a
// body whose bytes are an escaped key rather than JSON.
func Key(parts ...string) string {
	n, plain := len(parts)-1, true
	for _, p := range parts {
		n += len(p)
		plain = plain && !strings.ContainsAny(p, `:\`)
	}
	switch {
	case plain && n <= MaxKeyLen:
		return strings.Join(parts, ":")
	case n > MaxKeyLen:
		// Escaping only lengthens: hash as the bytes are escaped, without
		// building a copy of a large id first.
		h := sha256.New()
		writeEscaped(h, parts)
		return "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	var b strings.Builder
	b.Grow(2 * n)
	writeEscaped(&b, parts)
	return bound(b.String())
}

// writeEscaped writes parts joined with ':', each ':' and '\' in a part
// escaped with '\'.
func writeEscaped(w io.Writer, parts []string) {
	for i, p := range parts {
		if i > 0 {
			_, _ = io.WriteString(w, ":")
		}
		for {
			j := strings.IndexAny(p, `:\`)
			if j < 0 {
				break
			}
			_, _ = io.WriteString(w, p[:j])
			_, _ = io.WriteString(w, `\`)
			_, _ = io.WriteString(w, p[j:j+1])
			p = p[j+1:]
		}
		_, _ = io.WriteString(w, p)
	}
}

// bound returns key, or "sha256:" and its hex SHA-256 when it is longer
// than MaxKeyLen.
func bound(key string) string {
	if len(key) <= MaxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Serve runs serve for the delivery key, unless the key completed already
// (the stored answer is replayed byte for byte: status, Content-Type and
// body) or another delivery of it is running (Serve waits for its answer,
// and answers 503 when it does not come in time). An answer of 2xx
// completes the key; any other answer releases it, so a redelivery runs
// again. When the store fails Serve answers 503 and never runs serve.
//
// The store's key is the vendor, ':' and key, with a key longer than
// MaxKeyLen hashed (see Key), so it never passes len(Vendor)+1+MaxKeyLen
// bytes. Vendor is the package's name, which holds no ':', so the prefix
// cannot be confused with part of a key.
func (d *Dedup) Serve(w http.ResponseWriter, r *http.Request, key string, serve func(http.ResponseWriter)) {
	ctx := r.Context()
	key = d.Vendor + ":" + bound(key)
	lease, ttl := d.Lease, d.TTL
	if lease <= 0 {
		lease = DefaultDedupLease
	}
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	deadline := time.Now().Add(DedupWait)
	for {
		c, err := d.Store.Claim(ctx, key, lease)
		if err != nil {
			d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store failed; answered 503", "error", err)
			Unavailable(w, 1)
			return
		}
		switch c.State {
		case store.Done:
			replay(w, c.Answer)
			return
		case store.Acquired:
			rec := &recorder{w: w, status: http.StatusOK}
			serve(rec)
			d.finish(ctx, key, c.Token, rec, ttl)
			return
		}
		if time.Now().After(deadline) {
			Unavailable(w, 1)
			return
		}
		select {
		case <-ctx.Done():
			Unavailable(w, 1)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *Dedup) finish(ctx context.Context, key, token string, rec *recorder, ttl time.Duration) {
	ctx = context.WithoutCancel(ctx)
	if rec.status < 200 || rec.status > 299 {
		if err := d.Store.Release(ctx, key, token); err != nil {
			d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store failed to release a key", "error", err)
		}
		return
	}
	answer := append([]byte(strconv.Itoa(rec.status)+" "+rec.contentType+"\n"), rec.body.Bytes()...)
	if err := d.Store.Complete(ctx, key, token, answer, ttl); err != nil {
		d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store failed to record an answer; a redelivery will run again", "error", err)
	}
}

// replay writes an answer stored by finish.
func replay(w http.ResponseWriter, answer []byte) {
	head, body, _ := bytes.Cut(answer, []byte("\n"))
	status, ctype, _ := bytes.Cut(head, []byte(" "))
	code, err := strconv.Atoi(string(status))
	if err != nil {
		code = http.StatusOK
	}
	if len(ctype) > 0 {
		w.Header().Set("Content-Type", string(ctype))
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// recorder passes an answer through to w and keeps a copy of it.
type recorder struct {
	w           http.ResponseWriter
	status      int
	contentType string
	wrote       bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.wrote, r.status, r.contentType = true, code, r.w.Header().Get("Content-Type")
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	r.body.Write(p)
	return r.w.Write(p)
}

// Flush passes a flush on, for answers sent early (Botcopy's fallback).
func (r *recorder) Flush() {
	if f, ok := r.w.(http.Flusher); ok {
		f.Flush()
	}
}
