package onetalk

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// Two bots given the same queue ran each other's callbacks (40 deliveries
// to bot A ran bot B's callback 23 times): nothing recorded which handler
// queued a message. The second bot is now refused at construction, so bot
// A's deliveries only ever reach bot A.
func TestTwoBotsOnOneQueueNeverRunEachOther(t *testing.T) {
	q := store.NewMemoryQueue(store.QueueOptions{RetryDelay: 10 * time.Millisecond})
	var ranA, ranB atomic.Int32
	a, err := NewHandler(testSecret, func(context.Context, *InboundRequest) error { ranA.Add(1); return nil },
		WithQueue(q, 2), WithLogger(quietLogger(nil)))
	require.NoError(t, err)
	defer a.Shutdown(context.Background())
	b, errB := NewHandler("bot-b-secret", func(context.Context, *InboundRequest) error { ranB.Add(1); return nil },
		WithQueue(q, 2), WithLogger(quietLogger(nil)))
	if errB == nil {
		defer b.Shutdown(context.Background())
	}
	for i := range 40 {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, caseMessage(fmt.Sprint("C", i%3), fmt.Sprint("m", i)))
		require.Equal(t, 200, rec.Code)
	}
	require.Eventually(t, func() bool { return ranA.Load()+ranB.Load() == 40 }, 5*time.Second, 5*time.Millisecond)
	assert.Zero(t, ranB.Load(), "bot B ran bot A's messages")
	assert.EqualValues(t, 40, ranA.Load())
	require.ErrorIs(t, errB, store.ErrSharedStore, "a second bot on the queue is refused")
}

// A store serves one bot: the same secret (a replica of the bot) binds it
// any number of times; another secret is refused at NewHandler, naming the
// option and the fix.
func TestStoresServeOneBot(t *testing.T) {
	noop := func(context.Context, *InboundRequest) error { return nil }
	t.Run("queue", func(t *testing.T) {
		q := store.NewMemoryQueue(store.QueueOptions{})
		for range 2 {
			h, err := NewHandler(testSecret, noop, WithQueue(q, 1), WithLogger(quietLogger(nil)))
			require.NoError(t, err)
			defer h.Shutdown(context.Background())
		}
		_, err := NewHandler("another-secret", noop, WithQueue(q, 1), WithLogger(quietLogger(nil)))
		require.ErrorIs(t, err, store.ErrSharedStore)
		assert.Contains(t, err.Error(), "onetalk: the store passed to WithQueue already serves another bot")
		assert.Contains(t, err.Error(), "redisstore.Options.Prefix, or a store.NewMemoryQueue per bot")
		assert.NotContains(t, err.Error(), "another-secret")
		assert.NotContains(t, err.Error(), testSecret)
	})
	t.Run("deduplication", func(t *testing.T) {
		d := store.NewMemoryDeduplicator()
		for range 2 {
			_, err := NewHandler(testSecret, noop, WithDeduplication(d, 0))
			require.NoError(t, err)
		}
		_, err := NewHandler("another-secret", noop, WithDeduplication(d, 0))
		require.ErrorIs(t, err, store.ErrSharedStore)
		assert.Contains(t, err.Error(), "onetalk: the store passed to WithDeduplication already serves another bot")
		assert.Contains(t, err.Error(), "store.NewMemoryDeduplicator per bot")
	})
	t.Run("one store for the queue and the deduplication of one bot", func(t *testing.T) {
		st := &memoryStore{store.NewMemoryDeduplicator(), store.NewMemoryQueue(store.QueueOptions{})}
		h, err := NewHandler(testSecret, noop, WithDeduplication(st, 0), WithQueue(st, 1), WithLogger(quietLogger(nil)))
		require.NoError(t, err)
		require.NoError(t, h.Shutdown(context.Background()))
		_, err = NewHandler("another-secret", noop, WithDeduplication(st, 0))
		require.ErrorIs(t, err, store.ErrSharedStore)
	})
	t.Run("a store that does not bind is not checked", func(t *testing.T) {
		q := brokenQueue{store.NewMemoryQueue(store.QueueOptions{})}
		for _, s := range []string{testSecret, "another-secret"} {
			h, err := NewHandler(s, noop, WithQueue(q, 1), WithLogger(quietLogger(nil)))
			require.NoError(t, err)
			require.NoError(t, h.Shutdown(context.Background()))
		}
	})
}

// memoryStore is one store with both contracts, like redisstore.Store.
type memoryStore struct {
	*store.MemoryDeduplicator
	q *store.MemoryQueue
}

func (m *memoryStore) Enqueue(ctx context.Context, msg store.Message) (string, error) {
	return m.q.Enqueue(ctx, msg)
}

func (m *memoryStore) Consume(ctx context.Context, consumer string, h store.Handler) error {
	return m.q.Consume(ctx, consumer, h)
}

func (m *memoryStore) DeadLetters(ctx context.Context) ([]store.Message, error) {
	return m.q.DeadLetters(ctx)
}

func (m *memoryStore) Replay(ctx context.Context, id string) error { return m.q.Replay(ctx, id) }
