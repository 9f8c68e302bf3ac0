package observe_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
)

type key string

// starter adds its name to the context of every start, so a test sees
// the order in which Multi passes contexts on.
type starter struct {
	observe.Base
	name string
	seen *[]string
}

func (s starter) DeliveryStart(ctx context.Context, _ *observe.Delivery) context.Context {
	prev, _ := ctx.Value(key("chain")).(string)
	return context.WithValue(ctx, key("chain"), prev+s.name)
}

func (s starter) DeliveryEnd(ctx context.Context, _ *observe.Delivery) {
	chain, _ := ctx.Value(key("chain")).(string)
	*s.seen = append(*s.seen, s.name+":"+chain)
}

func TestMultiChainsContexts(t *testing.T) {
	var seen []string
	obs := observe.Multi(starter{name: "a", seen: &seen}, nil, starter{name: "b", seen: &seen})
	ctx := obs.DeliveryStart(context.Background(), &observe.Delivery{})
	obs.DeliveryEnd(ctx, &observe.Delivery{})
	if len(seen) != 2 || seen[0] != "a:ab" || seen[1] != "b:ab" {
		t.Fatalf("ends saw %v, want [a:ab b:ab]", seen)
	}
}

func TestMultiOfNoneAndOne(t *testing.T) {
	if observe.Multi() != nil || observe.Multi(nil, nil) != nil {
		t.Error("Multi of no observer is not nil")
	}
	rec := observetest.NewRecorder()
	if observe.Multi(nil, rec) != observe.Observer(rec) {
		t.Error("Multi of one observer is not that observer")
	}
}

// A Multi is a Propagator when one of its observers is, and carries the
// trace through a header as that one does.
func TestMultiPropagates(t *testing.T) {
	rec := observetest.NewRecorder()
	obs := observe.Multi(observe.Base{}, rec)
	p, ok := obs.(observe.Propagator)
	if !ok {
		t.Fatal("Multi with a Propagator is not one")
	}
	ctx := obs.EnqueueStart(context.Background(), &observe.Enqueue{})
	h := map[string]string{}
	p.Inject(ctx, h)
	if h[observetest.Header] == "" {
		t.Fatalf("Inject wrote %v", h)
	}
	ctx2 := p.Extract(context.Background(), h)
	obs.CallbackStart(ctx2, &observe.Callback{})
	recs := rec.Records()
	if recs[0].Trace != recs[len(recs)-1].Trace {
		t.Errorf("the extracted context is another trace: %+v", recs)
	}
	if _, ok := observe.Multi(observe.Base{}, observe.Base{}).(observe.Propagator); ok {
		t.Error("Multi of non-propagators is a Propagator")
	}
}

func TestKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := observe.KindAuthenticated; k <= observe.KindConsumerRestarted; k++ {
		n := k.String()
		if n == "" || seen[n] || n[:5] == "kind_" {
			t.Errorf("kind %d is named %q", k, n)
		}
		seen[n] = true
	}
	if got := observe.Kind(200).String(); got != "kind_200" {
		t.Errorf("an unknown kind is %q", got)
	}
}
