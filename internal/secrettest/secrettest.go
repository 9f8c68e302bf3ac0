// Package secrettest checks that no formatting verb shows a secret.
package secrettest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Verbs are the formatting verbs Check tries.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// Check fails t when any verb of Verbs, on any of ptrs or on the value it
// points to, prints secret, its hex or base64 form, or the hex of its
// SHA-256. Values are reached by reflection so that a type holding a mutex
// can be checked without a copy the vet tool would flag.
func Check(t testing.TB, secret string, ptrs ...any) {
	t.Helper()
	sum := sha256.Sum256([]byte(secret))
	forbidden := []string{secret, hex.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte(secret)),
		hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:]))}
	for _, p := range ptrs {
		v := reflect.ValueOf(p)
		subjects := []any{p}
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			subjects = append(subjects, v.Elem().Interface())
		}
		for _, s := range subjects {
			for _, verb := range Verbs {
				out := fmt.Sprintf(verb, s)
				for _, f := range forbidden {
					if f != "" && strings.Contains(out, f) {
						t.Errorf("%s of %T shows the secret: %s", verb, s, out)
					}
				}
			}
		}
	}
}
