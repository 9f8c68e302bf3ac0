package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/onetalk"
)

// scriptCase returns the emulator case of vendor from emuCases.
func scriptCase(t *testing.T, vendor string) emuCase {
	t.Helper()
	for _, c := range emuCases() {
		if c.vendor == vendor {
			return c
		}
	}
	t.Fatalf("no emulator case for %s", vendor)
	return emuCase{}
}

// writeScript writes text to a file of the test and returns its path.
func writeScript(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "scenario.txt")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	return file
}

// runScriptOn runs the scenario text against a fresh emulator of c and
// returns the report and the error.
func runScriptOn(t *testing.T, c emuCase, text string) (string, error) {
	t.Helper()
	_, e := startEmulator(t, c)
	var out strings.Builder
	err := runScript(context.Background(), e, writeScript(t, text), &out)
	return out.String(), err
}

// The scenarios each vendor's example bot passes.
var passing = map[string]string{
	"onetalk": `# the OneTalk echo bot
say menu
expect bot /How can we help you\? .*\[Opening hours\] \[Talk to agent\]/
click Opening hours
expect bot We are open Monday to Friday, 9:00 to 17:00.
expect none
say hello
expect bot You said: hello
`,
	"easydialog": `say menu
expect bot Pick one
click Prices
expect bot You picked prices
`,
	"botcopy": `say I need a human
expect agent An agent will be right with you
agent Hi, I am Ada
expect agent /Ada/
`,
	"userlike": `say hello
expect bot /What do you need\?/
click Delivery
expect bot You chose delivery
`,
	"ultimate": `say hello
expect bot /How can I help\?/
click Order status
expect bot What is your order number?
`,
}

func TestScriptPasses(t *testing.T) {
	for _, vendor := range []string{"onetalk", "easydialog", "botcopy", "userlike", "ultimate"} {
		t.Run(vendor, func(t *testing.T) {
			out, err := runScriptOn(t, scriptCase(t, vendor), passing[vendor])
			require.NoError(t, err, out)
			assert.Contains(t, out, "ok: ")
			assert.NotContains(t, out, "FAIL")
			assert.NotContains(t, out, secret)
			if testing.Verbose() {
				t.Log(out)
			}
		})
	}
}

// A reply that differs fails the run with the step, what was expected and
// what came.
func TestScriptFailsOnADifferentReply(t *testing.T) {
	for _, c := range []struct {
		vendor, script string
		want           []string
	}{
		{"onetalk", "say menu\nexpect bot /help/\nclick Opening hours\nexpect bot We are closed\n",
			[]string{`step 2 (click "Opening hours", line 3)`, `"We are closed"`, "We are open Monday to Friday"}},
		{"onetalk", "say hello\nexpect bot /^Goodbye/\n",
			[]string{`step 1 (say "hello", line 1)`, "/^Goodbye/", "You said: hello"}},
		{"onetalk", "say hello\nexpect none\n",
			[]string{`step 1 (say "hello", line 1)`, "no more bot or agent messages expected", "You said: hello"}},
		{"easydialog", "say menu\nclick Nothing like it\n",
			[]string{`step 2 (click "Nothing like it", line 2)`, `no button, chip or row labelled "Nothing like it"`, `"Prices"`}},
		{"botcopy", "say I need a human\nexpect agent Somebody else\n",
			[]string{`step 1 (say "I need a human", line 1)`, `"Somebody else"`, "An agent will be right with you"}},
		{"botcopy", "say help\nexpect error /401/\n",
			[]string{`step 1 (say "help", line 1)`, "expected an error matching /401/", "the step succeeded"}},
	} {
		t.Run(c.vendor, func(t *testing.T) {
			out, err := runScriptOn(t, scriptCase(t, c.vendor), c.script)
			require.Error(t, err, out)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, out, "FAIL")
		})
	}
}

// failingBot answers every delivery 400.
var failingBot = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "no such bot", http.StatusBadRequest)
})

// A bot answering 400 fails the step, unless the scenario expects it.
func TestScriptBotAnswers400(t *testing.T) {
	for _, vendor := range []string{"onetalk", "easydialog", "botcopy"} {
		t.Run(vendor, func(t *testing.T) {
			c := scriptCase(t, vendor)
			c.bot = func(*testing.T, string) http.Handler { return failingBot }
			out, err := runScriptOn(t, c, "say hello\nexpect bot /anything/\n")
			require.Error(t, err, out)
			assert.Contains(t, err.Error(), `step 1 (say "hello", line 1)`)
			assert.Contains(t, err.Error(), "400")

			out, err = runScriptOn(t, c, "# the bot is expected to refuse\nsay hello\nexpect error /400/\n")
			require.NoError(t, err, out)
		})
	}
}

// A transcript saved from the page replays as a scenario: the same bot
// passes, a changed saved line fails.
func TestScriptTranscriptRoundTrip(t *testing.T) {
	for _, vendor := range []string{"onetalk", "easydialog", "botcopy"} {
		t.Run(vendor, func(t *testing.T) {
			c := scriptCase(t, vendor)
			page, e := startEmulator(t, c)
			steps := []step{{Type: "say", Text: c.say}}
			if vendor == "botcopy" {
				steps = append(steps, step{Type: "say", Text: "still there?"})
			}
			n, errs := e.runSteps(context.Background(), steps)
			require.Equal(t, len(steps), n)
			require.Empty(t, errs)
			if c.click != "" {
				got := waitItem(t, page.URL, c.reply)
				a, err := resolveClick([]item{got}, c.click)
				require.NoError(t, err)
				_, errs = e.runSteps(context.Background(), []step{{Type: "click", Action: a}})
				require.Empty(t, errs)
			}
			var tr transcript
			require.NoError(t, json.Unmarshal(mustGet(t, page.URL+"/api/transcript"), &tr))
			var lines int
			for _, it := range tr.Chat {
				if it.From == "bot" || it.From == "agent" {
					lines++
				}
			}
			require.Positive(t, lines, "the saved chat has the bot's replies")
			file := filepath.Join(t.TempDir(), "transcript.json")
			b, _ := json.Marshal(tr)
			require.NoError(t, os.WriteFile(file, b, 0o600))

			_, again := startEmulator(t, c)
			var out strings.Builder
			require.NoError(t, runScript(context.Background(), again, file, &out), out.String())
			assert.Contains(t, out.String(), "ok: ")

			var changed string
			for i := range tr.Chat {
				if it := &tr.Chat[i]; it.From == "bot" || it.From == "agent" {
					changed, it.Text = it.Text, "something else entirely"
					break
				}
			}
			b, _ = json.Marshal(tr)
			require.NoError(t, os.WriteFile(file, b, 0o600))
			_, third := startEmulator(t, c)
			out.Reset()
			err := runScript(context.Background(), third, file, &out)
			require.Error(t, err, out.String())
			assert.Contains(t, err.Error(), "step 1 (say ")
			assert.Contains(t, err.Error(), "something else entirely")
			assert.Contains(t, err.Error(), changed, "the report shows the line the bot sent")

			tr.Vendor = "userlike"
			b, _ = json.Marshal(tr)
			require.NoError(t, os.WriteFile(file, b, 0o600))
			err = runScript(context.Background(), third, file, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "botwire emulate userlike")
		})
	}
}

// slowEcho is a OneTalk bot that acknowledges at once and answers a while
// later, as a bot with a queue does.
func slowEcho(t *testing.T, platform string) http.Handler {
	c, err := onetalk.NewClient(platform, secret)
	require.NoError(t, err)
	h, err := onetalk.NewHandler(secret, func(_ context.Context, in *onetalk.InboundRequest) error {
		text := in.Message.Body()
		go func() {
			time.Sleep(150 * time.Millisecond)
			_ = c.SendMessages(context.Background(), in.CaseID, onetalk.NewText("echo: "+text))
		}()
		return nil
	})
	require.NoError(t, err)
	return h
}

// runSteps (the page's Load) waits for each step's replies before the next
// step: the chat reads question, answer, question, answer.
func TestScriptRunStepsWaitsPerStep(t *testing.T) {
	c := scriptCase(t, "onetalk")
	c.bot = slowEcho
	page, e := startEmulator(t, c)
	n, errs := e.runSteps(context.Background(), []step{{Type: "say", Text: "one"}, {Type: "say", Text: "two"}, {Type: "say", Text: "three"}})
	assert.Equal(t, 3, n)
	assert.Empty(t, errs)
	var chat []string
	for _, ev := range history(t, page.URL) {
		if ev.Item != nil && (ev.Item.From == "customer" || ev.Item.From == "bot") {
			chat = append(chat, ev.Item.From+": "+ev.Item.Text)
		}
	}
	assert.Equal(t, []string{"customer: one", "bot: echo: one", "customer: two", "bot: echo: two", "customer: three", "bot: echo: three"}, chat)
}

// runSteps reports each failed step on one line and runs the others.
func TestScriptRunStepsReportsErrors(t *testing.T) {
	for _, vendor := range []string{"onetalk", "easydialog", "botcopy"} {
		t.Run(vendor, func(t *testing.T) {
			c := scriptCase(t, vendor)
			c.bot = func(*testing.T, string) http.Handler { return failingBot }
			_, e := startEmulator(t, c)
			n, errs := e.runSteps(context.Background(), []step{{Type: "say", Text: "x"}, {Type: "say", Text: "y"}})
			assert.Equal(t, 2, n)
			require.Len(t, errs, 2)
			assert.True(t, strings.HasPrefix(errs[0], `step 1 (say "x"): `), errs[0])
			assert.Contains(t, errs[0], "400")
			assert.True(t, strings.HasPrefix(errs[1], `step 2 (say "y"): `), errs[1])
		})
	}
	// An agent step where there is no desk is a step error, not a panic.
	_, e := startEmulator(t, scriptCase(t, "easydialog"))
	_, errs := e.runSteps(context.Background(), []step{{Type: "agent", Text: "hi"}})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "only Botcopy has a desk side")
}

func TestScriptParse(t *testing.T) {
	steps, err := parseScenario([]byte("# c\n\nsay hi there\nexpect bot /^Hi/\nexpect system handed over\nclick Opening hours\nexpect none\nagent yo\nexpect error x\n"))
	require.NoError(t, err)
	require.Len(t, steps, 3)
	assert.Equal(t, step{Type: "say", Text: "hi there"}, steps[0].step)
	assert.Equal(t, 3, steps[0].line)
	require.Len(t, steps[0].expects, 2)
	assert.Equal(t, "^Hi", steps[0].expects[0].re.String())
	assert.Equal(t, "handed over", steps[0].expects[1].text)
	assert.Equal(t, "Opening hours", steps[1].click)
	assert.Equal(t, wants{}, steps[1].wants())
	assert.Equal(t, wants{bot: 1, system: 1}, steps[0].wants())
	for text, want := range map[string]string{
		"expect bot x\n":           "line 1: an expect comes after",
		"say hi\nfrobnicate\n":     `line 2: unknown command "frobnicate"`,
		"say hi\nexpect bot\n":     "line 2: expect bot needs a text",
		"say hi\nexpect bot /(/\n": "line 2: the regexp /(/",
		"say hi\nexpect foo x\n":   `line 2: expect "foo"`,
		"say\n":                    "line 1: say needs a text",
		"# nothing\n":              "no step",
	} {
		_, err := parseScenario([]byte(text))
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want, text)
	}
}

// A click finds the action in the newest bot message offering it, and
// refuses a link.
func TestScriptResolveClick(t *testing.T) {
	seen := []item{
		{From: "bot", Buttons: []action{{Kind: "reply", ID: "/old", Label: "Opening hours"}}},
		{From: "bot", Text: "Pick", List: &list{Button: "Menu", Sections: []section{{Rows: []action{{Kind: "row", ID: "r1", Label: "Row one"}}}}},
			Cards:   []card{{Title: "c", Buttons: []action{{Kind: "url", Label: "Site", URL: "https://example.com"}}}},
			Buttons: []action{{Kind: "reply", ID: "/hours", Label: "Opening hours"}}},
	}
	a, err := resolveClick(seen, "Opening hours")
	require.NoError(t, err)
	assert.Equal(t, "/hours", a.ID)
	a, err = resolveClick(seen, "r1")
	require.NoError(t, err)
	assert.Equal(t, "row", a.Kind)
	_, err = resolveClick(seen, "Site")
	assert.ErrorContains(t, err, "is a link")
	_, err = resolveClick(nil, "x")
	assert.ErrorContains(t, err, "say something first")
}

// A file that is no scenario says why and shows the format.
func TestScriptLoadErrors(t *testing.T) {
	_, err := loadScript(filepath.Join(t.TempDir(), "missing.txt"), "onetalk")
	assert.ErrorContains(t, err, "--script")
	_, err = loadScript(writeScript(t, "sya hello\n"), "onetalk")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 1: unknown command "sya"`)
	assert.Contains(t, err.Error(), "expect none", "the format follows")
	_, err = loadScript(writeScript(t, `{"vendor": "onetalk", "steps": 3}`), "onetalk")
	assert.ErrorContains(t, err, "not the transcript the page saves")
	_, err = loadScript(writeScript(t, `{"vendor": "onetalk", "steps": []}`), "onetalk")
	assert.ErrorContains(t, err, "no steps")
}
