// Command botwire runs the botwire fake platforms from the command line, for
// bots written in any language:
//
//	botwire fake <vendor> --bot URL [flags]     a fake platform talking to your bot
//	botwire send <vendor> <fixture|FILE|-> --to URL [flags]
//	                                            deliver one authenticated webhook
//	botwire send <vendor> --list                the built-in fixtures (doc examples)
//	botwire sign easydialog --key K [FILE|-]    print the X-BM-Signature of a body
//	botwire emulate <vendor> --bot URL [flags]  a local web chat playing the platform
//	botwire doctor <vendor> URL [flags]         check a deployed webhook as the platform would
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
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

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

// verb is a verb registered in moreVerbs by the file that implements it.
type verb struct {
	// usage is its line (or lines) in the command's usage, as the lines of
	// usage are written: "  botwire doctor <vendor> URL   check ...".
	usage string
	run   func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// moreVerbs are the verbs beyond fake, send, sign, emulate and version,
// each registered by its own file's init.
var moreVerbs = map[string]verb{}

// fullUsage is usage with the lines of moreVerbs, in name order, before
// the version line.
func fullUsage() string {
	names := slices.Sorted(maps.Keys(moreVerbs))
	var extra strings.Builder
	for _, n := range names {
		extra.WriteString(strings.TrimRight(moreVerbs[n].usage, "\n") + "\n")
	}
	const at = "  botwire version"
	i := strings.Index(usage, at)
	return usage[:i] + extra.String() + usage[i:]
}

// verbNames lists every verb for an error message.
func verbNames() string {
	names := append([]string{"fake", "send", "sign", "emulate"}, slices.Sorted(maps.Keys(moreVerbs))...)
	return strings.Join(names, ", ") + " or version"
}

// errUsage marks an error that exits 2; its message is printed as is.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// errHelp ends a verb after it printed its help.
var errHelp = errors.New("help")

// run is the whole command, with its streams, so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, fullUsage())
		return 2
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, fullUsage())
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
		v, ok := moreVerbs[args[0]]
		if !ok {
			err = usageErr("unknown verb %q (want %s)", args[0], verbNames())
			break
		}
		err = v.run(args[1:], stdin, stdout, stderr)
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
