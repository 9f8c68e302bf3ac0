package easydialog

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

// parseSlow is ParseRequest without the fast path: the reference.
func parseSlow(data []byte) (*Request, error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, ErrMalformed
	}
	return unmarshalRequest(data)
}

// checkFastPath asserts that the one-pass reader decodes data exactly as
// json.Unmarshal does, or gives up; it never accepts what the reference
// refuses.
func checkFastPath(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	want, werr := parseSlow(data)
	got, ok := readRequest(data)
	if !ok {
		return false
	}
	got.Raw = data
	require.NoError(t, werr, "%q: the fast path accepted a body json.Unmarshal refuses", data)
	require.Equal(t, want, got, "%q", data)
	return true
}

func TestRequestFastPathMatchesUnmarshal(t *testing.T) {
	fast := 0
	names := golden.Glob(t, "easydialog/*/*.json")
	for _, name := range names {
		if checkFastPath(t, golden.Read(t, name)) {
			fast++
		}
	}
	// The doc's bodies, each in a request.
	for _, name := range golden.Glob(t, "easydialog/*/body_*.json") {
		body := append(append([]byte(`{"dialogUuid":"d","message":{"body":`), golden.Read(t, name)...), '}', '}')
		require.True(t, checkFastPath(t, body), "%s takes the fast path", name)
	}
	for _, s := range fastPathCases {
		checkFastPath(t, []byte(s))
	}
	for _, size := range []int{0, 1 << 10} {
		require.True(t, checkFastPath(t, sweepBody(size)), "the benchmark's body takes the fast path")
	}
	body, _, _ := vector(t)
	require.True(t, checkFastPath(t, body), "the signed vector takes the fast path")
	t.Logf("%d of %d golden bodies took the fast path", fast, len(names))
}

var fastPathCases = []string{
	`{"dialogUuid":"d","message":{"to":["+41",41791234567,{"number":"1","alias":"a"},null],"providerMsgID":5645395498720001234,"body":{"textMessage":{"content":"hi"}}}}`,
	`{"dialogUuid":"d","message":{"providerMsgID":"abc","allowedChannels":["viber",null],"custom":[],"timestamp":{"date":"2022-06-09 12:26:15.904000","timezone_type":3,"timezone":"Europe/Zurich"}}}`,
	`{"dialogUuid":"d","message":{"timestamp":{"timezone_type":"3"}}}`,
	`{"dialogUuid":"d","message":{"body":[]},"contact":[]}`,
	`{"dialogUuid":"d","message":{"body":{"textMessage":{"content":"hi"},"futureMessage":{"x":1}}}}`,
	`{"dialogUuid":"d","message":{"body":{"TextMessage":{"content":"hi"}}}}`,
	`{"dialogUuid":"d","message":{"body":{"pictureMessage":{"url":"u","size":"12"},"suggestionsMessage":{"suggestions":[{"text":"t","composeMessage":{"number":"1","test":"x"}}]}}}}`,
	`{"dialogUuid":"d","message":{"body":{"locationMessage":{"latitude":"1"}}}}`,
	`{"dialogUuid":"d","message":null,"contact":null}`,
	`{"dialogUuid":"d","contact":{"first_name":"Ada","zip":8000}}`,
	`{"dialogUuid":"d","contact":{"first_name":"Ada","last_name":null,"channel_opt_statuses":"in"}}`,
	`{"dialogUuid":"d","contact":{"channel_opt_status":"out","channel_opt_statuses":"in"}}`,
	`{"dialogUuid":"d","contact":{"channel_opt_statuses":null}}`,
	`{"dialogUuid":"d","message":{"to":[true]}}`, `{"dialogUuid":"d","message":{"providerMsgID":{}}}`,
	`{"dialogUuid":"d","message":{"from":"caf\u00e9 \/ x"}}`,
	`{"dialogUuid":"d","dialogUuid":"e"}`,
}

func FuzzRequestFastPath(f *testing.F) {
	for _, name := range golden.Glob(f, "easydialog/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	for _, s := range fastPathCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastPath(t, data) })
}
