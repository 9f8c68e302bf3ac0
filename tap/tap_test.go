package tap_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/botwire/botwire/tap"
)

func record(body string) tap.Record {
	return tap.Record{Time: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Platform: "onetalk", Endpoint: "webhook",
		Method: "POST", Path: "/onetalk", Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(body), Status: 200, Latency: 1500 * time.Microsecond}
}

func readAll(t *testing.T, b []byte) []tap.Record {
	t.Helper()
	var out []tap.Record
	for r, err := range tap.Read(bytes.NewReader(b)) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestMasking(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf, tap.WithMaskedHeaders("X-Tenant-Cred"))
	rec := record(`{"accessToken": "tok-123", "text": "hi"}`)
	rec.Header = http.Header{
		"X-Secret-Key":       {"s3cr3t-onetalk"},
		"X-Bm-Signature":     {"c2lnbmF0dXJl"},
		"Authorization":      {"Basic dXNlcjpwYXNz"},
		"Api-Security-Token": {"ul-token"},
		"X-Custom-Check":     {"botcopy-custom"},
		"X-Tenant-Cred":      {"tenant-value"},
		"X-My-Password":      {"pw-value"},
		"Content-Type":       {"application/json"},
		"User-Agent":         {"Go-http-client/1.1"},
	}
	tp.Capture(rec, "x-custom-check")
	line := buf.String()
	for _, secret := range []string{"s3cr3t-onetalk", "c2lnbmF0dXJl", "dXNlcjpwYXNz", "ul-token", "botcopy-custom", "tenant-value", "pw-value", "tok-123"} {
		if strings.Contains(line, secret) {
			t.Errorf("the record holds %q: %s", secret, line)
		}
	}
	got := readAll(t, buf.Bytes())[0]
	if v := got.Header.Get("Authorization"); v != "Basic "+tap.Masked {
		t.Errorf("Authorization = %q, want the scheme kept", v)
	}
	for _, k := range []string{"X-Secret-Key", "X-Bm-Signature", "X-Custom-Check", "Api-Security-Token"} {
		if v := got.Header.Get(k); v != tap.Masked {
			t.Errorf("%s = %q, want masked", k, v)
		}
	}
	if got.Header.Get("User-Agent") != "Go-http-client/1.1" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("other headers changed: %v", got.Header)
	}
	if !got.MaskedBody || !strings.Contains(string(got.Body), `"text": "hi"`) {
		t.Errorf("body = %s (masked %v)", got.Body, got.MaskedBody)
	}
	if rec.Header.Get("X-Secret-Key") != "s3cr3t-onetalk" {
		t.Error("Capture changed the caller's header")
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf)
	tp.Capture(record(`{"a":1}`))
	bin := record("")
	bin.Body = []byte{0xff, 0x00, 0xfe}
	tp.Capture(bin)
	recs := readAll(t, buf.Bytes())
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if string(r.Body) != `{"a":1}` || r.Status != 200 || r.Latency != 1500*time.Microsecond || r.Platform != "onetalk" ||
		r.Path != "/onetalk" || !r.Time.Equal(record("").Time) || r.BodySize != 7 {
		t.Errorf("record 1 = %+v", r)
	}
	if !strings.Contains(buf.String(), `"body":"{\"a\":1}"`) {
		t.Errorf("a UTF-8 body is not a JSON string: %s", buf.String())
	}
	if !bytes.Equal(recs[1].Body, bin.Body) || !strings.Contains(buf.String(), `"body_encoding":"base64"`) {
		t.Errorf("binary body = %v: %s", recs[1].Body, buf.String())
	}
}

func TestTruncation(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf, tap.WithMaxBody(4))
	tp.Capture(record(`{"long":true}`))
	r := readAll(t, buf.Bytes())[0]
	if string(r.Body) != `{"lo` || !r.Truncated || r.BodySize != 13 {
		t.Errorf("body %q truncated %v size %d", r.Body, r.Truncated, r.BodySize)
	}
	if tp.MaxBody() != 4 || tap.New(&buf).MaxBody() != tap.DefaultMaxBody {
		t.Error("MaxBody")
	}
}

func TestWithoutBodies(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf, tap.WithoutBodies())
	tp.Capture(record(`{"private":"customer text"}`))
	if strings.Contains(buf.String(), "customer text") || strings.Contains(buf.String(), `"body":`) {
		t.Fatalf("a body was recorded: %s", buf.String())
	}
	r := readAll(t, buf.Bytes())[0]
	if !r.NoBody || r.Body != nil || r.BodySize != 27 || r.Truncated {
		t.Errorf("record = %+v", r)
	}
	if tp.MaxBody() != 0 {
		t.Error("MaxBody with WithoutBodies is not 0")
	}
}

type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestFailingWriter(t *testing.T) {
	var logs bytes.Buffer
	f := &failing{}
	tp := tap.New(f, tap.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for range 3 {
		tp.Capture(record(`{"secret":"x"}`), "X")
	}
	if tp.Errors() != 3 || tp.Written() != 0 || f.n != 3 {
		t.Errorf("errors %d written %d writes %d", tp.Errors(), tp.Written(), f.n)
	}
	if n := strings.Count(logs.String(), "disk full"); n != 1 {
		t.Errorf("logged %d times: %s", n, logs.String())
	}
	var nilTap *tap.Tap
	nilTap.Capture(record("{}")) // a nil tap records nothing and does not panic
}

func TestConcurrentWriters(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf)
	var wg sync.WaitGroup
	const n = 200
	for i := range n {
		wg.Go(func() { tp.Capture(record(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 500)))) })
	}
	wg.Wait()
	recs := readAll(t, buf.Bytes())
	if len(recs) != n || tp.Written() != n {
		t.Fatalf("%d records, %d written", len(recs), tp.Written())
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tap.jsonl")
	tp, err := tap.NewFile(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { tp.Capture(record(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("y", 200)))) })
	}
	wg.Wait()
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over the bound", p, st.Size())
		}
		recs, err := tap.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		total += len(recs)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("path.3 exists (keep 2): %v", err)
	}
	if total >= 20 || total == 0 {
		t.Errorf("%d records kept of 20 with the oldest dropped", total)
	}
	// Reopening appends.
	tp, err = tap.NewFile(path, 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := tap.ReadFile(path)
	tp.Capture(record(`{}`))
	tp.Close()
	after, _ := tap.ReadFile(path)
	if len(after) != len(before)+1 {
		t.Errorf("reopened file: %d records, want %d", len(after), len(before)+1)
	}
	if _, err := tap.NewFile(path, 0, 1); err == nil {
		t.Error("NewFile accepted maxBytes 0")
	}
}

func TestRotationKeepZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tap.jsonl")
	tp, err := tap.NewFile(path, 300, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		tp.Capture(record(fmt.Sprintf(`{"i":%d}`, i)))
	}
	tp.Close()
	recs, err := tap.ReadFile(path)
	if err != nil || len(recs) == 0 || len(recs) == 5 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if string(recs[len(recs)-1].Body) != `{"i":4}` {
		t.Errorf("last record %s", recs[len(recs)-1].Body)
	}
	if _, err := os.Stat(path + ".1"); !os.IsNotExist(err) {
		t.Error("keep 0 kept a rotated file")
	}
}

func TestReadBadLine(t *testing.T) {
	in := "not json\n" + `{"platform":"onetalk","method":"POST","path":"/","headers":{},"body":"{}","status":200,"latency_ms":1}` + "\n"
	var errs, recs int
	for _, err := range tap.Read(strings.NewReader(in)) {
		if err != nil {
			errs++
			if !strings.Contains(err.Error(), "line 1") {
				t.Errorf("error %v does not name line 1", err)
			}
			continue
		}
		recs++
	}
	if errs != 1 || recs != 1 {
		t.Errorf("%d errors, %d records", errs, recs)
	}
}
