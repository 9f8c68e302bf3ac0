package userlike

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

// checkFastPath asserts that the one-pass reader decodes data exactly as
// json.Unmarshal does, or gives up; it never accepts what the reference
// refuses.
func checkFastPath(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	data = bytes.TrimSpace(data)
	if len(data) == 0 || (data[0] != '{' && data[0] != '[') {
		return false // decodeEvents refuses it before either path
	}
	want, werr := unmarshalEventsOnce(data)
	got, ok := readEvents(data)
	if !ok {
		return false
	}
	require.NoError(t, werr, "%q: the fast path accepted a body json.Unmarshal refuses", data)
	require.Equal(t, want, got, "%q", data)
	return true
}

func TestEventsFastPathMatchesUnmarshal(t *testing.T) {
	fast := 0
	names := golden.Glob(t, "userlike/*/*.json")
	for _, name := range names {
		if checkFastPath(t, golden.Read(t, name)) {
			fast++
		}
	}
	for _, s := range fastPathCases {
		checkFastPath(t, []byte(s))
	}
	for _, size := range []int{0, 1 << 10} {
		require.True(t, checkFastPath(t, sweepBody(size)), "the benchmark's body takes the fast path")
	}
	t.Logf("%d of %d golden bodies took the fast path", fast, len(names))
}

var fastPathCases = []string{
	`{"info":{"cid":"c"},"packet":{"name":"message","payload":{"body":"hi"}}}`,
	`[{"info":{"cid":"c"},"packet":{"name":"message","payload":{"body":"hi"}}}, {"info":{"cid":"d"},"packet":{"name":"click","payload":{"value":{"id":"1","label":"One"}}}}]`,
	`[]`, `[null]`, `{"info":null,"packet":null}`, `{"info":{"cid":"c"},"packet":{"name":"start","payload":null}}`,
	`{"info":{"cid":"c","contact":{"name":"Ada","mobile_number":4915112345678,"custom_fields":{"a":[1]}},"context":{"step":2},"widget":null,"conversation":{"contact_channel":{"type":"web"},"topic":"x"}},"packet":{"name":"media","payload":{"url":"u","mime_type":"image/png"}}}`,
	`{"info":{"cid":"c","conversation":null,"contact":null},"packet":{"name":"location","payload":{"latitude":"52.5","longitude":13}}}`,
	`{"info":{"cid":"c","conversation":{"contact_channel":null}},"packet":{"name":"location","payload":{"latitude":52.5,"longitude":13}}}`,
	`{"info":{"cid":"c"},"packet":{"name":"message","payload":{"body":1}}}`,
	`{"info":{"cid":"c"},"packet":{"name":"message","payload":"text"}}`,
	`{"info":{"CID":"c"},"packet":{"name":"message"}}`,
	`{"info":{"cid":"c"},"packet":{"name":"message"},"packet":{"name":"click"}}`,
	` {"info":{"cid":"c"},"packet":{"name":"message","payload":{"body":"caf\u00e9"}}} `,
}

func FuzzEventsFastPath(f *testing.F) {
	for _, name := range golden.Glob(f, "userlike/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	for _, s := range fastPathCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastPath(t, data) })
}
