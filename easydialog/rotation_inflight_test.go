package easydialog_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
)

type credential struct {
	index int
	ok    bool
}

// A rotation with deliveries in flight. Phase 1: the bot runs with the new
// key current and the old one previous while the platform, mid-switch,
// sends deliveries signed with either, interleaved and all at once: none is
// refused. While they are still in their callbacks the bot is redeployed
// with the new key only (the handler behind the server is swapped): from
// then on old-key deliveries get 401 and new-key ones 200, and the ones in
// flight still complete. Every callback saw the index of its key.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	const (
		oldKey = "ed-old-key-27c1d9"
		newKey = "ed-new-key-8f3a61"
		n      = 50 // deliveries per key and phase
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet := easydialog.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

	var mu sync.Mutex
	seen := map[string]credential{} // by message text
	arrived, release := make(chan struct{}, 2*n), make(chan struct{})
	record := func(ctx context.Context, r *easydialog.Request, block bool) (*easydialog.Response, error) {
		i, ok := easydialog.CredentialIndex(ctx)
		mu.Lock()
		seen[r.Message.Text()] = credential{i, ok}
		mu.Unlock()
		if block {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return easydialog.Reply(easydialog.NewTextMessage("You said: " + r.Message.Text())), nil
	}
	rotating, err := easydialog.NewHandler(newKey, func(ctx context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		return record(ctx, r, true)
	}, quiet, easydialog.WithPreviousKeys(oldKey))
	require.NoError(t, err)
	rotated, err := easydialog.NewHandler(newKey, func(ctx context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		return record(ctx, r, false)
	}, quiet)
	require.NoError(t, err)

	var current atomic.Pointer[http.Handler]
	phase1Handler, phase2Handler := http.Handler(rotating), http.Handler(rotated)
	current.Store(&phase1Handler)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*current.Load()).ServeHTTP(w, r)
	}))
	defer srv.Close()
	fakes := map[string]*easydialogtest.Server{
		"old": easydialogtest.NewServer(easydialogtest.Config{SignatureKey: oldKey, BotURL: srv.URL, Client: srv.Client()}),
		"new": easydialogtest.NewServer(easydialogtest.Config{SignatureKey: newKey, BotURL: srv.URL, Client: srv.Client()}),
	}

	type result struct {
		text   string
		status int
		texts  []string
		err    error
	}
	// send delivers n messages signed with each key, interleaved, at once.
	send := func(phase string) <-chan result {
		out := make(chan result, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			key := [2]string{"old", "new"}[i%2]
			text := fmt.Sprintf("%s-%s-%d", phase, key, i/2)
			wg.Go(func() {
				d, err := fakes[key].Deliver(ctx, easydialogtest.Text("dialog-"+text, text))
				r := result{text: text, err: err}
				if d != nil {
					r.status, r.texts = d.StatusCode, d.Texts()
				}
				out <- r
			})
		}
		go func() { wg.Wait(); close(out) }()
		return out
	}

	phase1 := send("p1")
	for range 2 * n { // every phase-1 delivery is in its callback
		select {
		case <-arrived:
		case r := <-phase1:
			t.Fatalf("%s finished before the release: %d %v", r.text, r.status, r.err)
		case <-ctx.Done():
			t.Fatal("the phase-1 deliveries did not all reach the callback")
		}
	}
	current.Store(&phase2Handler) // the redeploy without the previous key

	for r := range send("p2") {
		require.NoError(t, r.err, r.text)
		if strings.Contains(r.text, "-old-") {
			assert.Equal(t, http.StatusUnauthorized, r.status, r.text)
		} else {
			assert.Equal(t, http.StatusOK, r.status, r.text)
			assert.Equal(t, []string{"You said: " + r.text}, r.texts)
		}
	}
	close(release)
	for r := range phase1 {
		require.NoError(t, r.err, r.text)
		assert.Equal(t, http.StatusOK, r.status, "%s was refused", r.text)
		assert.Equal(t, []string{"You said: " + r.text}, r.texts)
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, seen, 3*n, "phase 1: both keys; phase 2: the new key only")
	for text, c := range seen {
		want := credential{0, true}
		if strings.Contains(text, "-old-") {
			want.index = 1
			assert.True(t, strings.HasPrefix(text, "p1-"), "%s reached the callback after the rotation", text)
		}
		assert.Equal(t, want, c, text)
	}
}
