package main

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/ultimate/ultimatetest"
	"github.com/botwire/botwire/userlike/userliketest"
)

// fixtures are the whole webhook bodies among the vendor docs' examples
// (and the real payloads found outside them), copied from testdata/; a test
// keeps them identical.
//
//go:embed fixtures
var fixtures embed.FS

var vendors = []string{"onetalk", "easydialog", "userlike", "ultimate", "botcopy"}

func checkVendor(v string) error {
	for _, known := range vendors {
		if v == known {
			return nil
		}
	}
	return usageErr("unknown vendor %q (want %s)", v, strings.Join(vendors, ", "))
}

// fixtureNames lists vendor's built-in fixtures, without ".json".
func fixtureNames(vendor string) []string {
	entries, _ := fixtures.ReadDir("fixtures/" + vendor)
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

func fixture(vendor, name string) ([]byte, bool) {
	b, err := fixtures.ReadFile(path.Join("fixtures", vendor, strings.TrimSuffix(name, ".json")+".json"))
	return b, err == nil
}

// auth is how the platform authenticates its webhook calls, from the flags
// every verb shares.
type auth struct {
	secret     string // OneTalk secret, Easy Dialog key, Userlike/Ultimate header value, Botcopy access token
	header     string // Userlike/Ultimate: the webhook header's name
	user, pass string // Ultimate: basic auth
	custom     string // Botcopy: the custom header, "Name: value"
	showSecret bool
	// extra are the credentials given elsewhere than these flags: the
	// --api-key, a URL's password and its basic-auth value.
	extra []string
}

func (a *auth) flags(fs *flag.FlagSet) {
	fs.StringVar(&a.secret, "secret", "", "the credential the platform sends: OneTalk secret key, Easy Dialog signature key,\nUserlike/Ultimate webhook header value (with --header), Botcopy access token")
	fs.StringVar(&a.header, "header", "", "Userlike/Ultimate: the webhook header's name (e.g. API-SECURITY-TOKEN)")
	fs.StringVar(&a.user, "user", "", "Ultimate: basic-auth user of the webhook")
	fs.StringVar(&a.pass, "password", "", "Ultimate: basic-auth password of the webhook")
	fs.StringVar(&a.custom, "custom-header", "", `Botcopy: the portal's custom header, "Name: value"`)
	fs.BoolVar(&a.showSecret, "show-secret", false, "print credentials instead of masking them")
}

// check refuses flags the vendor needs and lacks.
func (a *auth) check(vendor string) error {
	switch vendor {
	case "onetalk", "easydialog", "botcopy":
		if a.secret == "" {
			return usageErr("%s needs --secret", vendor)
		}
	case "userlike":
		if (a.header == "") != (a.secret == "") {
			return usageErr("userlike: give --header and --secret together (or neither, for a bot WithoutAuthentication)")
		}
	case "ultimate":
		if (a.header == "") != (a.secret == "") || (a.user == "") != (a.pass == "") {
			return usageErr("ultimate: give --header with --secret, and --user with --password")
		}
	}
	if a.custom != "" && !strings.Contains(a.custom, ":") {
		return usageErr(`--custom-header wants "Name: value"`)
	}
	return nil
}

// headers returns the authentication headers of a delivery of body.
func (a *auth) headers(vendor string, body []byte) http.Header {
	h := http.Header{}
	switch vendor {
	case "onetalk":
		h.Set(onetalk.SecretHeader, a.secret)
	case "easydialog":
		h.Set(easydialog.SignatureHeader, easydialog.Sign(body, a.secret))
	case "userlike", "ultimate":
		if a.header != "" {
			h.Set(a.header, a.secret)
		}
		if a.user != "" {
			h.Set("Authorization", "Basic "+basicAuth(a.user, a.pass))
		}
	case "botcopy":
		h.Set("Authorization", a.secret)
		if name, value, ok := strings.Cut(a.custom, ":"); ok {
			h.Set(strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}
	return h
}

// mask returns s, or a mask of it unless --show-secret.
func (a *auth) mask(s string) string {
	if a.showSecret || s == "" {
		return s
	}
	return "[REDACTED]"
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// addURLs records the password of each URL given to the command (a --bot
// http://user:pass@host/ for basic auth, as the Ultimate doc suggests),
// and the basic-auth value the HTTP client makes of it, as credentials.
func (a *auth) addURLs(urls ...string) {
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil {
			if p, ok := u.User.Password(); ok {
				a.extra = append(a.extra, p, basicAuth(u.User.Username(), p))
			}
		}
	}
}

// showURL returns raw for printing and serving: with its password masked
// (user:xxxxx@) unless --show-secret.
func (a *auth) showURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && !a.showSecret {
		raw = u.Redacted()
	}
	return a.redact(raw)
}

// credentials returns every credential given to the command and those
// derived from them (the basic-auth values the requests carry).
func (a *auth) credentials() []string {
	creds := append([]string{a.secret, a.pass}, a.extra...)
	if a.user != "" {
		creds = append(creds, basicAuth(a.user, a.pass))
	}
	if _, v, ok := strings.Cut(a.custom, ":"); ok {
		creds = append(creds, strings.TrimSpace(v))
	}
	return creds
}

// minRedact is the length under which a credential is not masked in free
// text: "x1y" would be masked inside every word holding it, making the
// output unreadable for a credential nobody could keep secret anyway.
// Credential headers and Botcopy's token field are masked at any length.
const minRedact = 4

// redactor returns what masks, in any text the command prints or serves
// (headers and bodies both ways, URLs, errors), every credential given to
// it, and the values of the credential headers of sent: those computed
// per delivery, like Easy Dialog's signature. Each is masked raw and as
// it shows JSON-escaped ("a&b" as "a\u0026b"). With --show-secret it
// masks nothing.
func (a *auth) redactor(sent http.Header) *strings.Replacer {
	if a.showSecret {
		return strings.NewReplacer()
	}
	creds := a.credentials()
	for k, vs := range sent {
		if a.isCredential(k) {
			creds = append(creds, vs...)
		}
	}
	var olds []string
	for _, c := range creds {
		if len(c) < minRedact {
			continue
		}
		j, _ := json.Marshal(c)
		olds = append(olds, c, string(j[1:len(j)-1]))
	}
	// Longest first: the replacer tries its strings in order, and a
	// credential may hold another.
	slices.SortStableFunc(olds, func(x, y string) int { return len(y) - len(x) })
	var pairs []string
	for _, o := range slices.Compact(olds) {
		pairs = append(pairs, o, "[REDACTED]")
	}
	return strings.NewReplacer(pairs...)
}

// redact masks in s every credential given to the command.
func (a *auth) redact(s string) string { return a.redactor(nil).Replace(s) }

// printHeaders writes h sorted through r, masking the whole value of the
// credential headers of a request the command sent.
func (a *auth) printHeaders(w io.Writer, prefix string, h http.Header, sent bool, r *strings.Replacer) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			if sent && a.isCredential(k) {
				v = a.mask(v)
			}
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, r.Replace(v))
		}
	}
}

func (a *auth) isCredential(name string) bool {
	name = http.CanonicalHeaderKey(name)
	switch name {
	case "Authorization", http.CanonicalHeaderKey(onetalk.SecretHeader), http.CanonicalHeaderKey(easydialog.SignatureHeader):
		return true
	}
	if a.header != "" && name == http.CanonicalHeaderKey(a.header) {
		return true
	}
	if n, _, ok := strings.Cut(a.custom, ":"); ok && name == http.CanonicalHeaderKey(strings.TrimSpace(n)) {
		return true
	}
	return false
}

// newFlags returns a flag set whose help goes to stdout and whose errors go
// to stderr.
func newFlags(name string, stdout, stderr io.Writer, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("botwire "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stdout, help)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	return fs
}

// parse reads flags anywhere among args and returns the positional ones.
// -h / --help print the help and return errHelp.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelp
			}
			return nil, errUsage{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// platform is what the fake and emulate verbs share: the vendor, its
// credentials, the bot, and where the fake platform listens.
type platform struct {
	vendor  string
	auth    auth
	bot     string
	actions string // Ultimate's actions webhook
	apiKey  string
	botID   string
	addr    string
	ln      net.Listener // nil for Easy Dialog, which has no endpoint
	policyFlags
}

// policy is the platform's redelivery and budget, from the flags.
func (p *platform) policy() policy { return p.policyFlags.policy(p.vendor) }

func (p *platform) flags(fs *flag.FlagSet) {
	p.auth.flags(fs)
	fs.StringVar(&p.bot, "bot", "", "the bot's webhook URL")
	fs.StringVar(&p.actions, "actions", "", "Ultimate: the bot's actions webhook URL")
	fs.StringVar(&p.apiKey, "api-key", "", "Userlike: the API security token; Ultimate, Botcopy: the API key the bot's client sends")
	fs.StringVar(&p.botID, "bot-id", "618a30beee4e8e87d2f94015", "Ultimate: the bot id")
	fs.StringVar(&p.addr, "addr", "127.0.0.1:0", "where the fake platform listens")
	p.policyFlags.flags(fs)
}

// setup checks the positional vendor and the flags, and opens the fake
// platform's listener.
func (p *platform) setup(verb string, pos []string) error {
	if len(pos) != 1 {
		return usageErr("%s needs one vendor (botwire %s --help)", verb, verb)
	}
	p.vendor = pos[0]
	if err := checkVendor(p.vendor); err != nil {
		return err
	}
	if p.bot == "" {
		return usageErr("%s needs --bot URL, the bot's webhook", verb)
	}
	if err := p.auth.check(p.vendor); err != nil {
		return err
	}
	p.auth.addURLs(p.bot, p.actions)
	p.auth.extra = append(p.auth.extra, p.apiKey)
	if (p.vendor == "userlike" || p.vendor == "ultimate" || p.vendor == "botcopy") && p.apiKey == "" {
		return usageErr("%s %s needs --api-key, the credential the bot's client sends", verb, p.vendor)
	}
	if p.vendor != "easydialog" {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return usageErr("--addr: %v", err)
		}
		p.ln = ln
	}
	return nil
}

// The fakes' configurations from the flags, one place for fake and
// emulate.

func (p *platform) onetalkConfig() onetalktest.Config {
	return onetalktest.Config{Secret: p.auth.secret, BotURL: p.bot, Listener: p.ln}
}

func (p *platform) easydialogConfig() easydialogtest.Config {
	return easydialogtest.Config{SignatureKey: p.auth.secret, BotURL: p.bot}
}

func (p *platform) userlikeConfig() userliketest.Config {
	return userliketest.Config{WebhookHeader: p.auth.header, WebhookToken: p.auth.secret, APIToken: p.apiKey,
		BotURL: p.bot, Listener: p.ln}
}

func (p *platform) ultimateConfig() ultimatetest.Config {
	return ultimatetest.Config{APIKey: p.apiKey, BotID: p.botID, BotURL: p.bot, ActionBotURL: p.actions,
		WebhookHeader: p.auth.header, WebhookToken: p.auth.secret, WebhookUser: p.auth.user, WebhookPassword: p.auth.pass,
		Listener: p.ln}
}

func (p *platform) botcopyConfig() botcopytest.Config {
	c := botcopytest.Config{AccessToken: p.auth.secret, APIKey: p.apiKey, BotURL: p.bot, Listener: p.ln}
	if name, value, ok := strings.Cut(p.auth.custom, ":"); ok {
		c.CustomHeader, c.CustomValue = strings.TrimSpace(name), strings.TrimSpace(value)
	}
	return c
}
