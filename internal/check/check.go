// Package check collects validation problems of outbound requests as
// field errors that name the JSON path and the rule broken. Every vendor
// package uses it and exposes FieldError under its own name.
package check

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// FieldError is a request that breaks a documented rule: Field is the JSON
// path ("messages[0].text.body"), Problem says which rule.
type FieldError struct {
	Field   string
	Problem string

	pkg      string // "onetalk", ...: the prefix of Error
	sentinel error  // the vendor's ErrInvalidRequest
}

// Error returns "pkg: field: problem".
func (e *FieldError) Error() string { return e.pkg + ": " + e.Field + ": " + e.Problem }

// Unwrap returns the vendor's ErrInvalidRequest, so errors.Is works.
func (e *FieldError) Unwrap() error { return e.sentinel }

// Collector gathers FieldErrors. The zero value is not usable; use New.
type Collector struct {
	pkg      string
	sentinel error
	errs     []error
}

// New returns a Collector whose errors say pkg and wrap sentinel.
func New(pkg string, sentinel error) *Collector {
	return &Collector{pkg: pkg, sentinel: sentinel}
}

// Add records a problem with field.
func (c *Collector) Add(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...), pkg: c.pkg, sentinel: c.sentinel})
}

// Required records field when value is empty.
func (c *Collector) Required(field, value string) {
	if value == "" {
		c.Add(field, "required")
	}
}

// MaxLen records field when value has more than limit characters (runes,
// which is how the platforms count).
func (c *Collector) MaxLen(field, value string, limit int) {
	if n := utf8.RuneCountInString(value); n > limit {
		c.Add(field, "at most %d characters, got %d", limit, n)
	}
}

// Range records field when v is not a number within [lo, hi].
func (c *Collector) Range(field string, v, lo, hi float64) {
	if math.IsNaN(v) || v < lo || v > hi {
		c.Add(field, "must be between %g and %g, got %g", lo, hi, v)
	}
}

// Err returns the recorded problems joined, or nil.
func (c *Collector) Err() error { return errors.Join(c.errs...) }
