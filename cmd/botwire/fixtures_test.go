package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// composedFixtures are the fixtures built for botwire from the docs'
// tables and fragments, for events the docs describe without a whole
// example; every other fixture is a copy of a testdata file.
var composedFixtures = map[string]bool{
	"onetalk/text": true, "onetalk/text_telegram": true, "onetalk/image": true, "onetalk/document": true,
	"onetalk/video": true, "onetalk/location": true, "onetalk/template_button": true,
	"onetalk/list_reply": true, "onetalk/flow_reply": true,
	"easydialog/picture": true, "easydialog/video": true, "easydialog/audio": true, "easydialog/file": true, "easydialog/file_list": true,
	"easydialog/location": true, "easydialog/contact": true,
	"userlike/message": true, "userlike/click": true, "userlike/start_with_message": true,
	"userlike/forward_failed": true,
}

func TestFixtureEveryFileHasADescription(t *testing.T) {
	files := map[string]bool{}
	for _, v := range vendors {
		for _, n := range fixtureNames(v) {
			files[v+"/"+n] = true
			d := fixtureDescriptions[v+"/"+n]
			assert.NotEmpty(t, d, "fixture %s/%s has no description in fixtureDescriptions", v, n)
			assert.NotContains(t, d, "\n", "%s/%s: one line", v, n)
			assert.Regexp(t, `\((doc example|built from |external: )`, d, "%s/%s: the description says where the body comes from", v, n)
			if composedFixtures[v+"/"+n] {
				assert.NotRegexp(t, `\(doc example\)$|\(external: `, d, "%s/%s is composed: say so", v, n)
			}
		}
	}
	for k := range fixtureDescriptions {
		assert.True(t, files[k], "fixtureDescriptions has %s, which is no file of fixtures/", k)
	}
	for k := range composedFixtures {
		assert.True(t, files[k], "composedFixtures has %s, which is no file of fixtures/", k)
	}
}

// The fixtures copied from testdata are identical to it; the others are
// the composed ones.
func TestFixtureCopiesMatchTestdata(t *testing.T) {
	for _, v := range vendors {
		for _, n := range fixtureNames(v) {
			b, ok := fixture(v, n)
			require.True(t, ok)
			require.True(t, json.Valid(b), "%s/%s", v, n)
			var found bool
			for _, dir := range []string{"doc", "external"} {
				if td, err := os.ReadFile(golden.Path(v + "/" + dir + "/" + n + ".json")); err == nil {
					assert.Equal(t, string(td), string(b), "%s/%s drifted from testdata", v, n)
					found = true
				}
			}
			assert.True(t, found != composedFixtures[v+"/"+n],
				"%s/%s: a testdata copy (found %v) or in composedFixtures (%v), exactly one", v, n, found, composedFixtures[v+"/"+n])
		}
	}
}

func TestFixtureList(t *testing.T) {
	for _, v := range vendors {
		code, out, errOut := botwire(t, "", "send", v, "--list")
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		names := fixtureNames(v)
		require.Len(t, lines, len(names), out)
		col := -1
		for i, l := range lines {
			name, desc, ok := strings.Cut(l, "  ")
			require.True(t, ok, l)
			assert.Equal(t, names[i], name, "sorted by name")
			assert.Equal(t, fixtureDescriptions[v+"/"+name], strings.TrimLeft(desc, " "))
			start := len(l) - len(strings.TrimLeft(desc, " "))
			if col < 0 {
				col = start
			}
			assert.Equal(t, col, start, "descriptions aligned: %q", l)
		}
	}
	_, out, _ := botwire(t, "", "send", "onetalk", "--list")
	assert.Contains(t, out, "list_reply ")
	assert.Contains(t, out, "built from the doc's field table")
}

// recorder is a bot built with the library for each vendor, noting what
// its callbacks received, one line per delivery.
type recorder struct {
	mu  sync.Mutex
	got []string
	raw [][]byte
}

func (r *recorder) note(raw []byte, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf(format, args...))
	r.raw = append(r.raw, append([]byte(nil), raw...))
}

func (r *recorder) last(t *testing.T) (string, []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.got, "the callback did not run")
	return r.got[len(r.got)-1], r.raw[len(r.raw)-1]
}

// vendorBot is a recording bot of vendor with the flags send needs to
// reach it: a server for its webhook and, for Ultimate, one for actions.
type vendorBot struct {
	rec          *recorder
	chat, action *httptest.Server
	flags        []string
}

func newVendorBot(t *testing.T, vendor string) *vendorBot {
	t.Helper()
	rec := &recorder{}
	b := &vendorBot{rec: rec, flags: []string{"--secret", secret}}
	var h http.Handler
	var err error
	switch vendor {
	case "onetalk":
		h, err = onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
			m := r.Message
			media := ""
			switch {
			case m.Document != nil:
				media = "document " + m.Document.Filename
			case m.Image != nil:
				media = "image"
			case m.Video != nil:
				media = "video"
			case m.Location != nil:
				media = fmt.Sprintf("location %v,%v", m.Location.Latitude, m.Location.Longitude)
			}
			rec.note(r.Raw, "%s %s type=%s reply=%q body=%q %s", r.CaseID, r.ChannelType, m.Type, m.ReplyID(), m.Body(), media)
			return nil
		})
	case "easydialog":
		h, err = easydialog.NewHandler(secret, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
			var kinds []string
			raw := map[string]json.RawMessage{}
			body, _ := json.Marshal(r.Message.Body)
			_ = json.Unmarshal(body, &raw)
			for k := range raw {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			rec.note(r.Raw, "%s %s text=%q", r.Channel, strings.Join(kinds, ","), r.Message.Text())
			return nil, nil
		})
	case "userlike":
		b.flags = append(b.flags, "--header", "API-SECURITY-TOKEN")
		h, err = userlike.NewHandler(func(_ context.Context, e *userlike.Event, _ *userlike.Reply) error {
			extra := ""
			if c, err := e.Click(); err == nil {
				extra = "click=" + c.Value.ID
			}
			rec.note(e.Raw, "%s text=%q %s", e.Packet.Name, e.Text(), extra)
			return nil
		}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", secret))
	case "ultimate":
		b.flags = append(b.flags, "--header", "X-Ultimate-Token")
		h, err = ultimate.NewChatHandler(ultimate.ChatCallbacks{
			OnMessage: func(_ context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
				var buttons []string
				for _, x := range m.Buttons {
					buttons = append(buttons, x.Text)
				}
				rec.note(e.Raw, "message %s text=%q buttons=%v cards=%d", m.Type, m.Text, buttons, len(m.CarouselCards))
				return nil
			},
			OnEscalate: func(_ context.Context, e *ultimate.ChatEvent, x *ultimate.Escalation) error {
				rec.note(e.Raw, "escalate to=%s", x.EscalateTo)
				return nil
			},
			OnTeamOnline: func(_ context.Context, e *ultimate.ChatEvent, q *ultimate.TeamOnlineQuery) (bool, error) {
				rec.note(e.Raw, "isTeamOnline team=%s", q.TeamID)
				return true, nil
			},
			OnWidgetEvent: func(_ context.Context, e *ultimate.ChatEvent, w *ultimate.WidgetEvent) error {
				rec.note(e.Raw, "widget %s", w.EventType)
				return nil
			},
		}, ultimate.WithWebhookHeader("X-Ultimate-Token", secret))
		require.NoError(t, err)
		ah, err := ultimate.NewActionHandler(func(_ context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
			rec.note(r.Raw, "action %s", r.Name)
			return nil, nil
		}, ultimate.WithWebhookHeader("X-Ultimate-Token", secret))
		require.NoError(t, err)
		b.action = httptest.NewServer(ah)
		t.Cleanup(b.action.Close)
	case "botcopy":
		h, err = botcopy.NewHandler(secret, func(_ context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
			rec.note(r.Raw, "%s text=%q history=%d", r.Kind(), r.Text(), len(r.MessageHistory))
			return botcopy.PauseFor(10), nil
		})
	}
	require.NoError(t, err)
	b.chat = httptest.NewServer(h)
	t.Cleanup(b.chat.Close)
	return b
}

// url is where fixture name goes: Ultimate's actions have their own
// webhook.
func (b *vendorBot) url(name string) string {
	if b.action != nil && strings.HasPrefix(name, "webhook_action") {
		return b.action.URL
	}
	return b.chat.URL
}

// send delivers name (with extra flags) and returns the exit code and
// what the callback noted.
func (b *vendorBot) send(t *testing.T, vendor, name string, extra ...string) (code int, got string, raw []byte, out, errOut string) {
	t.Helper()
	before := len(b.rec.got)
	args := append([]string{"send", vendor, name, "--to", b.url(name)}, b.flags...)
	code, out, errOut = botwire(t, "", append(args, extra...)...)
	if code == 0 {
		require.Greater(t, len(b.rec.got), before, "exit 0 but the callback did not run\n%s", out)
		got, raw = b.rec.last(t)
	}
	return code, got, raw, out, errOut
}

// TestFixtureReachesTheHandler delivers every fixture with send to a bot
// built with the library: each is accepted (2xx) and reaches the callback
// of its event with the doc's values.
func TestFixtureReachesTheHandler(t *testing.T) {
	want := map[string]string{
		"onetalk/inbound_request":                                 `FBED34A1EF whatsappba type=text reply="/agent" body="Talk to agent" `,
		"onetalk/inbound_request_composed_from_docHEAD_fragments": `FBED34A1EF whatsappba type=text reply="/agent" body="Talk to agent" `,
		"onetalk/text":            `FBED34A1EF whatsappba type=text reply="" body="Hello world" `,
		"onetalk/text_telegram":   `FBED34A1EF telegram type=text reply="" body="Hello world" `,
		"onetalk/image":           `FBED34A1EF whatsappba type=image reply="" body="" image`,
		"onetalk/document":        `FBED34A1EF whatsappba type=document reply="" body="" document Receipt.pdf`,
		"onetalk/video":           `FBED34A1EF whatsappba type=video reply="" body="" video`,
		"onetalk/location":        `FBED34A1EF whatsappba type=location reply="" body="" location -6.1972252057581,106.76131798074`,
		"onetalk/template_button": `FBED34A1EF whatsappba type=text reply="reschedule" body="Reschedule" `,
		"onetalk/list_reply":      `FBED34A1EF whatsappba type=text reply="/agent 0" body="More options" `,
		"onetalk/flow_reply":      `FBED34A1EF whatsappba type=text reply="" body="Sent" `,

		"easydialog/request_example":          `viber textMessage text="Hi"`,
		"easydialog/request_schema_datamodel": `string textMessage text="string"`,
		"easydialog/request_schema_method":    `string textMessage text="string"`,
		"easydialog/picture":                  `viber pictureMessage text=""`,
		"easydialog/video":                    `viber videoMessage text=""`,
		"easydialog/audio":                    `viber audioMessage text=""`,
		"easydialog/file":                     `viber fileMessage text=""`,
		"easydialog/file_list":                `viber fileListMessage text=""`,
		"easydialog/location":                 `viber locationMessage text=""`,
		"easydialog/contact":                  `viber contactMessage text=""`,

		"userlike/webhook_event_start":                 `start text="" `,
		"userlike/webhook_event_channel_detection":     `start text="" `,
		"userlike/start_with_message":                  `start text="start" `,
		"userlike/message":                             `message text="talk to support" `,
		"userlike/click":                               `click text="start" click=start`,
		"userlike/forward_failed":                      `forward_failed text="" `,
		"userlike/inbound_message_aliz-ai_hello":       `message text="Hello, I have a question about my balance." `,
		"userlike/inbound_message_aliz-ai_card_number": `message text="1234" `,
		"userlike/inbound_message_aliz-ai_no_thanks":   `message text="No thanks" `,

		"ultimate/webhook_sendMessage_text":                         `message text text="Hello, this is a bot text message" buttons=[] cards=0`,
		"ultimate/webhook_sendMessage_buttons":                      `message text text="its a bot text message with 2 buttons" buttons=[YES NO] cards=0`,
		"ultimate/webhook_sendMessage_three_buttons":                `message text text="This is a virtual agent message text" buttons=[YES NO Maybe] cards=0`,
		"ultimate/webhook_sendMessage_carousel":                     `message carousel text="" buttons=[] cards=2`,
		"ultimate/webhook_sendMessage_carousel_two_cards":           `message carousel text="" buttons=[] cards=2`,
		"ultimate/webhook_escalate":                                 `escalate to=string`,
		"ultimate/webhook_escalate_zendesk-doc":                     `escalate to=team_123`,
		"ultimate/webhook_isTeamOnline":                             `isTeamOnline team=string`,
		"ultimate/webhook_isTeamOnline_zendesk-doc":                 `isTeamOnline team=team_abc`,
		"ultimate/webhook_widgetEscalate_zendesk-doc":               `widget widgetEscalate`,
		"ultimate/webhook_converse_widgetMessage_template-postman":  `widget widgetMessage`,
		"ultimate/webhook_action":                                   `action string`,
		"ultimate/webhook_action_developer-ultimate-doc_commafixed": `action updateCustomerBalance`,
		"ultimate/webhook_action_template-postman":                  `action updateUserBalanace`,

		"botcopy/webhook_step_one":                          `trigger text="Where is my order?" history=3`,
		"botcopy/webhook_step_two":                          `user_message text="My order A-1001 has not arrived." history=0`,
		"botcopy/webhook_step1_trigger_legacy-2023-02":      `trigger text="handover" history=0`,
		"botcopy/webhook_step2_user_message_legacy-2023-02": `user_message text="help me please" history=0`,
	}
	for _, v := range vendors {
		b := newVendorBot(t, v)
		for _, n := range fixtureNames(v) {
			t.Run(v+"/"+n, func(t *testing.T) {
				code, got, _, out, errOut := b.send(t, v, n)
				require.Equal(t, 0, code, "%s\n%s", out, errOut)
				w, ok := want[v+"/"+n]
				require.NotEmpty(t, w)
				require.True(t, ok, "no expectation for %s/%s: add it to want", v, n)
				assert.Equal(t, w, got)
			})
		}
	}
}

// TestSetOverridesReachTheBot sends fixtures with --set to bots built with
// the library: the values reach the callback, and the body's other bytes
// are the fixture's.
func TestSetOverridesReachTheBot(t *testing.T) {
	ot := newVendorBot(t, "onetalk")
	code, got, raw, out, errOut := ot.send(t, "onetalk", "text", "--set", "message.text.body=menu", "--set", "caseID=C-42")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, `C-42 whatsappba type=text reply="" body="menu" `, got)
	orig, _ := fixture("onetalk", "text")
	want := strings.Replace(strings.Replace(string(orig), "Hello world", "menu", 1), "FBED34A1EF", "C-42", 1)
	assert.Equal(t, want, string(raw), "only the two values changed, key order and spacing kept")
	assert.Contains(t, out, "fixture text, --set message.text.body, --set caseID")

	// A new key in an existing object, indented as its neighbours.
	code, _, raw, out, errOut = ot.send(t, "onetalk", "text", "--set", "sender.customerUserID=user:6281234567890")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, string(raw), "\"contactName\": \"John Doe\",\n    \"customerUserID\": \"user:6281234567890\"\n  },")

	// A value that is JSON is sent as JSON.
	code, got, _, out, errOut = ot.send(t, "onetalk", "location", "--set", "message.location.latitude=1.5")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, got, "location 1.5,106.76131798074")

	// ... so a number where the bot wants a string is refused by it: exit 1.
	code, _, _, out, errOut = ot.send(t, "onetalk", "text", "--set", "message.text.body=42")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "< 400")
	assert.Contains(t, errOut, "the bot answered 400")
	// Quoted, it is the string "42".
	code, got, _, out, errOut = ot.send(t, "onetalk", "text", "--set", `message.text.body="42"`)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, got, `body="42"`)

	// Indexes.
	um := newVendorBot(t, "ultimate")
	code, got, _, out, errOut = um.send(t, "ultimate", "webhook_sendMessage_buttons",
		"--set", "data.buttons[1].text=Maybe", "--set", "data.text=Choose one")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, `message text text="Choose one" buttons=[YES Maybe] cards=0`, got)
	code, got, _, out, errOut = um.send(t, "ultimate", "webhook_action_template-postman", "--set", "data[1].value[0]=99.5")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, "action updateUserBalanace", got)

	// Easy Dialog signs the final body: the handler verifies it.
	ed := newVendorBot(t, "easydialog")
	code, got, raw, out, errOut = ed.send(t, "easydialog", "request_example", "--set", "message.body.textMessage.content=hello")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, `viber textMessage text="hello"`, got)
	assert.NotContains(t, string(raw), "2022-06-09 12:26", "the timestamp is still set to now")
	// A --set of the timestamp wins over the fresh one (and the handler
	// then refuses a delivery of 2022: its maximum age).
	code, _, _, out, _ = ed.send(t, "easydialog", "request_example", "--set", "message.timestamp.date=2022-06-09 12:26:15.904000")
	assert.Equal(t, 1, code, out)

	ul := newVendorBot(t, "userlike")
	code, got, _, out, errOut = ul.send(t, "userlike", "click", "--set", "packet.payload.value.id=support")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, `click text="support" click=support`, got)
}

// TestSetErrors: a --set that cannot apply is a usage error (exit 2) that
// names the path, and nothing is sent.
func TestSetErrors(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer srv.Close()
	for _, c := range []struct {
		vendor, fixture, set, want string
	}{
		{"onetalk", "text", "message.nope.x=1", "--set message.nope.x=1: message.nope does not exist (only the last key of a path may be new)"},
		{"onetalk", "text", "message.text.body.x=1", "message.text.body is a string, not an object"},
		{"onetalk", "text", "caseID[0]=x", "caseID is a string, not an array"},
		{"onetalk", "text", "[0]=x", "the body is an object, not an array"},
		{"ultimate", "webhook_sendMessage_buttons", "data.buttons[5].text=x", "data.buttons has 2 elements, no index 5"},
		{"ultimate", "webhook_sendMessage_buttons", "data.buttons[0].nope.x=1", "data.buttons[0].nope does not exist"},
		{"onetalk", "text", "novalue", `botwire: --set "novalue": want path=value`},
		{"onetalk", "text", "=1", "empty path"},
		{"onetalk", "text", "a[x]=1", `index "x" is not a number`},
		{"onetalk", "text", "a[-1]=1", `index "-1" is not a number`},
		{"onetalk", "text", "a[0=1", "[ without ]"},
		{"onetalk", "text", "a]=1", "] without ["},
		{"onetalk", "text", "a..b=1", "a dot must sit between two keys"},
		{"onetalk", "text", ".a=1", "a dot must sit between two keys"},
		{"onetalk", "text", "a.=1", "a dot must sit between two keys"},
		{"onetalk", "text", "a[0]b=1", "a key after an index needs a dot"},
		{"onetalk", "text", secret, "[REDACTED]"}, // a credential given by mistake is not shown
	} {
		code, out, errOut := botwire(t, "", "send", c.vendor, c.fixture, "--to", srv.URL, "--secret", secret,
			"--header", "X-Token", "--set", c.set)
		if c.vendor == "onetalk" {
			code, out, errOut = botwire(t, "", "send", c.vendor, c.fixture, "--to", srv.URL, "--secret", secret, "--set", c.set)
		}
		assert.Equal(t, 2, code, "%s: %s", c.set, out)
		assert.Contains(t, errOut, c.want, c.set)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		assert.NotContains(t, errOut, secret)
	}
	assert.Zero(t, hits, "nothing was sent")
}

func TestSetApply(t *testing.T) {
	for _, c := range []struct{ body, set, want string }{
		{`{"a":1}`, "b=2", `{"a":1,"b":2}`},
		{`{}`, "b=2", `{"b":2}`},
		{`{ }`, "b=x", `{ "b":"x"}`},
		{"{\n  \"a\": 1\n}", "b=2", "{\n  \"a\": 1,\n  \"b\": 2\n}"},
		{"{\n  \"a\": 1,\n  \"c\": 3\n}", "b=2", "{\n  \"a\": 1,\n  \"c\": 3,\n  \"b\": 2\n}"},
		{`[{"a":[1,2,{"c":"x"}]}]`, "[0].a[2].c=y", `[{"a":[1,2,{"c":"y"}]}]`},
		{`[1,2]`, "[1]=3", `[1,3]`},
		{`{"s":"a\"}]b,","t":1}`, "t=2", `{"s":"a\"}]b,","t":2}`},
		{`{"o":{"x":[1,{"y":[]}]},"p":0}`, "o=5", `{"o":5,"p":0}`},
		{`{"o":{"x":[1,{"y":[]}]},"p":0}`, "p=5", `{"o":{"x":[1,{"y":[]}]},"p":5}`},
		{`{"a":1}`, `b={ "x" : [1, 2] }`, `{"a":1,"b":{"x":[1,2]}}`},
		{`{"\u0061":1}`, "a=2", `{"\u0061":2}`},
		{`{"a":1,"a":2}`, "a=3", `{"a":1,"a":3}`},
		{`{}`, `k"=1`, `{"k\"":1}`},
		{`{"a":1}`, "a=null", `{"a":null}`},
		{`{"a":1}`, "a=true", `{"a":true}`},
		{`{"a":1}`, "a=007", `{"a":"007"}`},
		{`{"a":1}`, `a="007"`, `{"a":"007"}`},
		{`{"a":1}`, "a=hello world", `{"a":"hello world"}`},
		{`{"a":1}`, "a=", `{"a":""}`},
		{`{"a":1}`, "a=x=y", `{"a":"x=y"}`},
		{`{"a":1.50e3}`, "b=1", `{"a":1.50e3,"b":1}`},
	} {
		s, err := parseSets(sets{c.set})
		require.NoError(t, err, c.set)
		got, note, err := applySets([]byte(c.body), s)
		require.NoError(t, err, c.set)
		assert.Equal(t, c.want, string(got), "%s on %s", c.set, c.body)
		assert.True(t, json.Valid(got))
		assert.Equal(t, "--set "+pathString(s[0].path), note)
	}
}

// TestSetEveryLeafOfEveryFixture sets each value of every fixture, and adds
// a key to each of its objects: the result is the fixture decoded with that
// one change.
func TestSetEveryLeafOfEveryFixture(t *testing.T) {
	for _, v := range vendors {
		for _, n := range fixtureNames(v) {
			body, _ := fixture(v, n)
			var orig any
			require.NoError(t, json.Unmarshal(body, &orig))
			var walk func(x any, path string, set func(any) any)
			check := func(path string, change func(any) any) {
				s, err := parseSets(sets{path + `="X"`})
				require.NoError(t, err, path)
				got, _, err := applySets(body, s)
				require.NoError(t, err, "%s/%s %s", v, n, path)
				var g any
				require.NoError(t, json.Unmarshal(got, &g), "%s/%s %s:\n%s", v, n, path, got)
				var want any
				_ = json.Unmarshal(body, &want)
				want = change(want)
				assert.Equal(t, want, g, "%s/%s %s", v, n, path)
			}
			walk = func(x any, path string, at func(any) any) {
				switch x := x.(type) {
				case map[string]any:
					const newKey = "botwire_new"
					check(join(path, newKey), func(root any) any {
						at(root).(map[string]any)[newKey] = "X"
						return root
					})
					for k, e := range x {
						if strings.ContainsAny(k, ".[]") || k == "" {
							continue // not addressable by a path
						}
						walk(e, join(path, k), func(root any) any { return at(root).(map[string]any)[k] })
						check(join(path, k), func(root any) any { at(root).(map[string]any)[k] = "X"; return root })
					}
				case []any:
					for i, e := range x {
						p := fmt.Sprintf("%s[%d]", path, i)
						walk(e, p, func(root any) any { return at(root).([]any)[i] })
						check(p, func(root any) any { at(root).([]any)[i] = "X"; return root })
					}
				}
			}
			walk(orig, "", func(root any) any { return root })
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
