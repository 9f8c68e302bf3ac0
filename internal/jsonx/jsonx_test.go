package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

func TestNumberOrStringKeepsDigitsAndForm(t *testing.T) {
	var v struct{ ID NumberOrString }
	require.NoError(t, json.Unmarshal([]byte(`{"ID": 5715661107573693123}`), &v))
	assert.Equal(t, "5715661107573693123", v.ID.String(), "beyond 2^53 the digits must survive")
	assert.True(t, v.ID.IsNumber())
	n, err := v.ID.Int64()
	require.NoError(t, err)
	assert.Equal(t, int64(5715661107573693123), n)
	b, _ := json.Marshal(v)
	assert.Equal(t, `{"ID":5715661107573693123}`, string(b), "a number re-encodes as the same number")

	require.NoError(t, json.Unmarshal([]byte(`{"ID": "abc"}`), &v))
	assert.Equal(t, "abc", v.ID.String())
	assert.False(t, v.ID.IsNumber())
	b, _ = json.Marshal(v)
	golden.JSONEq(t, []byte(`{"ID":"abc"}`), b)

	require.NoError(t, json.Unmarshal([]byte(`{"ID": null}`), &v))
	assert.True(t, v.ID.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`{"ID": true}`), &v))
	assert.Error(t, json.Unmarshal([]byte(`{"ID": {}}`), &v))
	assert.True(t, Int(7).Equal(NumberOrString{text: "7", number: true}))
	assert.False(t, String("7").Equal(Int(7)))
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
