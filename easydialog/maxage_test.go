package easydialog

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
)

// countingStore counts the calls a Deduplicator gets.
type countingStore struct {
	store.Deduplicator
	mu     sync.Mutex
	claims int
}

func (c *countingStore) Claim(ctx context.Context, key, token string, lease time.Duration) (store.Claim, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.Deduplicator.Claim(ctx, key, token, lease)
}

// stamped is a signed-to-be request body with message.timestamp ts.
func stamped(ts string) []byte {
	return []byte(fmt.Sprintf(`{"serviceUuid":"s","dialogUuid":"d1","channel":"viber","message":{"from":"f","to":[],`+
		`"providerMsgID":5715661107573693000,"allowedChannels":["viber"],"custom":[],"timestamp":%s,`+
		`"body":{"textMessage":{"content":"hi"}}}}`, ts))
}

func at(t time.Time) []byte {
	return stamped(fmt.Sprintf(`{"date":%q,"timezone_type":1,"timezone":"+00:00"}`, t.UTC().Format("2006-01-02 15:04:05.000000")))
}

// A captured signed request must not replay for ever: a delivery older
// than the maximum age, or too far in the future, is refused after the
// signature is checked and before the deduplication store or the callback
// is reached.
func TestHandlerRefusesStaleDeliveries(t *testing.T) {
	const key = "max-age-key"
	now := time.Now()
	zurich, err := time.LoadLocation("Europe/Zurich")
	require.NoError(t, err)
	tests := []struct {
		name       string
		body       []byte
		opts       []Option
		wantStatus int
	}{
		{name: "fresh", body: at(now), wantStatus: 200},
		{name: "a minute old", body: at(now.Add(-time.Minute)), wantStatus: 200},
		{name: "59 minutes old", body: at(now.Add(-59 * time.Minute)), wantStatus: 200},
		{name: "two days old", body: at(now.Add(-48 * time.Hour)), wantStatus: 400},
		{name: "61 minutes old", body: at(now.Add(-61 * time.Minute)), wantStatus: 400},
		{name: "the doc's example, 2022", body: stamped(`{"date":"2022-06-09 12:26:15.904000","timezone_type":1,"timezone":"+00:00"}`), wantStatus: 400},
		{name: "a little ahead (clock skew)", body: at(now.Add(4 * time.Minute)), wantStatus: 200},
		{name: "an hour in the future", body: at(now.Add(time.Hour)), wantStatus: 400},
		{name: "fresh in a named zone", body: stamped(fmt.Sprintf(`{"date":%q,"timezone_type":3,"timezone":"Europe/Zurich"}`,
			now.In(zurich).Format("2006-01-02 15:04:05.000000"))), wantStatus: 200},
		{name: "stale in a named zone", body: stamped(fmt.Sprintf(`{"date":%q,"timezone_type":3,"timezone":"Europe/Zurich"}`,
			now.Add(-48*time.Hour).In(zurich).Format("2006-01-02 15:04:05.000000"))), wantStatus: 400},
		{name: "PHP's numeric string timezone_type", body: stamped(fmt.Sprintf(`{"date":%q,"timezone_type":"1","timezone":"+00:00"}`,
			now.Add(-48*time.Hour).UTC().Format("2006-01-02 15:04:05.000000"))), wantStatus: 400},
		// The signature proves the platform sent these; they cannot be made
		// from a captured timestamped delivery, so they are not lost.
		{name: "no timestamp", body: stamped(`null`), wantStatus: 200},
		{name: "the schema's placeholder timestamp", body: stamped(`{"date":"string","timezone_type":0,"timezone":"string"}`), wantStatus: 200},
		{name: "an unknown zone", body: stamped(`{"date":"2022-06-09 12:26:15","timezone_type":2,"timezone":"XYZT"}`), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dedup := &countingStore{Deduplicator: store.NewMemoryDeduplicator()}
			calls := 0
			var logs bytes.Buffer
			opts := append([]Option{WithLogger(logger(&logs)), WithDeduplication(dedup, 0)}, tt.opts...)
			h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) {
				calls++
				return nil, nil
			}, opts...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, signedPost(tt.body, key))
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantStatus == 200 {
				assert.Equal(t, 1, calls)
				assert.Equal(t, 1, dedup.claims)
				return
			}
			assert.Zero(t, calls, "the callback does not run")
			assert.Zero(t, dedup.claims, "the deduplication store is not touched")
			assert.Contains(t, logs.String(), "level=WARN")
			assert.NotContains(t, logs.String(), `"content"`, "no body in the log")
		})
	}

	// An unsigned stale request is still a 401: the age is checked only on
	// authentic requests.
	h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) { return nil, nil }, WithLogger(logger(nil)))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost(at(now.Add(-48*time.Hour)), "another key"))
	assert.Equal(t, 401, rec.Code)
}

func TestWithMaxAge(t *testing.T) {
	const key = "max-age-key"
	now := time.Now()
	tests := []struct {
		name       string
		opts       []Option
		age        time.Duration
		wantStatus int
	}{
		{name: "shorter age, inside", opts: []Option{WithMaxAge(10 * time.Minute)}, age: 9 * time.Minute, wantStatus: 200},
		{name: "shorter age, outside", opts: []Option{WithMaxAge(10 * time.Minute)}, age: 11 * time.Minute, wantStatus: 400},
		{name: "zero keeps the default", opts: []Option{WithMaxAge(0)}, age: 2 * time.Hour, wantStatus: 400},
		{name: "negative turns it off", opts: []Option{WithMaxAge(-1)}, age: 48 * time.Hour, wantStatus: 200},
		{name: "negative turns the future check off too", opts: []Option{WithMaxAge(-1)}, age: -time.Hour, wantStatus: 200},
		{name: "longer age without dedup", opts: []Option{WithMaxAge(72 * time.Hour)}, age: 48 * time.Hour, wantStatus: 200},
		{name: "longer age with a longer dedup ttl", opts: []Option{WithMaxAge(72 * time.Hour),
			WithDeduplication(store.NewMemoryDeduplicator(), 96*time.Hour)}, age: 48 * time.Hour, wantStatus: 200},
		{name: "the default follows a shorter dedup ttl", opts: []Option{WithDeduplication(store.NewMemoryDeduplicator(), 10*time.Minute)},
			age: 11 * time.Minute, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) { return nil, nil },
				append([]Option{WithLogger(logger(nil))}, tt.opts...)...)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, signedPost(at(now.Add(-tt.age)), key))
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
		})
	}

	// A maximum age past the deduplication ttl would let a replay run
	// twice: refused at construction.
	for _, ttl := range []time.Duration{0, time.Hour} {
		_, err := NewHandler(key, func(context.Context, *Request) (*Response, error) { return nil, nil },
			WithMaxAge(25*time.Hour), WithDeduplication(store.NewMemoryDeduplicator(), ttl))
		assert.ErrorContains(t, err, "longer than the deduplication ttl", "ttl %s", ttl)
	}
}

// The recorded openssl vector (2022) passes when the handler's clock is
// the vector's time: the check reads the clock, nothing else.
func TestMaxAgeReadsTheHandlersClock(t *testing.T) {
	body, key, sig := vector(t)
	h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) { return nil, nil }, WithLogger(logger(nil)))
	require.NoError(t, err)
	h.now = func() time.Time { return time.Date(2022, 6, 9, 12, 30, 0, 0, time.UTC) }
	r := signedPost(body, "")
	r.Header.Set(SignatureHeader, sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 200, rec.Code, rec.Body.String())
}

func TestVerifyTimestamp(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) Timestamp {
		return Timestamp{Date: now.Add(d).Format("2006-01-02 15:04:05.000000"), TimezoneType: 1, Timezone: "+00:00"}
	}
	tests := []struct {
		name   string
		ts     Timestamp
		maxAge time.Duration
		want   error
	}{
		{"now", ts(0), time.Hour, nil},
		{"at the limit", ts(-time.Hour), time.Hour, nil},
		{"past the limit", ts(-time.Hour - time.Second), time.Hour, ErrStale},
		{"two days", ts(-48 * time.Hour), time.Hour, ErrStale},
		{"within the skew", ts(MaxClockSkew), time.Hour, nil},
		{"past the skew", ts(MaxClockSkew + time.Second), time.Hour, ErrFuture},
		{"no max age: old is fine", ts(-48 * time.Hour), 0, nil},
		{"no max age: the future is not", ts(time.Hour), 0, ErrFuture},
		{"absent", Timestamp{}, time.Hour, ErrNoTimestamp},
		{"unreadable", Timestamp{Date: "string", Timezone: "string"}, time.Hour, ErrNoTimestamp},
		{"another zone", Timestamp{Date: "2024-03-01 12:30:00", TimezoneType: 3, Timezone: "Europe/Zurich"}, time.Hour, nil},
		{"another zone, stale", Timestamp{Date: "2024-03-01 10:30:00", TimezoneType: 3, Timezone: "Europe/Zurich"}, time.Hour, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyTimestamp(tt.ts, now, tt.maxAge)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
