package check

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHTTPURL(t *testing.T) {
	for _, tc := range []struct {
		url, problem string
	}{
		{"", ""},
		{"https://cdn.example.com/a.jpg", ""},
		{"HTTP://cdn.example.com:8080/a.jpg?x=1#f", ""},
		{"https://user:pass@cdn.example.com/a.jpg", ""},
		{"/img/a.jpg", "a relative reference"},
		{"a.jpg", "a relative reference"},
		{"example.com/a.jpg", "a relative reference"},
		{"//cdn.example.com/a.jpg", "a relative reference"},
		{"ftp://files.example.com/a.pdf", `scheme "ftp"`},
		{"data:image/png;base64,AAAA", `scheme "data"`},
		{"javascript:alert(1)", `scheme "javascript"`},
		{"https:a.jpg", "no host"},
		{"https:///a.jpg", "no host"},
		{"https://:443/a.jpg", "no host"},
		{"https://cdn.example.com/a b.jpg", "a space or control character"},
	} {
		v := New("pkg", errInvalid)
		v.HTTPURL("url", tc.url)
		if tc.problem == "" {
			assert.NoError(t, v.Err(), tc.url)
			continue
		}
		assert.EqualError(t, v.Err(), "pkg: url: must be an absolute http(s) URL, got "+tc.problem, tc.url)
	}
}

func TestHTTPURLDoesNotAllocate(t *testing.T) {
	v := New("pkg", errInvalid)
	assert.Zero(t, testing.AllocsPerRun(100, func() { v.HTTPURL("url", "https://cdn.example.com/a.jpg") }))
}
