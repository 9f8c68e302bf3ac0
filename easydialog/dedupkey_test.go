package easydialog

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/store"
)

func idBody(t *testing.T, dialog, msgID string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"dialogUuid": dialog, "message": map[string]any{
		"providerMsgID": msgID,
		"timestamp":     map[string]any{"date": time.Now().UTC().Format("2006-01-02 15:04:05.000000"), "timezone_type": 1, "timezone": "+00:00"},
		"body":          map[string]any{"textMessage": map[string]any{"content": dialog + "|" + msgID}}}})
	require.NoError(t, err)
	return b
}

// Dialog "A:message:B" with message "C" and dialog "A" with message
// "B:message:C" are two deliveries: each gets its own answer.
func TestDeliveryKeysOfDifferentIDsNeverMeet(t *testing.T) {
	const key = "key-collision"
	h, err := NewHandler(key, func(_ context.Context, r *Request) (*Response, error) {
		return Reply(NewTextMessage("answer to " + r.Message.Text())), nil
	}, WithDeduplication(store.NewMemoryDeduplicator(), 0), WithLogger(logger(nil)))
	require.NoError(t, err)
	for _, d := range [][2]string{{"A:message:B", "C"}, {"A", "B:message:C"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedPost(idBody(t, d[0], d[1]), key))
		assert.Equal(t, 200, rec.Code)
		assert.Contains(t, rec.Body.String(), "answer to "+d[0]+"|"+d[1], "not the other delivery's stored answer")
	}
}

func TestDeliveryKeyIsBounded(t *testing.T) {
	long := strings.Repeat("7", 1<<20)
	k := deliveryKey(idBody(t, "d1", long))
	assert.LessOrEqual(t, len(k), inbound.MaxKeyLen)
	assert.NotEqual(t, k, deliveryKey(idBody(t, "d1", long[1:])))
	assert.Equal(t, "dialog:d1:message:5715661107573693000",
		deliveryKey([]byte(`{"dialogUuid":"d1","message":{"providerMsgID":5715661107573693000}}`)),
		"plain ids keep the key earlier versions stored")
}
