package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

func TestIDKeepsDigits(t *testing.T) {
	var v struct{ ID ID }
	require.NoError(t, json.Unmarshal([]byte(`{"ID": 9007199254740993123}`), &v))
	assert.Equal(t, ID("9007199254740993123"), v.ID, "beyond 2^53 the digits must survive")
	require.NoError(t, json.Unmarshal([]byte(`{"ID": "abc"}`), &v))
	assert.Equal(t, "abc", v.ID.String())
	require.NoError(t, json.Unmarshal([]byte(`{"ID": null}`), &v))
	assert.Empty(t, v.ID)
	assert.Error(t, json.Unmarshal([]byte(`{"ID": true}`), &v))
	assert.Error(t, json.Unmarshal([]byte(`{"ID": {}}`), &v))
	b, _ := json.Marshal(struct{ ID ID }{"12"})
	golden.JSONEq(t, []byte(`{"ID":"12"}`), b)
}

func TestOneOrMany(t *testing.T) {
	var v OneOrMany[struct{ K string }]
	require.NoError(t, json.Unmarshal([]byte(`{"K":"a"}`), &v))
	assert.Len(t, v, 1)
	require.NoError(t, json.Unmarshal([]byte(`[{"K":"a"},{"K":"b"}]`), &v))
	assert.Len(t, v, 2)
	require.NoError(t, json.Unmarshal([]byte(`null`), &v))
	assert.Nil(t, v)
	assert.Error(t, json.Unmarshal([]byte(`"x"`), &v))
}

func TestCloneAndIsNull(t *testing.T) {
	b := []byte(`{"a":1}`)
	c := Clone(b)
	b[0] = 'X'
	assert.Equal(t, `{"a":1}`, string(c))
	assert.Nil(t, Clone(nil))
	assert.True(t, IsNull([]byte(" null ")))
	assert.True(t, IsNull(nil))
	assert.False(t, IsNull([]byte("0")))
}
