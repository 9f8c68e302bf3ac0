// Package jsonx holds tolerant JSON types for what vendor documents get
// wrong: identifiers sent as numbers or strings, fields sent as one value or a
// list, and small helpers for keys with aliases.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ID is an identifier a platform sends either as a JSON string or as a JSON
// number. It keeps the literal digits, so a number beyond 2^53 (which a
// float64 would round) survives unchanged. It encodes as a JSON string.
type ID string

// UnmarshalJSON accepts a string, a number, or null (the empty ID).
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("jsonx: empty ID")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
	case string(b) == "null":
		*id = ""
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("jsonx: ID is not a number or a string: %w", err)
		}
		*id = ID(n.String())
	default:
		return fmt.Errorf("jsonx: ID must be a string or a number, got %.20s", b)
	}
	return nil
}

// String returns the identifier's text.
func (id ID) String() string { return string(id) }

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
