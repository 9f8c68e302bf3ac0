package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The example against a real redis-server it starts on a free loopback
// port: each tenant's OneTalk gets its own replies, the same case id in two
// tenants is two cases, globex's old secret still works, and acme's secret
// on globex's path is refused.
func TestTwoTenantsOnOneHandlerAndOneRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server is not installed and BOTWIRE_REQUIRE_REDIS=1: install it (apt-get install redis-server)")
		}
		t.Skip("redis-server is not installed; install it to run this test (BOTWIRE_REQUIRE_REDIS=1 makes this a failure)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, "redis://"+addr+"/0", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"OneTalk(acme) -> bot: answered 200",
		"OneTalk(globex) -> bot: answered 200",
		"OneTalk(globex, old secret) -> bot: answered 200",
		"OneTalk(acme's secret, globex's path) -> bot: answered 401",
		"acme <- CASE-1: acme heard you: hello from acme",
		"globex <- CASE-1: globex heard you: hello from globex",
		"globex <- CASE-2: globex heard you: sent with the old secret",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "not yours") {
		t.Errorf("the refused delivery ran:\n%s", out.String())
	}
}
