package main

// What fake and emulate share to behave as the platform does around a
// delivery: its redelivery after a failure, its answer budget, the next
// step to suggest when a delivery fails, fresh conversation ids per run,
// and the commands that reproduce a delivery.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/botwire/botwire/onetalk"
)

// policy is how a platform redelivers a webhook its bot did not accept,
// and how long it waits for an answer. What the vendor's doc leaves
// unknown is a default of the command, configurable and labelled so.
type policy struct {
	attempts int           // redeliveries after the first delivery
	after    time.Duration // wait before each redelivery
	budget   time.Duration // the platform's answer budget
	// doc says where attempts and budget come from, for the help and
	// the page: the doc's words or "unknown: ...".
	doc string
}

// The defaults, per vendor. OneTalk's doc: "In case the chatbot fail to
// return HTTP status 200, OneTalk will try to send the API request for a
// limited number of attempts before dropping request for that message";
// the count, the backoff and the timeout are not documented. Botcopy's:
// an answer after 5 seconds is ignored and the message goes to
// Dialogflow, so nothing is redelivered. The others document neither.
func defaultPolicy(vendor string) policy {
	switch vendor {
	case "onetalk":
		return policy{attempts: 2, after: 2 * time.Second, budget: 10 * time.Second,
			doc: `OneTalk redelivers a webhook not answered 200 "for a limited number of attempts" (count, backoff and timeout unknown: 2 redeliveries 2 s apart and a 10 s budget are assumed)`}
	case "botcopy":
		return policy{budget: 5 * time.Second,
			doc: "Botcopy waits 5 s for the decision and then forwards the message to Dialogflow: no redelivery"}
	default:
		return policy{budget: 10 * time.Second,
			doc: vendorName(vendor) + " documents no redelivery and no timeout (unknown: none and a 10 s budget are assumed)"}
	}
}

func vendorName(vendor string) string {
	switch vendor {
	case "onetalk":
		return "OneTalk"
	case "easydialog":
		return "Easy Dialog"
	case "userlike":
		return "Userlike"
	case "ultimate":
		return "Ultimate"
	case "botcopy":
		return "Botcopy"
	}
	return vendor
}

// policyFlags are the flags that change the policy; negative means the
// vendor's default.
type policyFlags struct {
	attempts int
	after    time.Duration
	budget   time.Duration
}

func (f *policyFlags) flags(fs *flag.FlagSet) {
	fs.IntVar(&f.attempts, "redeliver", -1, "redeliveries after a delivery the bot did not accept (default: the platform's, see --help)")
	fs.DurationVar(&f.after, "redeliver-after", -1, "wait before a redelivery (default: the platform's)")
	fs.DurationVar(&f.budget, "budget", -1, "the platform's answer budget: a slower answer is flagged late (default: the platform's)")
}

// policy returns the vendor's default changed by the flags given.
func (f policyFlags) policy(vendor string) policy {
	p := defaultPolicy(vendor)
	if f.attempts >= 0 {
		p.attempts = f.attempts
		p.doc += fmt.Sprintf("; --redeliver %d", f.attempts)
	}
	if f.after >= 0 {
		p.after = f.after
	}
	if f.budget > 0 {
		p.budget = f.budget
	}
	return p
}

// policyHelp is the help's paragraph on redeliveries.
const policyHelp = `Redeliveries: when the bot answers a delivery with a status the platform
does not accept, or not at all, the fake delivers it again as the platform
does (the same body and ids), each attempt shown as such. OneTalk retries a
status other than 200 "a limited number of attempts" (unknown: 2
redeliveries 2 s apart are assumed); Botcopy forwards the message to
Dialogflow instead (none); the other platforms document none. --redeliver,
--redeliver-after and --budget change what is assumed.
`

// accepted reports whether the platform takes status as the bot's
// acceptance of the delivery: OneTalk wants 200 exactly, the others a 2xx.
func accepted(vendor string, status int) bool {
	if vendor == "onetalk" {
		return status == http.StatusOK
	}
	return status >= 200 && status <= 299
}

// credentialHelp says, per vendor, which flag carries the credential and
// which variable the examples read it from.
func credentialHelp(vendor string) string {
	switch vendor {
	case "onetalk":
		return "the emulator sends --secret as " + onetalk.SecretHeader + ": it must equal the bot's secret (ONETALK_SECRET in examples/onetalk-echo)"
	case "easydialog":
		return "the emulator signs with --secret (X-BM-Signature): it must equal the bot's signature key (EASYDIALOG_SIGNATURE_KEY in examples/easydialog-echo)"
	case "userlike":
		return "the emulator sends --header NAME with --secret: they must equal the bot's (USERLIKE_WEBHOOK_HEADER and USERLIKE_WEBHOOK_TOKEN in examples/userlike-faq), or give neither for a bot WithoutAuthentication"
	case "ultimate":
		return "the emulator sends --user/--password as basic auth (or --header with --secret): they must equal the bot's (ULTIMATE_WEBHOOK_USER and ULTIMATE_WEBHOOK_PASSWORD in examples/ultimate-relay)"
	default:
		return "the emulator sends --secret as Authorization: it must equal the bot's access token (BOTCOPY_ACCESS_TOKEN in examples/botcopy-handover)"
	}
}

// examplePaths are the webhook paths the examples serve.
var examplePaths = map[string]string{
	"onetalk": "/onetalk", "easydialog": "/easydialog", "userlike": "/userlike",
	"ultimate": "/ultimate/chat (and /ultimate/actions)", "botcopy": "/botcopy",
}

// hint returns the next step for a delivery to bot that failed with
// status (0 when there was no answer) or err, or "" when there is none to
// suggest.
func hint(vendor, bot string, status int, err error, p policy) string {
	switch {
	case err != nil && isRefused(err):
		return fmt.Sprintf("nothing listens at %s: start the bot (the examples listen on $PORT) or correct --bot", hostOf(bot))
	case err != nil && (errors.Is(err, errLate) || isDeadline(err)):
		return fmt.Sprintf("the bot took longer than %s: answer first and work after (%s)", p.budget, p.doc)
	case err != nil:
		return "the bot could not be reached at " + bot + ": check --bot"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "the bot refused the credential: " + credentialHelp(vendor)
	case status == http.StatusNotFound:
		return fmt.Sprintf("the bot serves nothing at %s: the examples serve %s; correct --bot", pathOf(bot), examplePaths[vendor])
	case status == http.StatusMethodNotAllowed:
		return "the bot refused POST at " + pathOf(bot) + ": is --bot the webhook's URL?"
	case status == http.StatusRequestEntityTooLarge:
		return "the bot refused the body as too large: raise its body limit"
	case status == http.StatusBadRequest:
		return "the bot could not read the delivery: its answer's body says why"
	case status >= 500:
		return "the bot failed: its log says why"
	case !accepted(vendor, status):
		return fmt.Sprintf("%s takes only 200 as the bot's acceptance: answer 200", vendorName(vendor))
	}
	return ""
}

// errLate is the error of a delivery past the platform's budget.
var errLate = errors.New("no answer within the platform's budget")

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) ||
		strings.Contains(err.Error(), "context deadline exceeded")
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newConversation returns a fresh id of the vendor's conversation, in the
// form the vendor's doc shows: a run's ids never meet another run's, so a
// bot pointed at another emulator cannot show its replies under the same
// case id.
func newConversation(vendor string) string {
	switch vendor {
	case "onetalk":
		return strings.ToUpper(randomHex(5)) // FBED34A1EF
	case "easydialog":
		return uuid()
	case "userlike":
		return "chatbot::258:" + randomHex(16)
	case "ultimate":
		return "conversation-" + randomHex(4)
	default:
		return "user-" + randomHex(4)
	}
}

// newCustomer returns a fresh customer identity for vendors that have one
// apart from the conversation (a phone number, a contact id).
func newCustomer(vendor string) string {
	switch vendor {
	case "onetalk", "easydialog":
		return "+628" + fmt.Sprintf("%010d", int64(randUint32())%10000000000)
	default:
		return "customer-" + randomHex(3)
	}
}

func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// quietAfter is how long after an accepted delivery a bot that replies
// through the platform's API is expected to have called it.
var quietAfter = 3 * time.Second

// repliesByAPI reports whether the vendor's bot replies only by calling
// the platform (OneTalk), so an accepted delivery with no call after it
// means the bot's replies went elsewhere.
func repliesByAPI(vendor string) bool { return vendor == "onetalk" }

// quietWarning says that the bot accepted a delivery but has not called
// the fake platform at platformURL.
func quietWarning(vendor, platformURL string) string {
	env := map[string]string{"onetalk": "ONETALK_URL"}[vendor]
	return fmt.Sprintf("the bot answered but has not called the platform within %s: is its %s URL this fake's (%s)? A bot configured with another URL sends its replies there (another emulator or the real platform)",
		quietAfter, vendorName(vendor), platformURL) + map[bool]string{true: "; the examples read it from " + env, false: ""}[env != ""]
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// credentialFlags are the botwire flags that authenticate a delivery as
// a, with the secret values as environment variables.
func credentialFlags(vendor string, a *auth) string {
	var f []string
	switch vendor {
	case "onetalk", "easydialog", "botcopy":
		f = append(f, `--secret "$BOTWIRE_SECRET"`)
		if a.custom != "" {
			name, _, _ := strings.Cut(a.custom, ":")
			f = append(f, fmt.Sprintf(`--custom-header "%s: $BOTWIRE_CUSTOM_VALUE"`, strings.TrimSpace(name)))
		}
	case "userlike", "ultimate":
		if a.header != "" {
			f = append(f, "--header "+shellQuote(a.header), `--secret "$BOTWIRE_SECRET"`)
		}
		if a.user != "" {
			f = append(f, "--user "+shellQuote(a.user), `--password "$BOTWIRE_PASSWORD"`)
		}
	}
	return strings.Join(f, " ")
}

// sendCommand is the botwire send command that delivers body to bot again;
// body must be masked already (the page shows it).
func sendCommand(vendor, bot string, a *auth, body string) string {
	cmd := fmt.Sprintf("printf '%%s' %s |\n  botwire send %s - --to %s", shellQuote(body), vendor, shellQuote(bot))
	if f := credentialFlags(vendor, a); f != "" {
		cmd += " " + f
	}
	return cmd
}

// curlCommand is the curl command that delivers body to bot with the
// credential headers from the environment.
func curlCommand(vendor, bot string, a *auth, body string) string {
	h := []string{"-H 'Content-Type: application/json'"}
	switch vendor {
	case "onetalk":
		h = append(h, fmt.Sprintf(`-H "%s: $BOTWIRE_SECRET"`, onetalk.SecretHeader))
	case "easydialog":
		h = append(h, `-H "X-BM-Signature: $(printf '%s' "$BODY" | botwire sign easydialog --key "$BOTWIRE_SECRET")"`)
	case "botcopy":
		h = append(h, `-H "Authorization: $BOTWIRE_SECRET"`)
		if a.custom != "" {
			name, _, _ := strings.Cut(a.custom, ":")
			h = append(h, fmt.Sprintf(`-H "%s: $BOTWIRE_CUSTOM_VALUE"`, strings.TrimSpace(name)))
		}
	default:
		if a.header != "" {
			h = append(h, fmt.Sprintf(`-H "%s: $BOTWIRE_SECRET"`, a.header))
		}
		if a.user != "" {
			h = append(h, fmt.Sprintf(`-u "%s:$BOTWIRE_PASSWORD"`, a.user))
		}
	}
	return fmt.Sprintf("BODY=%s\ncurl -sS -X POST %s \\\n  %s \\\n  --data-raw \"$BODY\"", shellQuote(body), shellQuote(bot), strings.Join(h, " \\\n  "))
}
