// Command queue benchmarks botwire's Redis queue (store/redisstore through
// the store.Queue interface) against hibiken/asynq, watermill's Redis
// Streams pub/sub and a hand-written go-redis "floor", on one loopback
// redis-server that it starts itself (redis-server from PATH, on a free
// 127.0.0.1 port, --save "" --appendonly no, stopped at exit). Without
// redis-server it prints why and exits 0. It is a module of its own, so
// asynq and watermill never reach botwire's users:
//
//	cd bench/queue && go run .                          # 3 rounds, about 12 min
//	cd bench/queue && go run . -rounds 1 -failing 10s   # one round, about 3 min
//	cd bench/queue && go run . -h                       # every flag
//
// The workload (flags): -producers 8 goroutines enqueue, -consumers 4
// consume (one Consume call per goroutine for botwire, asynq's
// Concurrency, that many watermill subscribers in one consumer group,
// that many XREADGROUP readers for the floor), over -keys 64 keys (case
// ids) with -size 1024-byte payloads, -messages 10000 per round in the
// throughput scenarios. Each payload carries its key, the key's sequence
// number and the enqueue time; producer p owns the keys k with
// k%producers == p, so each key's messages are enqueued in order. The
// handler does nothing but record what it saw.
//
// Every scenario runs for every implementation on a FLUSHALL'd Redis with
// fresh clients, interleaved: round r runs each scenario for each
// implementation, the implementations in an order rotated by r, so a slow
// moment of the shared machine does not fall on one implementation
// (-rounds 3). The tables give the median over rounds, and "×asynq" the
// ratio to asynq's median (above 1: more than asynq — better for a rate,
// worse for a latency or a command count). The figures:
//
//   - drain: every message enqueued first, then the consumers start;
//     messages processed per second from the consumers' start to the last
//     message handled.
//   - burst: producers and consumers at once; messages processed per
//     second from the start to the last message handled.
//   - cmds/msg: Redis commands per message over the burst scenario
//     (INFO commandstats: the sum of calls= over the cmdstat_* lines,
//     after less before; commands run by Lua scripts count, as Redis
//     counts them).
//   - latency: -rate 500 messages/s offered for -latency 10s, spread over
//     the producers with a ticker each; p50 and p99 of the time from
//     enqueue to the handler's start ("offered" is the rate the producers
//     achieved).
//   - idle: consumers running with nothing to do for -idle 5s: Redis
//     commands per second (what an idle bot costs its Redis).
//   - failing: the latency scenario's rate for -failing 30s while the
//     handler of one key (case-00) fails every attempt; then it heals and
//     everything drains. p99 of the other keys' latency beside the latency
//     scenario's p99 of the same round, and their ratio (1 = one key's
//     failure costs the others nothing). botwire runs with
//     QueueOptions{RetryDelay: 1s, MaxAttempts: 1000}, asynq with a 1 s
//     RetryDelayFunc, MaxRetry(1000) and DelayedTaskCheckInterval 1s,
//     watermill with NackResendSleep 1s, the floor re-runs a failed
//     message 1 s later (it stays pending meanwhile).
//   - order: for each scenario, summed over rounds, the per-key order
//     violations (a handler saw sequence n of a key after n' > n of the
//     same key), duplicates (a sequence handled again after it succeeded)
//     and lost messages (never handled before the -timeout). botwire
//     promises per-key order; asynq, watermill and the floor do not, so
//     violations there are expected.
//   - e2e: OneTalk deliveries over loopback HTTP, signed as the fake
//     OneTalk signs them (X-Secret-Key), to onetalk.NewHandler with
//     WithQueue(redisstore, consumers), beside a hand-written net/http
//     webhook that enqueues into asynq; deliveries per second (as fast as
//     the producers post, from the first post to the last callback) and
//     p50/p99 from the webhook's post to the callback's start at -rate.
//
// Each implementation runs on its defaults otherwise. botwire:
// redisstore.New(rdb, Options{Prefix: "bench", Partitions: 16}), so its
// Options.Poll and Queue.Lease are redisstore's. asynq: a processor that
// finds the queue empty sleeps 0.5–1.5 s (TaskCheckInterval 1 s), which its
// latency shows. A figure marked * had a round that did not handle every
// message within -timeout; the order table says how many were lost.
//
// go test ./... runs every scenario once with small numbers (about 30 s)
// and fails if an implementation loses a message or botwire breaks a key's
// order; without redis-server it skips, unless BOTWIRE_REQUIRE_REDIS=1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	producers, consumers, keys, size, messages, rounds int
	rate                                               float64
	latency, idle, failing, timeout                    time.Duration
	e2eMessages                                        int
	impls, scenarios                                   []string
	redisBin                                           string
	progress                                           io.Writer // one line per measurement
}

var allScenarios = []string{"drain", "burst", "latency", "idle", "failing", "e2e"}

func defaultConfig() config {
	return config{producers: 8, consumers: 4, keys: 64, size: 1024, messages: 10000, rounds: 3,
		rate: 500, latency: 10 * time.Second, idle: 5 * time.Second, failing: 30 * time.Second,
		timeout: 60 * time.Second, e2eMessages: 5000,
		impls: []string{"botwire", "asynq", "watermill", "floor"}, scenarios: allScenarios,
		redisBin: "redis-server", progress: io.Discard}
}

func main() {
	cfg := defaultConfig()
	var impls, scenarios string
	flag.IntVar(&cfg.producers, "producers", cfg.producers, "producer goroutines")
	flag.IntVar(&cfg.consumers, "consumers", cfg.consumers, "consumers (goroutines, asynq Concurrency, watermill subscribers)")
	flag.IntVar(&cfg.keys, "keys", cfg.keys, "keys (case ids)")
	flag.IntVar(&cfg.size, "size", cfg.size, "payload bytes")
	flag.IntVar(&cfg.messages, "messages", cfg.messages, "messages per round in drain and burst")
	flag.IntVar(&cfg.rounds, "rounds", cfg.rounds, "rounds; each runs every scenario for every implementation")
	flag.Float64Var(&cfg.rate, "rate", cfg.rate, "offered rate (messages/s) of the latency, failing and e2e latency scenarios")
	flag.DurationVar(&cfg.latency, "latency", cfg.latency, "duration of the latency scenario")
	flag.DurationVar(&cfg.idle, "idle", cfg.idle, "duration of the idle scenario")
	flag.DurationVar(&cfg.failing, "failing", cfg.failing, "how long one key fails in the failing scenario")
	flag.DurationVar(&cfg.timeout, "timeout", cfg.timeout, "longest wait for a scenario's last message after its producers are done")
	flag.IntVar(&cfg.e2eMessages, "e2e-messages", cfg.e2eMessages, "deliveries of the e2e throughput phase")
	flag.StringVar(&impls, "impls", strings.Join(cfg.impls, ","), "implementations to run (e2e runs botwire and asynq)")
	flag.StringVar(&scenarios, "scenarios", strings.Join(cfg.scenarios, ","), "scenarios to run")
	flag.StringVar(&cfg.redisBin, "redis-server", cfg.redisBin, "redis-server binary")
	flag.Parse()
	cfg.impls = splitList(impls)
	cfg.scenarios = splitList(scenarios)
	cfg.progress = os.Stderr
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "queue:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg, os.Stdout)
	if errors.Is(err, errNoRedis) {
		fmt.Fprintln(os.Stderr, "queue: skipped:", err)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "queue:", err)
		os.Exit(1)
	}
	if p := res.problems(); len(p) > 0 {
		fmt.Println("\nproblems:")
		for _, s := range p {
			fmt.Println("  " + s)
		}
	}
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c config) check() error {
	for _, n := range c.impls {
		if !slices.ContainsFunc(impls, func(i impl) bool { return i.name == n }) {
			return fmt.Errorf("unknown implementation %q", n)
		}
	}
	for _, s := range c.scenarios {
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(allScenarios, ","))
		}
	}
	switch {
	case c.producers < 1 || c.consumers < 1 || c.keys < 1 || c.messages < 1 || c.rounds < 1 || c.e2eMessages < 1:
		return errors.New("-producers, -consumers, -keys, -messages, -rounds and -e2e-messages must be positive")
	case c.rate <= 0:
		return errors.New("-rate must be positive")
	case c.size < 64:
		return errors.New("-size must be at least 64 (the header)")
	}
	return nil
}

// result is one measurement: a scenario of one implementation in one
// round.
type result struct {
	scenario, impl string
	round          int
	perSec         float64       // drain, burst, e2e: messages/s; idle: commands/s
	p50, p99       time.Duration // latency, failing (other keys), e2e
	cmdsPerMsg     float64       // burst
	offered        float64       // latency, failing, e2e: the rate achieved
	tally          tally
	complete       bool // every message was handled
	err            error
	took           time.Duration // the scenario's wall time, setup and stop included
}

type results []result

func (rs results) of(scenario, impl string) results {
	var out results
	for _, r := range rs {
		if r.scenario == scenario && r.impl == impl {
			out = append(out, r)
		}
	}
	return out
}

// problems lists incomplete scenarios, errors, and botwire's order
// violations or duplicates.
func (rs results) problems() []string {
	var out []string
	for _, r := range rs {
		where := fmt.Sprintf("round %d %s %s:", r.round, r.scenario, r.impl)
		if r.err != nil {
			out = append(out, where+" error: "+r.err.Error())
		}
		if r.scenario == "idle" {
			continue
		}
		if !r.complete {
			out = append(out, fmt.Sprintf("%s %d of %d messages never handled", where, r.tally.lost, r.tally.lost+r.tally.unique))
		}
		if r.impl == "botwire" && (r.tally.violations > 0 || r.tally.dups > 0) {
			out = append(out, fmt.Sprintf("%s %d order violations, %d duplicates", where, r.tally.violations, r.tally.dups))
		}
		if r.tally.bad > 0 {
			out = append(out, fmt.Sprintf("%s %d payloads without header", where, r.tally.bad))
		}
	}
	return out
}

type bench struct {
	cfg config
	srv *redisServer
}

// run starts redis-server, runs the rounds, prints the tables to out and
// returns every measurement.
func run(ctx context.Context, cfg config, out io.Writer) (results, error) {
	srv, err := startRedis(cfg.redisBin)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	b := &bench{cfg: cfg, srv: srv}
	fmt.Fprintf(out, "queue benchmark: redis %s on %s, %s, GOMAXPROCS %d, %d CPUs\n",
		srv.version, srv.addr, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(out, "producers %d, consumers %d, keys %d, payload %d B, messages %d, rounds %d, rate %.0f/s, latency %v, idle %v, failing %v, e2e deliveries %d\n",
		cfg.producers, cfg.consumers, cfg.keys, cfg.size, cfg.messages, cfg.rounds, cfg.rate, cfg.latency, cfg.idle, cfg.failing, cfg.e2eMessages)

	var rs results
	for round := 1; round <= cfg.rounds; round++ {
		order := rotate(b.selected(), round-1)
		for _, sc := range cfg.scenarios {
			if sc == "e2e" {
				continue // last, below
			}
			for _, im := range order {
				if ctx.Err() != nil {
					return rs, ctx.Err()
				}
				r := b.runScenario(ctx, sc, im)
				r.round = round
				b.report(r)
				rs = append(rs, r)
			}
		}
		if slices.Contains(cfg.scenarios, "e2e") {
			for _, e := range rotate(e2eImpls, round-1) {
				if ctx.Err() != nil {
					return rs, ctx.Err()
				}
				r := b.e2e(ctx, e)
				r.round = round
				b.report(r)
				rs = append(rs, r)
			}
		}
	}
	printTables(out, cfg, rs)
	return rs, nil
}

func (b *bench) selected() []impl {
	var out []impl
	for _, im := range impls {
		if slices.Contains(b.cfg.impls, im.name) {
			out = append(out, im)
		}
	}
	return out
}

func rotate[T any](s []T, n int) []T {
	if len(s) == 0 {
		return s
	}
	n %= len(s)
	return append(slices.Clone(s[n:]), s[:n]...)
}

func (b *bench) report(r result) {
	line := fmt.Sprintf("round %d %-8s %-9s", r.round, r.scenario, r.impl)
	switch r.scenario {
	case "drain":
		line += fmt.Sprintf(" %8.0f msgs/s", r.perSec)
	case "burst":
		line += fmt.Sprintf(" %8.0f msgs/s  %.2f cmds/msg", r.perSec, r.cmdsPerMsg)
	case "latency", "failing":
		line += fmt.Sprintf(" offered %.0f/s  p50 %s  p99 %s", r.offered, fmtDur(r.p50), fmtDur(r.p99))
	case "idle":
		line += fmt.Sprintf(" %8.1f cmds/s", r.perSec)
	case "e2e":
		line += fmt.Sprintf(" %8.0f deliveries/s  at %.0f/s: p50 %s  p99 %s", r.perSec, r.offered, fmtDur(r.p50), fmtDur(r.p99))
	}
	if r.scenario != "idle" {
		line += fmt.Sprintf("  [violations %d, dups %d, lost %d]", r.tally.violations, r.tally.dups, r.tally.lost)
	}
	line += fmt.Sprintf("  (%v)", r.took.Round(10*time.Millisecond))
	if r.err != nil {
		line += "  error: " + r.err.Error()
	}
	fmt.Fprintln(b.cfg.progress, line)
}

// settle is how long consumers run before a measurement starts, so
// their start (consumer groups, connections) is not measured.
const settle = 200 * time.Millisecond

func (b *bench) runScenario(ctx context.Context, sc string, im impl) (r result) {
	r = result{scenario: sc, impl: im.name}
	defer func(begin time.Time) { r.took = time.Since(begin) }(time.Now())
	if err := b.srv.flush(ctx); err != nil {
		r.err = err
		return r
	}
	sys, err := im.make(ctx, b.srv, sysOptions{failing: sc == "failing"})
	if err != nil {
		r.err = err
		return r
	}
	defer sys.close()
	cfg := b.cfg
	switch sc {
	case "drain":
		pl := plan(cfg.messages, cfg.producers, cfg.keys, cfg.size)
		if r.err = sendAll(ctx, sys, pl, 64); r.err != nil {
			return r
		}
		rec := newRecorder(total(pl), "")
		start := time.Now()
		stop := sys.start(cfg.consumers, rec.handle)
		r.complete = rec.wait(ctx, cfg.timeout)
		stop()
		r.tally = rec.tally()
		if r.complete {
			r.perSec = float64(total(pl)) / r.tally.lastAt.Sub(start).Seconds()
		}
	case "burst":
		pl := plan(cfg.messages, cfg.producers, cfg.keys, cfg.size)
		rec := newRecorder(total(pl), "")
		before, err := b.srv.calls(ctx)
		if err != nil {
			r.err = err
			return r
		}
		start := time.Now()
		stop := sys.start(cfg.consumers, rec.handle)
		r.err = sendAll(ctx, sys, pl, 64)
		r.complete = r.err == nil && rec.wait(ctx, cfg.timeout)
		after, err := b.srv.calls(ctx)
		stop()
		r.tally = rec.tally()
		if r.complete {
			r.perSec = float64(total(pl)) / r.tally.lastAt.Sub(start).Seconds()
		}
		if err == nil {
			r.cmdsPerMsg = float64(callsBetween(before, after)) / float64(total(pl))
		}
	case "latency", "failing":
		d := cfg.latency
		failKey := ""
		if sc == "failing" {
			d, failKey = cfg.failing, keyName(0)
		}
		pl := plan(max(1, int(cfg.rate*d.Seconds())), cfg.producers, cfg.keys, cfg.size)
		rec := newRecorder(total(pl), failKey)
		rec.failing.Store(failKey != "")
		stop := sys.start(cfg.consumers, rec.handle)
		sleep(ctx, settle)
		r.offered, r.err = sendAtRate(ctx, sys, pl, cfg.rate)
		rec.failing.Store(false) // heals: everything drains now
		r.complete = r.err == nil && rec.wait(ctx, cfg.timeout)
		stop()
		r.tally = rec.tally()
		r.p50, r.p99 = quantile(r.tally.lat, 0.5), quantile(r.tally.lat, 0.99)
	case "idle":
		rec := newRecorder(0, "")
		stop := sys.start(cfg.consumers, rec.handle)
		sleep(ctx, settle)
		before, err1 := b.srv.calls(ctx)
		start := time.Now()
		sleep(ctx, cfg.idle)
		after, err2 := b.srv.calls(ctx)
		elapsed := time.Since(start)
		stop()
		r.complete = true
		if r.err = errors.Join(err1, err2); r.err == nil {
			r.perSec = float64(callsBetween(before, after)) / elapsed.Seconds()
		}
	}
	return r
}

// e2e runs the end-to-end scenario: a throughput phase (deliveries as fast
// as the producers post them) and a latency phase at the offered rate,
// each on a flushed Redis with a fresh webhook.
func (b *bench) e2e(ctx context.Context, e e2eImpl) (r result) {
	r = result{scenario: "e2e", impl: e.name, complete: true}
	defer func(begin time.Time) { r.took = time.Since(begin) }(time.Now())
	cfg := b.cfg
	phase := func(pl [][]item, rate float64) (tally, float64, time.Duration, bool, error) {
		if err := b.srv.flush(ctx); err != nil {
			return tally{}, 0, 0, false, err
		}
		rec := newRecorder(total(pl), "")
		hook, err := e.start(b.srv, cfg.consumers, rec)
		if err != nil {
			return tally{}, 0, 0, false, err
		}
		defer hook.stop()
		d := newDeliverer(hook.url, cfg.producers)
		defer d.close()
		sleep(ctx, settle)
		start := time.Now()
		var offered float64
		if rate > 0 {
			offered, err = sendAtRate(ctx, d, pl, rate)
		} else {
			err = sendAll(ctx, d, pl, 1)
		}
		ok := err == nil && rec.wait(ctx, cfg.timeout)
		t := rec.tally()
		return t, offered, t.lastAt.Sub(start), ok, err
	}
	pl := plan(cfg.e2eMessages, cfg.producers, cfg.keys, cfg.size)
	t1, _, elapsed, ok1, err1 := phase(pl, 0)
	if ok1 {
		r.perSec = float64(total(pl)) / elapsed.Seconds()
	}
	pl = plan(max(1, int(cfg.rate*cfg.latency.Seconds())), cfg.producers, cfg.keys, cfg.size)
	t2, offered, _, ok2, err2 := phase(pl, cfg.rate)
	r.offered = offered
	r.p50, r.p99 = quantile(t2.lat, 0.5), quantile(t2.lat, 0.99)
	r.complete = ok1 && ok2
	r.err = errors.Join(err1, err2)
	r.tally = tally{unique: t1.unique + t2.unique, dups: t1.dups + t2.dups, violations: t1.violations + t2.violations,
		lost: t1.lost + t2.lost, bad: t1.bad + t2.bad}
	return r
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
