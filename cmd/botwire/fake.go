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

  onetalk     --secret                     the fake OneTalk URL records the bot's messages
  easydialog  --secret (the signature key) the reply is the webhook's answer
  userlike    --header/--secret, --api-key the fake API URL records triggered events
  ultimate    --api-key, --header/--secret or --user/--password;
              lines are the virtual agent's messages; the scripted agent answers
              the bot's converse calls
  botcopy     --secret (access token), --api-key; the first line triggers the handover

Example:
  botwire fake onetalk --bot http://localhost:8080/onetalk --secret s3cr3t

Flags:
`

// session is one vendor's fake seen from the command: what to print at
// start, how to deliver a line, and what it records.
type session struct {
	intro   []string
	say     func(ctx context.Context, line string) (string, bool, error)
	streams []func(ctx context.Context, n int) ([]string, error)
	close   func()
}

func runFake(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("fake", stdout, stderr, fakeHelp)
	var p platform
	p.flags(fs)
	conv := fs.String("conversation", "", "the case, dialog, session or user id of the customer (default: one per vendor)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := p.setup("fake", pos); err != nil {
		return err
	}
	vendor := p.vendor
	s := newSession(&p, *conv)
	defer s.close()

	// The bot may echo a credential in what the transcript shows (its
	// answers, its requests to the fake): every line goes through redact.
	var out sync.Mutex
	printf := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprint(stdout, p.auth.redact(fmt.Sprintf(format, args...)))
	}
	printf("fake %s delivering to %s\n", vendor, p.auth.showURL(p.bot))
	for _, l := range s.intro {
		printf("%s\n", l)
	}
	printf("type customer text, one message per line; Ctrl-D to stop\n")

	ctx, cancel := context.WithCancel(context.Background())
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

	failed := 0
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		printf("customer  %s\n", line)
		answer, ok, err := s.say(ctx, line)
		switch {
		case err != nil:
			failed++
			printf("error     %v\n", err)
		case !ok:
			failed++
			printf("bot       %s\n", answer)
		case answer != "":
			printf("bot       %s\n", answer)
		}
	}
	// Let the bot's last asynchronous requests arrive before stopping.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d deliveries failed", failed)
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

func newSession(p *platform, conv string) *session {
	a, apiKey, botID := &p.auth, p.apiKey, p.botID
	pick := func(def string) string {
		if conv != "" {
			return conv
		}
		return def
	}
	switch p.vendor {
	case "onetalk":
		fake := onetalktest.NewServer(p.onetalkConfig())
		caseID := pick("FBED34A1EF")
		return &session{
			intro: []string{"OneTalk URL  " + fake.URL, "secret key   " + a.mask(a.secret)},
			say: func(ctx context.Context, line string) (string, bool, error) {
				d, err := fake.Deliver(ctx, onetalktest.Text(caseID, line))
				if err != nil {
					return "", false, err
				}
				return status(d.StatusCode, d.Latency), d.StatusCode == 200, nil
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
		dialog := pick("d5f7d6dd-dc30-451d-a442-a920fdbd6704")
		return &session{
			intro: []string{"signature key " + a.mask(a.secret)},
			say: func(ctx context.Context, line string) (string, bool, error) {
				body, err := easydialogtest.Encode(easydialogtest.Text(dialog, line))
				if err != nil {
					return "", false, err
				}
				// The signature is a credential of this delivery, which the bot may echo.
				red := a.redactor(http.Header{easydialog.SignatureHeader: {easydialog.Sign(body, a.secret)}})
				d, err := fake.DeliverRaw(ctx, body)
				if d == nil {
					return "", false, err
				}
				if err != nil {
					return red.Replace(status(d.StatusCode, d.Latency) + ": " + err.Error()), false, nil
				}
				if d.Reply == nil {
					return status(d.StatusCode, d.Latency), d.StatusCode == 200, nil
				}
				return red.Replace(status(d.StatusCode, d.Latency) + " " + compact(d.Reply)), true, nil
			},
			close: fake.Close,
		}
	case "userlike":
		fake := userliketest.NewServer(p.userlikeConfig())
		cid := pick("chatbot::258:a56785fb6fb84edd890905913b0c0821")
		started := false
		return &session{
			intro: []string{"API URL      " + fake.URL, "API token    " + a.mask(apiKey)},
			say: func(ctx context.Context, line string) (string, bool, error) {
				var prefix string
				if !started {
					started = true
					d, err := fake.Start(ctx, cid)
					if err != nil {
						return "", false, err
					}
					prefix = "(start) " + status(d.StatusCode, d.Latency) + " " + compact(d.Events) + "\nbot       "
				}
				d, err := fake.Message(ctx, cid, line)
				if err != nil {
					return prefix, false, err
				}
				return prefix + status(d.StatusCode, d.Latency) + " " + compact(d.Events), d.StatusCode == 200, nil
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
		id := pick("conversation-1")
		return &session{
			intro: []string{"base URL     " + fake.URL + " (ultimate.WithBaseURL)", "API key      " + a.mask(apiKey), "bot id       " + botID},
			say: func(ctx context.Context, line string) (string, bool, error) {
				d, err := fake.Deliver(ctx, ultimate.Message{EventType: ultimate.EventSendMessage, PlatformConversationID: id,
					Type: ultimate.MessageText, Text: line, Buttons: []ultimate.Button{}, CarouselCards: []ultimate.CarouselCard{}})
				if err != nil {
					return "", false, err
				}
				return "", d.StatusCode == 200, nil
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
		fake := botcopytest.NewServer(p.botcopyConfig())
		user := pick("user-123")
		return &session{
			intro: []string{"base URL     " + fake.URL + " (botcopy.WithBaseURL)", "API key      " + a.mask(apiKey)},
			say: func(ctx context.Context, line string) (string, bool, error) {
				var prefix string
				if !fake.Paused(user) {
					d, err := fake.Trigger(ctx, user, "bot-456")
					if err != nil {
						return "", false, err
					}
					prefix = fmt.Sprintf("(handover) %s, decision %v, paused %v\nbot       ", status(d.StatusCode, d.Latency), d.Decision, d.Paused)
					if !d.Paused {
						return prefix + "did not pause: the message goes to Dialogflow", d.StatusCode == 200, nil
					}
				}
				d, err := fake.UserMessage(ctx, user, "bot-456", line)
				if err != nil {
					return prefix, false, err
				}
				return prefix + fmt.Sprintf("%s, decision %v, paused %v", status(d.StatusCode, d.Latency), d.Decision, d.Paused),
					d.StatusCode == 200 && !d.Late, nil
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
