package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	edecho "github.com/botwire/botwire/examples/easydialog-echo/echo"
	otecho "github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/internal/golden"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

const secret = "cli-secret-7a1f0c"

// botwire runs the command in-process.
func botwire(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpForEveryVerb(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"fake", "--help"}, {"send", "--help"}, {"sign", "--help"}} {
		code, out, _ := botwire(t, "", args...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "Usage", args)
		if len(args) > 1 {
			assert.Contains(t, out, "Example:", args)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := botwire(t, "", "version")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "botwire "+onetalk.Version+" go"), "%q", out)
}

func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"deploy"},
		{"send", "slack", "x", "--to", "http://127.0.0.1:1"},
		{"send", "onetalk", "inbound_request"},
		{"send", "onetalk", "inbound_request", "--to", "http://127.0.0.1:1"}, // no --secret
		{"send", "onetalk", "--nope"},
		{"sign", "onetalk", "--key", "k"},
		{"sign", "easydialog"},
		{"fake", "onetalk", "--secret", "s"},
		{"fake", "userlike", "--bot", "http://127.0.0.1:1"},
		{"fake", "teams", "--bot", "http://127.0.0.1:1"},
	} {
		code, _, errOut := botwire(t, "", args...)
		assert.Equal(t, 2, code, args)
		if len(args) > 0 {
			assert.True(t, strings.HasPrefix(errOut, "botwire: ") || strings.Contains(errOut, "flag provided"), "%v: %q", args, errOut)
		}
	}
}

func TestSign(t *testing.T) {
	body := golden.Read(t, "easydialog/signed/request_php.json")
	key := string(golden.Read(t, "easydialog/signed/key.txt"))
	want := strings.TrimSpace(string(golden.Read(t, "easydialog/signed/signature.txt")))
	code, out, _ := botwire(t, string(body), "sign", "easydialog", "--key", key)
	require.Equal(t, 0, code)
	assert.Equal(t, want+"\n", out, "the openssl vector")

	file := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(file, body, 0o600))
	code, out, _ = botwire(t, "", "sign", "easydialog", file, "--key", key)
	require.Equal(t, 0, code)
	assert.Equal(t, want+"\n", out)

	code, _, errOut := botwire(t, "", "sign", "easydialog", "--key", key, filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "reading the body")
}

// The built-in fixtures are the doc's examples, byte for byte.
// bots returns, per vendor, a webhook that authenticates with secret and
// the fixture it answers 200 to.
func bots(t *testing.T) map[string]struct {
	h       http.Handler
	fixture string
	extra   []string
} {
	t.Helper()
	ot, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil })
	require.NoError(t, err)
	ed, err := easydialog.NewHandler(secret, edecho.Bot)
	require.NoError(t, err)
	ul, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
		r.Add(userlike.Message("You said: " + e.Text()))
		return nil
	}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", secret))
	require.NoError(t, err)
	um, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil },
	}, ultimate.WithWebhookHeader("X-Ultimate-Token", secret))
	require.NoError(t, err)
	bc, err := botcopy.NewHandler(secret, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.PauseFor(10), nil
	})
	require.NoError(t, err)
	return map[string]struct {
		h       http.Handler
		fixture string
		extra   []string
	}{
		"onetalk":    {ot, "inbound_request", nil},
		"easydialog": {ed, "request_example", nil},
		"userlike":   {ul, "inbound_message_aliz-ai_hello", []string{"--header", "API-SECURITY-TOKEN"}},
		"ultimate":   {um, "webhook_sendMessage_text", []string{"--header", "X-Ultimate-Token"}},
		"botcopy":    {bc, "webhook_step_two", nil},
	}
}

func TestSendEveryVendor(t *testing.T) {
	for vendor, b := range bots(t) {
		t.Run(vendor, func(t *testing.T) {
			srv := httptest.NewServer(b.h)
			defer srv.Close()
			args := append([]string{"send", vendor, b.fixture, "--to", srv.URL, "--secret", secret}, b.extra...)
			code, out, errOut := botwire(t, "", args...)
			require.Equal(t, 0, code, "%s\n%s", out, errOut)
			assert.Contains(t, out, "< 200 OK")
			assert.NotContains(t, out, secret, "no secret without --show-secret")
			if vendor == "easydialog" {
				assert.Contains(t, out, `"textMessage"`, "the pretty answer")
			}

			// A wrong credential is refused: exit 1, one line on stderr.
			args = append([]string{"send", vendor, b.fixture, "--to", srv.URL, "--secret", "wrong"}, b.extra...)
			code, out, errOut = botwire(t, "", args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, out, "< 401")
			assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)

			// The body may come from standard input, and --show-secret shows the credential.
			body, _ := fixture(vendor, b.fixture)
			body = freshTimestamp(body, time.Now()) // a body of its own is sent as it is
			args = append([]string{"send", vendor, "-", "--to", srv.URL, "--secret", secret, "--show-secret"}, b.extra...)
			code, out, _ = botwire(t, string(body), args...)
			require.Equal(t, 0, code)
			if vendor != "easydialog" {
				assert.Contains(t, out, secret)
			}
		})
	}
}

func TestSendBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(notJSON, []byte(`{"caseID":`), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	ln.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	for name, args := range map[string][]string{
		"unreadable file": {"send", "onetalk", filepath.Join(dir, "missing.json"), "--to", srv.URL, "--secret", "s"},
		"invalid JSON":    {"send", "onetalk", notJSON, "--to", srv.URL, "--secret", "s"},
		"unreachable bot": {"send", "onetalk", "inbound_request", "--to", closed, "--secret", "s"},
	} {
		code, _, errOut := botwire(t, "", args...)
		assert.Equal(t, 1, code, name)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%s: %q", name, errOut)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestFakeOneTalkWithTheEchoBot(t *testing.T) {
	addr := freeAddr(t)
	// The example echo bot answers through its client, to the fake's URL.
	client, err := onetalk.NewClient("http://"+addr+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363", secret)
	require.NoError(t, err)
	bot, err := onetalk.NewHandler(secret, otecho.Bot(client))
	require.NoError(t, err)
	srv := httptest.NewServer(bot)
	defer srv.Close()
	code, out, errOut := botwire(t, "hello\nmenu\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--addr", addr)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "OneTalk URL  http://"+addr)
	assert.Contains(t, out, "customer  hello")
	assert.Contains(t, out, "answered 200")
	assert.Contains(t, out, "You said: hello", "the bot's reply, recorded by the fake")
	assert.NotContains(t, out, secret)
}

func TestFakeEveryVendor(t *testing.T) {
	old := quietAfter // these bots answer without calling the platform
	quietAfter = 50 * time.Millisecond
	t.Cleanup(func() { quietAfter = old })
	for vendor, b := range bots(t) {
		t.Run(vendor, func(t *testing.T) {
			srv := httptest.NewServer(b.h)
			defer srv.Close()
			args := append([]string{"fake", vendor, "--bot", srv.URL, "--secret", secret, "--api-key", "api-key-1"}, b.extra...)
			code, out, errOut := botwire(t, "hi there\n", args...)
			require.Equal(t, 0, code, "%s\n%s", out, errOut)
			assert.Contains(t, out, "customer  hi there")
			assert.NotContains(t, out, secret)
			switch vendor {
			case "easydialog":
				assert.Contains(t, out, "You said: hi there")
			case "userlike":
				assert.Contains(t, out, "You said: hi there")
			case "ultimate":
				assert.Contains(t, out, "agent ->  bot chat sendMessage: answered 200")
			case "botcopy":
				assert.Contains(t, out, "paused true")
			default:
				assert.Contains(t, out, "answered 200")
			}
		})
	}

	// A bot that refuses the delivery makes the run fail.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	code, out, _ := botwire(t, "hi\n", "fake", "onetalk", "--bot", srv.URL, "--secret", secret, "--redeliver-after", "10ms")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "answered 500")
}

func TestFakeUltimateWithTheRelay(t *testing.T) {
	r := &relay.Relay{TeamOnline: func(string) bool { return true }, OrderStatus: func(string) string { return "shipped" }}
	chat, err := ultimate.NewChatHandler(r.Callbacks(), ultimate.WithoutAuthentication())
	require.NoError(t, err)
	srv := httptest.NewServer(chat)
	defer srv.Close()
	code, out, errOut := botwire(t, "Hello from the agent\n", "fake", "ultimate", "--bot", srv.URL, "--api-key", "k", "--conversation", "conversation-1")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	entries := r.Transcript("conversation-1", 0)
	require.NotEmpty(t, entries)
	assert.Equal(t, "Hello from the agent", entries[0].Text)
	_ = io.Discard
}

// No credential given to send is printed, even when the bot echoes it in
// its answer's headers and body (as a framework's debug page does): the
// --secret, --password and their basic-auth value, the --custom-header
// value, the Easy Dialog signature, and the password of a --to URL.
func TestSendRedactsWhatTheBotEchoes(t *testing.T) {
	edBody, _ := fixture("easydialog", "request_example")
	basic := func(user, pass string) string { return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)) }
	for _, c := range []struct {
		name        string
		args        []string
		userinfo    string
		credentials []string
	}{
		{"onetalk", []string{"onetalk", "inbound_request", "--secret", secret}, "", []string{secret}},
		{"easydialog", []string{"easydialog", "request_example", "--secret", secret}, "", []string{secret, easydialog.Sign(edBody, secret)}},
		{"userlike", []string{"userlike", "inbound_message_aliz-ai_hello", "--header", "API-SECURITY-TOKEN", "--secret", secret}, "", []string{secret}},
		{"ultimate", []string{"ultimate", "webhook_sendMessage_text", "--header", "X-Token", "--secret", secret, "--user", "bob", "--password", "pass-6f0e"},
			"", []string{secret, "pass-6f0e", basic("bob", "pass-6f0e")}},
		{"botcopy", []string{"botcopy", "webhook_step_two", "--secret", secret, "--custom-header", "X-Portal: custom-value-81d2"}, "", []string{secret, "custom-value-81d2"}},
		{"URL password", []string{"userlike", "inbound_message_aliz-ai_hello"}, "alice:url-pass-3b9d", []string{"url-pass-3b9d", basic("alice", "url-pass-3b9d")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(&echoBot{})
			defer srv.Close()
			to := srv.URL
			if c.userinfo != "" {
				to = "http://" + c.userinfo + "@" + strings.TrimPrefix(srv.URL, "http://")
			}
			code, out, errOut := botwire(t, "", append([]string{"send", "--to", to}, c.args...)...)
			require.Equal(t, 0, code, "%s\n%s", out, errOut)
			assert.Contains(t, out, "X-Echo-", "the bot echoed the request")
			for _, cred := range c.credentials {
				assert.NotContains(t, out+errOut, cred)
			}
		})
	}
}

// Neither does fake print a credential the bot echoes, nor a --bot URL's
// password.
func TestFakeRedactsWhatTheBotEchoes(t *testing.T) {
	bot := &echoBot{}
	srv := httptest.NewServer(bot)
	defer srv.Close()
	to := "http://alice:url-pass-3b9d@" + strings.TrimPrefix(srv.URL, "http://")
	code, out, errOut := botwire(t, "hello\n", "fake", "easydialog", "--bot", to, "--secret", secret)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "you sent")
	for _, cred := range append(bot.values(easydialog.SignatureHeader), secret, "url-pass-3b9d") {
		assert.NotContains(t, out+errOut, cred)
	}
}

// The doc's Easy Dialog examples are from 2022: send refreshes their
// timestamp so a handler's maximum age does not refuse them, and keeps the
// rest of the bytes.
func TestFreshTimestamp(t *testing.T) {
	body, ok := fixture("easydialog", "request_example")
	require.True(t, ok)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	got := freshTimestamp(body, now)
	req, err := easydialog.ParseRequest(got)
	require.NoError(t, err)
	ts, err := req.Message.Timestamp.Time()
	require.NoError(t, err)
	assert.True(t, now.Equal(ts), "%v, want %v", ts, now)
	assert.Equal(t, string(timestampRE.ReplaceAll(body, nil)), string(timestampRE.ReplaceAll(got, nil)), "only the timestamp changed")
}

// A bot that redirects send elsewhere does not get the credential sent
// there.
func TestSendKeepsTheSecretFromAnotherOrigin(t *testing.T) {
	got := make(chan http.Header, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer elsewhere.Close()
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer bot.Close()
	code, out, errOut := botwire(t, "", "send", "onetalk", "inbound_request", "--to", bot.URL, "--secret", secret)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Empty(t, (<-got).Get(onetalk.SecretHeader))
}
