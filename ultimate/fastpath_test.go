package ultimate

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
	want, werr := unmarshalChatEvent(data)
	got, ok := readChatEvent(data)
	if !ok {
		return false
	}
	require.NoError(t, werr, "%q: the fast path accepted a body json.Unmarshal refuses", data)
	require.Equal(t, want, got, "%q", data)
	return true
}

func TestChatFastPathMatchesUnmarshal(t *testing.T) {
	fast := 0
	names := golden.Glob(t, "ultimate/*/*.json")
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
	`{"botId":"b","data":{"eventType":"sendMessage","buttons":"x"}}`,
	`{"botId":"b","data":null}`, `{"botId":"b"}`, `null`, `[]`,
	`{"botId":"b","data":{"eventType":"sendMessage","buttons":["a",{"type":"link","text":"t"}],"carouselCards":[{"title":"c","buttons":[]}],"confidence":0.5}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","buttons":[null]}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","confidence":null,"buttons":null,"carouselCards":null}}`,
	`{"BotId":"b","data":{"eventType":"sendMessage"}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","EventType":"escalate"}}`,
	`{"botId":"b","data":{"eventType":"sendMessage"},"data":{"text":"x"}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","text":"caf\u00e9 \/ \ud83d\ude00"}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","confidence":1e999}}`,
	`{"botId":"b","data":{"eventType":"sendMessage","extra":{"deep":[1,2,{"x":null}]}}} `,
	`{"botId":"b","data":{"eventType":"sendMessage"}}x`,
}

func FuzzChatFastPath(f *testing.F) {
	for _, name := range golden.Glob(f, "ultimate/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	for _, s := range fastPathCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastPath(t, data) })
}
