package userlike

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The API URL answering a redirect to another host must not get the
// Security-Token sent there (net/http strips only Authorization and Cookie).
func TestClientKeepsTokenFromAnotherOrigin(t *testing.T) {
	got := make(chan http.Header, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer api.Close()

	c, err := NewClient(api.URL, "tok-123456")
	require.NoError(t, err)
	require.NoError(t, c.Send(context.Background(), "cid-1", Message("hi")))
	assert.Empty(t, (<-got).Get(TokenHeader))
}
