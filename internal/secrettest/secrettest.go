// Package secrettest checks that no formatting verb shows a secret.
package secrettest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// Verbs are the formatting verbs Check tries.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// Check fails t when any verb of Verbs, on any of ptrs or on the value it
// points to, prints secret, its hex or base64 form, or the hex of its
// SHA-256.
//
// The value form is skipped for a type that holds a lock by value (a fake
// server): copying it to print it is what vet's copylocks check refuses,
// and printing it by reflection would read state its goroutines change.
func Check(t testing.TB, secret string, ptrs ...any) {
	t.Helper()
	sum := sha256.Sum256([]byte(secret))
	forbidden := []string{secret, hex.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte(secret)),
		hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:]))}
	for _, p := range ptrs {
		v := reflect.ValueOf(p)
		subjects := []any{p}
		if v.Kind() == reflect.Pointer && !v.IsNil() && !holdsLock(v.Elem().Type(), 0) {
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

var lockerType = reflect.TypeFor[sync.Locker]()

// holdsLock reports whether t has a sync.Locker among its fields by value.
func holdsLock(t reflect.Type, depth int) bool {
	if t.Kind() != reflect.Struct || depth > 8 {
		return false
	}
	if reflect.PointerTo(t).Implements(lockerType) {
		return true
	}
	for i := range t.NumField() {
		if holdsLock(t.Field(i).Type, depth+1) {
			return true
		}
	}
	return false
}
