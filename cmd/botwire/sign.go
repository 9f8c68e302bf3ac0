package main

import (
	"fmt"
	"io"
	"os"

	"github.com/botwire/botwire/easydialog"
)

const signHelp = `Usage: botwire sign easydialog --key K [FILE|-]

Prints the X-BM-Signature header value Easy Dialog sends with a body:
base64(HMAC-SHA512(body, key)) over the exact bytes of FILE, or of
standard input without FILE or with -. Only Easy Dialog signs its
webhooks; the other platforms send a shared secret in a header.

Example:
  botwire sign easydialog --key "$EASYDIALOG_SIGNATURE_KEY" request.json

Flags:
`

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("sign", stdout, stderr, signHelp)
	key := fs.String("key", "", "the custom adapter's signature key")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("sign needs a vendor: easydialog (botwire sign --help)")
	}
	if err := checkVendor(pos[0]); err != nil {
		return err
	}
	if pos[0] != "easydialog" {
		return usageErr("only easydialog signs its webhooks; %s sends a shared secret in a header (botwire send %s --help)", pos[0], pos[0])
	}
	if *key == "" {
		return usageErr("sign easydialog needs --key")
	}
	if len(pos) > 2 {
		return usageErr("sign takes at most one FILE")
	}
	var body []byte
	if len(pos) == 1 || pos[1] == "-" {
		body, err = io.ReadAll(io.LimitReader(stdin, 10<<20))
	} else {
		body, err = os.ReadFile(pos[1])
	}
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	fmt.Fprintln(stdout, easydialog.Sign(body, *key))
	return nil
}
