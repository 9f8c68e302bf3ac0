package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples that have a fake, each run as the README shows: the example
// built and started with its environment on a free port, `botwire fake`
// delivering customer lines to it and recording what its client sends.
var fakeExamples = []string{"onetalk-echo", "easydialog-echo", "userlike-faq", "ultimate-relay", "botcopy-handover"}

// exampleOutput is a buffer written by one goroutine (or process) and read
// by the test while it grows.
type exampleOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *exampleOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *exampleOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitOutput waits until out shows want, or fails showing what it has.
func waitOutput(t *testing.T, out fmt.Stringer, want, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q; it showed:\n%s", what, want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildExamples builds every example of fakeExamples into one directory,
// in one go build.
func buildExamples(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the go command is needed to build the examples: %v", err)
		}
		t.Skipf("the go command is needed to build the examples: %v", err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	// By import path, from this module: the workspace's tree in
	// development, the library's release as a user's build (and CI's
	// consumer check, which tests this module alone) resolves it.
	for _, name := range fakeExamples {
		args = append(args, "github.com/botwire/botwire/examples/"+name)
	}
	cmd := exec.Command(goTool, args...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return dir
}

// runningExample is a running example bot.
type runningExample struct {
	url   string         // http://127.0.0.1:PORT
	out   *exampleOutput // its standard output and error
	stdin io.WriteCloser // nil unless asked for
}

// startExample starts the built example name with env and PORT, and
// waits until it listens; it is killed at the end of the test.
func startExample(t *testing.T, dir, name string, withStdin bool, env ...string) *runningExample {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	e := &runningExample{url: "http://" + addr, out: &exampleOutput{}}
	cmd := exec.Command(filepath.Join(dir, name))
	cmd.Env = append(os.Environ(), append(env, "PORT="+port)...)
	cmd.Stdout, cmd.Stderr = e.out, e.out
	if withStdin {
		w, err := cmd.StdinPipe()
		require.NoError(t, err)
		e.stdin = w
	}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s wrote:\n%s", name, e.out)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return e
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening:\n%s", name, e.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s:\n%s", name, addr, e.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveFake is `botwire fake` running with a standard input the test
// writes line by line.
type liveFake struct {
	in   *io.PipeWriter
	out  *exampleOutput
	done chan error
}

func startFake(t *testing.T, args ...string) *liveFake {
	t.Helper()
	r, w := io.Pipe()
	f := &liveFake{in: w, out: &exampleOutput{}, done: make(chan error, 1)}
	var errOut exampleOutput
	go func() { f.done <- runFake(args, r, f.out, &errOut) }()
	t.Cleanup(func() {
		_ = w.Close()
		select {
		case <-f.done:
		case <-time.After(10 * time.Second):
			t.Errorf("botwire fake did not stop at the end of its input")
		}
		if t.Failed() {
			t.Logf("botwire fake %s wrote:\n%s%s", strings.Join(args, " "), f.out, &errOut)
		}
	})
	return f
}

// say types a customer line into the fake.
func (f *liveFake) say(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(f.in, line+"\n")
	require.NoError(t, err)
}

// stop ends the fake's input and returns the transcript once it exits.
func (f *liveFake) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, f.in.Close())
	select {
	case err := <-f.done:
		f.done <- err // for the cleanup
		require.NoError(t, err, "botwire fake failed:\n%s", f.out)
	case <-time.After(10 * time.Second):
		t.Fatalf("botwire fake did not stop at the end of its input:\n%s", f.out)
	}
	return f.out.String()
}

// postToExample sends a JSON body to the example and returns the status.
func postToExample(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// transcriptOf is what the relay's web chat API has for a conversation.
type transcriptOf struct{ url string }

func (r transcriptOf) String() string {
	resp, err := http.Get(r.url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestExamplesAgainstTheFakes(t *testing.T) {
	dir := buildExamples(t)
	const secret, apiKey = "example-secret-3b9d", "example-api-key-5c2e"

	t.Run("onetalk-echo", func(t *testing.T) {
		t.Parallel()
		fakeAddr := freeAddr(t)
		bot := startExample(t, dir, "onetalk-echo", false, "ONETALK_SECRET="+secret,
			"ONETALK_URL=http://"+fakeAddr+"/api/visitor/v1/webhook/chatbot/custom/2178/2619482363")
		f := startFake(t, "onetalk", "--bot", bot.url+"/onetalk", "--secret", secret, "--addr", fakeAddr)
		f.say(t, "hello")
		waitOutput(t, f.out, "You said: hello", "botwire fake onetalk")
		out := f.stop(t)
		assert.Contains(t, out, "customer  hello")
		assert.NotContains(t, out, secret)
	})

	t.Run("easydialog-echo", func(t *testing.T) {
		t.Parallel()
		bot := startExample(t, dir, "easydialog-echo", false, "EASYDIALOG_SIGNATURE_KEY="+secret)
		f := startFake(t, "easydialog", "--bot", bot.url+"/easydialog", "--secret", secret)
		f.say(t, "hello")
		waitOutput(t, f.out, "You said: hello", "botwire fake easydialog")
		f.say(t, "products")
		waitOutput(t, f.out, "MacBook Air", "botwire fake easydialog")
		out := f.stop(t)
		assert.Contains(t, out, "answered 200")
		assert.NotContains(t, out, secret)
	})

	t.Run("userlike-faq", func(t *testing.T) {
		t.Parallel()
		fakeAddr := freeAddr(t)
		bot := startExample(t, dir, "userlike-faq", false, "USERLIKE_WEBHOOK_HEADER=API-SECURITY-TOKEN",
			"USERLIKE_WEBHOOK_TOKEN="+secret, "USERLIKE_API_URL=http://"+fakeAddr, "USERLIKE_API_TOKEN="+apiKey)
		f := startFake(t, "userlike", "--bot", bot.url+"/userlike", "--header", "API-SECURITY-TOKEN", "--secret", secret,
			"--api-key", apiKey, "--addr", fakeAddr)
		f.say(t, "Delivery status")
		waitOutput(t, f.out, "Please send me your order ID.", "botwire fake userlike")
		f.say(t, "A-1001")
		// The answer comes later, through the bot's client, to the fake's API URL.
		waitOutput(t, f.out, "Order A-1001: shipped today", "botwire fake userlike")
		out := f.stop(t)
		assert.Contains(t, out, "Hi! I am the shop's bot.")
		assert.Contains(t, out, "bot ->    Userlike API")
		assert.NotContains(t, out, secret)
	})

	t.Run("ultimate-relay", func(t *testing.T) {
		t.Parallel()
		fakeAddr, pass := freeAddr(t), secret
		const botID = "618a30beee4e8e87d2f94015"
		bot := startExample(t, dir, "ultimate-relay", false, "ULTIMATE_API_KEY="+apiKey, "ULTIMATE_BOT_ID="+botID,
			"ULTIMATE_WEBHOOK_USER=ultimate", "ULTIMATE_WEBHOOK_PASSWORD="+pass, "ULTIMATE_API_URL=http://"+fakeAddr)
		f := startFake(t, "ultimate", "--bot", bot.url+"/ultimate/chat", "--actions", bot.url+"/ultimate/actions",
			"--user", "ultimate", "--password", pass, "--api-key", apiKey, "--bot-id", botID, "--addr", fakeAddr,
			"--conversation", "conversation-1")

		// A line typed into the fake is the virtual agent's message to the chat webhook.
		f.say(t, "Hello from the agent")
		waitOutput(t, f.out, "agent ->  bot chat sendMessage: answered 200", "botwire fake ultimate")
		waitOutput(t, transcriptOf{bot.url + "/chat/messages?conversationId=conversation-1"}, "Hello from the agent", "the relay's web chat")

		// The web chat's visitor goes through the relay's client to the fake,
		// whose scripted agent answers on the webhooks.
		web := transcriptOf{bot.url + "/chat/messages?conversationId=web-1"}
		require.Equal(t, http.StatusAccepted, postToExample(t, bot.url+"/chat/start", `{"conversationId":"web-1"}`))
		waitOutput(t, web, "I am the virtual agent", "the relay's web chat")
		require.Equal(t, http.StatusAccepted, postToExample(t, bot.url+"/chat/send", `{"conversationId":"web-1","text":"Order status"}`))
		waitOutput(t, web, "What is your order number?", "the relay's web chat")
		require.Equal(t, http.StatusAccepted, postToExample(t, bot.url+"/chat/send", `{"conversationId":"web-1","text":"A-1001"}`))
		waitOutput(t, web, "Order A-1001: shipped.", "the relay's web chat") // through the actions webhook
		waitOutput(t, f.out, "agent ->  bot actions", "botwire fake ultimate")
		out := f.stop(t)
		assert.Contains(t, out, "bot ->    Ultimate")
		assert.Contains(t, out, "A-1001")
		assert.NotContains(t, out, pass)
	})

	t.Run("botcopy-handover", func(t *testing.T) {
		t.Parallel()
		fakeAddr := freeAddr(t)
		bot := startExample(t, dir, "botcopy-handover", true, "BOTCOPY_ACCESS_TOKEN="+secret, "BOTCOPY_API_KEY="+apiKey,
			"BOTCOPY_API_URL=http://"+fakeAddr)
		f := startFake(t, "botcopy", "--bot", bot.url+"/botcopy", "--secret", secret, "--api-key", apiKey, "--addr", fakeAddr,
			"--conversation", "user-123")

		// The first line hands the user over to the desk, which pauses the bot.
		f.say(t, "I need a human")
		waitOutput(t, f.out, "paused true", "botwire fake botcopy")
		waitOutput(t, bot.out, "user-123 was handed over to you", "the desk")
		// The agent's line goes to the user through the desk's client.
		_, err := io.WriteString(bot.stdin, "Hi, this is the console agent\n")
		require.NoError(t, err)
		waitOutput(t, f.out, "Hi, this is the console agent", "botwire fake botcopy")

		// Without an agent the desk keeps serving, and leaves the user with the bot.
		require.NoError(t, bot.stdin.Close())
		waitOutput(t, bot.out, "agent console ended", "botcopy-handover")
		// Back with the bot, the fake sends a line to Dialogflow unless it
		// asks for another handover.
		f.say(t, "/handover anyone there?")
		waitOutput(t, bot.out, "stays with the bot", "the desk")
		out := f.stop(t)
		_, after, ok := strings.Cut(out, "customer  /handover anyone there?")
		require.True(t, ok, out)
		assert.NotContains(t, after, "paused true", "no agent, so no pause")
		assert.Contains(t, out, "answered 200")
		assert.NotContains(t, out, secret)
	})
}
