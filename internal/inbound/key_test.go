package inbound

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"plain ids keep their form", []string{"case", "C1", "message", "m1"}, "case:C1:message:m1"},
		{"a colon is escaped", []string{"case", "A:message:B", "message", "C"}, `case:A\:message\:B:message:C`},
		{"a backslash is escaped", []string{"case", `A\`, "message", "B"}, `case:A\\:message:B`},
		{"empty parts", []string{"case", "", "message", ""}, "case::message:"},
		{"exactly MaxKeyLen", []string{"m", strings.Repeat("y", MaxKeyLen-2)}, "m:" + strings.Repeat("y", MaxKeyLen-2)},
		{"longer is hashed", []string{"m", long}, "sha256:" + sum("m:"+long)},
		{"escapes counted in the bound", []string{"m", strings.Repeat(":", 150)}, "sha256:" + sum("m:"+strings.Repeat(`\:`, 150))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Key(tt.parts...)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxKeyLen)
		})
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Every list of up to three parts of up to three characters from ':', '\'
// and 'a' has a key of its own.
func TestKeysOfDifferentPartsNeverMeet(t *testing.T) {
	var words []string
	var grow func(string)
	grow = func(w string) {
		words = append(words, w)
		if len(w) < 3 {
			for _, c := range []string{":", `\`, "a"} {
				grow(w + c)
			}
		}
	}
	grow("")
	seen := map[string][]string{}
	check := func(parts ...string) {
		k := Key(parts...)
		if prev, ok := seen[k]; ok {
			t.Fatalf("%q and %q both give key %q", prev, parts, k)
		}
		seen[k] = parts
	}
	for _, a := range words {
		check(a)
		for _, b := range words {
			check(a, b)
			for _, c := range words {
				check(a, b, c)
			}
		}
	}
	// Hashed keys differ too, and the same long id gives the same key.
	a, b := strings.Repeat("i", 1<<20), strings.Repeat("i", 1<<20-1)+":"
	assert.NotEqual(t, Key("message", a), Key("message", b))
	assert.Equal(t, Key("message", a), Key("message", strings.Clone(a)))
	assert.NotEqual(t, Key("message", a), Key("message", a[1:], "i"))
}
