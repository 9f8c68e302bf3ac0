package ultimate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/botwire/botwire/internal/inbound"
)

func TestChatKeyIsBounded(t *testing.T) {
	body := func(id string) []byte { return []byte(`{"data":{"eventType":"sendMessage","messageId":"` + id + `"}}`) }
	long := strings.Repeat("m", 1<<20)
	assert.LessOrEqual(t, len(chatKey(body(long))), inbound.MaxKeyLen)
	assert.NotEqual(t, chatKey(body(long)), chatKey(body(long[1:])))
}
