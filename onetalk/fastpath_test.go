package onetalk

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
	want, werr := unmarshalInbound(data)
	got, ok := readInbound(data)
	if !ok {
		return false
	}
	require.NoError(t, werr, "%q: the fast path accepted a body json.Unmarshal refuses", data)
	require.Equal(t, want, got, "%q", data)
	return true
}

func TestInboundFastPathMatchesUnmarshal(t *testing.T) {
	fast := 0
	names := golden.Glob(t, "onetalk/*/*.json")
	for _, name := range names {
		if checkFastPath(t, golden.Read(t, name)) {
			fast++
		}
	}
	for _, s := range fastPathCases {
		checkFastPath(t, []byte(s))
	}
	// The doc's messages, each in a request.
	for _, name := range golden.Glob(t, "onetalk/*/inbound_message_*.json") {
		body := append(append([]byte(`{"caseID":"c","message":`), golden.Read(t, name)...), '}')
		require.True(t, checkFastPath(t, body), "%s takes the fast path", name)
	}
	for _, size := range []int{0, 1 << 10} {
		require.True(t, checkFastPath(t, sweepBody(size)), "the benchmark's body takes the fast path")
	}
	t.Logf("%d of %d golden bodies took the fast path", fast, len(names))
}

var fastPathCases = []string{
	`{"caseID":"c","message":{"type":"text","text":{"body":"hi"}}}`,
	`{"caseID":"c","message": {"type":"video","image":{"url":"u"}} }`,
	`{"caseID":"c","message":{"type":"video","image":{"url":"u"},"video":{"url":"v"}}}`,
	`{"caseID":"c","message":{"type":"location","location":{"latitude":1.5,"longitude":"2"}}}`,
	`{"caseID":"c","message":{"type":"location","location":{"latitude":1.5,"longitude":-2e1,"name":null}}}`,
	`{"caseID":"c","message":{"type":"text","timestamp":"1719934171955"}}`,
	`{"caseID":"c","message":{"type":"text","timestamp":1e300}}`,
	`{"caseID":"c","message":{"type":"text","timestamp":null,"text":null,"image":null}}`,
	`{"caseID":"c","message":null}`, `{"caseID":"","message":{}}`, `{"message":{}}`,
	`{"caseID":"c","sender":null,"message":{}}`, `{"caseID":"c","sender":"x","message":{}}`,
	`{"caseID":"c","message":{"whatsappba":{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{\"a\":1}","body":"Sent","name":"flow"}}}}}`,
	`{"caseID":"c","message":{"whatsappba":{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"1","title":"t","description":"d"},"button_reply":null}}}}`,
	`{"caseID":"c","message":{"whatsappba":{"type":"button","button":{"payload":"p","text":"t"}}}}`,
	`{"CaseID":"c","message":{}}`, `{"caseID":"c","message":{},"message":{}}`,
	`{"caseID":"c","message":{"Type":"text"}}`,
}

func FuzzInboundFastPath(f *testing.F) {
	for _, name := range golden.Glob(f, "onetalk/*/*.json") {
		f.Add(golden.Read(f, name))
	}
	for _, s := range fastPathCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastPath(t, data) })
}
