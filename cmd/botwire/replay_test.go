package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/tap"
)

// capture delivers body to h (a production handler with a tap) with
// header, as the platform would.
func capture(t *testing.T, h http.Handler, path string, body []byte, header http.Header) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "platform/1.0")
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestReplayOneTalkAndEasyDialog(t *testing.T) {
	const prodSecret, prodKey = "prod-onetalk-secret-91", "prod-easydialog-key-37"
	const localSecret, localKey = "local-onetalk-secret-5", "local-easydialog-key-8"
	file := filepath.Join(t.TempDir(), "deliveries.jsonl")
	tp, err := tap.NewFile(file, 1<<20, 1)
	require.NoError(t, err)

	// Production: two OneTalk deliveries and one Easy Dialog delivery,
	// captured by the tap.
	prodOT, err := onetalk.NewHandler(prodSecret, func(context.Context, *onetalk.InboundRequest) error { return nil }, onetalk.WithTap(tp))
	require.NoError(t, err)
	otBody, _ := fixture("onetalk", "inbound_request")
	capture(t, prodOT, "/onetalk", otBody, http.Header{"X-Secret-Key": {prodSecret}})
	otBody2 := bytes.Replace(otBody, []byte(`"caseID"`), []byte(`"unused":1,"caseID"`), 1)
	capture(t, prodOT, "/onetalk", otBody2, http.Header{"X-Secret-Key": {prodSecret}})
	prodED, err := easydialog.NewHandler(prodKey, func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
		easydialog.WithTap(tp))
	require.NoError(t, err)
	edFixture, _ := fixture("easydialog", "request_example")
	edBody := freshTimestamp(edFixture, time.Now())
	capture(t, prodED, "/easydialog", edBody, http.Header{"X-Bm-Signature": {easydialog.Sign(edBody, prodKey)}})
	require.NoError(t, tp.Close())

	// Local bots with the local credentials, noting what they get.
	var mu sync.Mutex
	var got []string
	var gotBodies [][]byte
	localOT, err := onetalk.NewHandler(localSecret, func(_ context.Context, r *onetalk.InboundRequest) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, "onetalk "+r.CaseID)
		gotBodies = append(gotBodies, r.Raw)
		return nil
	})
	require.NoError(t, err)
	localED, err := easydialog.NewHandler(localKey, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, "easydialog "+r.DialogUUID)
		return nil, nil
	})
	require.NoError(t, err)
	var seenUA []string
	mux := http.NewServeMux()
	mux.Handle("/onetalk", localOT)
	mux.Handle("/easydialog", localED)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seenUA = append(seenUA, r.Header.Get("User-Agent"))
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	// --list numbers the deliveries.
	code, out, errOut := botwire(t, "", "replay", file, "--list")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.True(t, strings.HasPrefix(lines[0], "1\t") && strings.Contains(lines[0], "onetalk/webhook\t200\tPOST /onetalk {"), lines[0])
	assert.True(t, strings.HasPrefix(lines[2], "3\t") && strings.Contains(lines[2], "easydialog/webhook\t200"), lines[2])

	// #2: the second OneTalk delivery, with the local secret.
	code, out, errOut = botwire(t, "", "replay", file+"#2", "--to", srv.URL+"/onetalk", "--secret", localSecret)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "< 200 OK")
	assert.Contains(t, out, "> X-Secret-Key: [REDACTED]")
	assert.NotContains(t, out+errOut, localSecret)
	assert.NotContains(t, out+errOut, prodSecret)
	mu.Lock()
	require.Len(t, gotBodies, 1)
	assert.Equal(t, otBody2, gotBodies[0], "the recorded body, byte for byte")
	assert.Equal(t, "platform/1.0", seenUA[0], "the recorded headers are sent again")
	mu.Unlock()

	// The default is the last: Easy Dialog, re-signed with the local key.
	code, out, errOut = botwire(t, "", "replay", file, "--to", srv.URL+"/easydialog", "--secret", localKey)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "< 200 OK")
	assert.Contains(t, out, "> X-Bm-Signature: [REDACTED]")
	assert.NotContains(t, out+errOut, easydialog.Sign(edBody, localKey))
	assert.NotContains(t, out+errOut, localKey)
	mu.Lock()
	require.Len(t, got, 2)
	assert.True(t, strings.HasPrefix(got[0], "onetalk "), got)
	assert.True(t, strings.HasPrefix(got[1], "easydialog "), got)
	mu.Unlock()

	// Another key (the production one, say) is refused by the local bot:
	// the replay is signed with the key given, not the recorded signature.
	code, out, _ = botwire(t, "", "replay", file+"#3", "--to", srv.URL+"/easydialog", "--secret", "another-key-00")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "< 401")
	code, _, _ = botwire(t, "", "replay", file+"#1", "--to", srv.URL+"/onetalk", "--secret", "wrong-secret-00")
	assert.Equal(t, 1, code)
	mu.Lock()
	assert.Len(t, got, 2, "a wrongly authenticated replay reached a callback")
	mu.Unlock()
}

func TestReplayUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.jsonl")
	tp, err := tap.NewFile(file, 1<<20, 1, tap.WithMaxBody(8))
	require.NoError(t, err)
	h, err := onetalk.NewHandler("s3cr3t-x", func(context.Context, *onetalk.InboundRequest) error { return nil }, onetalk.WithTap(tp))
	require.NoError(t, err)
	body, _ := fixture("onetalk", "inbound_request")
	capture(t, h, "/", body, http.Header{"X-Secret-Key": {"s3cr3t-x"}})
	tp.Close()

	code, _, errOut := botwire(t, "", "replay", file+"#1", "--secret", "x")
	assert.Equal(t, 2, code, "no --to")
	assert.Contains(t, errOut, "--to")
	code, _, errOut = botwire(t, "", "replay", file+"#5", "--to", "http://127.0.0.1:1/", "--secret", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "1 to 1")
	code, _, errOut = botwire(t, "", "replay", file+"#x", "--to", "http://127.0.0.1:1/")
	assert.Equal(t, 2, code, errOut)
	code, _, errOut = botwire(t, "", "replay", file, "--to", "http://127.0.0.1:1/")
	assert.Equal(t, 2, code, "onetalk needs --secret: "+errOut)
	code, _, errOut = botwire(t, "", "replay", file, "--to", "http://127.0.0.1:1/", "--secret", "x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "truncated")
	code, out, _ := botwire(t, "", "replay", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Example:")
	code, _, errOut = botwire(t, "", "replay", filepath.Join(t.TempDir(), "missing.jsonl"), "--list")
	assert.Equal(t, 1, code, errOut)
}

// TestReplayEasyDialogNow checks an old Easy Dialog delivery is refused by
// a handler's maximum age unless --now dates it now, and then is signed
// over the new bytes.
func TestReplayEasyDialogNow(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ed.jsonl")
	tp, err := tap.NewFile(file, 1<<20, 1)
	require.NoError(t, err)
	prod, err := easydialog.NewHandler("prod-key-1234", func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
		easydialog.WithTap(tp), easydialog.WithMaxAge(-1))
	require.NoError(t, err)
	body, _ := fixture("easydialog", "request_example") // signed in 2022
	capture(t, prod, "/", body, http.Header{"X-Bm-Signature": {easydialog.Sign(body, "prod-key-1234")}})
	tp.Close()
	local, err := easydialog.NewHandler("local-key-5678", func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil })
	require.NoError(t, err)
	srv := httptest.NewServer(local)
	defer srv.Close()
	code, out, errOut := botwire(t, "", "replay", file, "--to", srv.URL, "--secret", "local-key-5678")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "--now")
	code, out, errOut = botwire(t, "", "replay", file, "--to", srv.URL, "--secret", "local-key-5678", "--now")
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "message.timestamp set to now")
}
