package jsonx

import (
	"encoding/json"
	"reflect"
	"testing"
)

type phpInner struct {
	Zip  string `json:"zip"`
	Kind int    `json:"kind"`
}

type phpOuter struct {
	Contact phpInner          `json:"contact"`
	Ptr     *phpInner         `json:"ptr"`
	List    []phpInner        `json:"list"`
	Raw     json.RawMessage   `json:"raw"`
	Tags    []string          `json:"tags"`
	Meta    map[string]string `json:"meta"`
	ID      NumberOrString    `json:"id"`
	phpEmbedded
}

type phpEmbedded struct {
	Score float64 `json:"score"`
}

func TestPHPShapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"contact":[],"ptr":[],"meta":[],"raw":[],"tags":[],"list":[]}`, `{"contact":{},"ptr":{},"meta":{},"raw":[],"tags":[],"list":[]}`},
		{`{"contact":{"zip":8000,"kind":"3"},"list":[{"zip":-1.5e3},[]]}`, `{"contact":{"zip":"8000","kind":3},"list":[{"zip":"-1.5e3"},{}]}`},
		{`{"CONTACT":{"Zip":1},"score":"2.5","id":7,"other":[],"meta":{"a":1}}`, `{"CONTACT":{"Zip":"1"},"score":2.5,"id":7,"other":[],"meta":{"a":"1"}}`},
		{`{"contact":{"kind":"3x","zip":"s\"q"}, "tags" : [ "a" , "b" ] }`, `{"contact":{"kind":"3x","zip":"s\"q"}, "tags" : [ "a" , "b" ] }`},
		{`{"contact":{"kind":"1.5"}}`, `{"contact":{"kind":"1.5"}}`}, // not an int: left for the decoder to refuse
		// A PHP array whose keys are not 0..n-1 is written as an object:
		// where t has a list, it becomes the list in key order, with the
		// elements rewritten as anywhere else.
		{`{"tags":{"1":"viber"}}`, `{"tags":["viber"]}`},
		{`{"tags" : { "2" : "b" , "0" : "a" , "10" : "c" } }`, `{"tags" : ["a","b","c"] }`},
		{`{"list":{"3":{"zip":1},"1":[]},"tags":["x"]}`, `{"list":[{},{"zip":"1"}],"tags":["x"]}`},
		{`{"tags":{"-1":"a","2":"b"}}`, `{"tags":["a","b"]}`},
		{`{"tags":{"1":"a","1":"b"}}`, `{"tags":["b"]}`}, // a repeated key: the last wins, as in a map
		{`{"tags":{"\u0031":"a"}}`, `{"tags":["a"]}`},
		{`{"tags":{}}`, `{"tags":[]}`},
		{`{"tags":{"a":"x","1":"y"}}`, `{"tags":{"a":"x","1":"y"}}`}, // a string key: not a PHP list
		{`{"tags":{"01":"x"}}`, `{"tags":{"01":"x"}}`},               // "01" is a string key in PHP
		{`{"raw":{"1":2},"meta":{"1":"x"}}`, `{"raw":{"1":2},"meta":{"1":"x"}}`},
	}
	for _, tt := range tests {
		got, changed := PHPShapes([]byte(tt.in), reflect.TypeFor[phpOuter]())
		if string(got) != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("PHPShapes(%s) = %s, %v; want %s", tt.in, got, changed, tt.want)
		}
		if changed {
			var v phpOuter
			if err := json.Unmarshal(got, &v); err != nil {
				t.Errorf("rewritten %s does not decode: %v", got, err)
			}
		}
	}
	// Not JSON: no panic, whatever comes back.
	for _, bad := range []string{``, `{`, `{"contact":`, `{"contact":[`, `"`, `{"zip":"`, `[[[`, `{"a"`,
		`{"tags":{`, `{"tags":{"1"`, `{"tags":{"1":`, `{"tags":{"1":"a",`, `{"tags":{1:2}}`, `{"list":{"1":{"zip":`} {
		PHPShapes([]byte(bad), reflect.TypeFor[phpOuter]())
	}
}

func TestField(t *testing.T) {
	data := []byte(` { "a" : 1, "msg\"x": "}", "message": {"text": {"body": "a } ] \" {"}, "n": [1, {"x": "]"}]} , "z": null } `)
	if got := string(Field(data, "message")); got != `{"text": {"body": "a } ] \" {"}, "n": [1, {"x": "]"}]}` {
		t.Errorf("message = %s", got)
	}
	if got := string(Field(data, "a")); got != "1" {
		t.Errorf("a = %s", got)
	}
	if got := string(Field(data, "z")); got != "null" {
		t.Errorf("z = %s", got)
	}
	if Field(data, "missing") != nil {
		t.Error("missing key found")
	}
	// encoding/json's matching: case-insensitive, escaped, the last wins.
	if got := string(Field([]byte(`{"message":1,"MESSAGE":2}`), "message")); got != "2" {
		t.Errorf("last fold match = %s", got)
	}
	if got := string(Field([]byte(`{"\u006dessage":[3]}`), "message")); got != "[3]" {
		t.Errorf("escaped key = %s", got)
	}
	for _, bad := range []string{``, `[`, `{`, `{"a"`, `{"a":`, `{"a":{`, `{"a":"`} {
		Field([]byte(bad), "a") // no panic
	}
}

func TestElements(t *testing.T) {
	got := Elements([]byte(` [ {"a": "]"} , 2,"x" ,[1,[2]], null ] `))
	want := []string{`{"a": "]"}`, `2`, `"x"`, `[1,[2]]`, `null`}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if len(Elements([]byte(`[]`))) != 0 || Elements([]byte(`{}`)) != nil {
		t.Error("empty or not an array")
	}
	for _, bad := range []string{`[`, `[1,`, `[{`} {
		Elements([]byte(bad))
	}
}
