package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/botwire/botwire/internal/transport"
)

const sendHelp = `Usage: botwire send <vendor> <fixture|FILE|-> --to URL [flags]
       botwire send <vendor> --list

Delivers one webhook to your bot as the platform would, authenticated
(Easy Dialog: signed over the exact bytes), and prints the status, the
answer's headers and its body. The body is a built-in fixture (the vendor
doc's examples, and the events it describes without one built from its
field tables: --list names and describes them), a JSON file, or - for
standard input.
Exits 1 when the bot answers non-2xx or cannot be reached.

--set path=value (repeatable) changes the body before it is sent (and,
for Easy Dialog, before it is signed). The path is keys joined by dots,
with [n] for an array element: message.text.body, buttons[0].title,
data[0].value[0]. The value is JSON when it is valid JSON (42, true,
null, {"a":1}, "007"), else the text as written: quote it as JSON to
send a string that looks like a number ('id="42"'). A missing last key
of an existing object is added; any other missing step, or an index past
the end of an array, is an error (exit 2). The body's other bytes (key
order, spacing) are kept. A key holding "." or "[" cannot be named.

Example:
  botwire send onetalk inbound_request --to http://localhost:8080/onetalk --secret s3cr3t
  botwire send onetalk --list
  botwire send onetalk text --to http://localhost:8080/onetalk --secret s3cr3t \
      --set message.text.body=menu --set caseID=C-42
  botwire send ultimate webhook_sendMessage_buttons --to http://localhost:8080/ultimate \
      --set 'data.buttons[0].text=Yes please' --set 'data.replyId="123"'

Flags:
`

func runSend(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("send", stdout, stderr, sendHelp)
	var a auth
	a.flags(fs)
	to := fs.String("to", "", "the bot's webhook URL")
	list := fs.Bool("list", false, "list the vendor's built-in fixtures, one line each: name and description")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the bot")
	var overrides sets
	fs.Var(&overrides, "set", "change the body before sending: `path=value`, e.g. message.text.body=hi or 'buttons[0].title=Yes' (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("send needs a vendor (botwire send --help)")
	}
	vendor := pos[0]
	if err := checkVendor(vendor); err != nil {
		return err
	}
	changes, err := parseSets(overrides)
	if err != nil {
		return usageErr("%s", a.redact(err.Error()))
	}
	if *list {
		listFixtures(stdout, vendor)
		return nil
	}
	if len(pos) != 2 {
		return usageErr("send %s needs one fixture name, FILE or - (see --list)", vendor)
	}
	if *to == "" {
		return usageErr("send needs --to URL, the bot's webhook")
	}
	if err := a.check(vendor); err != nil {
		return err
	}
	a.addURLs(*to)
	body, source, err := readBody(vendor, pos[1], stdin)
	if err != nil {
		return err
	}
	if vendor == "easydialog" && strings.HasPrefix(source, "fixture ") {
		// The doc's examples were signed in 2022, and a handler refuses a
		// delivery older than its maximum age: send them as of now.
		body = freshTimestamp(body, time.Now())
		source += ", message.timestamp set to now"
	}
	// After the timestamp (a --set may change it too) and before the
	// headers: Easy Dialog's signature is over the final bytes.
	if len(changes) > 0 {
		var note string
		if body, note, err = applySets(body, changes); err != nil {
			return usageErr("%s (in %s)", a.redact(err.Error()), source)
		}
		source += ", " + note
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *to, bytes.NewReader(body))
	if err != nil {
		return usageErr("--to: %s", a.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range a.headers(vendor, body) {
		req.Header[k] = vs
	}
	// The bot may echo a credential anywhere (a debug page listing the
	// request's headers): everything printed goes through red.
	red := a.redactor(req.Header)
	fmt.Fprintf(stdout, "POST %s (%s, %s, %d bytes)\n", a.showURL(*to), vendor, source, len(body))
	a.printHeaders(stdout, "> ", req.Header, true, red)
	start := time.Now()
	// The credential goes to --to and nowhere else, even if the bot
	// redirects.
	resp, err := transport.GuardRedirects(nil, transport.HeaderNames(req.Header)...).Do(req)
	if err != nil {
		return fmt.Errorf("the bot at %s could not be reached: %s", a.showURL(*to), red.Replace(err.Error()))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return fmt.Errorf("reading the bot's answer: %w", err)
	}
	fmt.Fprintf(stdout, "< %s (%s)\n", red.Replace(resp.Status), time.Since(start).Round(time.Millisecond))
	a.printHeaders(stdout, "< ", resp.Header, false, red)
	if len(answer) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, red.Replace(pretty(answer)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the bot answered %s", red.Replace(resp.Status))
	}
	return nil
}

// readBody reads "-" (stdin), a file, or a built-in fixture, and checks it
// is JSON: every platform sends JSON.
func readBody(vendor, name string, stdin io.Reader) ([]byte, string, error) {
	var body []byte
	var source string
	switch {
	case name == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 10<<20))
		if err != nil {
			return nil, "", fmt.Errorf("reading standard input: %w", err)
		}
		body, source = b, "standard input"
	default:
		if b, err := os.ReadFile(name); err == nil {
			body, source = b, "file "+name
		} else if b, ok := fixture(vendor, name); ok {
			body, source = b, "fixture "+name
		} else {
			return nil, "", fmt.Errorf("%s is neither a readable file (%v) nor a %s fixture (botwire send %s --list)", name, err, vendor, vendor)
		}
	}
	if !json.Valid(body) {
		return nil, "", fmt.Errorf("%s is not valid JSON", source)
	}
	return body, source, nil
}

// pretty indents JSON, or returns text that is not JSON as it is.
func pretty(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, bytes.TrimSpace(b), "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

// timestampRE finds an Easy Dialog message.timestamp object.
var timestampRE = regexp.MustCompile(`"timestamp"\s*:\s*\{[^{}]*\}`)

// freshTimestamp returns body with its Easy Dialog timestamp objects set
// to now (UTC), every other byte as it was.
func freshTimestamp(body []byte, now time.Time) []byte {
	ts := fmt.Sprintf(`"timestamp": {"date": %q, "timezone_type": 1, "timezone": "+00:00"}`,
		now.UTC().Format("2006-01-02 15:04:05.000000"))
	return timestampRE.ReplaceAllLiteral(body, []byte(ts))
}
