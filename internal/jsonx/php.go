package jsonx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// PHPShapes rewrites what PHP's json_encode writes differently from a Go
// struct's JSON so that data decodes into a value of type t:
//
//   - an empty object is written "[]" (json_encode of an empty array):
//     rewritten "{}" where t has a struct or a map;
//   - a number where t has a string (a zip code 8000): quoted;
//   - a numeric string where t has a number ("timezone_type": "3"):
//     unquoted;
//   - an array whose keys are not 0..n-1 (after unset or array_filter) is
//     written as an object with integer keys ({"1": "viber"}): rewritten
//     as the list of its values in key order where t has a slice or an
//     array (["viber"]), and {} as [] (JSON_FORCE_OBJECT writes every
//     array so); an object with any other key is left alone.
//
// It walks data once, following t by the JSON keys encoding/json would
// match (exact, then case-insensitive), and touches nothing else: a "[]"
// for a slice or a json.RawMessage stays an empty array, keys t does not
// have are left alone. Types with their own UnmarshalJSON are walked as
// structs when they have exported fields (their decoding reads the same
// keys); otherwise they are left as they are.
//
// It returns data itself and false when nothing needed a rewrite, so a
// caller can retry a failed decoding only when it would change. data must
// be valid JSON.
func PHPShapes(data []byte, t reflect.Type) ([]byte, bool) {
	w := phpWalker{in: data}
	w.value(t)
	if w.out == nil {
		return data, false
	}
	w.out = append(w.out, data[w.copied:]...)
	return w.out, true
}

type phpWalker struct {
	in     []byte
	pos    int
	out    []byte // nil until the first rewrite
	copied int    // in[:copied] is already in out
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
)

func (w *phpWalker) replace(start, end int, with string) {
	if w.out == nil {
		w.out = make([]byte, 0, len(w.in)+16)
	}
	w.out = append(w.out, w.in[w.copied:start]...)
	w.out = append(w.out, with...)
	w.copied = end
}

func (w *phpWalker) ws() {
	for w.pos < len(w.in) {
		switch w.in[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// deref follows pointers; t may be nil (an unknown key: walk, rewrite nothing).
func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// opaque reports whether t decodes itself in a way the walker cannot follow.
func opaque(t reflect.Type) bool {
	if t == rawMessageType {
		return true
	}
	custom := t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)
	if !custom {
		return false
	}
	if t.Kind() != reflect.Struct {
		return true
	}
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

func (w *phpWalker) value(t reflect.Type) {
	t = deref(t)
	if t != nil && opaque(t) {
		t = nil
	}
	w.ws()
	if w.pos >= len(w.in) {
		return
	}
	start := w.pos
	switch c := w.in[w.pos]; {
	case c == '{' && t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		w.listObject(t.Elem())
	case c == '{':
		w.object(t)
	case c == '[':
		w.pos++
		w.ws()
		if w.pos < len(w.in) && w.in[w.pos] == ']' {
			w.pos++
			if t != nil && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map) {
				w.replace(start, w.pos, "{}")
			}
			return
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for w.pos < len(w.in) {
			w.value(elem)
			w.ws()
			if w.pos < len(w.in) && w.in[w.pos] == ',' {
				w.pos++
				continue
			}
			w.pos++ // ']'
			return
		}
	case c == '"':
		w.str()
		if t != nil && isNumberKind(t.Kind()) {
			if inner := w.in[start+1 : w.pos-1]; isNumeric(inner, t.Kind()) {
				w.replace(start, w.pos, string(inner))
			}
		}
	default: // number, true, false, null
		for w.pos < len(w.in) && !strings.ContainsRune(",]} \t\r\n", rune(w.in[w.pos])) {
			w.pos++
		}
		if t != nil && t.Kind() == reflect.String && (c == '-' || (c >= '0' && c <= '9')) {
			w.replace(start, w.pos, `"`+string(w.in[start:w.pos])+`"`)
		}
	}
}

func isNumberKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

// isNumeric reports whether s, the inside of a JSON string, is a number a
// field of kind k accepts.
func isNumeric(s []byte, k reflect.Kind) bool {
	if len(s) == 0 || !json.Valid(s) || !IsNumber(s) {
		return false
	}
	var err error
	switch {
	case k >= reflect.Int && k <= reflect.Int64:
		_, err = strconv.ParseInt(string(s), 10, 64)
	case k >= reflect.Uint && k <= reflect.Uintptr:
		_, err = strconv.ParseUint(string(s), 10, 64)
	default:
		_, err = strconv.ParseFloat(string(s), 64)
	}
	return err == nil
}

// str moves past a JSON string starting at pos and returns its raw inside.
func (w *phpWalker) str() []byte {
	start := w.pos + 1
	w.pos++
	for w.pos < len(w.in) && w.in[w.pos] != '"' {
		if w.in[w.pos] == '\\' {
			w.pos++
		}
		w.pos++
	}
	w.pos++
	return w.in[start : w.pos-1]
}

func (w *phpWalker) object(t reflect.Type) {
	w.pos++ // '{'
	for {
		w.ws()
		if w.pos >= len(w.in) || w.in[w.pos] == '}' {
			w.pos++
			return
		}
		key := w.str()
		w.ws()
		w.pos++ // ':'
		w.value(fieldType(t, key))
		w.ws()
		if w.pos < len(w.in) && w.in[w.pos] == ',' {
			w.pos++
		}
	}
}

// fieldType is the type encoding/json decodes key into within t, or nil.
func fieldType(t reflect.Type, key []byte) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
	default:
		return nil
	}
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k) != nil {
			return nil
		}
		key = []byte(k)
	}
	var fold reflect.Type
	var walk func(t reflect.Type) reflect.Type
	walk = func(t reflect.Type) reflect.Type {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				if et := deref(f.Type); et.Kind() == reflect.Struct {
					if found := walk(et); found != nil {
						return found
					}
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if name == string(key) {
				return f.Type
			}
			if fold == nil && strings.EqualFold(name, string(key)) {
				fold = f.Type
			}
		}
		return nil
	}
	if found := walk(t); found != nil {
		return found
	}
	return fold
}

// listObject reads the object at pos where t has a list of elem: when
// every key is a PHP integer key, it is replaced with the list of its
// values, each walked as elem, ordered by key (a repeated key: the last
// wins, as for a map).
func (w *phpWalker) listObject(elem reflect.Type) {
	start := w.pos
	values := map[int64][]byte{}
	list := true
	w.pos++ // '{'
	for {
		w.ws()
		if w.pos >= len(w.in) {
			return // truncated: nothing to rewrite
		}
		if w.in[w.pos] == '}' {
			w.pos++
			break
		}
		n, ok := phpIntKey(w.str())
		list = list && ok
		w.ws()
		w.pos++ // ':'
		w.ws()
		v := phpWalker{in: w.in, pos: w.pos, copied: w.pos}
		v.value(elem)
		if v.pos > len(w.in) {
			return
		}
		if v.out == nil {
			values[n] = w.in[w.pos:v.pos]
		} else {
			values[n] = append(v.out, w.in[v.copied:v.pos]...)
		}
		w.pos = v.pos
		w.ws()
		if w.pos < len(w.in) && w.in[w.pos] == ',' {
			w.pos++
		}
	}
	if !list {
		return
	}
	keys := make([]int64, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bytes.TrimSpace(values[k]))
	}
	b.WriteByte(']')
	w.replace(start, w.pos, b.String())
}

// phpIntKey reads raw, the inside of a JSON object key, as PHP does an
// array key: a decimal integer without a sign "+" or leading zeros is an
// integer key ("1", "-1"); anything else ("01", "a") is a string key.
func phpIntKey(raw []byte) (int64, bool) {
	key := string(raw)
	if bytes.IndexByte(raw, '\\') >= 0 {
		if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &key) != nil {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(key, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == key
}
