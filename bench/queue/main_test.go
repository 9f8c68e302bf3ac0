package main

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestSmallRun runs every scenario for every implementation with small
// numbers and checks that each handled every message (nothing lost, no
// error), and that botwire kept every key's order without duplicates.
// Without redis-server it skips, unless BOTWIRE_REQUIRE_REDIS=1.
func TestSmallRun(t *testing.T) {
	cfg := defaultConfig()
	cfg.messages, cfg.e2eMessages, cfg.rounds = 200, 200, 1
	cfg.rate, cfg.latency, cfg.idle, cfg.failing = 200, 500*time.Millisecond, 500*time.Millisecond, 2*time.Second
	cfg.timeout = 20 * time.Second
	if testing.Verbose() {
		cfg.progress = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := run(ctx, cfg, io.Discard)
	if errors.Is(err, errNoRedis) {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatal(err.Error() + " and BOTWIRE_REQUIRE_REDIS=1")
		}
		t.Skip(err.Error() + " (BOTWIRE_REQUIRE_REDIS=1 makes this a failure)")
	}
	if err != nil {
		t.Fatal(err)
	}
	want := len(cfg.impls)*5 + len(e2eImpls)
	if len(rs) != want {
		t.Fatalf("%d measurements, want %d", len(rs), want)
	}
	for _, r := range rs {
		if r.err != nil {
			t.Errorf("%s %s: %v", r.scenario, r.impl, r.err)
		}
		if r.scenario == "idle" {
			continue
		}
		if !r.complete || r.tally.lost != 0 || r.tally.unique == 0 {
			t.Errorf("%s %s: %d handled, %d lost", r.scenario, r.impl, r.tally.unique, r.tally.lost)
		}
		if r.impl == "botwire" && (r.tally.violations != 0 || r.tally.dups != 0) {
			t.Errorf("%s botwire: %d order violations, %d duplicates", r.scenario, r.tally.violations, r.tally.dups)
		}
	}
}

func TestPayload(t *testing.T) {
	it := newItem(keyName(7), 42, 1024)
	if len(it.payload) != 1024 {
		t.Fatalf("payload of %d bytes", len(it.payload))
	}
	before := time.Now().UnixNano()
	m, err := parsePayload(it.stamp())
	if err != nil {
		t.Fatal(err)
	}
	if m.key != "case-07" || m.seq != 42 || m.enq < before || m.enq > time.Now().UnixNano() {
		t.Fatalf("parsed %+v", m)
	}
}

func TestSumCalls(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_xadd:calls=10,usec=5,usec_per_call=0.5,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_evalsha:calls=3,usec=9,usec_per_call=3.0,rejected_calls=0,failed_calls=1\r\n"
	n, err := sumCalls(info)
	if err != nil || n != 13 {
		t.Fatalf("sumCalls = %d, %v; want 13", n, err)
	}
}

func TestPlanOrder(t *testing.T) {
	pl := plan(1000, 8, 64, 64)
	if total(pl) != 1000 {
		t.Fatalf("%d messages planned", total(pl))
	}
	owner := map[string]int{}
	next := map[string]int{}
	for p, items := range pl {
		for _, it := range items {
			if o, ok := owner[it.key]; ok && o != p {
				t.Fatalf("key %s sent by producers %d and %d", it.key, o, p)
			}
			owner[it.key] = p
			next[it.key]++
			if it.seq != next[it.key] {
				t.Fatalf("key %s: seq %d, want %d", it.key, it.seq, next[it.key])
			}
		}
	}
	if len(owner) != 64 {
		t.Fatalf("%d keys used", len(owner))
	}
}
