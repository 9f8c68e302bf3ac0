package inbound

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/botwire/botwire/tap"
	"github.com/botwire/botwire/tenant"
)

// tapKey is the context key of a tapped delivery's state.
type tapKey struct{}

// tapState is what a tapped delivery learns on its way: whether it was
// authenticated (Probe.Authenticated), and its tenant.
type tapState struct {
	authenticated bool
	tenant        string
}

// tapAuthenticated marks the tapped delivery of ctx as authenticated, so
// Serve records it.
func (p *Probe) tapAuthenticated(ctx context.Context) {
	s, _ := ctx.Value(tapKey{}).(*tapState)
	if s == nil {
		return
	}
	s.authenticated = true
	if id, ok := tenant.FromContext(ctx); ok {
		s.tenant = id
	}
}

// serveTapped is Serve with a tap: the body is teed (up to the tap's
// bound) as the handler reads it, and once answered an authenticated
// delivery (or any POST, for a handler WithoutAuthentication:
// TapUnauthenticated) is written to the tap.
func (p *Probe) serveTapped(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	start := time.Now()
	s := &tapState{}
	r2 := r.WithContext(context.WithValue(r.Context(), tapKey{}, s))
	var tee *teeBody
	if r.Body != nil && r.Body != http.NoBody {
		tee = &teeBody{rc: r.Body, max: p.Tap.MaxBody()}
		r2.Body = tee
	}
	sw := &statusWriter{ResponseWriter: w}
	panicked := true
	defer func() {
		if !s.authenticated && !(p.TapUnauthenticated && r.Method == http.MethodPost) {
			return
		}
		status := sw.status
		switch {
		case panicked:
			status = http.StatusInternalServerError
		case status == 0:
			status = http.StatusOK
		}
		rec := tap.Record{Time: start, Platform: p.Platform, Endpoint: p.Endpoint, Tenant: s.tenant,
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header,
			Status: status, Latency: time.Since(start)}
		if tee != nil {
			rec.Body, rec.BodySize = tee.buf, tee.n
			rec.Truncated = tee.n > int64(len(tee.buf)) || !tee.eof && !fullyRead(r, tee.n)
		} else {
			rec.Body = []byte{}
		}
		p.Tap.Capture(rec, p.CredentialHeaders...)
	}()
	p.observe(sw, r2, serve)
	panicked = false
}

// fullyRead reports whether n bytes are the whole body r declared.
func fullyRead(r *http.Request, n int64) bool { return r.ContentLength >= 0 && n == r.ContentLength }

// teeBody keeps a copy of the first max bytes read through it, and counts
// them all.
type teeBody struct {
	rc  io.ReadCloser
	buf []byte
	max int
	n   int64
	eof bool
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 {
		if room := t.max - len(t.buf); room > 0 {
			t.buf = append(t.buf, p[:min(n, room)]...)
		}
		t.n += int64(n)
	}
	if err == io.EOF {
		t.eof = true
	}
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

// HeaderNames are the names of the webhook headers c checks, for the tap
// to mask (Basic auth is the Authorization header, which it always masks).
func (c AuthConfig) HeaderNames() []string {
	var names []string
	for _, h := range c.Headers {
		names = append(names, h.Name)
	}
	for _, h := range c.PreviousHeaders {
		names = append(names, h.Name)
	}
	return names
}
