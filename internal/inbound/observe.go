package inbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/tap"
	"github.com/botwire/botwire/tenant"
)

// Probe reports a handler's deliveries to its observer (WithObserver) and
// writes the authenticated ones to its tap (WithTap). With neither every
// method is a nil check: the handlers call them unconditionally.
type Probe struct {
	Observer observe.Observer
	Platform string
	Endpoint string
	// Tap records each authenticated delivery (nil: none).
	Tap *tap.Tap
	// CredentialHeaders are the headers the handler checks that carry a
	// credential, for the tap to mask besides its fixed list.
	CredentialHeaders []string
	// TapUnauthenticated records every POST: the handler was built
	// WithoutAuthentication, so no delivery is ever Authenticated.
	TapUnauthenticated bool
}

type deliveryKey struct{}

// on reports whether there is an observer to report to; a nil Probe has
// none.
func (p *Probe) on() bool { return p != nil && p.Observer != nil }

// Serve runs serve for one delivery. With an observer it reports the
// delivery's start and end: the answer's status and, unless serve said
// otherwise (Note, Outcome), the outcome and reason the status means.
// With a tap, the body is teed as serve reads it and an authenticated
// delivery is recorded once answered.
func (p *Probe) Serve(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	if p != nil && p.Tap != nil {
		p.serveTapped(w, r, serve)
		return
	}
	p.observe(w, r, serve)
}

// observe is Serve without the tap.
func (p *Probe) observe(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	if !p.on() {
		serve(w, r)
		return
	}
	d := &observe.Delivery{Platform: p.Platform, Endpoint: p.Endpoint, Start: time.Now(), Credential: -1}
	ctx := p.Observer.DeliveryStart(r.Context(), d)
	ctx = context.WithValue(ctx, deliveryKey{}, d)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		// A panic in serve (net/http recovers it) still ends the
		// delivery, as a failure.
		if v := recover(); v != nil {
			d.Outcome, d.Reason, d.Status = observe.OutcomeFailed, observe.ReasonPanic, http.StatusInternalServerError
			p.end(ctx, d)
			panic(v)
		}
	}()
	serve(sw, r.WithContext(ctx))
	d.Status = sw.status
	if d.Status == 0 {
		d.Status = http.StatusOK
	}
	settle(d)
	p.end(ctx, d)
}

func (p *Probe) end(ctx context.Context, d *observe.Delivery) {
	d.Duration = time.Since(d.Start)
	if d.Outcome == observe.OutcomeRejected {
		p.Observer.Event(ctx, observe.Event{Kind: observe.KindRejected, Platform: d.Platform, Endpoint: d.Endpoint,
			Tenant: d.Tenant, Reason: d.Reason})
	}
	p.Observer.DeliveryEnd(ctx, d)
}

// settle fills the outcome and reason a status means, where the handler
// did not set them.
func settle(d *observe.Delivery) {
	if d.Outcome != "" {
		if d.Reason == "" {
			d.Reason = reasonOf(d.Status)
		}
		return
	}
	switch s := d.Status; {
	case s >= 200 && s < 300:
		d.Outcome = observe.OutcomeAnswered
	case s == http.StatusServiceUnavailable:
		d.Outcome = observe.OutcomeBusy
	case s >= 500:
		d.Outcome = observe.OutcomeFailed
	default:
		d.Outcome = observe.OutcomeRejected
	}
	if d.Reason == "" {
		d.Reason = reasonOf(d.Status)
	}
}

func reasonOf(status int) observe.Reason {
	switch status {
	case http.StatusMethodNotAllowed:
		return observe.ReasonMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return observe.ReasonTooLarge
	case http.StatusUnauthorized:
		return observe.ReasonUnauthenticated
	case http.StatusBadRequest:
		return observe.ReasonMalformed
	case http.StatusServiceUnavailable:
		return observe.ReasonStoreUnavailable
	case http.StatusInternalServerError:
		return observe.ReasonCallbackError
	}
	return ""
}

// Delivery returns the delivery r belongs to, or nil without an observer.
func (p *Probe) Delivery(ctx context.Context) *observe.Delivery {
	if !p.on() {
		return nil
	}
	d, _ := ctx.Value(deliveryKey{}).(*observe.Delivery)
	return d
}

// Outcome sets the delivery's outcome and reason, overriding what its
// status would say.
func (p *Probe) Outcome(ctx context.Context, o observe.Outcome, reason observe.Reason) {
	if d := p.Delivery(ctx); d != nil {
		d.Outcome, d.Reason = o, reason
	}
}

// Failed notes a callback's failure, answered 500.
func (p *Probe) Failed(ctx context.Context, err error) {
	if d := p.Delivery(ctx); d != nil {
		d.Outcome, d.Reason, d.Err = observe.OutcomeFailed, ReasonOf(err), err
	}
}

// Fallback notes that Botcopy's fallback decision was answered, and why.
func (p *Probe) Fallback(ctx context.Context, reason observe.Reason, err error) {
	d := p.Delivery(ctx)
	if d == nil {
		return
	}
	d.Outcome, d.Reason, d.Err = observe.OutcomeFallback, reason, err
	p.Observer.Event(ctx, observe.Event{Kind: observe.KindFallbackSent, Platform: d.Platform, Endpoint: d.Endpoint,
		Tenant: d.Tenant, Reason: reason, Err: err})
}

// Busy notes why the handler answers 503 (the default is a store's
// failure).
func (p *Probe) Busy(ctx context.Context, reason observe.Reason, err error) {
	if d := p.Delivery(ctx); d != nil {
		d.Outcome, d.Reason, d.Err = observe.OutcomeBusy, reason, err
	}
}

// Note records what the handler learnt of the delivery once decoded.
func (p *Probe) Note(ctx context.Context, conversation, messageID, typ string) {
	if d := p.Delivery(ctx); d != nil {
		d.Conversation, d.MessageID, d.Type = conversation, messageID, typ
	}
}

// Authenticated reports which credential authenticated the delivery, and
// its tenant.
func (p *Probe) Authenticated(ctx context.Context, index int) {
	if p != nil && p.Tap != nil {
		p.tapAuthenticated(ctx)
	}
	d := p.Delivery(ctx)
	if d == nil {
		return
	}
	d.Credential = index
	if id, ok := tenant.FromContext(ctx); ok {
		d.Tenant = id
	}
	p.Observer.Event(ctx, observe.Event{Kind: observe.KindAuthenticated, Platform: d.Platform, Endpoint: d.Endpoint,
		Tenant: d.Tenant, Credential: index})
}

// Tenant records the delivery's tenant before it is authenticated (a
// rejected delivery of a known tenant still names it).
func (p *Probe) Tenant(ctx context.Context, id string) {
	if d := p.Delivery(ctx); d != nil {
		d.Tenant = id
	}
}

// Unknown reports an event type the package does not model; ignored says
// the handler answers without a callback.
func (p *Probe) Unknown(ctx context.Context, typ string, ignored bool) {
	d := p.Delivery(ctx)
	if d == nil {
		return
	}
	d.Type = typ
	if ignored {
		d.Outcome, d.Reason = observe.OutcomeIgnored, observe.ReasonUnknownType
	}
	p.Observer.Event(ctx, observe.Event{Kind: observe.KindUnknownType, Platform: d.Platform, Endpoint: d.Endpoint, Tenant: d.Tenant})
}

// Event reports e with the probe's platform and endpoint (and the
// delivery's tenant, if any).
func (p *Probe) Event(ctx context.Context, e observe.Event) {
	if !p.on() {
		return
	}
	e.Platform, e.Endpoint = p.Platform, p.Endpoint
	if e.Tenant == "" {
		if id, ok := tenant.FromContext(ctx); ok {
			e.Tenant = id
		}
	}
	p.Observer.Event(ctx, e)
}

// StoreError reports a store's failure on a delivery's path.
func (p *Probe) StoreError(ctx context.Context, st, op string, err error) {
	p.Event(ctx, observe.Event{Kind: observe.KindStoreError, Store: st, Op: op, Err: err})
}

// Callback runs fn, the bot's function, as c (whose Platform and Endpoint
// it fills), recovering a panic into a *PanicError. With an observer the
// run is reported; fn gets the context CallbackStart returned.
func (p *Probe) Callback(ctx context.Context, c *observe.Callback, fn func(context.Context) error) error {
	if !p.on() {
		return Recover(ctx, p.Platform, fn)
	}
	if c == nil {
		c = &observe.Callback{}
	}
	c.Platform, c.Endpoint, c.Start = p.Platform, p.Endpoint, time.Now()
	if c.Attempt == 0 {
		c.Attempt = 1
	}
	if c.Tenant == "" {
		if id, ok := tenant.FromContext(ctx); ok {
			c.Tenant = id
		}
	}
	ctx = p.Observer.CallbackStart(ctx, c)
	err := Recover(ctx, p.Platform, fn)
	c.Err, c.Duration = err, time.Since(c.Start)
	if err != nil {
		c.Reason = ReasonOf(err)
	}
	p.Observer.CallbackEnd(ctx, c)
	return err
}

// NewCallback is the callback of a delivery in ctx: its conversation,
// message id and type, as Note recorded them.
// Without an observer it is nil, which Callback accepts.
func (p *Probe) NewCallback(ctx context.Context) *observe.Callback {
	if !p.on() {
		return nil
	}
	c := &observe.Callback{}
	if d := p.Delivery(ctx); d != nil {
		c.Tenant, c.Conversation, c.MessageID, c.Type = d.Tenant, d.Conversation, d.MessageID, d.Type
	}
	return c
}

// PanicError is the error of a callback that panicked.
type PanicError struct {
	Vendor string
	Value  any
	Stack  []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%s: callback panicked: %v\n%s", e.Vendor, e.Value, e.Stack)
}

// Recover runs fn, turning a panic into a *PanicError so one bad message
// cannot take the bot down.
func Recover(ctx context.Context, vendor string, fn func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Vendor: vendor, Value: v, Stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// ReasonOf is ReasonPanic for a *PanicError, else ReasonCallbackError.
func ReasonOf(err error) observe.Reason {
	var pe *PanicError
	if errors.As(err, &pe) {
		return observe.ReasonPanic
	}
	return observe.ReasonCallbackError
}

// statusWriter notes the status of the answer it passes on.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush passes a flush on (Botcopy's early fallback answer).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
