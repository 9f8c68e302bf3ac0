package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

const fakeHelp = `Usage: botwire fake <vendor> --bot URL [flags]

Runs the vendor's fake platform as a standalone server for a bot written in
any language. It prints the URL and credentials to point the bot at, then
reads customer text from standard input, one message per line, delivers
each to the bot as the platform would, and prints a live transcript: the
bot's answers and every request the bot's client sends to the fake. It
stops at the end of standard input (Ctrl-D). Exits 1 when a delivery got a
non-2xx answer or could not reach the bot.

Every run has conversation ids of its own (a fresh case, dialog, session or
user id, printed at start; --conversation sets one), so a bot pointed at
another run's fake cannot show its replies here under the same id. After a
failed delivery a line "hint" says what to try; a bot that is down is
reported once and not redelivered.

  onetalk     --secret                     the fake OneTalk URL records the bot's messages;
              a bot that accepts a delivery but never calls that URL is warned about
  easydialog  --secret (the signature key) the reply is the webhook's answer
  userlike    --header/--secret, --api-key the fake API URL records triggered events
  ultimate    --api-key, --header/--secret or --user/--password;
              lines are the virtual agent's messages; the scripted agent answers
              the bot's converse calls
  botcopy     --secret (access token), --api-key; the first line triggers the
              handover (its history and query carry that line); lines while
              paused go to the proxy, later ones to Dialogflow; a line
              "/handover TEXT" starts another handover

Example:
  botwire fake onetalk --bot http://localhost:8080/onetalk --secret s3cr3t

` + policyHelp + `
Flags:
`

// session is one vendor's fake seen from the command: what to print at
// start, how to deliver a line, and what it records.
type session struct {
	intro []string
	// say delivers line through d.
	say     func(ctx context.Context, line string)
	streams []func(ctx context.Context, n int) ([]string, error)
	close   func()
}

// outcome is one attempt of a delivery.
type outcome struct {
	text    string // the transcript's account of the answer (status, body)
	status  int    // the bot's status, 0 when it did not answer
	latency time.Duration
	err     error // the bot could not be reached
	// late: the platform gave up waiting (Botcopy's deadline) and ignores
	// the answer.
	late bool
	// bad: the status was accepted but the answer is unusable (a reply
	// the platform would refuse); not redelivered.
	bad bool
	// silent: nothing to print when accepted at the first attempt (the
	// transcript shows the delivery otherwise).
	silent bool
	// decided: the Botcopy proxy answered with a decision.
	decided bool
}

// deliverer delivers with the platform's policy: redeliveries of what the
// bot did not accept, the budget, a hint after a failure.
type deliverer struct {
	vendor string
	bot    string // as printed
	pol    policy
	printf func(format string, args ...any)

	n      int // deliveries so far
	failed int // deliveries that failed

	// The quiet-bot check (OneTalk): one warning per run.
	quietMu      sync.Mutex
	quietWarned  bool
	quietPending bool
	quietWG      sync.WaitGroup
}

// judge reports whether an attempt failed and may be redelivered, and the
// error it stands for in hint.
func (d *deliverer) judge(o outcome) (failed, retry bool, err error) {
	switch {
	case o.err != nil:
		return true, !isRefused(o.err), o.err
	case o.late:
		return true, true, errLate
	case !accepted(d.vendor, o.status):
		return true, true, nil
	case o.bad:
		return true, false, nil
	}
	return false, false, nil
}

// do delivers once with attempt, and again (the same body: attempt must
// resend it as it is) while the bot does not accept it, up to the
// policy's redeliveries. It prints every attempt under label and returns
// the last outcome and whether the bot accepted it.
func (d *deliverer) do(ctx context.Context, label string, attempt func(context.Context) outcome) (outcome, bool) {
	d.n++
	total := 1 + d.pol.attempts
	lastHint := ""
	for i := 1; ; i++ {
		actx, cancel := context.WithTimeout(ctx, deliveryTimeout) // a bot that never answers
		o := attempt(actx)
		cancel()
		failed, retry, herr := d.judge(o)
		retry = retry && i < total && ctx.Err() == nil
		text := label + o.text
		if o.err != nil {
			text = label + o.err.Error()
		}
		if !o.late && o.err == nil && o.latency > d.pol.budget {
			text += fmt.Sprintf(" (late: past the platform's %s budget)", d.pol.budget)
		}
		if i > 1 || retry {
			text = fmt.Sprintf("attempt %d of delivery %d (at most %d): %s", i, d.n, total, text)
		}
		switch {
		case o.err != nil:
			d.printf("error     %s\n", text)
		case !failed && o.silent && i == 1 && o.latency <= d.pol.budget:
		default:
			d.printf("bot       %s\n", text)
		}
		h := ""
		switch {
		case failed:
			h = hint(d.vendor, d.bot, o.status, herr, d.pol)
		case o.latency > d.pol.budget:
			h = hint(d.vendor, d.bot, 0, errLate, d.pol)
		}
		if h != "" && h != lastHint {
			d.printf("hint      %s\n", h)
			lastHint = h
		}
		if !failed {
			return o, true
		}
		if !retry {
			d.failed++
			return o, false
		}
		select {
		case <-ctx.Done():
			d.failed++
			return o, false
		case <-time.After(d.pol.after):
		}
	}
}

// watchQuiet warns, once per run, when the bot accepted a delivery but
// has not called the fake platform at platformURL within quietAfter:
// wait(ctx, n) returns when the fake has n requests, and the fake had
// before when the delivery started.
func (d *deliverer) watchQuiet(platformURL string, before int, wait func(ctx context.Context, n int) error) {
	d.quietMu.Lock()
	defer d.quietMu.Unlock()
	if d.quietWarned || d.quietPending {
		return
	}
	d.quietPending = true
	d.quietWG.Add(1)
	go func() {
		defer d.quietWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), quietAfter)
		defer cancel()
		err := wait(ctx, before+1)
		d.quietMu.Lock()
		defer d.quietMu.Unlock()
		d.quietPending = false
		if err != nil && !d.quietWarned {
			d.quietWarned = true
			d.printf("warning   %s\n", quietWarning(d.vendor, platformURL))
		}
	}()
}

// redactedErr is err with red applied to its text, and err itself to
// errors.Is (a refused connection stays one).
type redactedErr struct {
	err error
	red *strings.Replacer
}

func (e redactedErr) Error() string { return e.red.Replace(e.err.Error()) }
func (e redactedErr) Unwrap() error { return e.err }

func runFake(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("fake", stdout, stderr, fakeHelp)
	var p platform
	p.flags(fs)
	conv := fs.String("conversation", "", "the case, dialog, session or user id of the customer (default: a fresh one per run)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := p.setup("fake", pos); err != nil {
		return err
	}
	vendor := p.vendor

	// The bot may echo a credential in what the transcript shows (its
	// answers, its requests to the fake): every line goes through redact.
	var out sync.Mutex
	printf := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprint(stdout, p.auth.redact(fmt.Sprintf(format, args...)))
	}
	d := &deliverer{vendor: vendor, bot: p.auth.showURL(p.bot), pol: p.policy(), printf: printf}
	id := *conv
	if id == "" {
		id = newConversation(vendor)
	}
	s := newSession(&p, id, d)
	defer s.close()

	printf("fake %s delivering to %s\n", vendor, p.auth.showURL(p.bot))
	for _, l := range s.intro {
		printf("%s\n", l)
	}
	printf("type customer text, one message per line; Ctrl-D to stop\n")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, stream := range s.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := 0
			for {
				lines, err := stream(ctx, seen+1)
				for _, l := range lines[min(seen, len(lines)):] {
					printf("%s\n", l)
				}
				seen = max(seen, len(lines))
				if err != nil {
					return
				}
			}
		}()
	}

	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		printf("customer  %s\n", line)
		s.say(ctx, line)
	}
	// Let a pending quiet check end (the bot calls, or quietAfter passes)
	// and the bot's last asynchronous requests arrive before stopping.
	d.quietWG.Wait()
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	if d.failed > 0 {
		return fmt.Errorf("%d deliveries failed", d.failed)
	}
	return nil
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func status(code int, latency time.Duration) string {
	return fmt.Sprintf("answered %d in %s", code, latency.Round(100*time.Microsecond))
}

// idLine is the intro line naming the run's conversation id.
func idLine(vendor, id string) string {
	name := map[string]string{"onetalk": "case id", "easydialog": "dialog uuid", "userlike": "session cid",
		"ultimate": "conversation", "botcopy": "user id"}[vendor]
	return fmt.Sprintf("%-12s %s (fresh per run; --conversation sets it)", name, id)
}

// handoverText returns the text of a line asking for a new Botcopy
// handover ("/handover TEXT"), and whether it is one.
func handoverText(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "/handover")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

func newSession(p *platform, id string, d *deliverer) *session {
	a, apiKey, botID := &p.auth, p.apiKey, p.botID
	intro := func(lines ...string) []string { return append([]string{idLine(p.vendor, id)}, lines...) }
	switch p.vendor {
	case "onetalk":
		fake := onetalktest.NewServer(p.onetalkConfig())
		wait := func(ctx context.Context, n int) error { _, err := fake.WaitFor(ctx, n); return err }
		return &session{
			intro: intro("OneTalk URL  "+fake.URL, "secret key   "+a.mask(a.secret)),
			say: func(ctx context.Context, line string) {
				in := onetalktest.Text(id, line) // one body for every attempt
				before := len(fake.Received())
				_, ok := d.do(ctx, "", func(ctx context.Context) outcome {
					r, err := fake.Deliver(ctx, in)
					if err != nil {
						return outcome{err: err}
					}
					return outcome{text: status(r.StatusCode, r.Latency), status: r.StatusCode, latency: r.Latency}
				})
				if ok && repliesByAPI(p.vendor) {
					d.watchQuiet(fake.URL, before, wait)
				}
			},
			streams: []func(context.Context, int) ([]string, error){func(ctx context.Context, n int) ([]string, error) {
				recs, err := fake.WaitFor(ctx, n)
				out := make([]string, len(recs))
				for i, r := range recs {
					out[i] = fmt.Sprintf("bot ->    OneTalk %s (fake answered %d)", compact(r.Request), r.Status)
				}
				return out, err
			}},
			close: fake.Close,
		}
	case "easydialog":
		fake := easydialogtest.NewServer(p.easydialogConfig())
		return &session{
			intro: intro("signature key " + a.mask(a.secret)),
			say: func(ctx context.Context, line string) {
				body, err := easydialogtest.Encode(easydialogtest.Text(id, line))
				if err != nil {
					d.printf("error     %v\n", err)
					d.failed++
					return
				}
				// The signature is a credential of this delivery, which the bot may echo.
				red := a.redactor(http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, a.secret)}})
				d.do(ctx, "", func(ctx context.Context) outcome {
					r, err := fake.DeliverRaw(ctx, body)
					if r == nil {
						return outcome{err: redactedErr{err, red}}
					}
					o := outcome{text: status(r.StatusCode, r.Latency), status: r.StatusCode, latency: r.Latency}
					switch {
					case err != nil:
						o.text, o.bad = red.Replace(o.text+": "+err.Error()), true
					case r.Reply != nil:
						o.text = red.Replace(o.text + " " + compact(r.Reply))
					}
					return o
				})
			},
			close: fake.Close,
		}
	case "userlike":
		fake := userliketest.NewServer(p.userlikeConfig())
		started := false
		send := func(ctx context.Context, label, name string, payload any) bool {
			e, err := fake.NewEvent(id, name, payload)
			if err != nil {
				d.printf("error     %v\n", err)
				d.failed++
				return false
			}
			_, ok := d.do(ctx, label, func(ctx context.Context) outcome {
				r, err := fake.Deliver(ctx, e)
				if r == nil {
					return outcome{err: err}
				}
				o := outcome{text: status(r.StatusCode, r.Latency) + " " + compact(r.Events), status: r.StatusCode, latency: r.Latency}
				if err != nil {
					o.text, o.bad = status(r.StatusCode, r.Latency)+": "+err.Error(), true
				}
				return o
			})
			return ok
		}
		return &session{
			intro: intro("API URL      "+fake.URL, "API token    "+a.mask(apiKey)),
			say: func(ctx context.Context, line string) {
				if !started {
					if !send(ctx, "(start) ", userlike.EventStart, struct{}{}) {
						return // the session did not start: the next line starts it
					}
					started = true
				}
				send(ctx, "", userlike.EventMessage, userlike.MessagePayload{Body: line})
			},
			streams: []func(context.Context, int) ([]string, error){func(ctx context.Context, n int) ([]string, error) {
				recs, err := fake.WaitFor(ctx, n)
				out := make([]string, len(recs))
				for i, r := range recs {
					out[i] = fmt.Sprintf("bot ->    Userlike API %s (fake answered %d)", compact(r.Events), r.Status)
				}
				return out, err
			}},
			close: fake.Close,
		}
	case "ultimate":
		fake := ultimatetest.NewServer(p.ultimateConfig())
		return &session{
			intro: intro("base URL     "+fake.URL+" (ultimate.WithBaseURL)", "API key      "+a.mask(apiKey), "bot id       "+botID),
			say: func(ctx context.Context, line string) {
				m := ultimate.Message{EventType: ultimate.EventSendMessage, PlatformConversationID: id,
					Type: ultimate.MessageText, Text: line, Buttons: []ultimate.Button{}, CarouselCards: []ultimate.CarouselCard{}}
				// The deliveries show in the agent's stream; a line here
				// only for a failure or a redelivery.
				d.do(ctx, "", func(ctx context.Context) outcome {
					r, err := fake.Deliver(ctx, m)
					if err != nil {
						return outcome{err: err}
					}
					return outcome{text: status(r.StatusCode, r.Latency), status: r.StatusCode, latency: r.Latency, silent: true}
				})
			},
			streams: []func(context.Context, int) ([]string, error){
				func(ctx context.Context, n int) ([]string, error) {
					recs, err := fake.WaitFor(ctx, n)
					out := make([]string, len(recs))
					for i, r := range recs {
						body := any(r.Converse)
						if r.Widget != nil {
							body = r.Widget
						}
						out[i] = fmt.Sprintf("bot ->    Ultimate %s (fake answered %d)", compact(body), r.Status)
					}
					return out, err
				},
				func(ctx context.Context, n int) ([]string, error) {
					ds, err := fake.WaitDeliveries(ctx, n)
					out := make([]string, len(ds))
					for i, d := range ds {
						out[i] = fmt.Sprintf("agent ->  bot %s %s: %s", d.Webhook, d.EventType, status(d.StatusCode, d.Latency))
						if d.Err != nil {
							out[i] = fmt.Sprintf("agent ->  bot %s %s: %v", d.Webhook, d.EventType, d.Err)
						}
					}
					return out, err
				},
			},
			close: fake.Close,
		}
	default: // botcopy
		cfg := p.botcopyConfig()
		cfg.Deadline = d.pol.budget // Botcopy ignores an answer past its budget
		fake := botcopytest.NewServer(cfg)
		const bot = "bot-456"
		var said []string   // the user's lines in this run, oldest first
		handedOver := false // a handover got the proxy's decision
		botcopyOutcome := func(r *botcopytest.Delivery) outcome {
			if r.Late {
				return outcome{late: true, latency: r.Latency,
					text: fmt.Sprintf("the proxy did not answer within Botcopy's %s: Botcopy ignores it (not paused, the message goes to Dialogflow)", d.pol.budget)}
			}
			o := outcome{status: r.StatusCode, latency: r.Latency, decided: r.Decision != nil,
				text: fmt.Sprintf("%s, decision %s, paused %v", status(r.StatusCode, r.Latency), compact(r.Decision), r.Paused)}
			if r.StatusCode == http.StatusOK && r.Decision == nil {
				o.text += " (not a decision: Botcopy ignores it)"
			}
			return o
		}
		trigger := func(ctx context.Context) {
			req := botcopytest.TriggerRequestWith(a.secret, id, bot, said...)
			o, _ := d.do(ctx, "(handover) ", func(ctx context.Context) outcome {
				r, err := fake.DeliverTrigger(ctx, req)
				if err != nil {
					return outcome{err: err}
				}
				return botcopyOutcome(r)
			})
			if o.decided {
				handedOver = true
				if !fake.Paused(id) {
					d.printf("bot       did not pause: the next message goes to Dialogflow\n")
				}
			}
		}
		return &session{
			intro: intro("base URL     "+fake.URL+" (botcopy.WithBaseURL)", "API key      "+a.mask(apiKey)),
			say: func(ctx context.Context, line string) {
				if text, ok := handoverText(line); ok {
					if text != "" {
						said = append(said, text)
					}
					trigger(ctx)
					return
				}
				said = append(said, line)
				if !fake.Paused(id) && !handedOver {
					trigger(ctx) // the first line: its history and query carry it
					return
				}
				d.do(ctx, "", func(ctx context.Context) outcome {
					r, err := fake.UserMessage(ctx, id, bot, line)
					switch {
					case err != nil:
						return outcome{err: err}
					case r.ToDialogflow && r.StatusCode == 0 && !r.Late:
						return outcome{status: http.StatusOK,
							text: "not paused: the message goes to Dialogflow (a line \"/handover TEXT\" starts another handover)"}
					}
					o := botcopyOutcome(r)
					if r.ToDialogflow && accepted("botcopy", r.StatusCode) {
						o.text += "; resumed: the next message goes to Dialogflow"
					}
					return o
				})
			},
			streams: []func(context.Context, int) ([]string, error){func(ctx context.Context, n int) ([]string, error) {
				recs, err := fake.WaitFor(ctx, n)
				out := make([]string, len(recs))
				for i, r := range recs {
					out[i] = fmt.Sprintf("bot ->    Botcopy push %s (fake answered %d)", compact(r.Request), r.Status)
				}
				return out, err
			}},
			close: fake.Close,
		}
	}
}
