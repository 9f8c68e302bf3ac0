package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// queuePassword is the requirepass of the test's Redis: no output of the
// command may hold it.
const queuePassword = "queue-pw-7c31e9"

// startQueueRedis starts a redis-server of its own on a free loopback
// port, without persistence, with password as its requirepass (none when
// ""), killed when the test ends, and returns its address. Without the
// binary the test skips, unless BOTWIRE_REQUIRE_REDIS=1 (CI), where that
// fails.
func startQueueRedis(t *testing.T, password string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server is not installed and BOTWIRE_REQUIRE_REDIS=1: install it (apt-get install redis-server)")
		}
		t.Skip("redis-server is not installed; install it to run the queue verb's tests (BOTWIRE_REQUIRE_REDIS=1 makes this a failure)")
	}
	port := freePort(t)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	cmd := exec.Command(bin, args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer PING in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

// freePort returns a loopback port nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// queuePartitions is the test bot's redisstore.Options.Partitions, not the
// default: the command must be told (--partitions), or a replayed message
// would land in a partition the bot's consumers never read.
const queuePartitions = 4

// queueFixture is a Redis with a bot's queue in it, as the bot's
// replicas see it (the Store) and as the command reaches it (url).
type queueFixture struct {
	t      *testing.T
	url    string
	prefix string
	s      adminQueue // the Store, through the interface the command uses
}

func newQueueFixture(t *testing.T) *queueFixture {
	t.Helper()
	addr := startQueueRedis(t, queuePassword)
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: queuePassword})
	t.Cleanup(func() { rdb.Close() })
	const prefix = "qbot"
	rs := redisstore.New(rdb, redisstore.Options{Prefix: prefix, Partitions: queuePartitions, Queue: store.QueueOptions{MaxAttempts: 1, RetryDelay: 10 * time.Millisecond}})
	s, ok := any(rs).(adminQueue)
	if !ok {
		t.Fatal("*redisstore.Store does not implement store.QueueAdmin: the queue verbs cannot work")
	}
	t.Setenv("BOTWIRE_REDIS_URL", "")
	return &queueFixture{t: t, url: "redis://:" + queuePassword + "@" + addr + "/0", prefix: prefix, s: s}
}

// enqueue queues a message and returns its id.
func (f *queueFixture) enqueue(key, payload string, header map[string]string) string {
	f.t.Helper()
	id, err := f.s.Enqueue(context.Background(), store.Message{Key: key, Payload: []byte(payload), Header: header})
	require.NoError(f.t, err)
	return id
}

// killAll consumes the queue with a handler that always fails until dead
// dead letters are there (the store's MaxAttempts is 1), then stops.
func (f *queueFixture) killAll(dead int) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.s.Consume(ctx, "test-consumer", func(context.Context, store.Message) error {
			return errors.New("boom: downstream said no")
		})
	}()
	require.Eventually(f.t, func() bool {
		st, err := f.s.Stats(context.Background())
		return err == nil && st.Dead == dead && st.Pending+st.Running+st.Retrying == 0
	}, 15*time.Second, 20*time.Millisecond, "the failing consumer did not send every message to the dead letters")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		f.t.Fatal("Consume did not return after its context ended")
	}
}

// run runs "botwire queue args..." with --redis and --prefix added, and
// checks the password is in neither stream.
func (f *queueFixture) run(args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	return runQueueCmd(f.t, append(append([]string{}, args...), "--redis", f.url, "--prefix", f.prefix, "--partitions", strconv.Itoa(queuePartitions))...)
}

// runQueueCmd runs "botwire queue args..." in-process and checks that
// queuePassword is in neither of its streams.
func runQueueCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"queue"}, args...), strings.NewReader(""), &out, &errOut)
	assert.NotContains(t, out.String(), queuePassword, "stdout of %q", args)
	assert.NotContains(t, errOut.String(), queuePassword, "stderr of %q", args)
	return code, out.String(), errOut.String()
}

// stats reads the queue's stats through the command's --json.
func (f *queueFixture) stats() queueStatsJSON {
	f.t.Helper()
	code, out, errOut := f.run("stats", "--json")
	require.Equal(f.t, 0, code, errOut)
	var st queueStatsJSON
	require.NoError(f.t, json.Unmarshal([]byte(out), &st), out)
	return st
}

func (f *queueFixture) deadIDs() []string {
	f.t.Helper()
	dead, err := f.s.DeadLetters(context.Background())
	require.NoError(f.t, err)
	var ids []string
	for _, m := range dead {
		ids = append(ids, m.ID)
	}
	return ids
}

// line matches a line of a table: the name, spaces, the value.
func line(name, value string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+` + regexp.QuoteMeta(value) + `$`)
}

func TestQueueVerbs(t *testing.T) {
	f := newQueueFixture(t)
	f.enqueue("case-1", `{"n":1,"text":"hi"}`, map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	f.enqueue("case-2", "plain text\nsecond line", nil)
	f.enqueue("case-3", `{"n":3}`, nil)
	f.enqueue("case-4", `{"n":4}`, nil)
	f.killAll(4)
	f.enqueue("case-5", `{"n":5}`, nil)
	f.enqueue("case-6", `{"n":6}`, nil)

	// stats, as a table and as JSON.
	code, out, errOut := f.run("stats")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	for name, value := range map[string]string{"queue": "qbot", "pending": "2", "running": "0", "retrying": "0", "dead": "4", "paused": "false"} {
		assert.Regexp(t, line(name, value), out)
	}
	assert.Regexp(t, `(?m)^oldest\s+[0-9.]+(ms|s)$`, out)
	st := f.stats()
	assert.Equal(t, queueStatsJSON{Pending: 2, Dead: 4, OldestPending: st.OldestPending}, st)
	assert.Greater(t, st.OldestPending, 0.0)

	// dead: one line each, a page at a time.
	ids := f.deadIDs()
	require.Len(t, ids, 4)
	code, out, errOut = f.run("dead")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	assert.Regexp(t, `^ID\s+KEY\s+ATTEMPTS\s+ENQUEUED\s+ERROR$`, lines[0])
	for _, id := range ids {
		assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(id)+`\s+case-\d\s+1\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+boom: downstream said no$`, out)
	}
	assert.NotContains(t, out, "next:")
	assert.NotContains(t, out, `"n"`, "payloads without --payload")

	code, out, errOut = f.run("dead", "--limit", "3", "--payload")
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`(?m)^next: (\S+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "a first page of 3 of 4 prints the next cursor:\n%s", out)
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 5, out) // header, 3, next
	code, out2, errOut := f.run("dead", "--limit", "3", "--cursor", m[1], "--payload")
	require.Equal(t, 0, code, errOut)
	assert.Len(t, strings.Split(strings.TrimSpace(out2), "\n"), 2, out2) // header, the 4th
	assert.NotContains(t, out2, "next:")
	assert.Contains(t, out+out2, `{"n":1,"text":"hi"}`)
	assert.Contains(t, out+out2, `plain text\nsecond line`)
	for _, id := range ids {
		at := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + `\s`) // "5:..." is in "15:..."
		assert.True(t, at.MatchString(out) != at.MatchString(out2), "dead letter %s is on exactly one page", id)
	}

	code, out, errOut = f.run("dead", "--json")
	require.Equal(t, 0, code, errOut)
	var page struct {
		Messages []messageJSON `json:"messages"`
		Next     string        `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &page), out)
	assert.Len(t, page.Messages, 4)
	assert.Empty(t, page.Next)

	// show: the payload indented, the header.
	var first, text string
	for _, id := range ids {
		msg, err := f.s.Message(context.Background(), id)
		require.NoError(t, err)
		switch msg.Key {
		case "case-1":
			first = id
		case "case-2":
			text = id
		}
	}
	code, out, errOut = f.run("show", first)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, line("id", first), out)
	assert.Regexp(t, line("key", "case-1"), out)
	assert.Regexp(t, line("attempts", "1"), out)
	assert.Regexp(t, line("error", "boom: downstream said no"), out)
	assert.Regexp(t, line("header", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), out)
	assert.Contains(t, out, "payload (19 bytes):\n{\n  \"n\": 1,\n  \"text\": \"hi\"\n}\n")
	code, out, errOut = f.run("show", text)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "payload (22 bytes):\nplain text\nsecond line\n")
	code, out, errOut = f.run("show", first, "--json")
	require.Equal(t, 0, code, errOut)
	var shown messageJSON
	require.NoError(t, json.Unmarshal([]byte(out), &shown), out)
	assert.Equal(t, "case-1", shown.Key)
	assert.JSONEq(t, `{"n":1,"text":"hi"}`, string(shown.Payload))
	// show: a pending message too.
	pend, err := f.s.List(context.Background(), store.ListOptions{State: store.StatePending})
	require.NoError(t, err)
	require.Len(t, pend.Messages, 2)
	code, out, errOut = f.run("show", pend.Messages[0].ID)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, line("id", pend.Messages[0].ID), out)
	assert.Regexp(t, `(?m)^key\s+case-[56]$`, out)
	assert.Regexp(t, `payload \(7 bytes\):\n\{\n  "n": [56]\n\}\n`, out)
	assert.NotRegexp(t, `(?m)^error`, out)

	code, _, errOut = f.run("show", "1:1-0")
	assert.Equal(t, 1, code)
	assert.Equal(t, "botwire: no message \"1:1-0\" in queue \"qbot\"\n", errOut)

	// replay one: it is pending again.
	code, out, errOut = f.run("replay", first)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "replayed dead letter "+first)
	st = f.stats()
	assert.Equal(t, 3, st.Pending)
	assert.Equal(t, 3, st.Dead)
	assert.NotContains(t, f.deadIDs(), first)
	pending, err := f.s.List(context.Background(), store.ListOptions{State: store.StatePending})
	require.NoError(t, err)
	var keys []string
	for _, m := range pending.Messages {
		keys = append(keys, m.Key)
		p, _, _ := strings.Cut(m.ID, ":")
		assert.Contains(t, []string{"0", "1", "2", "3"}, p, "message %s is in one of the bot's %d partitions", m.ID, queuePartitions)
	}
	assert.Contains(t, keys, "case-1", "the replayed message is pending")
	code, _, errOut = f.run("replay", first)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no dead letter "+strconv.Quote(first))

	// delete one.
	code, out, errOut = f.run("delete", text)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "deleted dead letter "+text)
	assert.Equal(t, 2, f.stats().Dead)
	assert.NotContains(t, f.deadIDs(), text)
	code, _, errOut = f.run("delete", text)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no dead letter")

	// delete --all wants --yes.
	code, _, errOut = f.run("delete", "--all")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--yes")
	assert.Equal(t, 2, f.stats().Dead)

	// replay --all.
	code, out, errOut = f.run("replay", "--all")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "replayed 2 dead letter(s)")
	st = f.stats()
	assert.Equal(t, 5, st.Pending)
	assert.Equal(t, 0, st.Dead)

	// delete --all --yes.
	f.killAll(5)
	code, out, errOut = f.run("delete", "--all", "--yes", "--json")
	require.Equal(t, 0, code, errOut)
	assert.JSONEq(t, `{"deleted":5}`, out)
	assert.Equal(t, queueStatsJSON{}, f.stats())
	code, out, errOut = f.run("dead")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "no dead letters in queue \"qbot\"\n", out)

	// pause, resume.
	code, out, errOut = f.run("pause")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "paused")
	paused, err := f.s.Paused(context.Background())
	require.NoError(t, err)
	assert.True(t, paused)
	assert.True(t, f.stats().Paused)
	code, out, errOut = f.run("stats")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, line("paused", "true"), out)
	code, out, errOut = f.run("resume")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "resumed")
	paused, err = f.s.Paused(context.Background())
	require.NoError(t, err)
	assert.False(t, paused)
	assert.False(t, f.stats().Paused)

	// Another prefix is another queue; BOTWIRE_REDIS_URL stands for --redis.
	t.Setenv("BOTWIRE_REDIS_URL", f.url)
	code, out, errOut = runQueueCmd(t, "stats", "--prefix", "someone-else", "--json")
	require.Equal(t, 0, code, errOut)
	assert.JSONEq(t, `{"pending":0,"running":0,"retrying":0,"dead":0,"oldest_pending_seconds":0,"paused":false}`, out)
}

func TestQueueUsage(t *testing.T) {
	t.Setenv("BOTWIRE_REDIS_URL", "")
	url := "redis://:" + queuePassword + "@127.0.0.1:1/0"
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"--redis", url, "stats"}, // the subverb comes first
		{"stats"},                 // no --redis
		{"stats", "extra", "--redis", url},
		{"stats", "--nope", "--redis", url},
		{"stats", "--partitions", "0", "--redis", url},
		{"dead", "--limit", "0", "--redis", url},
		{"dead", "--limit", "x", "--redis", url},
		{"show", "--redis", url},
		{"show", "a", "b", "--redis", url},
		{"replay", "--redis", url},
		{"replay", "1-0", "--all", "--redis", url},
		{"delete", "--redis", url},
		{"delete", "--all", "--redis", url},
		{"pause", "now", "--redis", url},
		{"stats", "--redis", "http://:" + queuePassword + "@127.0.0.1:1/0"},
		{"stats", "--redis", "redis://:" + queuePassword + "@127.0.0.1:notaport/0"},
		{"stats", "--timeout", "redis://:" + queuePassword + "@h", "--redis", url},
	} {
		code, out, errOut := runQueueCmd(t, args...)
		assert.Equal(t, 2, code, "queue %q: %s", args, errOut)
		assert.NotEmpty(t, errOut, "queue %q explains on stderr", args)
		if code == 2 && strings.Contains(strings.Join(args, " "), "notaport") {
			assert.Contains(t, errOut, ":xxxxx@", "the URL is shown with its password masked")
		}
		_ = out
	}

	for _, args := range [][]string{{"--help"}, {"help"}, {"stats", "--help"}, {"dead", "-h"}, {"show", "--help"}, {"replay", "--help"}, {"delete", "--help"}, {"pause", "--help"}, {"resume", "--help"}} {
		code, out, errOut := runQueueCmd(t, args...)
		assert.Equal(t, 0, code, "queue %q: %s", args, errOut)
		assert.Contains(t, out, "Example:\n  botwire queue ", "queue %q", args)
	}
	code, out, _ := runQueueCmd(t, "stats", "--help")
	assert.Contains(t, out, "-redis")
	assert.Contains(t, out, "-prefix")
	assert.Contains(t, out, "-partitions")

	var top bytes.Buffer
	require.Equal(t, 0, run([]string{"--help"}, strings.NewReader(""), &top, &top))
	assert.Contains(t, top.String(), "botwire queue stats|dead|show")
	_ = code
}

// TestQueueFailures: a store that cannot be reached, or refuses the
// password, fails (exit 1) within seconds, and the password shows in no
// message, go-redis's included.
func TestQueueFailures(t *testing.T) {
	t.Setenv("BOTWIRE_REDIS_URL", "")
	start := time.Now()
	closed := fmt.Sprintf("redis://:%s@127.0.0.1:%d/0", queuePassword, freePort(t))
	code, _, errOut := runQueueCmd(t, "stats", "--redis", closed)
	assert.Equal(t, 1, code, errOut)
	assert.Less(t, time.Since(start), 5*time.Second, "an unreachable Redis fails fast")
	assert.Contains(t, errOut, "127.0.0.1")
	assert.Contains(t, errOut, ":xxxxx@", "the address is named with its password masked")

	// A black hole: the dial times out (10.255.255.1 is unroutable).
	start = time.Now()
	code, _, errOut = runQueueCmd(t, "dead", "--redis", "redis://:"+queuePassword+"@10.255.255.1:6379/0")
	assert.Equal(t, 1, code, errOut)
	assert.Less(t, time.Since(start), 6*time.Second, "a Redis that does not answer fails within the dial timeout")

	// A server that takes the connection and never answers: --timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	start = time.Now()
	code, _, errOut = runQueueCmd(t, "stats", "--timeout", "1s", "--redis", "redis://:"+queuePassword+"@"+silent.Addr().String()+"/0")
	assert.Equal(t, 1, code, errOut)
	assert.Less(t, time.Since(start), 4*time.Second, "--timeout bounds a Redis that does not answer")
	assert.Contains(t, errOut, "did not answer within 1s")
	assert.Contains(t, errOut, ":xxxxx@")

	addr := startQueueRedis(t, queuePassword)
	// The password in the environment, and a wrong one given: neither shows.
	wrong := "redis://:wrong-pw-51ad0c@" + addr + "/0"
	var out, errBuf bytes.Buffer
	code = run([]string{"queue", "stats", "--redis", wrong}, strings.NewReader(""), &out, &errBuf)
	assert.Equal(t, 1, code, errBuf.String())
	assert.NotContains(t, errBuf.String()+out.String(), "wrong-pw-51ad0c")
	assert.NotEmpty(t, errBuf.String())

	// Percent-encoded passwords are masked decoded and encoded.
	var out2, errBuf2 bytes.Buffer
	code = run([]string{"queue", "stats", "--redis", "redis://:p%40ss-word-9e@127.0.0.1:notaport/0"}, strings.NewReader(""), &out2, &errBuf2)
	assert.Equal(t, 2, code)
	assert.NotContains(t, errBuf2.String(), "p%40ss-word-9e")
	assert.NotContains(t, errBuf2.String(), "p@ss-word-9e")

	// The right password through $BOTWIRE_REDIS_URL works.
	t.Setenv("BOTWIRE_REDIS_URL", "redis://:"+queuePassword+"@"+addr+"/0")
	code, out3, errOut := runQueueCmd(t, "stats")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, line("dead", "0"), out3)
}
