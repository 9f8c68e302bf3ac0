package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/userlike"
)

func init() {
	moreVerbs["doctor"] = verb{
		usage: "  botwire doctor <vendor> URL [flags]             check a deployed webhook as the platform would",
		run:   runDoctor,
	}
}

const doctorHelp = `Usage: botwire doctor <vendor> URL [flags]

Checks a deployed webhook for what the platform relies on, and prints a
checklist (ok, warn, FAIL) with the fix for each failure:

  tls               https only: TLS 1.2 or later, a certificate for the
                    host, from a trusted chain, not expiring within 14 days
  method            GET answers 405 with Allow: POST
  no credential     a delivery without the credential answers 401
  wrong credential  a delivery with a wrong credential answers 401
  delivery          the doc fixture with the credential answers 2xx within
                    the platform's budget (Botcopy: 5 s; others: warn over
                    2 s); a 401 here as to a wrong credential means a proxy
                    dropped or rewrote the credential header
  body limit        a 2 MiB body answers 413
  reply             the answer is what the platform reads (Easy Dialog: a
                    valid response; Botcopy: a handover decision; Userlike:
                    the triggered events; OneTalk, Ultimate: the status only)

The delivery and the oversized body reach the bot's code like real ones
(the doc's example conversation): point it at a bot that can take a test
conversation. Userlike and Ultimate without --header/--secret are checked
as bots WithoutAuthentication. Credentials are masked in the output
unless --show-secret. Exits 0 when nothing failed (warnings allowed), 1
when a check failed or the bot cannot be reached, 2 for a usage error.

Example:
  botwire doctor userlike https://bot.example.com/userlike --header API-SECURITY-TOKEN --secret "$TOKEN"
  botwire doctor botcopy https://bot.example.com/botcopy --secret "$BOTCOPY_TOKEN" --json

Flags:
`

var (
	// botcopyBudget is Botcopy's answer budget: a decision later than
	// this is ignored. A variable so tests can shorten it.
	botcopyBudget = 5 * time.Second
	// slowAnswer is the latency over which the other platforms' delivery
	// is a warning: they document no budget, but queue behind a slow bot.
	slowAnswer = 2 * time.Second
	// doctorRootCAs, when set, replaces the system's roots (tests trust
	// httptest's certificate with it).
	doctorRootCAs *x509.CertPool
	// now is the clock of the certificate checks.
	doctorNow = time.Now
)

// oversize is the size of the body that must be refused: twice the
// library's default limit.
const oversize = 2 << 20

// defaultFixtures is the fixture delivered per vendor without --fixture:
// the doc's message, answered by every bot.
var defaultFixtures = map[string]string{
	"onetalk":    "inbound_request",
	"easydialog": "request_example",
	"userlike":   "inbound_message_aliz-ai_hello",
	"ultimate":   "webhook_sendMessage_text",
	"botcopy":    "webhook_step_two",
}

// Check statuses, as --json writes them.
const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "fail"
	statusSkip = "skip"
)

// doctorCheck is one line of the checklist.
type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"` // empty when the check did not fail or warn
}

// doctorResult is what --json prints.
type doctorResult struct {
	Vendor string        `json:"vendor"`
	URL    string        `json:"url"`
	Checks []doctorCheck `json:"checks"`
}

// doctor runs the checks of one webhook.
type doctor struct {
	vendor   string
	target   string // where the requests go
	shown    string // the URL as printed: its password masked
	a        auth
	fixture  string
	body     []byte
	timeout  time.Duration
	client   *http.Client
	checks   []doctorCheck
	sent     http.Header // every credential header value sent, for the redactor
	authLess bool        // Userlike/Ultimate without credential flags
}

func runDoctor(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", stdout, stderr, doctorHelp)
	d := &doctor{sent: http.Header{}}
	d.a.flags(fs)
	fs.DurationVar(&d.timeout, "timeout", 10*time.Second, "how long to wait for each answer")
	asJSON := fs.Bool("json", false, `print the result as JSON: {"vendor", "url", "checks": [{"name", "status", "detail", "fix"}]}`)
	fix := fs.String("fixture", "", "the built-in fixture (botwire send <vendor> --list) or JSON file to deliver\n(default: the doc's message of the vendor)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("doctor needs a vendor and the webhook's URL (botwire doctor --help)")
	}
	d.vendor, d.target = pos[0], pos[1]
	if err := checkVendor(d.vendor); err != nil {
		return err
	}
	if err := d.a.check(d.vendor); err != nil {
		return err
	}
	d.a.addURLs(d.target)
	u, err := url.Parse(d.target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("doctor wants an http:// or https:// URL, not %q", d.a.showURL(d.target))
	}
	if d.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	d.shown = d.a.showURL(d.target)
	if u.User != nil {
		// The HTTP client would send a URL's user and password as basic
		// auth with every request, the credential-less ones too: for
		// Ultimate they are the webhook's basic auth (its doc puts them
		// in the URL), sent only where a credential belongs.
		if p, ok := u.User.Password(); ok && d.vendor == "ultimate" && d.a.user == "" {
			d.a.user, d.a.pass = u.User.Username(), p
			u.User = nil
			d.target = u.String()
		}
	}
	d.fixture = *fix
	if d.fixture == "" {
		d.fixture = defaultFixtures[d.vendor]
	}
	body, source, err := readBody(d.vendor, d.fixture, stdin)
	if err != nil {
		return err
	}
	if d.vendor == "easydialog" && strings.HasPrefix(source, "fixture ") {
		body = freshTimestamp(body, time.Now())
	}
	d.body = body
	d.authLess = (d.vendor == "userlike" || d.vendor == "ultimate") && d.a.secret == "" && d.a.user == ""

	// A redirect is reported, not followed: a platform configured with
	// this URL posts to it, and may not follow a redirect of a POST.
	d.client = &http.Client{
		Transport: &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{RootCAs: doctorRootCAs},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer d.client.CloseIdleConnections()
	d.run(u)

	red := d.a.redactor(d.sent)
	for i := range d.checks {
		c := &d.checks[i]
		c.Detail, c.Fix = red.Replace(c.Detail), red.Replace(c.Fix)
	}
	failed := 0
	for _, c := range d.checks {
		if c.Status == statusFail {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doctorResult{Vendor: d.vendor, URL: d.shown, Checks: d.checks}); err != nil {
			return err
		}
	} else {
		d.print(stdout)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed: see each check's fix", failed, len(d.checks))
	}
	return nil
}

func (d *doctor) add(name, status, detail, fix string) {
	d.checks = append(d.checks, doctorCheck{Name: name, Status: status, Detail: detail, Fix: fix})
}

// print writes the checklist and its summary.
func (d *doctor) print(w io.Writer) {
	fmt.Fprintf(w, "botwire doctor %s %s (fixture %s)\n", d.vendor, d.shown, d.fixture)
	counts := map[string]int{}
	for _, c := range d.checks {
		counts[c.Status]++
		label := map[string]string{statusOK: "ok", statusWarn: "warn", statusFail: "FAIL", statusSkip: "skip"}[c.Status]
		fmt.Fprintf(w, "  %-4s  %-16s  %s\n", label, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(w, "  %-4s  %-16s  fix: %s\n", "", "", c.Fix)
		}
	}
	var parts []string
	for _, s := range []struct{ status, label string }{{statusFail, "FAIL"}, {statusWarn, "warn"}, {statusOK, "ok"}, {statusSkip, "skipped"}} {
		if n := counts[s.status]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s.label))
		}
	}
	verdict := "healthy"
	if counts[statusFail] > 0 {
		verdict = "not ready: fix the FAIL lines"
	} else if counts[statusWarn] > 0 {
		verdict = "works, with warnings"
	}
	fmt.Fprintf(w, "summary: %s (%s)\n", strings.Join(parts, ", "), verdict)
}

// answer is what the bot answered to one request.
type answer struct {
	status  int
	text    string // "401 Unauthorized"
	header  http.Header
	body    []byte
	latency time.Duration
	err     error
	timeout bool
}

// do sends one request with the given credential headers (nil: none).
func (d *doctor) do(method string, body []byte, creds http.Header) answer {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.target, rd)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "botwire-doctor/"+onetalk.Version)
	for k, vs := range creds {
		req.Header[k] = vs
		if d.a.isCredential(k) {
			d.sent[k] = append(d.sent[k], vs...)
		}
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return answer{err: err, latency: time.Since(start), timeout: errors.Is(err, context.DeadlineExceeded) || isTimeout(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a := answer{status: resp.StatusCode, text: resp.Status, header: resp.Header, body: b, latency: time.Since(start)}
	if err != nil {
		a.err = fmt.Errorf("reading the answer: %w", err)
		a.timeout = errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// wrongHeaders are the credential headers of body with every credential
// replaced by a wrong one of the same kind.
func (d *doctor) wrongHeaders(body []byte) http.Header {
	w := d.a
	w.showSecret = false
	w.secret = "botwire-doctor-wrong-" + fmt.Sprint(len(d.a.secret))
	if w.pass != "" {
		w.pass = "botwire-doctor-wrong"
	}
	if name, _, ok := strings.Cut(w.custom, ":"); ok {
		w.custom = name + ": botwire-doctor-wrong"
	}
	if d.vendor == "userlike" || d.vendor == "ultimate" {
		if d.a.header == "" {
			w.secret = ""
		}
	}
	return w.headers(d.vendor, body)
}

// credentialName is how the output names the credential.
func (d *doctor) credentialName() string {
	switch d.vendor {
	case "onetalk":
		return onetalk.SecretHeader
	case "easydialog":
		return easydialog.SignatureHeader
	case "botcopy":
		if name, _, ok := strings.Cut(d.a.custom, ":"); ok {
			return "Authorization and " + strings.TrimSpace(name)
		}
		return "Authorization"
	}
	var names []string
	if d.a.header != "" {
		names = append(names, d.a.header)
	}
	if d.a.user != "" {
		names = append(names, "basic auth")
	}
	return strings.Join(names, " and ")
}

// run runs every check in order, stopping when the bot cannot be reached.
func (d *doctor) run(u *url.URL) {
	switch {
	case u.Scheme == "https" && !d.checkTLS(u):
		if d.checks[len(d.checks)-1].Name != "reachable" {
			d.skipRest("not run: the TLS check failed, so the platform cannot deliver, and the credential is not sent over an unverified connection",
				"not run: the TLS check failed")
		}
		return
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		d.add("tls", statusWarn, "plain http: the platform's credential and the conversation cross the network unencrypted",
			"serve the webhook over https with a certificate from a public CA, and give the platform the https URL")
	}
	if !d.checkMethod() {
		return
	}
	noCred, wrongCred := d.checkCredentials()
	deliveryAnswer, delivered := d.checkDelivery(noCred, wrongCred)
	d.checkBodyLimit()
	if delivered {
		d.checkReply(deliveryAnswer)
	} else {
		d.add("reply", statusSkip, "no 2xx answer to the delivery to check", "")
	}
}

// isLoopback reports whether host is this machine: a local bot needs no
// TLS.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var restNames = []string{"method", "no credential", "wrong credential", "delivery", "body limit", "reply"}

// skipRest records the checks that did not run: the first with why, the
// others with short, a shorter reminder.
func (d *doctor) skipRest(why, short string) {
	for i, n := range restNames {
		if i > 0 {
			why = short
		}
		d.add(n, statusSkip, why, "")
	}
}

// checkTLS connects as the platform would: verifying the chain and the
// host name; it reports whether the connection can be trusted.
func (d *doctor) checkTLS(u *url.URL) bool {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(host, port)
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: d.timeout}, Config: &tls.Config{
		RootCAs:    doctorRootCAs,
		ServerName: host,
		MinVersion: tls.VersionTLS10, // to see an old one, and warn
	}}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		var (
			hostErr    x509.HostnameError
			authErr    x509.UnknownAuthorityError
			invalidErr x509.CertificateInvalidError
			opErr      *net.OpError
		)
		switch {
		case errors.As(err, &hostErr):
			d.add("tls", statusFail, "the certificate is not for "+host+": "+err.Error(),
				"serve a certificate whose names include "+host+" (or call the bot by a name the certificate has)")
		case errors.As(err, &authErr):
			d.add("tls", statusFail, "the certificate chain is not trusted: "+err.Error(),
				"serve the full chain (certificate and intermediates) from a public CA; platforms trust no self-signed or private CA")
		case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
			d.add("tls", statusFail, "the certificate has expired: "+err.Error(), "renew the certificate, and automate its renewal (ACME)")
		case errors.As(err, &invalidErr):
			d.add("tls", statusFail, "the certificate is not valid: "+err.Error(), "serve a certificate a public CA issued for "+host)
		case errors.As(err, &opErr) && opErr.Op == "dial":
			d.add("reachable", statusFail, "the bot at "+addr+" cannot be reached: "+err.Error(),
				"check the URL, that the bot runs, and that a firewall lets the platform in")
		default:
			d.add("tls", statusFail, "the TLS handshake with "+addr+" failed: "+err.Error(),
				"check the TLS setup of "+addr+" (certificate, protocol versions, cipher suites)")
		}
		return false
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	leaf := state.PeerCertificates[0]
	left := leaf.NotAfter.Sub(doctorNow())
	detail := fmt.Sprintf("%s, certificate for %s valid until %s (%d days), chain verified",
		tls.VersionName(state.Version), host, leaf.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))
	switch {
	case state.Version < tls.VersionTLS12:
		d.add("tls", statusWarn, detail+": TLS older than 1.2", "enable TLS 1.2 and 1.3 on the server; platforms drop older versions")
	case left < 14*24*time.Hour:
		d.add("tls", statusWarn, detail+": expires soon", "renew the certificate before it expires, and automate its renewal (ACME)")
	default:
		d.add("tls", statusOK, detail, "")
	}
	return true
}

// unreachable records a request that got no answer at all; it reports
// whether that was so.
func (d *doctor) unreachable(a answer) bool {
	if a.err == nil || a.status != 0 || a.timeout {
		return false
	}
	d.add("reachable", statusFail, "the bot at "+d.shown+" cannot be reached: "+a.err.Error(),
		"check the URL, that the bot runs, and that a firewall lets the platform in")
	return true
}

// checkMethod sends a GET; it reports whether the bot could be reached.
func (d *doctor) checkMethod() bool {
	a := d.do(http.MethodGet, nil, nil)
	if d.unreachable(a) {
		return false
	}
	const fix = "answer 405 with Allow: POST to any method but POST (the library's handlers do)"
	switch {
	case a.err != nil:
		d.add("method", statusFail, "GET got no answer: "+a.err.Error(), "answer every request, 405 to a GET")
	case a.status == http.StatusMethodNotAllowed && strings.Contains(strings.ToUpper(strings.Join(a.header.Values("Allow"), ",")), "POST"):
		d.add("method", statusOK, "GET answered 405 with Allow: "+strings.Join(a.header.Values("Allow"), ", "), "")
	case a.status == http.StatusMethodNotAllowed:
		d.add("method", statusWarn, "GET answered 405 without Allow: POST", "add the header Allow: POST to the 405 answer")
	case a.status >= 200 && a.status < 300:
		d.add("method", statusFail, "GET answered "+a.text+": the webhook takes any method", fix)
	default:
		d.add("method", statusWarn, "GET answered "+a.text+", not 405", fix)
	}
	return true
}

// credential outcomes of checkCredentials.
const (
	credRefused  = "refused"  // 401 or 403
	credAccepted = "accepted" // 2xx
	credOther    = "other"
	credSkipped  = "skipped"
)

// checkCredentials posts the fixture without and with a wrong credential.
func (d *doctor) checkCredentials() (noCred, wrongCred string) {
	if d.authLess {
		note := "no --header/--secret (or --user/--password) given: the bot is taken to be WithoutAuthentication, and anyone who knows its URL can post to it"
		fix := ""
		d.add("no credential", statusSkip, note, fix)
		d.add("wrong credential", statusSkip, note, fix)
		return credSkipped, credSkipped
	}
	what := d.credentialName()
	noCred = d.credentialCheck("no credential", "without the credential ("+what+")", d.do(http.MethodPost, d.body, nil))
	wrongCred = d.credentialCheck("wrong credential", "with a wrong credential ("+what+")", d.do(http.MethodPost, d.body, d.wrongHeaders(d.body)))
	return noCred, wrongCred
}

func (d *doctor) credentialCheck(name, what string, a answer) string {
	fix := "check the credential before anything else: build the handler with the platform's credential (" + d.handlerHint() + ")"
	switch {
	case a.err != nil:
		d.add(name, statusFail, "a delivery "+what+" got no answer: "+a.err.Error(), "answer 401 at once to a delivery without the right credential")
		return credOther
	case isRedirect(a):
		d.add(name, statusFail, "a delivery "+what+" answered "+a.text+redirectTo(a), redirectFix)
		return credOther
	case a.status == http.StatusUnauthorized:
		d.add(name, statusOK, "a delivery "+what+" answered "+a.text, "")
		return credRefused
	case a.status == http.StatusForbidden:
		d.add(name, statusWarn, "a delivery "+what+" answered "+a.text+", not 401", "answer 401 Unauthorized to a missing or wrong credential")
		return credRefused
	case a.status >= 200 && a.status < 300:
		d.add(name, statusFail, "a delivery "+what+" answered "+a.text+": anyone who knows the URL can post to the bot", fix)
		return credAccepted
	default:
		d.add(name, statusFail, "a delivery "+what+" answered "+a.text+", not 401: the bot may process unauthenticated deliveries", fix)
		return credOther
	}
}

func (d *doctor) handlerHint() string {
	switch d.vendor {
	case "onetalk":
		return "onetalk.NewHandler(secret, ...)"
	case "easydialog":
		return "easydialog.NewHandler(signatureKey, ...)"
	case "userlike":
		return "userlike.WithWebhookHeader(name, value)"
	case "ultimate":
		return "ultimate.WithWebhookHeader or WithBasicAuth"
	}
	return "botcopy.NewHandler(accessToken, ...)"
}

// checkDelivery posts the fixture with the credential; it returns the
// answer and whether it was 2xx.
func (d *doctor) checkDelivery(noCred, wrongCred string) (answer, bool) {
	a := d.do(http.MethodPost, d.body, d.a.headers(d.vendor, d.body))
	lat := latency(a.latency)
	switch {
	case a.timeout:
		fix := "answer within seconds; do slow work after answering"
		if d.vendor == "botcopy" {
			fix = "answer within 5 s; do slow work after answering"
		}
		d.add("delivery", statusFail, fmt.Sprintf("the %s fixture got no answer within %s", d.fixture, d.timeout), fix)
		return a, false
	case a.err != nil:
		d.add("delivery", statusFail, "the "+d.fixture+" fixture got no answer: "+a.err.Error(), "see the bot's log: it closed the connection without answering")
		return a, false
	case isRedirect(a):
		d.add("delivery", statusFail, "the "+d.fixture+" fixture answered "+a.text+redirectTo(a), redirectFix)
		return a, false
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		if d.authLess {
			flags := "--header and --secret"
			if d.vendor == "ultimate" {
				flags += " (or --user and --password)"
			}
			d.add("delivery", statusFail, "the delivery without a credential answered "+a.text+": the bot requires one", "give the doctor the bot's credential: "+flags)
		} else if wrongCred == credRefused || noCred == credRefused {
			d.add("delivery", statusFail, fmt.Sprintf("the credential did not reach the bot: the right one got %s, as a wrong one does", a.text), d.lostCredentialFix())
		} else {
			d.add("delivery", statusFail, "the delivery with the credential answered "+a.text, "check that the doctor's credential flags are the bot's credential")
		}
		return a, false
	case a.status < 200 || a.status > 299:
		fix := "see the bot's log: the doc's example must be answered 2xx"
		if a.status >= 500 {
			fix = "see the bot's log: it failed on the doc's example"
		} else if d.vendor == "easydialog" && a.status == http.StatusBadRequest {
			fix = "see the bot's log; a handler refuses a delivery whose message.timestamp is older than its maximum age: check the server's clock (a --fixture FILE is sent as it is)"
		}
		d.add("delivery", statusFail, fmt.Sprintf("the %s fixture answered %s in %s%s", d.fixture, a.text, lat, bodyHint(a.body)), fix)
		return a, false
	}
	detail := fmt.Sprintf("the %s fixture answered %s in %s", d.fixture, a.text, lat)
	switch {
	case d.vendor == "botcopy" && a.latency > botcopyBudget:
		d.add("delivery", statusFail, fmt.Sprintf("%s, past Botcopy's %s: the decision is ignored", detail, botcopyBudget), "answer within 5 s; do slow work after answering")
	case d.vendor != "botcopy" && a.latency > slowAnswer:
		d.add("delivery", statusWarn, fmt.Sprintf("%s, over %s: the platform's next delivery waits", detail, slowAnswer), d.slowFix())
	default:
		d.add("delivery", statusOK, detail, "")
	}
	return a, true
}

// slowFix says how to answer sooner.
func (d *doctor) slowFix() string {
	if d.vendor == "onetalk" {
		return "answer at once and do slow work after answering (onetalk.WithAsync or WithQueue)"
	}
	return "answer at once and do slow work after answering (on a goroutine or a queue)"
}

// latency formats a round trip: milliseconds, or microseconds under one.
func latency(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// lostCredentialFix says why a credential may not reach the bot.
func (d *doctor) lostCredentialFix() string {
	proxy := "a proxy in front of the bot may drop or rewrite the credential (" + d.credentialName() + "); check that the doctor's flags hold the bot's credential"
	switch d.vendor {
	case "userlike", "ultimate":
		if strings.Contains(d.a.header, "_") {
			return "nginx drops header names with \"_\" like " + d.a.header + " by default: set underscores_in_headers on; in its server block, or rename the header (e.g. " +
				strings.ReplaceAll(d.a.header, "_", "-") + ") in the platform and the bot"
		}
	case "easydialog":
		return "a proxy that drops the signature header or changes the body's bytes (re-encoding, compression) breaks the signature over the exact body; check --secret is the adapter's signature key"
	case "botcopy":
		return "a proxy or an auth layer in front of the bot may consume or rewrite the Authorization header; check --secret is the bot's access token"
	}
	return proxy
}

// redirectFix is the fix of a webhook URL that redirects.
const redirectFix = "give the platform the URL the redirect points to: it posts to the configured URL, and may not follow a redirect"

func isRedirect(a answer) bool { return a.err == nil && a.status >= 300 && a.status < 400 }

// redirectTo says where a redirect points.
func redirectTo(a answer) string {
	if loc := a.header.Get("Location"); loc != "" {
		return ", a redirect to " + loc
	}
	return ", a redirect"
}

// bodyHint is the start of an answer's body, for a failure's detail.
func bodyHint(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return ": " + s
}

// bigBody is the fixture with a padding field making it oversize bytes of
// valid JSON of the vendor's shape.
func (d *doctor) bigBody() []byte {
	body := bytes.TrimSpace(d.body)
	inner := body
	if len(body) > 0 && body[0] == '[' { // a list of events: pad the first
		inner = bytes.TrimSpace(body[1:])
	}
	if len(inner) == 0 || inner[0] != '{' {
		return []byte(`{"botwireDoctorPadding":"` + strings.Repeat("x", oversize) + `"}`)
	}
	prefix := body[:len(body)-len(inner)]
	rest := bytes.TrimSpace(inner[1:])
	sep := ","
	if len(rest) > 0 && rest[0] == '}' {
		sep = ""
	}
	pad := oversize - len(body)
	if pad < 0 {
		pad = 0
	}
	var b bytes.Buffer
	b.Grow(oversize + 64)
	b.Write(prefix)
	b.WriteString(`{"botwireDoctorPadding":"`)
	b.WriteString(strings.Repeat("x", pad))
	b.WriteString(`"` + sep)
	b.Write(rest)
	return b.Bytes()
}

// checkBodyLimit posts a 2 MiB body with the credential.
func (d *doctor) checkBodyLimit() {
	big := d.bigBody()
	a := d.do(http.MethodPost, big, d.a.headers(d.vendor, big))
	size := fmt.Sprintf("a %d MiB body", len(big)>>20)
	const fix = "limit the body the bot reads (the library's handlers: WithMaxBodyBytes, default 1 MiB) and answer 413"
	switch {
	case a.status == http.StatusRequestEntityTooLarge:
		d.add("body limit", statusOK, size+" answered "+a.text, "")
	case a.err != nil && a.status == 0 && !a.timeout:
		d.add("body limit", statusWarn, size+" got no answer ("+a.err.Error()+"): the bot or a proxy closed the connection", "answer 413 before closing, so the platform sees why")
	case a.err != nil:
		d.add("body limit", statusFail, size+" got no answer within "+d.timeout.String()+": the bot may read any body", fix)
	case a.status >= 200 && a.status < 300:
		d.add("body limit", statusFail, size+" answered "+a.text+": the bot reads any body, a memory risk", fix)
	case a.status == http.StatusUnauthorized && d.vendor == "easydialog":
		d.add("body limit", statusWarn, size+" answered "+a.text+", not 413", "check the body limit before the signature, and answer 413")
	default:
		d.add("body limit", statusWarn, size+" answered "+a.text+", not 413: the bot may have read it whole", fix)
	}
}

// checkReply checks the delivery's answer where the platform reads it.
func (d *doctor) checkReply(a answer) {
	switch d.vendor {
	case "easydialog":
		d.checkEasyDialogReply(a.body)
	case "botcopy":
		d.checkBotcopyReply(a.body)
	case "userlike":
		d.checkUserlikeReply(a.body)
	case "ultimate":
		d.checkUltimateReply(a.body)
	default:
		d.add("reply", statusOK, "OneTalk reads only the status (200); the bot answers through the OneTalk URL", "")
	}
}

// checkUltimateReply checks the answer to isTeamOnline, the one chat
// event whose answer Ultimate reads beyond the status.
func (d *doctor) checkUltimateReply(body []byte) {
	var ev struct {
		Data struct {
			EventType string `json:"eventType"`
		} `json:"data"`
	}
	_ = json.Unmarshal(d.body, &ev)
	if ev.Data.EventType != "isTeamOnline" {
		d.add("reply", statusOK, "Ultimate reads only the status of the answer to "+cmp.Or(ev.Data.EventType, "this event"), "")
		return
	}
	var r struct {
		IsOnline *bool `json:"isOnline"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.IsOnline == nil {
		d.add("reply", statusFail, `the answer to isTeamOnline is not {"isOnline": true|false}`+bodyHint(body),
			`answer {"isOnline": bool} (ultimate.ChatCallbacks.OnTeamOnline)`)
		return
	}
	d.add("reply", statusOK, fmt.Sprintf("isTeamOnline answered isOnline %t", *r.IsOnline), "")
}

func (d *doctor) checkEasyDialogReply(body []byte) {
	const fix = `answer {"messages": [...]} as easydialog.Response builds it (Reply(...), checked by Validate)`
	if len(bytes.TrimSpace(body)) == 0 {
		d.add("reply", statusWarn, "the answer is empty: Easy Dialog sends the customer nothing", `answer {"messages": []} when there is nothing to say`)
		return
	}
	var r easydialog.Response
	if err := json.Unmarshal(body, &r); err != nil {
		d.add("reply", statusFail, "the answer is not an Easy Dialog response: "+err.Error()+bodyHint(body), fix)
		return
	}
	if err := r.Validate(); err != nil {
		d.add("reply", statusFail, "the answer breaks the doc's rules: "+strings.ReplaceAll(err.Error(), "\n", "; "), fix)
		return
	}
	d.add("reply", statusOK, fmt.Sprintf("a valid Easy Dialog response with %d message(s)", len(r.Messages)), "")
}

func (d *doctor) checkBotcopyReply(body []byte) {
	const fix = `answer {"paused": true, "minutesPaused": 10} or {"paused": false} (botcopy.PauseFor, Continue, EndLiveChat)`
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		d.add("reply", statusFail, "the answer is not a handover decision (a JSON object): "+err.Error()+bodyHint(body), fix)
		return
	}
	var dec botcopy.Decision
	if err := json.Unmarshal(body, &dec); err != nil {
		d.add("reply", statusFail, "the answer is not a handover decision: "+err.Error(), fix)
		return
	}
	if _, ok := raw["paused"]; !ok {
		d.add("reply", statusFail, `the answer has no "paused": Botcopy does not pause the bot`+bodyHint(body), fix)
		return
	}
	if dec.MinutesPaused != nil && *dec.MinutesPaused < 0 {
		d.add("reply", statusFail, fmt.Sprintf("minutesPaused is %d", *dec.MinutesPaused), fix)
		return
	}
	d.add("reply", statusOK, "a handover decision: "+dec.String(), "")
}

func (d *doctor) checkUserlikeReply(body []byte) {
	const fix = "answer the events Userlike expects, as userlike.Reply builds them: [{\"info\": {\"cid\"}, \"packet\": {\"name\", \"payload\"}}]"
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		d.add("reply", statusOK, "an empty answer: no action (the bot may answer later through the API)", "")
		return
	}
	var wire []struct {
		Info   userlike.OutboundInfo `json:"info"`
		Packet json.RawMessage       `json:"packet"`
	}
	var err error
	if b[0] == '[' {
		err = json.Unmarshal(b, &wire)
	} else {
		wire = make([]struct {
			Info   userlike.OutboundInfo `json:"info"`
			Packet json.RawMessage       `json:"packet"`
		}, 1)
		err = json.Unmarshal(b, &wire[0])
	}
	if err != nil {
		d.add("reply", statusFail, "the answer is not Userlike events: "+err.Error()+bodyHint(body), fix)
		return
	}
	wantCID := ""
	if evs, err := userlike.ParseEvents(d.body); err == nil && len(evs) > 0 {
		wantCID = evs[0].Info.CID
	}
	var actions []userlike.Action
	var names, notes []string
	for i, e := range wire {
		var a userlike.Action
		if len(e.Packet) == 0 {
			d.add("reply", statusFail, fmt.Sprintf("event %d has no packet", i+1), fix)
			return
		}
		if err := json.Unmarshal(e.Packet, &a); err != nil {
			var name struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(e.Packet, &name)
			a = userlike.Action{Name: name.Name}
			notes = append(notes, fmt.Sprintf("event %d's payload is not the library's %s payload (%v)", i+1, name.Name, err))
		} else {
			actions = append(actions, a)
		}
		switch {
		case e.Info.CID == "":
			d.add("reply", statusFail, fmt.Sprintf("event %d has no info.cid: Userlike needs the session's cid on every event", i+1), fix)
			return
		case a.Name == "":
			d.add("reply", statusFail, fmt.Sprintf("event %d has no packet.name", i+1), fix)
			return
		case wantCID != "" && e.Info.CID != wantCID:
			notes = append(notes, fmt.Sprintf("event %d's cid %q is not the delivery's %q", i+1, e.Info.CID, wantCID))
		}
		names = append(names, a.Name)
	}
	if err := userlike.ValidateActions(actions...); err != nil {
		d.add("reply", statusFail, "the events break the doc's limits: "+strings.ReplaceAll(err.Error(), "\n", "; "), fix)
		return
	}
	detail := fmt.Sprintf("%d event(s): %s", len(wire), strings.Join(names, ", "))
	if len(notes) > 0 {
		d.add("reply", statusWarn, detail+"; "+strings.Join(notes, "; "), fix)
		return
	}
	d.add("reply", statusOK, detail, "")
}
