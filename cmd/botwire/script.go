package main

// Scripted conversations: `botwire emulate <vendor> --script FILE` runs a
// scenario (or a transcript saved by the page) headless against the bot
// and fails when a reply differs; the page's Load replays a transcript's
// steps with the same per-step wait (runSteps).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"time"
)

// How long a step waits for the replies it causes, and the quiet period
// that ends the wait once they came. Variables so tests can shorten them.
var (
	stepTimeout = 5 * time.Second
	stepQuiet   = 300 * time.Millisecond
)

// scriptHelp describes the scenario format: shown with a scenario that
// does not parse (and fit for emulate's --help).
const scriptHelp = `A scenario file has one command a line; # starts a comment line:
  say TEXT               the customer types TEXT
  click LABEL            the customer clicks the button, chip, list row or card
                         button labelled LABEL (or with id LABEL) of the bot's
                         latest message offering it
  agent TEXT             the human agent types TEXT at the desk (botcopy)
  expect bot MATCH       the step's next bot message matches
  expect agent MATCH     the step's next agent message matches
  expect system MATCH    the step's next system line (handover, pause) matches
  expect error MATCH     the step fails with an error that matches
  expect none            the step gets no more bot or agent messages
MATCH is the message's text exactly, or /a regexp/ searched in the message as
the report shows it (header, text, footer, [buttons], media).
A transcript saved by the page (Save) works as a scenario too: its steps are
replayed and the bot's and agent's messages compared with the saved ones.`

// wants is what a step waits for before its quiet period may end it: a
// number of messages of each kind, or none (any replies, or none at all).
type wants struct {
	bot, agent, system int
	anything           bool // no expectation: wait for one reply of any kind
}

// stepRun is what one step caused.
type stepRun struct {
	replies []item // bot, agent and system chat lines, in order
	err     string // the step's failure: the first error line, or what the step returned
}

// describe renders a chat line on one line, as the report shows it and a
// /regexp/ expectation sees it.
func describe(it item) string {
	var parts []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s = strings.TrimSpace(s); s != "" {
				parts = append(parts, s)
			}
		}
	}
	labels := func(as []action) {
		for _, a := range as {
			add("[" + a.Label + "]")
		}
	}
	add(it.Header, it.Text, it.Footer)
	if md := it.Media; md != nil {
		add(strings.TrimSpace("(" + md.Kind + " " + md.Caption + " " + md.URL + ")"))
	}
	if l := it.Location; l != nil {
		add(fmt.Sprintf("(location %v, %v %s)", l.Latitude, l.Longitude, l.Name))
	}
	if it.Contact != "" {
		add("(contact " + strings.Join(strings.Fields(it.Contact), " ") + ")")
	}
	labels(it.Buttons)
	if l := it.List; l != nil {
		add("[list " + l.Button + "]")
		for _, sc := range l.Sections {
			labels(sc.Rows)
		}
	}
	for _, c := range it.Cards {
		add("[card " + strings.TrimSpace(c.Title+" "+c.Description) + "]")
		labels(c.Buttons)
	}
	add(it.Error)
	return strings.Join(parts, " ")
}

// label names a step in reports and errors: say "x", click "Opening hours".
func (s step) label() string {
	text := s.Text
	if s.Type == "click" && s.Action != nil {
		text = s.Action.Label
	}
	return fmt.Sprintf("%s %q", s.Type, text)
}

// perform runs one step as the page's API does.
func (e *emulator) perform(ctx context.Context, s step) error { return e.do(ctx, s) }

// runStep performs s and collects from live what it causes until it got what
// w waits for and nothing came for stepQuiet, or stepTimeout passed after
// the step itself returned. A failure the adapter did not show is shown
// as an error line, as the page does.
func (e *emulator) runStep(ctx context.Context, s step, live <-chan event, w wants) stepRun {
	var r stepRun
	done := make(chan error, 1)
	go func() { done <- e.perform(ctx, s) }()
	quiet := time.NewTimer(stepQuiet)
	defer quiet.Stop()
	limit := time.NewTimer(stepTimeout) // started when the step returns
	limit.Stop()
	defer limit.Stop()
	var deadline <-chan time.Time
	finished := false
	take := func(ev event) {
		if ev.Kind == "chat" && ev.Item != nil && ev.Item.From != "customer" {
			r.replies = append(r.replies, *ev.Item)
			if ev.Item.Error != "" && r.err == "" {
				r.err = ev.Item.Error
			}
		}
		quiet.Reset(stepQuiet)
	}
	for {
		select {
		case err := <-done:
			finished = true
			// What the adapter emitted before returning is in live already.
			for drained := false; !drained; {
				select {
				case ev := <-live:
					take(ev)
				default:
					drained = true
				}
			}
			if err != nil && r.err == "" {
				r.err = e.a.redactor(nil).Replace(err.Error())
				e.fail(err) // shown in the chat (it comes back on live)
			}
			limit.Reset(stepTimeout)
			deadline = limit.C
			quiet.Reset(stepQuiet)
		case ev, ok := <-live:
			if !ok {
				return r
			}
			take(ev)
		case <-quiet.C:
			if finished && r.satisfies(w) {
				return r
			}
		case <-deadline:
			return r
		case <-ctx.Done():
			if r.err == "" {
				r.err = ctx.Err().Error()
			}
			return r
		}
	}
}

// satisfies reports whether r holds what w waits for; a failed step waits
// for nothing more.
func (r stepRun) satisfies(w wants) bool {
	if r.err != "" {
		return true
	}
	var bot, agent, system int
	for _, it := range r.replies {
		switch {
		case it.From == "bot":
			bot++
		case it.From == "agent":
			agent++
		case it.Error == "":
			system++
		}
	}
	if w.anything {
		return len(r.replies) > 0
	}
	return bot >= w.bot && agent >= w.agent && system >= w.system
}

// listen returns the events emitted from now on, until cancel.
func (e *emulator) listen() (live <-chan event, cancel func()) {
	_, live, cancel = e.subscribe(math.MaxInt)
	return live, cancel
}

// runSteps performs the customer steps one at a time, each waiting for the replies it causes
// (bot or agent chat lines, and the deliveries' exchanges) until a short quiet period or a
// timeout, and returns how many ran and one error line per failed step ("step 2 (say \"x\"): the bot answered 400 ...").
func (e *emulator) runSteps(ctx context.Context, steps []step) (replayed int, errs []string) {
	live, cancel := e.listen()
	defer cancel()
	for i, s := range steps {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Sprintf("step %d (%s): not run: %v", i+1, s.label(), ctx.Err()))
			break
		}
		r := e.runStep(ctx, s, live, wants{anything: true})
		replayed++
		if r.err != "" {
			errs = append(errs, fmt.Sprintf("step %d (%s): %s", i+1, s.label(), r.err))
		}
	}
	return replayed, errs
}

// expectation is one "expect" of a scenario.
type expectation struct {
	line  int
	from  string // bot, agent, system, error, none
	text  string // exact text, or the saved message's describe (whole)
	re    *regexp.Regexp
	whole bool // compare describe(message), not its text: a transcript's line
}

func (x expectation) String() string {
	switch {
	case x.from == "none":
		return "expect none"
	case x.re != nil:
		return fmt.Sprintf("expect %s /%s/", x.from, x.re)
	}
	return fmt.Sprintf("expect %s %q", x.from, x.text)
}

// matches reports whether the message it (or the error text) meets x.
func (x expectation) matches(it item) bool {
	shown := describe(it)
	if x.re != nil {
		return x.re.MatchString(shown)
	}
	if x.whole {
		return shown == x.text
	}
	text := strings.TrimSpace(it.Text)
	if x.from == "error" {
		text = strings.TrimSpace(it.Error)
	}
	if text == "" {
		text = shown
	}
	return text == x.text
}

// scriptStep is a step of a scenario with what its replies must be.
type scriptStep struct {
	line    int // 0 for a transcript's step
	step    step
	click   string // a click to resolve against the bot's messages
	expects []expectation
	strict  bool // no bot or agent message beyond the expected ones (transcripts)
}

func (ss scriptStep) wants() wants {
	var w wants
	for _, x := range ss.expects {
		switch x.from {
		case "bot":
			w.bot++
		case "agent":
			w.agent++
		case "system":
			w.system++
		case "error", "none":
			return wants{} // quiet alone ends the step
		}
	}
	if w == (wants{}) {
		w.anything = true
	}
	return w
}

// parseScenario reads the line format (see scriptHelp).
func parseScenario(b []byte) ([]scriptStep, error) {
	var out []scriptStep
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch verb {
		case "say", "click", "agent":
			if rest == "" {
				return nil, fmt.Errorf("line %d: %s needs a text: %s TEXT", n, verb, verb)
			}
			ss := scriptStep{line: n, step: step{Type: verb, Text: rest}}
			if verb == "click" {
				ss.step, ss.click = step{Type: "click", Action: &action{Label: rest}}, rest
			}
			out = append(out, ss)
		case "expect":
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: an expect comes after the say, click or agent line whose replies it checks", n)
			}
			from, match, _ := strings.Cut(rest, " ")
			match = strings.TrimSpace(match)
			x := expectation{line: n, from: from}
			switch from {
			case "bot", "agent", "system", "error":
				if match == "" {
					return nil, fmt.Errorf("line %d: expect %s needs a text or a /regexp/", n, from)
				}
				if len(match) >= 2 && strings.HasPrefix(match, "/") && strings.HasSuffix(match, "/") {
					re, err := regexp.Compile(match[1 : len(match)-1])
					if err != nil {
						return nil, fmt.Errorf("line %d: the regexp %s: %v", n, match, err)
					}
					x.re = re
				} else {
					x.text = match
				}
			case "none":
				if match != "" {
					return nil, fmt.Errorf("line %d: expect none takes nothing after it", n)
				}
			default:
				return nil, fmt.Errorf("line %d: expect %q: want expect bot, agent, system, error or none", n, from)
			}
			last := &out[len(out)-1]
			last.expects = append(last.expects, x)
		default:
			return nil, fmt.Errorf("line %d: unknown command %q: want say, click, agent, expect, or # for a comment", n, verb)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the scenario has no step: write say TEXT, click LABEL or agent TEXT lines")
	}
	return out, nil
}

// fromTranscript turns a saved transcript into scenario steps: each step
// expects the bot and agent messages the saved chat shows after its
// customer line, exactly and no more.
func fromTranscript(t transcript, vendor string) ([]scriptStep, error) {
	if t.Vendor != "" && t.Vendor != vendor {
		return nil, fmt.Errorf("the transcript is of %q, this is %q: run botwire emulate %s", t.Vendor, vendor, t.Vendor)
	}
	if len(t.Steps) == 0 {
		return nil, errors.New("the transcript has no steps: save one from the page after chatting")
	}
	out := make([]scriptStep, len(t.Steps))
	for i, s := range t.Steps {
		out[i] = scriptStep{step: s, strict: true}
	}
	// The customer lines split the chat into the steps' replies; an agent
	// step shows no customer line, so the split is by customer steps.
	var customer []int
	for i, s := range t.Steps {
		if s.Type != "agent" {
			customer = append(customer, i)
		}
	}
	k := -1
	for _, it := range t.Chat {
		if it.From == "customer" {
			k++
			continue
		}
		if it.From != "bot" && it.From != "agent" {
			continue
		}
		i := 0
		if len(customer) > 0 {
			i = customer[max(0, min(k, len(customer)-1))]
		}
		out[i].expects = append(out[i].expects, expectation{from: it.From, text: describe(it), whole: true})
	}
	return out, nil
}

// loadScript reads file as a transcript (JSON) or a scenario.
func loadScript(file, vendor string) ([]scriptStep, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--script: %w", err)
	}
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '{' {
		var t transcript
		if err := json.Unmarshal(trimmed, &t); err != nil {
			return nil, fmt.Errorf("--script %s: not the transcript the page saves: %v", file, err)
		}
		steps, err := fromTranscript(t, vendor)
		if err != nil {
			return nil, fmt.Errorf("--script %s: %w", file, err)
		}
		return steps, nil
	}
	steps, err := parseScenario(b)
	if err != nil {
		return nil, fmt.Errorf("--script %s: %w\n\n%s", file, err, scriptHelp)
	}
	return steps, nil
}

// resolveClick finds the action labelled (or with the id) want in the
// newest bot message offering it, so the click delivers what the platform
// would for it.
func resolveClick(seen []item, want string) (*action, error) {
	var lastOffer []string
	for i := len(seen) - 1; i >= 0; i-- {
		it := seen[i]
		if it.From != "bot" {
			continue
		}
		var as []action
		as = append(as, it.Buttons...)
		if it.List != nil {
			for _, sc := range it.List.Sections {
				as = append(as, sc.Rows...)
			}
		}
		for _, c := range it.Cards {
			as = append(as, c.Buttons...)
		}
		if lastOffer == nil {
			for _, a := range as {
				lastOffer = append(lastOffer, fmt.Sprintf("%q", a.Label))
			}
		}
		for _, a := range as {
			if a.Label == want || (a.ID != "" && a.ID == want) {
				if a.Kind == "url" || a.Kind == "dial" {
					return nil, fmt.Errorf("%q is a link (%s): the widget opens it and the bot receives nothing", want, a.URL)
				}
				return &a, nil
			}
		}
	}
	if lastOffer == nil {
		return nil, fmt.Errorf("no bot message so far has a button, chip or row to click: say something first")
	}
	return nil, fmt.Errorf("no button, chip or row labelled %q (or with that id); the latest bot message offers %s", want, strings.Join(lastOffer, ", "))
}

// check compares a step's replies with its expectations and returns the
// first mismatch, writing one line per expectation to out.
func (ss scriptStep) check(r stepRun, out io.Writer) error {
	used := make([]bool, len(r.replies))
	next := func(kind string) (int, bool) {
		for i, it := range r.replies {
			if used[i] {
				continue
			}
			if kind == it.From && it.Error == "" || kind == "error" && it.Error != "" {
				return i, true
			}
		}
		return 0, false
	}
	expectsError := false
	for _, x := range ss.expects {
		expectsError = expectsError || x.from == "error"
	}
	if r.err != "" && !expectsError {
		fmt.Fprintf(out, "  FAIL the step failed: %s\n", r.err)
		return errors.New(r.err)
	}
	for _, x := range ss.expects {
		if x.from == "none" {
			if err := ss.noMore(r, used, out); err != nil {
				return err
			}
			continue
		}
		i, ok := next(x.from)
		if !ok && x.from == "error" {
			fmt.Fprintf(out, "  FAIL %s\n       expected: %s\n       got:      no error, the step succeeded\n", x, x.want())
			return fmt.Errorf("%s: expected an error matching %s, got none: the step succeeded", x, x.want())
		}
		if !ok {
			fmt.Fprintf(out, "  FAIL %s\n       expected: %s\n       got:      nothing within %v\n", x, x.want(), stepTimeout)
			return fmt.Errorf("%s: expected %s, got no %s message within %v", x, x.want(), x.from, stepTimeout)
		}
		used[i] = true
		if !x.matches(r.replies[i]) {
			got := describe(r.replies[i])
			fmt.Fprintf(out, "  FAIL %s\n       expected: %s\n       got:      %s\n", x, x.want(), got)
			return fmt.Errorf("%s: expected %s, got %q", x, x.want(), got)
		}
		fmt.Fprintf(out, "  ok   %s\n", x)
	}
	if ss.strict {
		return ss.noMore(r, used, out)
	}
	return nil
}

// want is the expectation as the report's "expected:" shows it.
func (x expectation) want() string {
	if x.re != nil {
		return "/" + x.re.String() + "/"
	}
	return fmt.Sprintf("%q", x.text)
}

// noMore fails when r has a bot or agent message not yet matched.
func (ss scriptStep) noMore(r stepRun, used []bool, out io.Writer) error {
	for i, it := range r.replies {
		if !used[i] && (it.From == "bot" || it.From == "agent") {
			got := it.From + ": " + describe(it)
			fmt.Fprintf(out, "  FAIL no more bot or agent messages expected\n       got:      %s\n", got)
			return fmt.Errorf("no more bot or agent messages expected, got %q", got)
		}
	}
	return nil
}

// runScript runs a scenario file headless against the bot and returns an error (exit 1) when a
// reply differs from what the scenario expects; it prints a readable report to stdout.
func runScript(ctx context.Context, e *emulator, file string, stdout io.Writer) error {
	steps, err := loadScript(file, e.vendor)
	if err != nil {
		return err
	}
	live, cancel := e.listen()
	defer cancel()
	fmt.Fprintf(stdout, "botwire emulate %s --script %s: %d steps\n", e.vendor, file, len(steps))
	var seen []item
	checked := 0
	for i, ss := range steps {
		name := fmt.Sprintf("step %d (%s", i+1, ss.step.label())
		if ss.line > 0 {
			name += fmt.Sprintf(", line %d", ss.line)
		}
		name += ")"
		fmt.Fprintln(stdout, name)
		s := ss.step
		if ss.click != "" {
			a, err := resolveClick(seen, ss.click)
			if err != nil {
				fmt.Fprintf(stdout, "  FAIL %v\nFAIL %s\n", err, name)
				return fmt.Errorf("%s: %w", name, err)
			}
			s.Action = a
		}
		r := e.runStep(ctx, s, live, ss.wants())
		seen = append(seen, r.replies...)
		for _, it := range r.replies {
			fmt.Fprintf(stdout, "  %-6s %s\n", it.From+":", describe(it))
		}
		if err := ss.check(r, stdout); err != nil {
			fmt.Fprintf(stdout, "FAIL %s\n", name)
			return fmt.Errorf("%s: %w", name, err)
		}
		checked += len(ss.expects)
	}
	fmt.Fprintf(stdout, "ok: %d steps, %d expectations met\n", len(steps), checked)
	return nil
}
