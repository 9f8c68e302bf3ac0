package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Field returns the bytes of the value of key in the JSON object data, as a
// sub-slice of data (no copy), or nil when the object has no such key. It
// matches keys the way encoding/json does (exactly or case-insensitively,
// the last occurrence winning), so the span is the value json.Unmarshal
// decoded into the field tagged key.
//
// data must be valid JSON (one that just decoded): Field does not validate,
// it only skips strings and nesting, which costs a fraction of a decoding
// pass. That is what lets a decoder keep a Raw sub-object without decoding
// it twice or copying it.
func Field(data []byte, key string) []byte {
	var found []byte
	EachField(data, func(k, v []byte) bool {
		if keyMatches(k, key) {
			found = v
		}
		return true
	})
	return found
}

// EachField calls fn with the raw key (its quotes removed, escapes kept)
// and the value's bytes of every member of the JSON object data, in order,
// until fn returns false. Like Field it expects valid JSON and does not
// validate.
func EachField(data []byte, fn func(key, value []byte) bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '"' {
			return
		}
		kStart := i
		i = skipString(data, i)
		if i-1 <= kStart {
			return
		}
		k := data[kStart+1 : i-1]
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ':' {
			return
		}
		i = skipSpace(data, i+1)
		vStart := i
		i = skipValue(data, i)
		if !fn(k, data[vStart:i]) {
			return
		}
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ',' {
			return
		}
		i++
	}
}

func keyMatches(k []byte, key string) bool {
	if bytes.IndexByte(k, '\\') >= 0 {
		var s string
		if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &s) != nil {
			return false
		}
		return strings.EqualFold(s, key)
	}
	return len(k) == len(key) && (string(k) == key || strings.EqualFold(string(k), key))
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at data[i].
// It jumps from quote to quote with bytes.IndexByte (vectorised), and a
// quote ends the string unless an odd run of backslashes escapes it.
func skipString(data []byte, i int) int {
	start := i + 1
	for i = start; i < len(data); {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return len(data)
		}
		q := i + j
		n := 0
		for m := q - 1; m >= start && data[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
	return len(data)
}

// skipValue returns the index after the value that starts at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[i])) {
		i++
	}
	return i
}

// Elements returns the bytes of each element of the JSON array data, as
// sub-slices of data. Like Field it expects valid JSON and does not
// validate.
func Elements(data []byte) [][]byte {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil
	}
	var out [][]byte
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return out
	}
	for i < len(data) {
		start := i
		i = skipValue(data, i)
		if i == start {
			return out
		}
		out = append(out, data[start:i])
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ',' {
			return out
		}
		i = skipSpace(data, i+1)
	}
	return out
}
