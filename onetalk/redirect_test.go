package onetalk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The OneTalk URL answering a redirect to another host must not get the
// Secret-Key sent there (net/http strips only Authorization and Cookie).
func TestClientKeepsSecretFromAnotherOrigin(t *testing.T) {
	got := make(chan http.Header, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer elsewhere.Close()
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer platform.Close()

	c, err := NewClient(platform.URL, "s3cr3t-key")
	require.NoError(t, err)
	require.NoError(t, c.SendMessages(context.Background(), "case-1", NewText("hi")))
	assert.Empty(t, (<-got).Get(ClientSecretHeader))
}
