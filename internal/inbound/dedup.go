package inbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
)

// Dedup defaults (see store.DedupOptions): a completed delivery is
// remembered a day; a delivery in progress holds its key for a lease of
// 5 s, renewed every lease/3 while the callback runs, so a replica that
// dies mid-callback frees its key within 5 s; a delivery spends at most
// DefaultDedupWait on the store and on waiting for a concurrent delivery
// of its key before answering 503.
const (
	DefaultDedupTTL   = 24 * time.Hour
	DefaultDedupLease = 5 * time.Second
	DefaultDedupWait  = 4 * time.Second
)

// dedupPoll is how often a delivery that found its key busy claims again.
const dedupPoll = 50 * time.Millisecond

// Dedup runs a handler's callback at most once per delivery key.
type Dedup struct {
	Store  store.Deduplicator
	TTL    time.Duration
	Lease  time.Duration // the claim's lease (0: DefaultDedupLease)
	Wait   time.Duration // the answer budget (0: DefaultDedupWait)
	Logger *slog.Logger
	Vendor string // the key prefix, and the log's
	// Deadline is the platform's own answer deadline where the handler
	// enforces one (Botcopy's WithResponseDeadline): the budget stays a
	// tenth under it, whatever Wait says.
	Deadline time.Duration
	// Probe reports what deduplication does to the handler's observer
	// (nil: nothing to report).
	Probe *Probe
}

// NewDedup returns the Dedup of WithDeduplication(d, ttl, opts...): the
// options' non-zero fields apply in order, later ones winning.
func NewDedup(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) *Dedup {
	if d == nil {
		return nil
	}
	dd := &Dedup{Store: d, TTL: ttl}
	for _, o := range opts {
		if o.Lease > 0 {
			dd.Lease = o.Lease
		}
		if o.Wait > 0 {
			dd.Wait = o.Wait
		}
	}
	return dd
}

// budget is the time a delivery may spend on the deduplication path.
func (d *Dedup) budget() time.Duration {
	b := d.Wait
	if b <= 0 {
		b = DefaultDedupWait
	}
	if d.Deadline > 0 {
		b = min(b, d.Deadline-d.Deadline/10)
	}
	return b
}

func (d *Dedup) lease() time.Duration {
	if d.Lease <= 0 {
		return DefaultDedupLease
	}
	return d.Lease
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
// and answers 503 when it does not come within the budget). An answer of
// 2xx completes the key; any other answer releases it, so a redelivery
// runs again. When the store fails Serve answers 503 and never runs serve.
//
// Every store call runs under a time limit: the claims under what is left
// of the budget (Wait, counted from the call of Serve), so Serve answers
// 503 within it even when the store stalls; the renewals, the completion
// and the release under the budget each. While serve runs the claim is
// renewed every lease/3, so a callback may outlast the lease while a
// replica that dies frees its key within a lease. A claim that failed or
// timed out may still have been applied by the store: Serve releases it
// with its token in the background (for at most a lease), so it does not
// hold the key against the next redelivery.
//
// The store's key is the vendor, ':' and key, with a key longer than
// MaxKeyLen hashed (see Key), so it never passes len(Vendor)+1+MaxKeyLen
// bytes. Vendor is the package's name, which holds no ':', so the prefix
// cannot be confused with part of a key.
func (d *Dedup) Serve(w http.ResponseWriter, r *http.Request, key string, serve func(http.ResponseWriter)) {
	ctx := r.Context()
	budget, lease := d.budget(), d.lease()
	end := time.Now().Add(budget)
	key = d.Vendor + ":" + bound(key)
	ttl := d.TTL
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	tok := claimToken()
	var poll *time.Timer
	for {
		cctx, cancel := context.WithDeadline(ctx, end)
		c, err := d.Store.Claim(cctx, key, tok, lease)
		cancel()
		if err != nil {
			switch {
			case ctx.Err() != nil: // the platform hung up
			case errors.Is(err, context.DeadlineExceeded):
				d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store did not answer within the budget; answered 503", "budget", budget, "error", err)
			default:
				d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store failed; answered 503", "error", err)
			}
			d.releaseLater(ctx, key, tok, lease, budget)
			d.Probe.StoreError(ctx, observe.StoreDedup, "claim", err)
			d.Probe.Busy(ctx, observe.ReasonStoreUnavailable, err)
			Unavailable(w, 1)
			return
		}
		switch c.State {
		case store.Done:
			d.Probe.Event(ctx, observe.Event{Kind: observe.KindDedupReplayed})
			d.Probe.Outcome(ctx, observe.OutcomeReplayed, observe.ReasonDuplicate)
			replay(w, c.Answer)
			return
		case store.Acquired:
			d.Probe.Event(ctx, observe.Event{Kind: observe.KindDedupAcquired})
			rec := &recorder{w: w, status: http.StatusOK}
			func() {
				// A panic stops the renewals too: its claim frees after
				// the lease.
				defer d.renew(ctx, key, tok, lease, budget)()
				serve(rec)
			}()
			d.finish(ctx, key, tok, rec, ttl, budget)
			return
		}
		left := time.Until(end)
		if left <= 0 {
			d.Logger.WarnContext(ctx, d.Vendor+": another delivery of the key is still running; answered 503", "waited", budget)
			d.Probe.Event(ctx, observe.Event{Kind: observe.KindDedupTimeout, Wait: budget})
			d.Probe.Busy(ctx, observe.ReasonDedupTimeout, nil)
			Unavailable(w, 1)
			return
		}
		if poll == nil {
			d.Probe.Event(ctx, observe.Event{Kind: observe.KindDedupWaiting, Wait: budget - left})
			poll = time.NewTimer(min(dedupPoll, left))
			defer poll.Stop()
		} else {
			poll.Reset(min(dedupPoll, left))
		}
		select {
		case <-ctx.Done():
			Unavailable(w, 1)
			return
		case <-poll.C:
		}
	}
}

// claimToken is a claim's token: 96 random bits, new for every delivery.
func claimToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// renew renews the claim every lease/3 until stop is called; stop returns
// once no renewal runs, cancelling one in flight. No goroutine runs
// between renewals. A claim found lost is logged and no longer renewed:
// the callback goes on (it cannot be stopped safely), and a redelivery may
// run it a second time.
func (d *Dedup) renew(ctx context.Context, key, tok string, lease, budget time.Duration) (stop func()) {
	every := max(lease/3, time.Millisecond)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		timer *time.Timer
	)
	tick := func() {
		defer wg.Done()
		cctx, cancelCall := context.WithTimeout(rctx, min(every, budget))
		err := d.Store.Renew(cctx, key, tok, lease)
		cancelCall()
		if rctx.Err() != nil {
			return // stopped: the callback returned
		}
		switch {
		case errors.Is(err, store.ErrClaimLost):
			d.Logger.ErrorContext(ctx, d.Vendor+": deduplication claim lost while the callback ran; a redelivery may run it again", "lease", lease)
			return
		case err != nil:
			d.Logger.WarnContext(ctx, d.Vendor+": deduplication store failed to renew a claim", "error", err)
			d.Probe.StoreError(ctx, observe.StoreDedup, "renew", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if rctx.Err() == nil {
			wg.Add(1)
			timer.Reset(every)
		}
	}
	mu.Lock()
	wg.Add(1)
	timer = time.AfterFunc(every, tick)
	mu.Unlock()
	return func() {
		cancel()
		mu.Lock()
		if timer.Stop() {
			wg.Done() // the armed tick will not run
		}
		mu.Unlock()
		wg.Wait()
	}
}

// releaseLater frees, in the background, a claim whose call failed: the
// store may have applied it anyway (a reply lost to a timeout, or a
// command the server ran after a stall), and it would hold the key against
// the next redelivery for a whole lease. It tries for at most that lease,
// past which such a claim has freed itself, unless a stall delayed it
// further, backing off from 50 ms so a store that is down is not
// hammered.
func (d *Dedup) releaseLater(ctx context.Context, key, tok string, lease, budget time.Duration) {
	ctx = context.WithoutCancel(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, lease)
		defer cancel()
		for wait := dedupPoll; ; wait = min(2*wait, max(lease/4, dedupPoll)) {
			cctx, cancelCall := context.WithTimeout(ctx, budget)
			err := d.Store.Release(cctx, key, tok)
			cancelCall()
			if err == nil || ctx.Err() != nil {
				return
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

func (d *Dedup) finish(ctx context.Context, key, token string, rec *recorder, ttl, budget time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	if rec.status < 200 || rec.status > 299 {
		if err := d.Store.Release(ctx, key, token); err != nil {
			d.Probe.StoreError(ctx, observe.StoreDedup, "release", err)
			d.Logger.ErrorContext(ctx, d.Vendor+": deduplication store failed to release a key; a redelivery waits for its lease", "error", err)
		}
		return
	}
	answer := append([]byte(strconv.Itoa(rec.status)+" "+rec.contentType+"\n"), rec.body.Bytes()...)
	if err := d.Store.Complete(ctx, key, token, answer, ttl); err != nil {
		d.Probe.StoreError(ctx, observe.StoreDedup, "complete", err)
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
