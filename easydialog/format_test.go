package easydialog_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/internal/secrettest"
)

// No formatting verb on a value or a pointer of the handler or the fake
// shows the key, a previous key (WithPreviousKeys) or a digest of them.
func TestNoVerbShowsTheKey(t *testing.T) {
	const key, previous, older = "ed-signing-key-51b2c7", "ed-previous-key-0e93af", "ed-older-key-6d1c55"
	h, err := easydialog.NewHandler(key, func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
		easydialog.WithPreviousKeys(previous, older))
	if err != nil {
		t.Fatal(err)
	}
	cfg := easydialogtest.Config{SignatureKey: key, Bot: h}
	fake := easydialogtest.NewServer(cfg)
	for _, k := range []string{key, previous, older} {
		secrettest.Check(t, k, h, fake, &cfg)
	}
}
