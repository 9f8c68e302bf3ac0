package golden

import (
	"encoding/json"
	"testing"
)

func TestJSONDiff(t *testing.T) {
	if d := JSONDiff([]byte(`{"a":1,"b":[1,2]}`), []byte(`{"b":[1,2],"a":1}`)); d != "" {
		t.Errorf("key order should not matter: %s", d)
	}
	if d := JSONDiff([]byte(`{"a":1}`), []byte(`{"a":2}`)); d == "" {
		t.Error("different values reported equal")
	}
	if d := JSONDiff([]byte(`{"a":9007199254740993}`), []byte(`{"a":9007199254740992}`)); d == "" {
		t.Error("numbers beyond 2^53 must not be rounded together")
	}
	if d := JSONDiff([]byte(`{`), []byte(`{}`)); d == "" {
		t.Error("invalid JSON reported equal")
	}
}

func TestPrune(t *testing.T) {
	got := prune(map[string]any{"a": "", "b": nil, "c": map[string]any{"d": ""}, "e": []any{}, "f": false, "g": "x"})
	want := map[string]any{"f": false, "g": "x"}
	if JSONDiff(mustJSON(want), mustJSON(got)) != "" {
		t.Errorf("prune = %v", got)
	}
}
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
