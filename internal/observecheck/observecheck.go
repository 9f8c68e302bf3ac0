// Package observecheck checks what a vendor handler reports to its
// observer, the same way in every package: one delivery per row of the
// handler table (405, 401, 413, 400, an unknown type, a callback that
// fails or panics, success), each ending with the outcome and reason the
// row means, the start/end pairs nested in one trace, the credential that
// authenticated it, and no credential anywhere in what was reported.
package observecheck

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

// Behaviour is what the callback of a handler built by Platform.Build does.
type Behaviour int

const (
	Succeed Behaviour = iota
	Fail              // returns an error
	Panic             // panics
)

// Platform is what a vendor test fills in.
type Platform struct {
	Name     string // observe.OneTalk, ...
	Endpoint string // "webhook", ...
	// Build returns a handler reporting to obs whose callback (for the
	// deliveries of Request) behaves as b says.
	Build func(t *testing.T, obs observe.Observer, b Behaviour) http.Handler
	// Request returns an authenticated delivery of a message; Wrong the
	// same with a wrong credential; Malformed an authenticated body that
	// is not the platform's JSON; Unknown, if the platform has event
	// types, an authenticated delivery of a type the package does not
	// model.
	Request, Wrong, Malformed, Unknown func(t *testing.T) *http.Request
	// Conversation, MessageID and Type are what the Delivery of Request
	// says.
	Conversation, MessageID, Type string
	// FailStatus and FailOutcome are the answer to a failing callback
	// (500 and OutcomeFailed, but Botcopy answers its fallback: then one
	// KindFallbackSent event with the failure's reason is expected too).
	FailStatus  int
	FailOutcome observe.Outcome
	// Secrets are the credentials the handler holds and Request presents:
	// none may appear in anything reported.
	Secrets []string
}

// Run checks every row.
func Run(t *testing.T, p Platform) {
	t.Helper()
	if p.FailStatus == 0 {
		p.FailStatus, p.FailOutcome = http.StatusInternalServerError, observe.OutcomeFailed
	}
	type row struct {
		name      string
		behaviour Behaviour
		request   func(t *testing.T) *http.Request
		status    int
		outcome   observe.Outcome
		reason    observe.Reason
		callback  bool // the callback ran
		authed    bool
		anyAuth   bool // the platform may or may not have authenticated it yet
	}
	failReason := observe.ReasonCallbackError
	rows := []row{
		{"success", Succeed, p.Request, http.StatusOK, observe.OutcomeAnswered, "", true, true, false},
		{"method", Succeed, func(t *testing.T) *http.Request {
			r := p.Request(t)
			r.Method = http.MethodGet
			return r
		}, http.StatusMethodNotAllowed, observe.OutcomeRejected, observe.ReasonMethodNotAllowed, false, false, false},
		{"wrong credential", Succeed, p.Wrong, http.StatusUnauthorized, observe.OutcomeRejected, observe.ReasonUnauthenticated, false, false, false},
		{"too large", Succeed, func(t *testing.T) *http.Request {
			r := p.Request(t)
			big := bytes.Repeat([]byte(" "), 2<<20)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(big)), int64(len(big))
			return r
		}, http.StatusRequestEntityTooLarge, observe.OutcomeRejected, observe.ReasonTooLarge, false, false, true},
		{"malformed", Succeed, p.Malformed, http.StatusBadRequest, observe.OutcomeRejected, observe.ReasonMalformed, false, true, false},
		{"callback fails", Fail, p.Request, p.FailStatus, p.FailOutcome, failReason, true, true, false},
		{"callback panics", Panic, p.Request, p.FailStatus, p.FailOutcome, observe.ReasonPanic, true, true, false},
	}
	if p.Unknown != nil {
		rows = append(rows, row{"unknown type", Succeed, p.Unknown, http.StatusOK, observe.OutcomeIgnored, observe.ReasonUnknownType, false, true, false})
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			rec := observetest.NewRecorder()
			h := p.Build(t, rec, tc.behaviour)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.request(t))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			ds := rec.Deliveries()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries reported, want 1", len(ds))
			}
			d := ds[0]
			if d.Platform != p.Name || d.Endpoint != p.Endpoint {
				t.Errorf("delivery of %s/%s, want %s/%s", d.Platform, d.Endpoint, p.Name, p.Endpoint)
			}
			if d.Status != tc.status || d.Outcome != tc.outcome || d.Reason != tc.reason {
				t.Errorf("delivery ended %d %s/%s, want %d %s/%s", d.Status, d.Outcome, d.Reason, tc.status, tc.outcome, tc.reason)
			}
			if d.Duration <= 0 || d.Start.IsZero() {
				t.Errorf("delivery has no start or duration: %v %v", d.Start, d.Duration)
			}
			auth := rec.Events(observe.KindAuthenticated)
			switch {
			case tc.anyAuth:
			case tc.authed && (len(auth) != 1 || auth[0].Credential != 0 || d.Credential != 0):
				t.Errorf("authenticated events %+v, delivery credential %d: want one, credential 0", auth, d.Credential)
			case !tc.authed && (len(auth) != 0 || d.Credential != -1):
				t.Errorf("a refused delivery reported authentication: %+v, credential %d", auth, d.Credential)
			}
			rejected := rec.Events(observe.KindRejected)
			if wantRejected := tc.outcome == observe.OutcomeRejected; wantRejected != (len(rejected) == 1) ||
				(wantRejected && rejected[0].Reason != tc.reason) {
				t.Errorf("rejected events %+v for outcome %s", rejected, tc.outcome)
			}
			cbs := rec.Callbacks()
			if !tc.callback {
				if len(cbs) != 0 {
					t.Errorf("callbacks reported for a delivery that ran none: %+v", cbs)
				}
			} else {
				if len(cbs) != 1 {
					t.Fatalf("%d callbacks reported, want 1", len(cbs))
				}
				c := cbs[0]
				if c.Platform != p.Name || c.Endpoint != p.Endpoint || c.Attempt != 1 || c.Queued || c.Duration <= 0 {
					t.Errorf("callback %+v", c)
				}
				if c.Conversation != p.Conversation || c.MessageID != p.MessageID || c.Type != p.Type {
					t.Errorf("callback of conversation %q message %q type %q, want %q %q %q",
						c.Conversation, c.MessageID, c.Type, p.Conversation, p.MessageID, p.Type)
				}
				if (tc.behaviour != Succeed) != (c.Err != nil) || (c.Err != nil && c.Reason != tc.reason) {
					t.Errorf("callback ended with %v (%s) for behaviour %d", c.Err, c.Reason, tc.behaviour)
				}
			}
			if tc.callback || tc.name == "success" {
				if d.Conversation != p.Conversation || d.MessageID != p.MessageID || d.Type != p.Type {
					t.Errorf("delivery of conversation %q message %q type %q, want %q %q %q",
						d.Conversation, d.MessageID, d.Type, p.Conversation, p.MessageID, p.Type)
				}
			}
			if tc.outcome == observe.OutcomeIgnored && len(rec.Events(observe.KindUnknownType)) != 1 {
				t.Errorf("no unknown-type event: %+v", rec.Events())
			}
			fallbacks := rec.Events(observe.KindFallbackSent)
			if wantFallback := tc.outcome == observe.OutcomeFallback; wantFallback != (len(fallbacks) == 1) ||
				(wantFallback && fallbacks[0].Reason != tc.reason) {
				t.Errorf("fallback events %+v for outcome %s/%s", fallbacks, tc.outcome, tc.reason)
			}
			for _, e := range rec.Events() {
				if e.Platform != p.Name || e.Endpoint != p.Endpoint {
					t.Errorf("%s event of %s/%s, want %s/%s", e.Kind, e.Platform, e.Endpoint, p.Name, p.Endpoint)
				}
			}
			checkNesting(t, rec.Records())
			NoSecrets(t, rec, p.Secrets...)
		})
	}
}

// checkNesting checks that every start has its end, that the callback's
// pair sits inside the delivery's, and that everything is one trace.
func checkNesting(t *testing.T, recs []observetest.Record) {
	t.Helper()
	var ops []string
	traces := map[string]bool{}
	for _, r := range recs {
		ops = append(ops, r.Op)
		traces[r.Trace] = true
	}
	if len(ops) == 0 || ops[0] != "DeliveryStart" || ops[len(ops)-1] != "DeliveryEnd" {
		t.Errorf("records %v: want the delivery's start first and its end last", ops)
	}
	if i, j := slices.Index(ops, "CallbackStart"), slices.Index(ops, "CallbackEnd"); (i < 0) != (j < 0) || i > j {
		t.Errorf("records %v: callback start and end unpaired", ops)
	}
	if len(traces) != 1 {
		t.Errorf("records %v span %d traces, want 1", ops, len(traces))
	}
}

// NoSecrets fails if any record of rec, printed with %+v (errors
// included), holds one of secrets.
func NoSecrets(t *testing.T, rec *observetest.Recorder, secrets ...string) {
	t.Helper()
	for _, r := range rec.Records() {
		var parts []string
		for _, v := range []any{r.Delivery, r.Callback, r.Call, r.Attempt, r.Enqueue, r.Event} {
			if !isNil(v) {
				parts = append(parts, fmt.Sprintf("%+v", v))
			}
		}
		text := strings.Join(parts, " ")
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s record holds a credential: %s", r.Op, text)
			}
		}
	}
}

func isNil(v any) bool {
	switch v := v.(type) {
	case *observe.Delivery:
		return v == nil
	case *observe.Callback:
		return v == nil
	case *observe.Call:
		return v == nil
	case *observe.Attempt:
		return v == nil
	case *observe.Enqueue:
		return v == nil
	case *observe.Event:
		return v == nil
	}
	return v == nil
}
