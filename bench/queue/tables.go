package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// figure is the median over the complete rounds of f; "*" marks a figure
// some round of which did not complete (its messages are not all
// handled, see the order table).
type figure struct {
	v       float64
	partial bool
}

func (rs results) figure(f func(result) float64) figure {
	var v []float64
	partial := false
	for _, r := range rs {
		if !r.complete || r.err != nil {
			partial = true
			continue
		}
		v = append(v, f(r))
	}
	return figure{median(v), partial}
}

func (f figure) mark() string {
	if f.partial {
		return "*"
	}
	return ""
}

func (f figure) rate() string {
	if math.IsNaN(f.v) {
		return "—" + f.mark()
	}
	return fmt.Sprintf("%.0f%s", f.v, f.mark())
}

func (f figure) dec(prec int) string {
	if math.IsNaN(f.v) {
		return "—" + f.mark()
	}
	return fmt.Sprintf("%.*f%s", prec, f.v, f.mark())
}

func (f figure) dur() string {
	if math.IsNaN(f.v) {
		return "—" + f.mark()
	}
	return fmtDur(time.Duration(f.v)) + f.mark()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

func ratio(f, base figure) string {
	if math.IsNaN(f.v) || math.IsNaN(base.v) || base.v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", f.v/base.v)
}

func nanos(d time.Duration) float64 { return float64(d) }

type table struct {
	tw *tabwriter.Writer
}

func newTable(out io.Writer, title string, cols ...string) *table {
	fmt.Fprintf(out, "\n%s\n", title)
	t := &table{tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)}
	t.row(cols...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t") }
func (t *table) flush()              { t.tw.Flush() }

func printTables(out io.Writer, cfg config, rs results) {
	names := cfg.impls
	has := func(sc string) bool { return slices.Contains(cfg.scenarios, sc) }
	perSec := func(r result) float64 { return r.perSec }
	p50 := func(r result) float64 { return nanos(r.p50) }
	p99 := func(r result) float64 { return nanos(r.p99) }
	fmt.Fprintf(out, "\nmedian over %d round(s); ×asynq: the ratio to asynq's median; * a round did not complete (see order)\n", cfg.rounds)

	if has("drain") {
		base := rs.of("drain", "asynq").figure(perSec)
		t := newTable(out, "drain: enqueue all, then consume (processed/s, higher is better)", "impl", "msgs/s", "×asynq")
		for _, n := range names {
			f := rs.of("drain", n).figure(perSec)
			t.row(n, f.rate(), ratio(f, base))
		}
		t.flush()
	}
	if has("burst") {
		cmds := func(r result) float64 { return r.cmdsPerMsg }
		base := rs.of("burst", "asynq").figure(perSec)
		baseC := rs.of("burst", "asynq").figure(cmds)
		t := newTable(out, "burst: produce and consume at once (processed/s, higher is better; Redis commands per message, lower is better)",
			"impl", "msgs/s", "×asynq", "cmds/msg", "×asynq")
		for _, n := range names {
			f, c := rs.of("burst", n).figure(perSec), rs.of("burst", n).figure(cmds)
			t.row(n, f.rate(), ratio(f, base), c.dec(2), ratio(c, baseC))
		}
		t.flush()
	}
	if has("latency") {
		offered := func(r result) float64 { return r.offered }
		base := rs.of("latency", "asynq").figure(p99)
		t := newTable(out, fmt.Sprintf("latency: enqueue → handler start at %.0f msgs/s offered for %v (lower is better)", cfg.rate, cfg.latency),
			"impl", "offered/s", "p50", "p99", "p99 ×asynq")
		for _, n := range names {
			x := rs.of("latency", n)
			f := x.figure(p99)
			t.row(n, x.figure(offered).rate(), x.figure(p50).dur(), f.dur(), ratio(f, base))
		}
		t.flush()
	}
	if has("idle") {
		base := rs.of("idle", "asynq").figure(perSec)
		t := newTable(out, fmt.Sprintf("idle: %d consumers, nothing to do, for %v (Redis commands/s, lower is better)", cfg.consumers, cfg.idle),
			"impl", "cmds/s", "×asynq")
		for _, n := range names {
			f := rs.of("idle", n).figure(perSec)
			t.row(n, f.dec(1), ratio(f, base))
		}
		t.flush()
	}
	if has("failing") {
		// The ratio of each round's failing p99 to its latency p99.
		hurt := func(n string) figure {
			var v []float64
			partial := false
			for _, f := range rs.of("failing", n) {
				l := rs.of("latency", n)
				i := slices.IndexFunc(l, func(r result) bool { return r.round == f.round })
				if i < 0 || !f.complete || !l[i].complete || l[i].p99 == 0 {
					partial = true
					continue
				}
				v = append(v, float64(f.p99)/float64(l[i].p99))
			}
			return figure{median(v), partial}
		}
		base := rs.of("failing", "asynq").figure(p99)
		t := newTable(out, fmt.Sprintf("failing: %s fails every attempt for %v at %.0f msgs/s; the other keys' latency (lower is better)", keyName(0), cfg.failing, cfg.rate),
			"impl", "p50 others", "p99 others", "p99 no failure", "ratio", "p99 ×asynq")
		for _, n := range names {
			x := rs.of("failing", n)
			f := x.figure(p99)
			nf := "—"
			if has("latency") {
				nf = rs.of("latency", n).figure(p99).dur()
			}
			t.row(n, x.figure(p50).dur(), f.dur(), nf, hurt(n).dec(2), ratio(f, base))
		}
		t.flush()
	}
	var orderScs []string
	for _, sc := range cfg.scenarios {
		if sc != "idle" {
			orderScs = append(orderScs, sc)
		}
	}
	if len(orderScs) > 0 {
		t := newTable(out, "order: per-key order violations / duplicates / lost, summed over rounds (botwire must show 0/0/0)",
			append([]string{"impl"}, orderScs...)...)
		for _, n := range names {
			cells := []string{n}
			for _, sc := range orderScs {
				x := rs.of(sc, n)
				if len(x) == 0 {
					cells = append(cells, "—")
					continue
				}
				var v, d, l int
				for _, r := range x {
					v, d, l = v+r.tally.violations, d+r.tally.dups, l+r.tally.lost
				}
				cells = append(cells, fmt.Sprintf("%d/%d/%d", v, d, l))
			}
			t.row(cells...)
		}
		t.flush()
	}
	if has("e2e") {
		base := rs.of("e2e", "asynq").figure(perSec)
		baseL := rs.of("e2e", "asynq").figure(p99)
		t := newTable(out, fmt.Sprintf("e2e: OneTalk webhook over HTTP → queue → callback (%d deliveries as fast as posted; latency at %.0f/s for %v)", cfg.e2eMessages, cfg.rate, cfg.latency),
			"impl", "deliveries/s", "×asynq", "p50", "p99", "p99 ×asynq")
		for _, e := range e2eImpls {
			x := rs.of("e2e", e.name)
			f, l := x.figure(perSec), x.figure(p99)
			label := e.name + " (onetalk.NewHandler + WithQueue)"
			if e.name == "asynq" {
				label = e.name + " (net/http handler + asynq)"
			}
			t.row(label, f.rate(), ratio(f, base), x.figure(p50).dur(), l.dur(), ratio(l, baseL))
		}
		t.flush()
	}
}
