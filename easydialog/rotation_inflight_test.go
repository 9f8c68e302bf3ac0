package easydialog_test

import (
	"testing"

	"github.com/botwire/botwire/internal/rotationtest"
)

// A rotation with deliveries in flight. Phase 1: the bot runs with the new
// key current and the old one previous while the platform, mid-switch,
// sends deliveries signed with either, interleaved and all at once: none is
// refused. While they are still in their callbacks the bot is redeployed
// with the new key only (the handler behind the server is swapped): from
// then on old-key deliveries get 401 and new-key ones 200, and the ones in
// flight still complete with their reply. Every callback saw the index of
// its key.
func TestRotationWithDeliveriesInFlight(t *testing.T) {
	rotationtest.InFlight(t, rotation())
}
