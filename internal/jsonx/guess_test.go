package jsonx

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type guessed struct {
	Name   string
	Lat    float64
	Fields map[string]any
}

func (g *guessed) fields() map[string]any {
	return map[string]any{"name": &g.Name, "latitude": &g.Lat, "custom_fields": &g.Fields}
}

func TestGuessed(t *testing.T) {
	tests := []struct {
		in           string
		want         guessed
		wantMistyped []string
	}{
		{`{"name":"Ada","latitude":52.5,"custom_fields":{"a":1}}`, guessed{"Ada", 52.5, map[string]any{"a": 1.0}}, nil},
		{`{"name":4915112345678,"latitude":"52.5"}`, guessed{Name: "4915112345678", Lat: 52.5}, nil},
		{`{"name":{"first":"Ada"},"latitude":"north","custom_fields":[],"other":[1]}`, guessed{}, []string{"custom_fields", "latitude", "name"}},
		{`{"latitude":"1e400"}`, guessed{}, []string{"latitude"}},                // not a finite float64
		{`{"latitude":"0x1p-2"}`, guessed{}, []string{"latitude"}},               // ParseFloat would take it; JSON does not
		{`{"latitude":" 1"}`, guessed{}, []string{"latitude"}},                   // only a string that is exactly a number
		{`{"LATITUDE":"2","Name":-1.5e3}`, guessed{Name: "-1.5e3", Lat: 2}, nil}, // keys match as encoding/json does
		{`{"name":{},"name":"last"}`, guessed{Name: "last"}, nil},                // the last of a repeated key wins
		{`{"name":"x","latitude":null}`, guessed{Name: "x"}, nil},
		{`null`, guessed{}, nil},
	}
	for _, tt := range tests {
		var g guessed
		mistyped, err := Guessed([]byte(tt.in), g.fields())
		if err != nil {
			t.Errorf("Guessed(%s): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, g); diff != "" {
			t.Errorf("Guessed(%s) (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.wantMistyped, mistyped); diff != "" {
			t.Errorf("Guessed(%s) mistyped (-want +got):\n%s", tt.in, diff)
		}
	}
	// Not an object: the error encoding/json gives, so callers can name the
	// field by its path.
	for _, bad := range []string{`[1]`, `"x"`, `5`, `{"name":`, ``} {
		var g guessed
		if _, err := Guessed([]byte(bad), g.fields()); err == nil {
			t.Errorf("Guessed(%s) succeeded", bad)
		}
	}
	var g guessed
	_, err := Guessed([]byte(`[1]`), g.fields())
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Errorf("Guessed([1]) = %v, want a *json.UnmarshalTypeError", err)
	}
}
