// Package safefmt keeps secrets out of fmt: types that hold a credential
// implement fmt.Formatter with it, so every verb (%v %+v %#v %s %q %x ...),
// on a value or a pointer, prints a description without the secret, and
// neither reflection-based printing of unexported fields nor a digest of the
// secret can leak through.
package safefmt

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Format writes desc for verb: quoted for %q, as it is for every other
// verb. Call it from a Format method with a value receiver, so that both the
// value and a pointer to it use it.
func Format(f fmt.State, verb rune, desc string) {
	if verb == 'q' {
		desc = strconv.Quote(desc)
	}
	_, _ = io.WriteString(f, desc)
}

// Describe renders v, a struct or a pointer to one, as "pkg.Type{Field:
// value, ...}" with its exported fields, printing [REDACTED] for a
// non-empty field named in secret. Fields of func, chan and interface
// kinds are left out.
func Describe(v any, secret ...string) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "<nil>"
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return "[REDACTED]"
	}
	t := rv.Type()
	var b strings.Builder
	b.WriteString(t.String())
	b.WriteByte('{')
	n := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Func, reflect.Chan, reflect.Interface:
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(f.Name)
		b.WriteString(": ")
		fv := rv.Field(i)
		if slices.Contains(secret, f.Name) && !fv.IsZero() {
			b.WriteString("[REDACTED]")
			continue
		}
		if fv.Kind() == reflect.String {
			b.WriteString(strconv.Quote(fv.String()))
			continue
		}
		fmt.Fprint(&b, fv.Interface())
	}
	b.WriteByte('}')
	return b.String()
}
