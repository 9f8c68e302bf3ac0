package main

import (
	"bytes"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

// TestQuickstart runs the README's main command in-process and pins its
// transcript, so the demo a newcomer runs first cannot silently break.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out.String())
	}
	golden.Text(t, "quickstart/transcript.txt", out.Bytes())
}
