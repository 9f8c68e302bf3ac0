package botcopy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

// checkFastPath asserts that the one-pass reader decodes data exactly as
// json.Unmarshal does, or gives up; it never accepts what the reference
// refuses.
func checkFastPath(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	want, werr := unmarshalRequest(data)
	got, ok := readRequest(data)
	if !ok {
		return false
	}
	require.NoError(t, werr, "%q: the fast path accepted a body json.Unmarshal refuses", data)
	require.Equal(t, want, got, "%q", data)
	return true
}

func TestRequestFastPathMatchesUnmarshal(t *testing.T) {
	fast := 0
	names := golden.Glob(t, "botcopy/*/*.json")
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
	require.True(t, checkFastPath(t, golden.Read(t, "botcopy/doc/webhook_step_two.json")), "the benchmark's body takes the fast path")
	t.Logf("%d of %d golden bodies took the fast path", fast, len(names))
}

var fastPathCases = []string{
	`{"userId":"u","botId":"b","queryInput":{"text":{"text":"hi","languageCode":"en"}}}`,
	`{"userId":"u","dialogflowResponse":null,"messageHistory":null,"queryInput":null,"queryParams":null}`,
	`{"userId":"u","dialogflowResponse":{"responseId":"r","queryResult":{"queryText":"q","parameters":{"a":[1,"x"]}}},"messageHistory":[null,{"_id":"1","payload":{"text":"x"}}]}`,
	`{"userId":"u","dialogflowResponse":{"queryResult":{"parameters":[]}}}`,
	`{"userId":"u","dialogflowResponse":"x"}`, `{"userId":"u","messageHistory":[]}`,
	`{"userId":"u","queryInput":{"text":null},"queryParams":{"contexts":[],"payload":null}}`,
	`{"UserId":"u"}`, `{"userId":"u","userId":"v"}`, `{"userId":1}`, `{"accessToken":"t\u00e9"}`,
}

func FuzzRequestFastPath(f *testing.F) {
	for _, name := range golden.Glob(f, "botcopy/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	for _, s := range fastPathCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastPath(t, data) })
}
