package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/tap"
)

func init() {
	moreVerbs["replay"] = verb{
		usage: "  botwire replay FILE[#n] --to URL [flags]          resend a delivery a tap captured (WithTap)\n" +
			"  botwire replay FILE --list                        list a tap file's deliveries",
		run: runReplay,
	}
}

const replayHelp = `Usage: botwire replay FILE[#n] --to URL [flags]
       botwire replay FILE --list

Resends the n-th delivery (from 1; default: the last) of a tap file, as a
handler's WithTap wrote it, to your bot at URL: the recorded method, headers
and exact body, with the platform's credential replaced by the local one
of the flags (Easy Dialog: re-signed over the body with --secret, the
local signature key). It prints the status, the answer's headers and its
body, like send, and exits 1 when the bot answers non-2xx. --list prints
the file's deliveries, numbered: time, platform, status and a summary.
A record whose body was truncated or left out (tap.WithoutBodies) cannot
be replayed. The recorded query string is added to a URL without one.

Example:
  botwire replay deliveries.jsonl#3 --to http://localhost:8080/onetalk --secret s3cr3t
  botwire replay deliveries.jsonl --to http://localhost:8080/easydialog --secret "$KEY" --now

Flags:
`

func runReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stdout, stderr, replayHelp)
	var a auth
	a.flags(fs)
	to := fs.String("to", "", "the bot's webhook URL")
	list := fs.Bool("list", false, "list the file's deliveries, numbered")
	now := fs.Bool("now", false, "Easy Dialog: set message.timestamp to now before signing (a handler refuses an old delivery)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the bot")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("replay needs one FILE[#n] (botwire replay --help)")
	}
	file, n, err := splitRecordRef(pos[0])
	if err != nil {
		return err
	}
	recs, err := tap.ReadFile(file)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s holds no delivery", file)
	}
	if *list {
		for i, r := range recs {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%d\t%s\n", i+1, r.Time.UTC().Format(time.RFC3339), platformOf(r), r.Status, summary(r))
		}
		return nil
	}
	if n == 0 {
		n = len(recs)
	}
	if n < 1 || n > len(recs) {
		return usageErr("%s holds deliveries 1 to %d, not %d (botwire replay %s --list)", file, len(recs), n, file)
	}
	rec := recs[n-1]
	if *to == "" {
		return usageErr("replay needs --to URL, the bot's webhook")
	}
	vendor := rec.Platform
	if err := checkVendor(vendor); err != nil {
		return fmt.Errorf("delivery %d: %w", n, err)
	}
	if err := a.check(vendor); err != nil {
		return err
	}
	a.addURLs(*to)
	switch {
	case rec.NoBody:
		return fmt.Errorf("delivery %d was recorded without its body (tap.WithoutBodies): it cannot be replayed", n)
	case rec.Truncated:
		return fmt.Errorf("delivery %d's body was truncated (%d of %d bytes recorded; tap.WithMaxBody): it cannot be replayed", n, len(rec.Body), rec.BodySize)
	}
	target, err := replayURL(*to, rec.Query)
	if err != nil {
		return usageErr("--to: %s", a.redact(err.Error()))
	}
	body := rec.Body
	source := fmt.Sprintf("delivery %d of %s, %s", n, file, rec.Time.UTC().Format(time.RFC3339))
	if *now && vendor == "easydialog" {
		body = freshTimestamp(body, time.Now())
		source += ", message.timestamp set to now"
	}
	method := rec.Method
	if method == "" {
		method = http.MethodPost
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return usageErr("--to: %s", a.redact(err.Error()))
	}
	req.Header = replayHeader(rec.Header)
	for k, vs := range a.headers(vendor, body) {
		req.Header[k] = vs
	}
	red := a.redactor(req.Header)
	fmt.Fprintf(stdout, "%s %s (%s, %s, %d bytes)\n", method, a.showURL(target), vendor, source, len(body))
	if rec.MaskedBody {
		fmt.Fprintln(stdout, "  (the body's accessToken was masked by the tap; the local token is sent in Authorization)")
	}
	a.printHeaders(stdout, "> ", req.Header, true, red)
	start := time.Now()
	resp, err := transport.GuardRedirects(nil, transport.HeaderNames(req.Header)...).Do(req)
	if err != nil {
		return fmt.Errorf("the bot at %s could not be reached: %s", a.showURL(target), red.Replace(err.Error()))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return fmt.Errorf("reading the bot's answer: %w", err)
	}
	fmt.Fprintf(stdout, "< %s (%s; recorded: %d in %s)\n", red.Replace(resp.Status), time.Since(start).Round(time.Millisecond),
		rec.Status, rec.Latency.Round(time.Millisecond))
	a.printHeaders(stdout, "< ", resp.Header, false, red)
	if len(answer) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, red.Replace(pretty(answer)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if vendor == "easydialog" && !*now && resp.StatusCode == http.StatusBadRequest {
			return fmt.Errorf("the bot answered %s (a handler refuses an old delivery: add --now)", red.Replace(resp.Status))
		}
		return fmt.Errorf("the bot answered %s", red.Replace(resp.Status))
	}
	return nil
}

// splitRecordRef splits FILE#n; a FILE that exists with its # is taken
// whole. n is 0 for none (the last).
func splitRecordRef(ref string) (string, int, error) {
	i := strings.LastIndexByte(ref, '#')
	if i < 0 {
		return ref, 0, nil
	}
	if _, err := os.Stat(ref); err == nil {
		return ref, 0, nil
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n < 1 {
		return "", 0, usageErr("%q: want FILE#n with n a delivery's number from 1 (botwire replay FILE --list)", ref)
	}
	return ref[:i], n, nil
}

// replayURL is to with query added when to has none.
func replayURL(to, query string) (string, error) {
	u, err := url.Parse(to)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("want an http:// or https:// URL")
	}
	if u.RawQuery == "" && query != "" {
		u.RawQuery = query
	}
	return u.String(), nil
}

// dropped are recorded headers a replay does not send: the connection's,
// the ones the client sets, and the proxy's.
var dropped = map[string]bool{
	"Host": true, "Content-Length": true, "Connection": true, "Transfer-Encoding": true,
	"Accept-Encoding": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Proxy-Connection": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "X-Real-Ip": true, "Forwarded": true,
}

// replayHeader is the recorded header to send again: without the masked
// credentials (the local ones replace them) and the connection's headers.
func replayHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		k = http.CanonicalHeaderKey(k)
		if dropped[k] {
			continue
		}
		for _, v := range vs {
			if strings.HasSuffix(v, tap.Masked) {
				continue
			}
			out[k] = append(out[k], v)
		}
	}
	if out.Get("Content-Type") == "" {
		out.Set("Content-Type", "application/json")
	}
	return out
}

func platformOf(r tap.Record) string {
	s := r.Platform
	if r.Endpoint != "" {
		s += "/" + r.Endpoint
	}
	if r.Tenant != "" {
		s += " (tenant " + r.Tenant + ")"
	}
	return s
}

// summary is a record in one line: its path and the start of its body.
func summary(r tap.Record) string {
	var body string
	switch {
	case r.NoBody:
		body = fmt.Sprintf("(%d bytes, not recorded)", r.BodySize)
	case !utf8.Valid(r.Body):
		body = fmt.Sprintf("(%d bytes, binary)", len(r.Body))
	default:
		var out bytes.Buffer
		if json.Compact(&out, r.Body) == nil {
			body = out.String()
		} else {
			body = strings.Join(strings.Fields(string(r.Body)), " ")
		}
		if rs := []rune(body); len(rs) > 72 {
			body = string(rs[:72]) + "…"
		}
		if r.Truncated {
			body += " (truncated)"
		}
	}
	return fmt.Sprintf("%s %s %s", r.Method, r.Path, body)
}
