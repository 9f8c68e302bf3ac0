package easydialog

import (
	"reflect"
	"testing"

	"github.com/botwire/botwire/internal/jsonx"
)

// The one-pass decoder's twins must keep every field of the public types.
func TestWireTypesMatch(t *testing.T) {
	if err := jsonx.SameFields(reflect.TypeFor[Request](), reflect.TypeFor[requestWire]()); err != nil {
		t.Error(err)
	}
	if err := jsonx.SameFields(reflect.TypeFor[Message](), reflect.TypeFor[messageWire]()); err != nil {
		t.Error(err)
	}
}
