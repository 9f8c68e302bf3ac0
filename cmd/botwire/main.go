// Command botwire runs the botwire fake platforms from the command line, for
// bots written in any language:
//
//	botwire fake <vendor> --bot URL [flags]     a fake platform talking to your bot
//	botwire send <vendor> <fixture|FILE|-> --to URL [flags]
//	                                            deliver one authenticated webhook
//	botwire send <vendor> --list                the built-in fixtures (doc examples)
//	botwire sign easydialog --key K [FILE|-]    print the X-BM-Signature of a body
//	botwire emulate <vendor> --bot URL [flags]  a local web chat playing the platform
//	botwire version                             the botwire release and Go version
//
// Vendors: onetalk, easydialog, userlike, ultimate, botcopy. Every verb has
// --help with an example. Exit codes: 0 ok, 1 failure (the bot answered
// non-2xx, a file could not be read, the bot could not be reached), 2 usage.
// Secrets are never printed unless --show-secret is given.
//
// The command is a module of its own, released with the library:
//
//	go install github.com/botwire/botwire/cmd/botwire@latest
//	botwire send onetalk inbound_request --to http://localhost:8080/onetalk --secret s3cr3t
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/botwire/botwire/onetalk"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `botwire: test a bot against the botwire fake platforms.

Usage:
  botwire fake <vendor> --bot URL [flags]           run a fake platform that talks to your bot
  botwire send <vendor> <fixture|FILE|-> --to URL   deliver one authenticated webhook
  botwire send <vendor> --list                      list the built-in fixtures (the doc's examples)
  botwire sign easydialog --key K [FILE|-]          print the X-BM-Signature of a body
  botwire emulate <vendor> --bot URL [flags]        a local web chat playing the platform for your bot
  botwire version                                   print the botwire release and the Go version

Vendors: onetalk, easydialog, userlike, ultimate, botcopy.
Run "botwire <verb> --help" for the flags and an example.
Exit codes: 0 ok, 1 failure, 2 usage.
`

// errUsage marks an error that exits 2; its message is printed as is.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// errHelp ends a verb after it printed its help.
var errHelp = errors.New("help")

// run is the whole command, with its streams, so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "fake":
		err = runFake(args[1:], stdin, stdout, stderr)
	case "send":
		err = runSend(args[1:], stdin, stdout, stderr)
	case "sign":
		err = runSign(args[1:], stdin, stdout, stderr)
	case "emulate":
		err = runEmulate(args[1:], stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "botwire %s %s\n", onetalk.Version, runtime.Version())
		return 0
	default:
		err = usageErr("unknown verb %q (want fake, send, sign, emulate or version)", args[0])
	}
	var u errUsage
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "botwire: %s\n", u.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "botwire: %v\n", err)
		return 1
	}
}
