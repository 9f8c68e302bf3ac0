package onetalk

import (
	"reflect"
	"testing"

	"github.com/botwire/botwire/internal/jsonx"
)

// The one-pass decoder's twin must keep every field of InboundRequest.
func TestWireTypesMatch(t *testing.T) {
	if err := jsonx.SameFields(reflect.TypeFor[InboundRequest](), reflect.TypeFor[inboundWire]()); err != nil {
		t.Error(err)
	}
}
