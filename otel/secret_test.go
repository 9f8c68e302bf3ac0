package botwireotel_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/botwire/botwire/observe"
	botwireotel "github.com/botwire/botwire/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

// secretError carries a secret in its text, as a careless error could.
type secretError struct{ secret string }

func (e secretError) Error() string { return "token " + e.secret + " refused" }

// No span name, attribute, event, link or status, and no metric attribute,
// carries a secret placed in an error's text or in a header, even with the
// opt-in ids on: errors are exported by their type, never their text.
func TestNoSecretExported(t *testing.T) {
	h := newHarness(t, botwireotel.WithConversationAttribute())
	o := h.obs
	secrets := []string{}
	n := 0
	secret := func() string {
		n++
		s := fmt.Sprintf("s3cr3t-%02d-Zq9", n)
		secrets = append(secrets, s)
		return s
	}
	errs := func() []error {
		s := secret()
		return []error{
			errors.New("key " + s),
			fmt.Errorf("wrapped: %w", secretError{secret()}),
			&url.Error{Op: "Post", URL: "https://api.example/?token=" + secret(), Err: errors.New(s)},
			fmt.Errorf("%s: %w", secret(), context.DeadlineExceeded),
		}
	}
	for _, err := range errs() {
		d := &observe.Delivery{Platform: observe.OneTalk, Endpoint: "webhook", Conversation: "case-1", Tenant: "t",
			MessageID: "m"}
		ctx := o.DeliveryStart(context.Background(), d)
		header := map[string]string{"x-secret-key": secret()}
		e := &observe.Enqueue{Platform: observe.OneTalk, Queue: "onetalk.queue", Header: header}
		ectx := o.EnqueueStart(ctx, e)
		o.Inject(ectx, header)
		e.Err = err
		o.EnqueueEnd(ectx, e)

		qctx := o.Extract(context.Background(), header)
		cb := &observe.Callback{Platform: observe.OneTalk, Queued: true, Queue: "onetalk.queue", Err: err}
		cctx := o.CallbackStart(qctx, cb)
		c := &observe.Call{Platform: observe.OneTalk, Operation: "SendMessage"}
		callCtx := o.CallStart(cctx, c)
		a := &observe.Attempt{Call: c, Method: "POST", Host: "h", Port: 1, Err: err}
		o.AttemptEnd(o.AttemptStart(callCtx, a), a)
		for k := observe.Kind(1); k < 30; k++ {
			o.Event(callCtx, observe.Event{Kind: k, Platform: observe.OneTalk, Err: err, Reason: observe.ReasonNetwork,
				Store: observe.StoreDedup, Op: "claim", Queue: "q", Wait: time.Second})
		}
		c.Err = err
		o.CallEnd(callCtx, c)
		o.CallbackEnd(cctx, cb)
		for _, outcome := range []observe.Outcome{observe.OutcomeFailed, observe.OutcomeBusy, observe.OutcomeRejected, observe.OutcomeAnswered} {
			d.Outcome, d.Err = outcome, err
			o.DeliveryEnd(ctx, d)
		}
	}

	var exported []string
	kvs := func(kv []attribute.KeyValue) {
		for _, a := range kv {
			exported = append(exported, string(a.Key)+"="+a.Value.String())
		}
	}
	spans := h.spans.Ended()
	require.NotEmpty(t, spans)
	for _, s := range spans {
		exported = append(exported, s.Name(), s.Status().Description)
		kvs(s.Attributes())
		for _, e := range s.Events() {
			exported = append(exported, e.Name)
			kvs(e.Attributes)
		}
		for _, l := range s.Links() {
			kvs(l.Attributes)
		}
	}
	exported = append(exported, renderMetrics(h.metrics()))
	all := strings.Join(exported, "\n")
	for _, s := range secrets {
		assert.NotContains(t, all, s)
	}
	// The errors are there, by type.
	assert.Contains(t, all, `error.type=*url.Error`)
	assert.Contains(t, all, `error.type=botwireotel_test.secretError`)
	assert.Contains(t, all, `error.type=timeout`)
	assert.Contains(t, all, `error.type=_OTHER`)
	var errorStatus int
	for _, s := range spans {
		if s.Status().Code == codes.Error {
			errorStatus++
		}
	}
	assert.NotZero(t, errorStatus)
}
