package inbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

func TestReadBodyLimit(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("12345"))
	b, err := ReadBody(r, 5)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(b))

	// Unknown length goes through the pool and still returns owned bytes.
	r = httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("ab"), strings.NewReader("c")))
	r.ContentLength = -1
	b, err = ReadBody(r, 5)
	require.NoError(t, err)
	r = httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("xy"), strings.NewReader("z")))
	r.ContentLength = -1
	_, err = ReadBody(r, 5)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b), "a later read must not overwrite an earlier body")

	// A body shorter than its Content-Length is an error, not a short read.
	r = httptest.NewRequest("POST", "/", strings.NewReader("12"))
	r.ContentLength = 4
	_, err = ReadBody(r, 5)
	assert.Error(t, err)

	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	_, err = ReadBody(r, 5)
	assert.ErrorIs(t, err, ErrBodyTooLarge, "declared length over the limit")

	// A chunked body has no declared length: the limit holds while reading.
	r = httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("123"), strings.NewReader("456")))
	r.ContentLength = -1
	_, err = ReadBody(r, 5)
	assert.ErrorIs(t, err, ErrBodyTooLarge)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestBegin(t *testing.T) {
	rec := httptest.NewRecorder()
	_, ok := Begin(rec, httptest.NewRequest("PUT", "/", nil), 10)
	assert.False(t, ok)
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))

	rec = httptest.NewRecorder()
	_, ok = Begin(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))), 10)
	assert.False(t, ok)
	assert.Equal(t, 413, rec.Code)

	rec = httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", failingReader{})
	r.ContentLength = -1
	_, ok = Begin(rec, r, 10)
	assert.False(t, ok)
	assert.Equal(t, 400, rec.Code)
}

func TestSecret(t *testing.T) {
	s := NewSecret("hunter2")
	assert.True(t, s.Equal("hunter2"))
	assert.False(t, s.Equal("hunter"))
	assert.False(t, s.Equal(""))
	assert.False(t, NewSecret("").Equal(""), "an empty secret matches nothing")
	assert.True(t, NewSecret("").IsZero())
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(f, s), "hunter2")
	}
	assert.True(t, Equal("a", "a"))
	assert.False(t, Equal("a", "ab"))
}

func TestErrorBodies(t *testing.T) {
	rec := httptest.NewRecorder()
	Unavailable(rec, 2)
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, "2", rec.Header().Get("Retry-After"))
	golden.JSONEq(t, []byte(`{"error":"busy, retry later"}`), rec.Body.Bytes())

	rec = httptest.NewRecorder()
	require.NoError(t, JSON(rec, 200, map[string]bool{"isOnline": true}))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	golden.JSONEq(t, []byte(`{"isOnline":true}`), rec.Body.Bytes())

	rec = httptest.NewRecorder()
	assert.Error(t, JSON(rec, 200, func() {}))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestSyntaxReason(t *testing.T) {
	var v struct{ A int }
	err := json.Unmarshal([]byte(`{"A":`), &v)
	assert.Equal(t, "truncated JSON", SyntaxReason(err))
	err = json.Unmarshal([]byte(`{"A":x}`), &v)
	assert.Equal(t, "malformed JSON at offset 6", SyntaxReason(err))
	err = json.Unmarshal([]byte(`{"A":"s"}`), &v)
	assert.Equal(t, "wrong JSON type for field A", SyntaxReason(err))
}

func TestAuth(t *testing.T) {
	_, err := NewAuth(AuthConfig{})
	assert.ErrorIs(t, err, ErrNoAuth)
	_, err = NewAuth(AuthConfig{None: true, Basic: true, User: "u", Password: "p"})
	assert.Error(t, err)
	_, err = NewAuth(AuthConfig{Headers: []Header{{Name: "X", Value: ""}}})
	assert.Error(t, err)
	a, err := NewAuth(AuthConfig{Headers: []Header{{Name: "X-Token", Value: "tok"}}, Basic: true, User: "u", Password: "pw"})
	require.NoError(t, err)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Token", "tok")
	assert.False(t, a.OK(r), "basic auth is missing")
	r.SetBasicAuth("u", "pw")
	assert.True(t, a.OK(r))
	r.SetBasicAuth("u", "guess")
	assert.False(t, a.OK(r))
	assert.NotContains(t, a.String(), "tok")
	assert.NotContains(t, a.String(), "pw")
	none, err := NewAuth(AuthConfig{None: true})
	require.NoError(t, err)
	assert.True(t, none.OK(httptest.NewRequest("POST", "/", nil)))
}

// stingyBody is a connection that declared a large body and sends n bytes:
// it records the largest buffer it was offered to fill.
type stingyBody struct {
	left    int
	offered int
}

func (s *stingyBody) Read(p []byte) (int, error) {
	s.offered = max(s.offered, len(p))
	if s.left == 0 {
		return 0, io.ErrUnexpectedEOF // the caller hung up
	}
	n := min(len(p), s.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	s.left -= n
	return n, nil
}

func TestReadBodyMemoryFollowsBytesReceived(t *testing.T) {
	// 1 MiB declared, nothing sent: no buffer beyond one block may be set
	// aside for it (it was a 1 MiB allocation per connection).
	body := &stingyBody{}
	r := httptest.NewRequest("POST", "/", body)
	r.ContentLength = 1 << 20
	_, err := ReadBody(r, 1<<20)
	require.Error(t, err)
	assert.LessOrEqual(t, body.offered, blockSize)

	// 100 KiB declared and sent: read whole, through blocks.
	body = &stingyBody{left: 100 << 10}
	r = httptest.NewRequest("POST", "/", body)
	r.ContentLength = 100 << 10
	b, err := ReadBody(r, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("x", 100<<10), string(b))
	assert.LessOrEqual(t, body.offered, blockSize)

	// A declared body that ends early is an error, not a short read.
	body = &stingyBody{left: 40 << 10}
	r = httptest.NewRequest("POST", "/", body)
	r.ContentLength = 100 << 10
	_, err = ReadBody(r, 1<<20)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	// Unknown length, exactly a multiple of the block size.
	r = httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("y", 2*blockSize)))
	r.ContentLength = -1
	b, err = ReadBody(r, 1<<20)
	require.NoError(t, err)
	assert.Len(t, b, 2*blockSize)
}

func TestAnswersDeclareTheirLength(t *testing.T) {
	rec := httptest.NewRecorder()
	JSONNow(rec, 200, []byte(`{"a":1}`))
	assert.Equal(t, "7", rec.Header().Get("Content-Length"))
	assert.True(t, rec.Flushed)
	rec = httptest.NewRecorder()
	Unauthorized(rec)
	assert.Equal(t, fmt.Sprint(rec.Body.Len()), rec.Header().Get("Content-Length"))
}
