package jsonx

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var readerSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.5e+10`, `1E3`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
	`{"a":1,}`, `[1,]`, `[,1]`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`, `[1}`, `{"a":1]`, `01`, `1.`, `1e`, `-`, `.5`,
	`"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\x"`, `"\u12"`, "\"a\x01\"", "\"\xff\"",
	"\"\xed\xa0\x80\"", `"a\/b\\c\"d\b\f\n\r\t"`, `nul`, `nulll`, `tru`, `{"a":tru}`, `[[[[]]]]`, `[[[]]`, `"abc`,
	`{"a":"b"}x`, "\ufeff{}", `1 2`, strings.Repeat("[", 600) + strings.Repeat("]", 600),
	`"0123456789abcdef0123456789abcdef\"x"`, `"0123456789abcdef0123456789\\"`, `"ÄÖÜ äöü 0123456789 €"`,
}

// skipAll validates data with a Reader: it reports false when the Reader
// failed, and whether the failure was only the depth limit.
func skipAll(data []byte) (ok, deep bool) {
	r := NewReader(data)
	r.Skip()
	return r.End(), strings.Count(string(data), "[")+strings.Count(string(data), "{") >= maxDepth
}

func TestReaderValidatesAsEncodingJSON(t *testing.T) {
	for _, s := range readerSeeds {
		ok, deep := skipAll([]byte(s))
		if deep {
			assert.False(t, ok, "%q: beyond maxDepth the Reader gives up", s)
			continue
		}
		assert.Equal(t, json.Valid([]byte(s)), ok, "%q", s)
	}
}

func TestReaderStringsDecodeAsEncodingJSON(t *testing.T) {
	for _, s := range readerSeeds {
		checkString(t, []byte(s))
	}
}

func checkString(t *testing.T, data []byte) {
	t.Helper()
	var want string
	werr := json.Unmarshal(data, &want)
	r := NewReader(data)
	got := r.String()
	ok := r.End()
	if werr != nil {
		require.False(t, ok, "%q: encoding/json refuses it (%v), the Reader accepted %q", data, werr, got)
		return
	}
	if ok {
		require.Equal(t, want, got, "%q", data)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok, deep := skipAll(data)
		if !deep && ok != json.Valid(data) {
			t.Fatalf("%q: Reader says %v, json.Valid %v", data, ok, json.Valid(data))
		}
		if deep && ok && !json.Valid(data) {
			t.Fatalf("%q: the Reader accepted invalid JSON", data)
		}
		checkString(t, data)
		// A string made of the input's bytes, escapes and all.
		checkString(t, append(append([]byte{'"'}, data...), '"'))
		checkNumbers(t, data)
	})
}

func checkNumbers(t *testing.T, data []byte) {
	t.Helper()
	var wf float64
	ferr := json.Unmarshal(data, &wf)
	r := NewReader(data)
	f := r.Float()
	if r.End() {
		require.NoError(t, ferr, "%q: the Reader read a float encoding/json refuses", data)
		require.Equal(t, wf, f, "%q", data)
	}
	var wi int
	ierr := json.Unmarshal(data, &wi)
	r = NewReader(data)
	i := r.Int()
	if r.End() {
		require.NoError(t, ierr, "%q: the Reader read an int encoding/json refuses", data)
		require.Equal(t, int64(wi), i, "%q", data)
	}
}

func TestReaderNumbers(t *testing.T) {
	for _, s := range []string{`0`, `-1`, `1.5`, `1e3`, `1e400`, `9223372036854775807`, `9223372036854775808`, `null`, `"1"`, `01`} {
		checkNumbers(t, []byte(s))
	}
}

var testFields = NewFields("name", "list", "n")

// decodeTest is what a vendor decoder looks like: a Reader pass over a
// small struct, failing on what it does not decode exactly.
type testDoc struct {
	Name string   `json:"name"`
	List []string `json:"list"`
	N    float64  `json:"n"`
}

func readTestDoc(data []byte) (testDoc, bool) {
	var d testDoc
	r := NewReader(data)
	if !r.Object() {
		return d, false
	}
	var seen uint64
	for r.More() {
		switch r.Field(testFields, &seen) {
		case 0:
			d.Name = r.String()
		case 1:
			if r.Null() {
				break
			}
			if r.Array() {
				d.List = []string{}
				for r.More() {
					d.List = append(d.List, r.String())
				}
			}
		case 2:
			d.N = r.Float()
		}
	}
	return d, r.End()
}

func TestReaderFields(t *testing.T) {
	for _, s := range []string{
		`{"name":"a","list":["x","y"],"n":2,"other":{"name":1}}`,
		`{"list":[]}`, `{"list":null}`, `{"name":null}`,
		`{"Name":"a"}`,            // case-insensitive: encoding/json fills Name, the Reader gives up
		`{"name":"a","name":"b"}`, // twice: the Reader gives up
		`{"n\u0061me":"a"}`,       // escaped key: the Reader gives up
		`{"name":1}`,              // wrong type
		`{"name":"a"`,             // truncated
		`{"nAME2":"a"}`, `{"namex":1}`,
	} {
		var want testDoc
		werr := json.Unmarshal([]byte(s), &want)
		got, ok := readTestDoc([]byte(s))
		if ok {
			require.NoError(t, werr, s)
			assert.Equal(t, want, got, s)
		}
		switch s {
		case `{"Name":"a"}`, `{"name":"a","name":"b"}`, `{"n\u0061me":"a"}`, `{"name":1}`, `{"name":"a"`:
			assert.False(t, ok, "%s: the Reader must give up", s)
		default:
			assert.True(t, ok, "%s: the Reader should read it", s)
		}
	}
}

func FuzzReaderFields(f *testing.F) {
	f.Add([]byte(`{"name":"a","list":["x","y"],"n":2,"other":{"name":1}}`))
	f.Add([]byte(`{"NAME":"a","list":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := readTestDoc(data)
		if !ok {
			return
		}
		var want testDoc
		require.NoError(t, json.Unmarshal(data, &want), "%q", data)
		require.Equal(t, want, got, "%q", data)
	})
}
