package jsonx

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Guessed decodes the JSON object data field by field into fields, which
// maps each JSON key to a pointer to its Go field, for types whose shape is
// a guess (a vendor document that lost its tables): a value of another type
// than guessed never fails the object. For each key of data that fields
// names (matched as encoding/json matches, exactly or case-insensitively,
// the last occurrence winning):
//
//   - a number where a string was guessed keeps its literal text
//     ("mobile_number": 4915112345678 is "4915112345678");
//   - a string holding exactly a JSON number where a float64 was guessed is
//     that number ("latitude": "52.5" is 52.5), when it is finite;
//   - any other mismatch leaves the field as it was, and its key is
//     returned in mistyped (sorted).
//
// Keys fields does not name are ignored. The error is encoding/json's for
// data that is not an object (a *json.UnmarshalTypeError for an array, a
// string or a number), so a caller can name it by its path; null decodes
// nothing.
//
// It costs a validation and a decoding per field: decode into the struct
// first, and call Guessed only when that fails with a
// *json.UnmarshalTypeError.
func Guessed(data []byte, fields map[string]any) (mistyped []string, err error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		var m map[string]json.RawMessage
		return nil, json.Unmarshal(data, &m)
	}
	failed := map[string]bool{}
	EachField(t, func(k, v []byte) bool {
		name, dst := guessedField(fields, k)
		if dst != nil {
			failed[name] = !decodeGuess(v, dst)
		}
		return true
	})
	for name, bad := range failed {
		if bad {
			mistyped = append(mistyped, name)
		}
	}
	sort.Strings(mistyped)
	return mistyped, nil
}

// guessedField returns the key of fields the raw key k decodes into, and
// its pointer, or "" and nil.
func guessedField(fields map[string]any, k []byte) (string, any) {
	key := string(k)
	if bytes.IndexByte(k, '\\') >= 0 {
		if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &key) != nil {
			return "", nil
		}
	}
	if dst, ok := fields[key]; ok {
		return key, dst
	}
	for name, dst := range fields {
		if strings.EqualFold(name, key) {
			return name, dst
		}
	}
	return "", nil
}

// decodeGuess decodes raw into dst with the conversions of Guessed and
// reports whether it fit. dst changes only when it did.
func decodeGuess(raw []byte, dst any) bool {
	switch p := dst.(type) {
	case *string:
		if IsNumber(raw) {
			*p = string(bytes.TrimSpace(raw))
			return true
		}
	case *float64:
		if f, ok := quotedFloat(raw); ok {
			*p = f
			return true
		}
	}
	v := reflect.New(reflect.TypeOf(dst).Elem())
	if json.Unmarshal(raw, v.Interface()) != nil {
		return false
	}
	reflect.ValueOf(dst).Elem().Set(v.Elem())
	return true
}

// quotedFloat reads a JSON string holding exactly a finite JSON number.
func quotedFloat(raw []byte) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return 0, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || !IsNumber([]byte(s)) || strings.TrimSpace(s) != s {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
