package easydialog_test

import (
	"context"
	"testing"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/internal/secrettest"
)

// No formatting verb on a value or a pointer of the handler or the fake
// shows the key or a digest of it.
func TestNoVerbShowsTheKey(t *testing.T) {
	const key = "ed-signing-key-51b2c7"
	h, err := easydialog.NewHandler(key, func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	cfg := easydialogtest.Config{SignatureKey: key, Bot: h}
	fake := easydialogtest.NewServer(cfg)
	secrettest.Check(t, key, h, fake, &cfg)
}
