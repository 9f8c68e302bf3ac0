package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/onetalk"
)

// outcomes counts deliveries by platform, outcome and reason: the shape of
// a metrics adapter (a Prometheus CounterVec would take the same labels).
// Embedding observe.Base gives every other method a no-op.
type outcomes struct {
	observe.Base
	mu     sync.Mutex
	counts map[string]int
}

func (o *outcomes) DeliveryEnd(_ context.Context, d *observe.Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts[fmt.Sprintf("%s %s %s", d.Platform, d.Outcome, d.Reason)]++
}

// An observer of your own: count what the handler did with each delivery.
func Example() {
	obs := &outcomes{counts: map[string]int{}}
	h, err := onetalk.NewHandler("the-secret", func(ctx context.Context, in *onetalk.InboundRequest) error {
		return nil
	}, onetalk.WithObserver(obs))
	if err != nil {
		panic(err)
	}
	for _, secret := range []string{"the-secret", "a-wrong-secret"} {
		r := httptest.NewRequest(http.MethodPost, "/onetalk", strings.NewReader(
			`{"caseID":"C1","channelType":"telegram","sender":{"contactName":"Ann"},"message":{"id":"m1","type":"text","text":{"body":"hi"}}}`))
		r.Header.Set(onetalk.SecretHeader, secret)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	fmt.Println(obs.counts["onetalk answered "], obs.counts["onetalk rejected unauthenticated"])
	// Output: 1 1
}

// Multi combines observers: an OpenTelemetry one and your own, say.
func ExampleMulti() {
	a, b := &outcomes{counts: map[string]int{}}, &outcomes{counts: map[string]int{}}
	obs := observe.Multi(a, b)
	obs.DeliveryEnd(context.Background(), &observe.Delivery{Platform: observe.Userlike, Outcome: observe.OutcomeAnswered})
	fmt.Println(len(a.counts), len(b.counts))
	// Output: 1 1
}
