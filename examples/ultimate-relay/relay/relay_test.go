package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/ultimate"
)

// newRelay returns a relay whose client talks to a stand-in Ultimate that
// accepts everything, and counts the calls it gets.
func newRelay(t *testing.T) (*Relay, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(api.Close)
	c, err := ultimate.NewClient("key", "bot", ultimate.WithBaseURL(api.URL))
	require.NoError(t, err)
	return &Relay{Client: c}, &calls
}

func send(t *testing.T, h http.Handler, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/chat/send", strings.NewReader(body)))
	return rec.Code
}

func sendJSON(t *testing.T, h http.Handler, id, text string) int {
	t.Helper()
	b, err := json.Marshal(map[string]string{"conversationId": id, "text": text})
	require.NoError(t, err)
	return send(t, h, string(b))
}

func (r *Relay) conversations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.convs)
}

// The public /chat/send keeps a bounded amount, whatever anonymous callers
// send: so many conversations, so many lines each, so much text.
func TestChatSendIsBounded(t *testing.T) {
	r, calls := newRelay(t)
	api := r.ChatAPI()

	for i := range DefaultMaxConversations + 500 {
		require.Equal(t, http.StatusAccepted, sendJSON(t, api, fmt.Sprintf("conv-%d", i), "hi"))
	}
	assert.Equal(t, DefaultMaxConversations, r.conversations(), "the oldest conversations are evicted")
	assert.Empty(t, r.Transcript("conv-0", 0), "conv-0 was the least recently active")
	assert.Len(t, r.Transcript(fmt.Sprintf("conv-%d", DefaultMaxConversations+499), 0), 1)

	for i := range DefaultMaxEntries + 50 {
		require.Equal(t, http.StatusAccepted, sendJSON(t, api, "long", fmt.Sprint("line ", i)))
	}
	lines := r.Transcript("long", 0)
	require.Len(t, lines, DefaultMaxEntries, "only the newest lines are kept")
	assert.Equal(t, fmt.Sprint("line ", DefaultMaxEntries+49), lines[len(lines)-1].Text)
	assert.Equal(t, "line 50", lines[0].Text)
	// Indexes keep counting every line, so a poller's after=N stays right.
	assert.Equal(t, []Entry{{From: "visitor", Text: fmt.Sprint("line ", DefaultMaxEntries+49)}},
		r.Transcript("long", DefaultMaxEntries+49))
	assert.Empty(t, r.Transcript("long", DefaultMaxEntries+50))

	before := calls.Load()
	assert.Equal(t, http.StatusRequestEntityTooLarge, sendJSON(t, api, "c1", strings.Repeat("x", MaxTextBytes+1)))
	assert.Equal(t, http.StatusAccepted, sendJSON(t, api, "c1", strings.Repeat("é", MaxTextBytes/2)))
	assert.Equal(t, http.StatusBadRequest, sendJSON(t, api, strings.Repeat("i", MaxIDBytes+1), "hi"))
	padded := `{"conversationId":"c1","text":"hi","pad":"` + strings.Repeat(" ", 32<<10) + `"}`
	assert.Equal(t, http.StatusRequestEntityTooLarge, send(t, api, padded))
	assert.Equal(t, before+1, calls.Load(), "nothing refused reaches Ultimate")
	for _, e := range r.Transcript("c1", 0) {
		assert.LessOrEqual(t, len(e.Text), MaxTextBytes)
	}
}

// With caps set on the relay (10 conversations, 3 lines each), 300 sends
// of the longest text keep at most 10 × 3 texts.
func TestRelayLimitsAreSettable(t *testing.T) {
	r, _ := newRelay(t)
	r.MaxConversations, r.MaxEntries = 10, 3
	api := r.ChatAPI()
	text := strings.Repeat("x", MaxTextBytes)
	for i := range 300 {
		require.Equal(t, http.StatusAccepted, sendJSON(t, api, fmt.Sprintf("conv-%d", i/20), text))
	}
	assert.Equal(t, 10, r.conversations())
	var kept int
	r.mu.Lock()
	for _, c := range r.convs {
		assert.LessOrEqual(t, len(c.entries), 3)
		for _, e := range c.entries {
			kept += len(e.Text)
		}
	}
	r.mu.Unlock()
	assert.LessOrEqual(t, kept, 10*3*MaxTextBytes)
	assert.Len(t, r.Transcript("conv-14", 0), 3)
	assert.Empty(t, r.Transcript("conv-4", 0), "evicted")
}
