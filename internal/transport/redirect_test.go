package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redirectPair starts a server that records the headers it gets, and a
// second one, on another port (another origin), that redirects every
// request to it with a 307 (the method and body are kept).
func redirectPair(t *testing.T) (from string, got chan http.Header) {
	t.Helper()
	got = make(chan http.Header, 4)
	to := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(to.Close)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(src.Close)
	return src.URL, got
}

func TestPostJSONKeepsCredentialsFromAnotherOrigin(t *testing.T) {
	from, got := redirectPair(t)
	c := New(Config{Header: http.Header{
		"Secret-Key":     {"s3cr3t-key"},
		"Security-Token": {"tok-123456"},
		"Authorization":  {"auth-123456"},
	}}, "test")
	resp, err := c.PostJSON(context.Background(), Request{URL: from + "/send", Body: map[string]string{"a": "b"}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	h := <-got
	for _, name := range []string{"Secret-Key", "Security-Token", "Authorization"} {
		assert.Empty(t, h.Get(name), "%s reached another origin", name)
	}
	assert.Equal(t, "application/json", h.Get("Content-Type"), "the redirect itself is followed")
}

func TestGuardRedirects(t *testing.T) {
	from, got := redirectPair(t)
	var theirs int
	mine := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { theirs++; return nil }}
	hc := GuardRedirects(mine, "X-Secret-Key")
	req, _ := http.NewRequest(http.MethodPost, from+"/hook", nil)
	req.Header.Set("X-Secret-Key", "s3cr3t")
	req.Header.Set("X-Other", "kept")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	h := <-got
	assert.Empty(t, h.Get("X-Secret-Key"))
	assert.Equal(t, "kept", h.Get("X-Other"))
	assert.Equal(t, 1, theirs, "the caller's CheckRedirect still runs")
	assert.Nil(t, mine.CheckRedirect(nil, nil), "the caller's client is not modified")
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://api.example.com/a", "https://api.example.com/b", true},
		{"https://api.example.com/a", "https://API.example.com:443/b", true},
		{"http://127.0.0.1:80/a", "http://127.0.0.1/b", true},
		{"https://api.example.com/a", "http://api.example.com/a", false},
		{"https://api.example.com/a", "https://evil.api.example.com/a", false},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a", false},
	} {
		a, b := mustURL(t, tc.a), mustURL(t, tc.b)
		assert.Equal(t, tc.same, sameOrigin(a, b), "%s vs %s", tc.a, tc.b)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
