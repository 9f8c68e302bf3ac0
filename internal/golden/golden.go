// Package golden is a test helper: it compares output with golden files under
// testdata/ and rewrites them when the tests run with -update
// (go test ./... -update). JSON is compared semantically, with a go-cmp diff.
//
// The -update flag is registered by this package, so every package whose
// tests run under "go test ./... -update" must import it (each test binary
// only accepts the flags it defines).
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Root returns the module's testdata directory, found from this source file
// so tests in any package can name fixtures as "onetalk/x.json".
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Path returns the absolute path of name under the testdata directory.
func Path(name string) string { return filepath.Join(Root(), filepath.FromSlash(name)) }

// Read returns the bytes of testdata/name, failing the test if it is missing.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(name))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	return b
}

// Glob lists the testdata files matching pattern (relative to testdata/).
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	matches, err := filepath.Glob(Path(pattern))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		rel, _ := filepath.Rel(Root(), m)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

// JSON compares got with the golden file testdata/name as JSON values. With
// -update it writes got, indented, to the file instead.
func JSON(t testing.TB, name string, got []byte) {
	t.Helper()
	if *update {
		var out bytes.Buffer
		if err := json.Indent(&out, got, "", "  "); err != nil {
			t.Fatalf("golden: output is not JSON: %v\n%s", err, got)
		}
		out.WriteByte('\n')
		p := Path(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	JSONEq(t, Read(t, name), got)
}

// Text compares got byte for byte with testdata/name; with -update it
// writes got to the file instead.
func Text(t testing.TB, name string, got []byte) {
	t.Helper()
	if *update {
		p := Path(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(Read(t, name)), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// JSONEq fails the test with a diff unless want and got hold the same JSON
// value (key order and spacing aside).
func JSONEq(t testing.TB, want, got []byte) {
	t.Helper()
	if diff := JSONDiff(want, got); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

// JSONDiff returns a go-cmp diff between two JSON documents, or "" when they
// are equal. Numbers are compared by their literal text, so 1e3 and 1000
// differ but precision is never lost.
func JSONDiff(want, got []byte) string {
	w, errW := decode(want)
	g, errG := decode(got)
	if errW != nil || errG != nil {
		return "invalid JSON: want: " + errString(errW) + ", got: " + errString(errG) +
			"\nwant: " + string(want) + "\ngot:  " + string(got)
	}
	return cmp.Diff(w, g)
}

// JSONEqIgnoringEmpty is JSONEq after dropping empty strings, nulls, and
// empty objects and arrays on both sides. Vendor examples spell out optional
// fields as "" where an encoder with omitempty leaves them out; both mean
// "not set".
func JSONEqIgnoringEmpty(t testing.TB, want, got []byte) {
	t.Helper()
	w, errW := decode(want)
	g, errG := decode(got)
	if errW != nil || errG != nil {
		t.Fatalf("invalid JSON: want: %s, got: %s", errString(errW), errString(errG))
	}
	if diff := cmp.Diff(prune(w), prune(g)); diff != "" {
		t.Errorf("JSON mismatch ignoring empty values (-want +got):\n%s", diff)
	}
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = prune(e); e != nil {
				out[k] = e
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, prune(e))
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
