package fakekit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bot that redirects the fake's delivery elsewhere does not get the
// platform's credential sent there.
func TestSendKeepsCredentialsFromAnotherOrigin(t *testing.T) {
	got := make(chan http.Header, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer elsewhere.Close()
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer bot.Close()

	ans, err := Send(context.Background(), nil, Bot{URL: bot.URL}, "/", []byte(`{}`),
		http.Header{"X-Secret-Key": {"s3cr3t"}, "X-Bm-Signature": {"c2ln"}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, ans.StatusCode)
	h := <-got
	assert.Empty(t, h.Get("X-Secret-Key"))
	assert.Empty(t, h.Get("X-Bm-Signature"))
}
