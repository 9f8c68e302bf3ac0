package jsonx

import (
	"fmt"
	"reflect"
)

// SameFields reports how wire, a decoding twin of public (the same JSON
// fields with some field types swapped for method-free aliases), differs
// from it: every field of public with a JSON name must be in wire under the
// same name and tag. Fields tagged "-" are skipped. Tests call it so that a
// field added to a public type cannot be lost by the one-pass decoder.
func SameFields(public, wire reflect.Type) error {
	have := map[string]reflect.StructTag{}
	for i := range wire.NumField() {
		f := wire.Field(i)
		have[f.Name] = f.Tag
	}
	for i := range public.NumField() {
		f := public.Field(i)
		if f.Tag.Get("json") == "-" || !f.IsExported() {
			continue
		}
		tag, ok := have[f.Name]
		if !ok {
			return fmt.Errorf("%s has %s, %s does not", public, f.Name, wire)
		}
		if pub, w := reflect.StructTag(f.Tag).Get("json"), tag.Get("json"); pub != w {
			return fmt.Errorf("%s.%s is tagged %q in %s, %q in %s", public, f.Name, pub, public, w, wire)
		}
	}
	return nil
}
