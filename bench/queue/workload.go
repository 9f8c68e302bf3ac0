package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A message's payload starts with a fixed-width header, then padding up to
// the payload size:
//
//	case-07|0000000042|1718000000000000000|xxxx...
//
// key, the key's sequence number (from 1, in the order its one producer
// enqueues it) and the enqueue time in UnixNano, written in place (stamp)
// just before the message is handed to the queue.
const (
	seqWidth  = 10
	timeWidth = 19
)

// item is one message a producer sends.
type item struct {
	key     string
	seq     int
	payload []byte
	tpos    int // offset of the time field in payload
}

func keyName(k int) string { return fmt.Sprintf("case-%02d", k) }

func newItem(key string, seq, size int) item {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s|%0*d|", key, seqWidth, seq)
	tpos := b.Len()
	fmt.Fprintf(&b, "%0*d|", timeWidth, 0)
	for b.Len() < size {
		b.WriteByte('x')
	}
	return item{key: key, seq: seq, payload: b.Bytes(), tpos: tpos}
}

// stamp writes the current time into the payload and returns it.
func (it *item) stamp() []byte {
	var d [timeWidth]byte
	v := strconv.AppendInt(d[:0], time.Now().UnixNano(), 10)
	p := it.payload[it.tpos : it.tpos+timeWidth]
	for i := range p {
		p[i] = '0'
	}
	copy(p[timeWidth-len(v):], v)
	return it.payload
}

// parsed is the header of a payload.
type parsed struct {
	key string
	seq int
	enq int64
}

func parsePayload(p []byte) (parsed, error) {
	i := bytes.IndexByte(p, '|')
	if i < 0 || len(p) < i+1+seqWidth+1+timeWidth+1 {
		return parsed{}, errors.New("bench: payload without header")
	}
	seq, err1 := strconv.Atoi(string(p[i+1 : i+1+seqWidth]))
	t := i + 1 + seqWidth + 1
	enq, err2 := strconv.ParseInt(string(p[t:t+timeWidth]), 10, 64)
	if err1 != nil || err2 != nil {
		return parsed{}, errors.New("bench: bad payload header")
	}
	return parsed{key: string(p[:i]), seq: seq, enq: enq}, nil
}

// plan splits n messages over the producers: producer p owns the keys
// k with k%producers == p, so each key's sequence numbers are enqueued
// in order by one goroutine and a handler that sees them out of order saw
// the queue reorder them.
func plan(n, producers, keys, size int) [][]item {
	producers = max(1, min(producers, keys))
	out := make([][]item, producers)
	seq := make([]int, keys)
	for p := range producers {
		count := n / producers
		if p < n%producers {
			count++
		}
		var own []int
		for k := p; k < keys; k += producers {
			own = append(own, k)
		}
		out[p] = make([]item, 0, count)
		for j := range count {
			k := own[j%len(own)]
			seq[k]++
			out[p] = append(out[p], newItem(keyName(k), seq[k], size))
		}
	}
	return out
}

func total(pl [][]item) int {
	n := 0
	for _, p := range pl {
		n += len(p)
	}
	return n
}

// sendAll runs every producer at once, each sending its items in batches
// of batch, and returns when all are sent.
func sendAll(ctx context.Context, sys system, pl [][]item, batch int) error {
	var wg sync.WaitGroup
	errs := make([]error, len(pl))
	for p, items := range pl {
		wg.Go(func() {
			for i := 0; i < len(items) && ctx.Err() == nil; i += batch {
				if err := sys.send(ctx, items[i:min(i+batch, len(items))]); err != nil {
					errs[p] = fmt.Errorf("producer %d: %w", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendAtRate sends the plan at rate messages/s in total: each producer
// ticks every producers/rate, its start shifted so the producers' ticks
// interleave, and sends one message per tick. It returns the rate
// actually offered (a tick that finds the producer still sending is
// dropped by the ticker, so a slow Enqueue lowers it).
func sendAtRate(ctx context.Context, sys system, pl [][]item, rate float64) (float64, error) {
	interval := time.Duration(float64(time.Second) * float64(len(pl)) / rate)
	var wg sync.WaitGroup
	var sent atomic.Int64
	errs := make([]error, len(pl))
	start := time.Now()
	for p, items := range pl {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval * time.Duration(p) / time.Duration(len(pl))):
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			for i := range items {
				if err := sys.send(ctx, items[i:i+1]); err != nil {
					errs[p] = fmt.Errorf("producer %d: %w", p, err)
					return
				}
				sent.Add(1)
				if i == len(items)-1 {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	return float64(sent.Load()) / time.Since(start).Seconds(), errors.Join(errs...)
}

var errFailing = errors.New("bench: this key fails")

// recorder is the handler every implementation runs: it records what each
// message's first handling saw, in order per key.
type recorder struct {
	failKey string      // "" or the key that fails while failing is set
	failing atomic.Bool // the fail key's handler returns an error
	fails   atomic.Int64

	mu         sync.Mutex
	expect     int
	maxSeq     map[string]int
	seen       map[string]map[int]bool
	unique     int
	dups       int
	violations int
	bad        int
	lat        []time.Duration // enqueue → handler start, keys other than failKey
	last       time.Time       // when the last expected message was handled
	done       chan struct{}
}

func newRecorder(expect int, failKey string) *recorder {
	r := &recorder{failKey: failKey, expect: expect, maxSeq: map[string]int{},
		seen: map[string]map[int]bool{}, done: make(chan struct{})}
	if expect == 0 {
		close(r.done)
	}
	return r
}

// handle is the handler: fast, so the queue is what is measured.
func (r *recorder) handle(_ context.Context, payload []byte) error {
	now := time.Now()
	m, err := parsePayload(payload)
	if err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		return nil // acknowledge: a retry would not fix it
	}
	if m.key == r.failKey && r.failing.Load() {
		r.fails.Add(1)
		return errFailing
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen[m.key]
	if s == nil {
		s = map[int]bool{}
		r.seen[m.key] = s
	}
	if s[m.seq] {
		r.dups++
		return nil
	}
	s[m.seq] = true
	if m.seq < r.maxSeq[m.key] {
		r.violations++
	}
	r.maxSeq[m.key] = max(r.maxSeq[m.key], m.seq)
	if m.key != r.failKey {
		r.lat = append(r.lat, now.Sub(time.Unix(0, m.enq)))
	}
	r.unique++
	if r.unique == r.expect {
		r.last = now
		close(r.done)
	}
	return nil
}

// wait returns when every expected message was handled (true), or at
// timeout (false).
func (r *recorder) wait(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-r.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

type tally struct {
	unique, dups, violations, lost, bad int
	lastAt                              time.Time
	lat                                 []time.Duration
}

func (r *recorder) tally() tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	return tally{unique: r.unique, dups: r.dups, violations: r.violations,
		lost: r.expect - r.unique, bad: r.bad, lastAt: r.last, lat: lat}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
