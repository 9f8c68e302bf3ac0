package botcopy

import (
	"reflect"
	"testing"

	"github.com/botwire/botwire/internal/jsonx"
)

// The one-pass decoder's twin must keep every field of HandoverRequest.
func TestWireTypesMatch(t *testing.T) {
	if err := jsonx.SameFields(reflect.TypeFor[HandoverRequest](), reflect.TypeFor[requestWire]()); err != nil {
		t.Error(err)
	}
}
