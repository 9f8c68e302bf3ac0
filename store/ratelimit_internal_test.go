package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (l *MemoryRateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times)
}

// Keys whose window emptied are forgotten: 20,000 cids seen once do not
// stay in memory after their window passes.
func TestMemoryRateLimiterForgetsIdleKeys(t *testing.T) {
	ctx := context.Background()
	const period = 500 * time.Millisecond
	l := NewMemoryRateLimiter()
	for i := range 20000 {
		ok, _, err := l.Take(ctx, "cid-"+strconv.Itoa(i), 20, period)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Greater(t, l.size(), 1000, "keys inside their window are kept")

	time.Sleep(period + 20*time.Millisecond)
	// A key at its limit, taken just now, must survive the sweep.
	for range 3 {
		ok, _, err := l.Take(ctx, "busy", 3, period)
		require.NoError(t, err)
		require.True(t, ok)
	}
	for i := range 300 {
		_, _, err := l.Take(ctx, "other-"+strconv.Itoa(i%3), 1000, period)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, l.size(), 10, "idle keys are swept")
	ok, wait, err := l.Take(ctx, "busy", 3, period)
	require.NoError(t, err)
	assert.False(t, ok, "a live window is not forgotten")
	assert.Positive(t, wait)
}

func TestMemoryRateLimiterRefusesANonPositiveLimit(t *testing.T) {
	l := NewMemoryRateLimiter()
	for _, tc := range []struct {
		limit  int
		period time.Duration
	}{{0, time.Second}, {-1, time.Second}, {1, 0}} {
		ok, _, err := l.Take(context.Background(), "k", tc.limit, tc.period)
		if err == nil || ok {
			t.Errorf("Take(limit %d, period %v) = %v, %v; want an error", tc.limit, tc.period, ok, err)
		}
	}
}
