// Package jsonx holds tolerant JSON types for what vendor documents get
// wrong: identifiers sent as numbers or strings, fields sent as one value or a
// list, and small helpers for keys with aliases.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// NumberOrString is a scalar a platform sends either as a JSON string or as
// a JSON number (an identifier, a size). It keeps the literal text, so a
// number beyond 2^53, which a float64 would round, survives unchanged, and it
// remembers the form so that re-encoding reproduces the wire exactly.
type NumberOrString struct {
	text   string
	number bool
}

// String returns a value that encodes as a JSON string.
func String(s string) NumberOrString { return NumberOrString{text: s} }

// Int returns a value that encodes as a JSON number.
func Int(n int64) NumberOrString {
	return NumberOrString{text: strconv.FormatInt(n, 10), number: true}
}

// String returns the literal text: the digits of a number, or the string.
func (v NumberOrString) String() string { return v.text }

// IsNumber reports whether the value came (or goes) as a JSON number.
func (v NumberOrString) IsNumber() bool { return v.number }

// IsZero reports whether the value is empty (absent, null or "").
func (v NumberOrString) IsZero() bool { return v.text == "" }

// Int64 parses the value as an integer, whichever form it came in.
func (v NumberOrString) Int64() (int64, error) { return strconv.ParseInt(v.text, 10, 64) }

// Equal reports whether two values have the same text and form.
func (v NumberOrString) Equal(o NumberOrString) bool { return v == o }

// UnmarshalJSON accepts a string, a number, or null (the zero value).
func (v *NumberOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("jsonx: empty value")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = NumberOrString{text: s}
	case string(b) == "null":
		*v = NumberOrString{}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if !json.Valid(b) {
			return fmt.Errorf("jsonx: invalid number %.40q", b)
		}
		*v = NumberOrString{text: string(b), number: true}
	default:
		return fmt.Errorf("jsonx: want a string or a number, got %.20s", b)
	}
	return nil
}

// MarshalJSON writes the value in the form it came in: digits for a number,
// a JSON string otherwise.
func (v NumberOrString) MarshalJSON() ([]byte, error) {
	if v.number && v.text != "" {
		return []byte(v.text), nil
	}
	return json.Marshal(v.text)
}

// OneOrMany is a list that a platform may send as a single value instead of
// an array. It always encodes as an array.
type OneOrMany[T any] []T

// UnmarshalJSON accepts an array, a single value, or null.
func (m *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []T
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*m = list
		return nil
	}
	if string(b) == "null" {
		*m = nil
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*m = OneOrMany[T]{one}
	return nil
}

// Clone returns a copy of b that does not alias it. Use it to keep bytes
// handed to an UnmarshalJSON method, which encoding/json may reuse.
func Clone(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// IsNull reports whether b is absent or the JSON literal null.
func IsNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// IsNumber reports whether b is a JSON number literal.
func IsNumber(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) && json.Valid(b)
}

// IsTypeError reports whether err is or wraps a *json.UnmarshalTypeError.
// Unlike a *json.UnmarshalTypeError declared for errors.As on every call,
// it allocates nothing when err is nil.
func IsTypeError(err error) bool {
	if err == nil {
		return false
	}
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}
