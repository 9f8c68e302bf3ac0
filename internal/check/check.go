// Package check collects validation problems of outbound requests as
// field errors that name the JSON path and the rule broken. Every vendor
// package uses it and exposes FieldError under its own name.
//
// The path is kept as a small stack of segments inside the Collector and
// only turned into a string when a problem is recorded, so validating a
// valid request allocates nothing: handlers validate every reply on the
// hot path.
package check

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
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

type segment struct {
	key   string
	index int // -1: no index
}

// Collector gathers FieldErrors under a current path. Make one with New,
// keep it in a local variable, and pass its address down.
type Collector struct {
	pkg      string
	sentinel error
	errs     []error
	segs     [16]segment
	n        int
	overflow int // segments entered beyond the fixed stack (paths that deep are cut)
}

// New returns a Collector whose errors say pkg and wrap sentinel.
func New(pkg string, sentinel error) Collector {
	return Collector{pkg: pkg, sentinel: sentinel}
}

// Enter descends into key ("payload", "whatsappba", ...).
func (c *Collector) Enter(key string) { c.push(segment{key, -1}) }

// EnterIndex descends into element i of the list key ("messages[3]").
func (c *Collector) EnterIndex(key string, i int) { c.push(segment{key, i}) }

// Leave goes back up one level.
func (c *Collector) Leave() {
	switch {
	case c.overflow > 0:
		c.overflow--
	case c.n > 0:
		c.n--
	}
}

func (c *Collector) push(s segment) {
	if c.n == len(c.segs) {
		c.overflow++
		return
	}
	c.segs[c.n] = s
	c.n++
}

// path renders the current path with field appended.
func (c *Collector) path(field string) string {
	var b strings.Builder
	for _, s := range c.segs[:c.n] {
		if b.Len() > 0 && s.key != "" {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	if field != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(field)
	}
	return b.String()
}

// Add records a problem with field (relative to the current path; "" for
// the current element itself).
func (c *Collector) Add(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: c.path(field), Problem: fmt.Sprintf(format, args...), pkg: c.pkg, sentinel: c.sentinel})
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

// NoEmoji records field when value holds an emoji (WhatsApp's flow CTA:
// "no emoji").
func (c *Collector) NoEmoji(field, value string) {
	for _, r := range value {
		if IsEmoji(r) {
			c.Add(field, "must not contain emoji, got %q", r)
			return
		}
	}
}

// IsEmoji reports whether r is an emoji or a part of one (the variation
// selector, the zero-width joiner, the keycap). The standard library has no
// emoji property, so this is the Unicode blocks that hold emoji.
func IsEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF: // mahjong to symbols and pictographs extended-A, flags
		return true
	case r >= 0x2600 && r <= 0x27BF: // miscellaneous symbols, dingbats
		return true
	case r >= 0x2300 && r <= 0x23FF: // ⌚ ⌛ ⏰ ...
		return true
	case r >= 0x2B00 && r <= 0x2BFF: // ⬆ ⭐ ⭕ ...
		return true
	case r == 0xFE0F || r == 0x200D || r == 0x20E3 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299:
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tag sequences of subdivision flags
		return true
	}
	return false
}
