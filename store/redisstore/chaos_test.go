package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

// The chaos test's parameters. 50 cases × 40 messages = 2,000 deliveries.
const (
	chaosCases      = 50
	chaosPerCase    = 40
	chaosReplicas   = 3
	chaosRedeliver  = 20 // percent of the messages delivered a second time, to another replica
	chaosKills      = 5  // SIGKILLs of a random replica during the run
	chaosSeed       = 18 // the plan (which messages are redelivered, which replica dies) is fixed
	chaosConsumers  = 2  // WithQueue consumers per replica
	chaosPartitions = 8

	// chaosPlatformTimeout is how long the platform waits for an answer
	// before it counts the delivery as failed and redelivers.
	chaosPlatformTimeout = 5 * time.Second
	// chaosRetryWait is the platform's pause before a redelivery.
	chaosRetryWait = 50 * time.Millisecond
	// chaosMessageDeadline bounds the redeliveries of one message: a
	// message not acknowledged by then fails the test.
	chaosMessageDeadline = 30 * time.Second
	// chaosDown is how long a killed replica stays down before its
	// restart; chaosUp is the least time between a restart and the next
	// kill, so the restarted process takes traffic first.
	chaosDown = 200 * time.Millisecond
	chaosUp   = 500 * time.Millisecond
	// chaosDrain bounds the wait for the queue to process everything once
	// all messages are acknowledged; chaosSettle is how long the record
	// count must then stay still (past a queue lease, so a message left
	// by a dead consumer would have run again).
	chaosDrain  = 30 * time.Second
	chaosSettle = 3 * time.Second

	chaosChildEnv  = "BOTWIRE_REDISSTORE_CHAOS_CHILD"
	chaosSecret    = "chaos-secret"
	chaosPrefix    = "chaos"
	chaosProcessed = "chaos-test:processed"
)

// chaosQueueOpts: a partition's lease of 2 s, so a dead replica's
// messages are taken over soon.
var chaosQueueOpts = store.QueueOptions{MaxAttempts: 10, RetryDelay: 50 * time.Millisecond, Lease: 2 * time.Second}

// runChaosChild is a replica of the bot: a onetalk handler with
// WithDeduplication (its default lease and budget) and WithQueue on a
// redisstore.Store (chaosQueueOpts), served on 127.0.0.1:<port>, with the
// Redis client built as the README shows it. Its callback records each run with RPUSH:
// that is "processed". It serves until killed.
func runChaosChild(spec string) int {
	addr, port, _ := strings.Cut(spec, " ")
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	st := redisstore.New(rdb, redisstore.Options{Prefix: chaosPrefix, Partitions: chaosPartitions, Queue: chaosQueueOpts})
	pid := os.Getpid()
	record := func(ctx context.Context, req *onetalk.InboundRequest) error {
		if req.Message.Text == nil {
			return errors.New("not a message of the test")
		}
		// The body is "<n>|<queue entry>|<attempt>|<consumer>" (chaosQueue).
		v := fmt.Sprintf("%s|%s|%d|%d|%s", req.CaseID, req.Message.ID, pid, time.Now().UnixNano(), req.Message.Text.Body)
		return rdb.RPush(ctx, chaosProcessed, v).Err()
	}
	h, err := onetalk.NewHandler(chaosSecret, record, onetalk.WithDeduplication(st, 0),
		onetalk.WithQueue(chaosQueue{st, pid}, chaosConsumers))
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos child:", err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos child:", err)
		return 3
	}
	fmt.Fprintf(os.Stderr, "chaos child %d serving on %s\n", pid, ln.Addr())
	_ = http.Serve(ln, h)
	return 4
}

// chaosQueue is the replica's redisstore.Store, with one addition for the
// test's accounting: before the handler runs a message it appends to the
// message's text the queue's entry id, the attempt and which Consume call
// runs it, so the callback records them. A message run twice from one
// entry was left unacknowledged (by a consumer that died, or one that
// lost its lease); one run from two entries was enqueued twice. The rest
// (Enqueue, Bind, ...) is the Store's.
type chaosQueue struct {
	*redisstore.Store
	pid int
}

var chaosConsumeCalls atomic.Int64

func (q chaosQueue) Consume(ctx context.Context, name string, h store.Handler) error {
	consumer := fmt.Sprintf("%d.%d", q.pid, chaosConsumeCalls.Add(1))
	return q.Store.Consume(ctx, name, func(ctx context.Context, m store.Message) error {
		var in map[string]any
		if err := json.Unmarshal(m.Payload, &in); err != nil {
			return err
		}
		msg, _ := in["message"].(map[string]any)
		text, _ := msg["text"].(map[string]any)
		if text == nil {
			return errors.New("not a message of the test")
		}
		text["body"] = fmt.Sprintf("%v|%s|%d|%s", text["body"], m.ID, m.Attempts, consumer)
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		m.Payload = b
		return h(ctx, m)
	})
}

// chaosReplica is one slot of the bot's deployment: the process currently
// serving it (a new one after each kill) and its address.
type chaosReplica struct {
	slot int
	mu   sync.Mutex
	port int
	pid  int // of the process serving now; 0 while down
	cmd  *exec.Cmd
	// exited is closed once cmd was waited for.
	exited chan struct{}
}

func (r *chaosReplica) target() (url string, pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "http://127.0.0.1:" + strconv.Itoa(r.port) + "/onetalk", r.pid
}

type chaosKill struct {
	slot, pid int
	at        time.Time
}

// chaosAttempt is one HTTP delivery of a message.
type chaosAttempt struct {
	slot, pid  int
	start, end time.Time
	status     int // 0: no answer (connection error or the platform's timeout)
	err        string
}

// chaosRecord is one run of the callback, as the replica recorded it.
type chaosRecord struct {
	caseNo, msgNo int
	pid           int
	at            time.Time
	entry         string // the queue's id of the message
	attempt       int
	consumer      string // pid.n: the n-th Consume call of the process
	seq           int    // its place in the list of all runs
}

type chaosRun struct {
	t        *testing.T
	redis    string
	dir      string
	client   *http.Client
	replicas []*chaosReplica

	mu       sync.Mutex
	kills    []chaosKill
	attempts map[[2]int][]chaosAttempt // by (case, message)
	logs     []string                  // the replicas' log files

	acked atomic.Int64
}

func chaosCaseID(c int) string       { return fmt.Sprintf("chaos-case-%02d", c) }
func chaosMessageID(c, n int) string { return fmt.Sprintf("wamid.CHAOS.%02d.%04d", c, n) }

// start starts a process for the replica slot r on its port; when the
// port is taken meanwhile, on a new one (the platform is told the new
// address).
func (run *chaosRun) start(r *chaosReplica) error {
	for try := 0; ; try++ {
		r.mu.Lock()
		port := r.port
		r.mu.Unlock()
		run.mu.Lock()
		logPath := filepath.Join(run.dir, fmt.Sprintf("replica-%d-%02d.log", r.slot, len(run.logs)))
		run.logs = append(run.logs, logPath)
		run.mu.Unlock()
		logf, err := os.Create(logPath)
		if err != nil {
			return err
		}
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), chaosChildEnv+"="+run.redis+" "+strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Start()
		logf.Close() // the child has its own descriptor
		if err != nil {
			return err
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if chaosListening(port, exited, 10*time.Second) {
			r.mu.Lock()
			r.cmd, r.pid, r.exited = cmd, cmd.Process.Pid, exited
			r.mu.Unlock()
			return nil
		}
		_ = cmd.Process.Kill()
		<-exited
		if try == 2 {
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("replica %d did not start on port %d:\n%s", r.slot, port, b)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0") // the port was taken: move
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.port = ln.Addr().(*net.TCPAddr).Port
		r.mu.Unlock()
		ln.Close()
	}
}

// chaosListening waits until port accepts connections, or the process
// exits, or d passes.
func chaosListening(port int, exited <-chan struct{}, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// kill SIGKILLs the process serving slot r and records when.
func (run *chaosRun) kill(r *chaosReplica) {
	r.mu.Lock()
	cmd, pid, exited := r.cmd, r.pid, r.exited
	r.cmd, r.pid = nil, 0
	r.mu.Unlock()
	at := time.Now()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	run.mu.Lock()
	run.kills = append(run.kills, chaosKill{slot: r.slot, pid: pid, at: at})
	run.mu.Unlock()
}

func (run *chaosRun) stopAll() {
	for _, r := range run.replicas {
		r.mu.Lock()
		cmd, exited := r.cmd, r.exited
		r.cmd = nil
		r.mu.Unlock()
		if cmd != nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}
}

// attempt delivers message (c, n) to slot once, as OneTalk does, and
// records the attempt.
func (run *chaosRun) attempt(c, n, slot int, body []byte) int {
	url, pid := run.replicas[slot].target()
	a := chaosAttempt{slot: slot, pid: pid, start: time.Now()}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		run.t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(onetalk.SecretHeader, chaosSecret)
	resp, err := run.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		a.status = resp.StatusCode
	} else {
		a.err = err.Error()
	}
	a.end = time.Now()
	run.mu.Lock()
	run.attempts[[2]int{c, n}] = append(run.attempts[[2]int{c, n}], a)
	run.mu.Unlock()
	return a.status
}

// deliver delivers message (c, n) from slot on, moving to another replica
// after each non-2xx answer or connection error, until one answers 200
// (the platform's behaviour). It reports false when the message was not
// acknowledged within chaosMessageDeadline.
func (run *chaosRun) deliver(c, n, slot int, body []byte) bool {
	start := time.Now()
	for {
		if s := run.attempt(c, n, slot, body); s >= 200 && s <= 299 {
			return true
		}
		if time.Since(start) > chaosMessageDeadline {
			return false
		}
		slot = (slot + 1) % chaosReplicas
		time.Sleep(chaosRetryWait)
	}
}

// Three replica processes of one onetalk bot (WithDeduplication and
// WithQueue on one redisstore, Redis with appendfsync always) get 2,000
// deliveries from 50 cases, round-robin, a case's next message only once
// the previous one got its 200. 20 % of the messages are delivered a
// second time to another replica a few milliseconds after the first, as a
// platform does when it timed out. Five times during the run a random
// replica is SIGKILLed and restarted on its port; every delivery without a
// 200 (cut by the kill, refused while the replica is down, 503) is
// delivered again to another replica until one answers 200.
//
// Then, with every callback run recorded in Redis by the replica that ran
// it (with the queue entry and the Consume call that ran it):
//   - none lost: every acknowledged message ran at least once;
//   - none twice unless a crash touched it. A message runs again in two
//     ways, each allowed only when a kill explains it:
//     enqueued twice (runs from two queue entries): allowed as many times
//     as kills cut one of its deliveries (the process was killed between
//     the delivery's start and its failure: it may have enqueued the
//     message and died before recording the completion, so a redelivery
//     enqueues it again);
//     an entry run twice: allowed when the process of the earlier run was
//     killed after it and the entry ran again only after the kill (it died
//     between the callback and the queue's acknowledgement, which a pool
//     sends in batches while its consumers go on with other cases, and
//     another consumer took the entry over after the lease). A run again
//     while that process was alive, or a process never killed, explains
//     nothing;
//   - order kept: in each case the first runs of the messages come in
//     message order, 0, 1, 2, ...; a message runs again after a later one
//     of its case only when its repeat is explained as above.
func TestReplicasSurviveSIGKILLs(t *testing.T) {
	srv := startRedisNode(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })

	run := &chaosRun{t: t, redis: srv.Addr, dir: t.TempDir(), attempts: map[[2]int][]chaosAttempt{},
		client: &http.Client{Timeout: chaosPlatformTimeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: chaosCases * 2, DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}}}
	t.Cleanup(run.client.CloseIdleConnections)
	for i := range chaosReplicas {
		r := &chaosReplica{slot: i, port: freeLoopbackPort(t)}
		run.replicas = append(run.replicas, r)
	}
	t.Cleanup(run.stopAll)
	for _, r := range run.replicas {
		if err := run.start(r); err != nil {
			t.Fatal(err)
		}
	}

	// The plan, fixed by chaosSeed: which messages are redelivered (and to
	// which other replica, how soon), and which replica each kill hits.
	rng := rand.New(rand.NewPCG(chaosSeed, 0))
	total := chaosCases * chaosPerCase
	redeliver := map[int]bool{}
	for _, i := range rng.Perm(total)[:total*chaosRedeliver/100] {
		redeliver[i] = true
	}
	type second struct {
		offset int // 1 or 2: another replica
		delay  time.Duration
	}
	seconds := make([]second, total)
	for i := range seconds {
		seconds[i] = second{offset: 1 + rng.IntN(chaosReplicas-1), delay: time.Duration(rng.IntN(10)) * time.Millisecond}
	}
	victims := make([]int, chaosKills)
	for i := range victims {
		victims[i] = rng.IntN(chaosReplicas)
	}

	started := time.Now()
	var rr atomic.Int64 // round-robin
	var unacked atomic.Int64
	var wg sync.WaitGroup
	for c := range chaosCases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range chaosPerCase {
				in := onetalktest.Text(chaosCaseID(c), strconv.Itoa(n))
				in.Message.ID = chaosMessageID(c, n)
				body, err := onetalktest.Encode(in)
				if err != nil {
					t.Error(err)
					return
				}
				i := c*chaosPerCase + n
				first := int(rr.Add(1)-1) % chaosReplicas
				var ok atomic.Bool
				ok.Store(true)
				var both sync.WaitGroup
				both.Add(1)
				go func() {
					defer both.Done()
					if !run.deliver(c, n, first, body) {
						ok.Store(false)
					}
				}()
				if redeliver[i] {
					both.Add(1)
					go func() {
						defer both.Done()
						time.Sleep(seconds[i].delay)
						if !run.deliver(c, n, (first+seconds[i].offset)%chaosReplicas, body) {
							ok.Store(false)
						}
					}()
				}
				both.Wait()
				if !ok.Load() {
					unacked.Add(1)
					t.Errorf("message %s of %s: no 200 within %s of redeliveries", chaosMessageID(c, n), chaosCaseID(c), chaosMessageDeadline)
					return // the platform would not move on either
				}
				run.acked.Add(1)
			}
		}()
	}

	// The kills, at fixed points of the progress: after 1/7, 2/7, ... 5/7
	// of the messages were acknowledged, and chaosUp after the last
	// restart.
	killsDone := make(chan struct{})
	go func() {
		defer close(killsDone)
		for k, v := range victims {
			at := int64(total * (k + 1) / (chaosKills + 2))
			if k > 0 {
				time.Sleep(chaosUp)
			}
			for run.acked.Load() < at {
				if unacked.Load() > 0 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			run.kill(run.replicas[v])
			time.Sleep(chaosDown)
			if err := run.start(run.replicas[v]); err != nil {
				t.Errorf("restart after kill %d: %v", k+1, err)
				return
			}
		}
	}()
	wg.Wait()
	<-killsDone
	delivered := time.Since(started)

	// Wait for the queue: every message run at least once, then no new
	// record for chaosSettle.
	records := func() []chaosRecord {
		vals, err := rdb.LRange(context.Background(), chaosProcessed, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]chaosRecord, 0, len(vals))
		for _, v := range vals {
			rec, err := parseChaosRecord(v)
			if err != nil {
				t.Fatalf("record %q: %v", v, err)
			}
			rec.seq = len(out)
			out = append(out, rec)
		}
		return out
	}
	var recs []chaosRecord
	deadline := time.Now().Add(chaosDrain)
	for last, still := -1, time.Now(); ; {
		recs = records()
		distinct := map[[2]int]bool{}
		for _, r := range recs {
			distinct[[2]int{r.caseNo, r.msgNo}] = true
		}
		if len(recs) != last {
			last, still = len(recs), time.Now()
		}
		if int64(len(distinct)) >= run.acked.Load() && time.Since(still) >= chaosSettle {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the queue did not settle within %s: %d runs of %d messages, %d acknowledged", chaosDrain, len(recs), len(distinct), run.acked.Load())
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Nothing is left in the queue: no entry in any of the store's
	// streams, found by SCAN (should the store's keys change, this finds
	// none to check, and the settled count above still holds).
	ctx := context.Background()
	streams, left := 0, int64(0)
	iter := rdb.Scan(ctx, 0, "*"+chaosPrefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if typ, _ := rdb.Type(ctx, iter.Val()).Result(); typ == "stream" {
			n, err := rdb.XLen(ctx, iter.Val()).Result()
			if err != nil {
				t.Fatal(err)
			}
			streams++
			left += n
		}
	}
	t.Logf("queue after the drain: %d entries left in %d streams", left, streams)
	if left != 0 {
		t.Errorf("%d entries still in the queue's streams after the drain", left)
	}
	run.stopAll()
	run.check(recs, total, delivered, time.Since(started))
}

func parseChaosRecord(v string) (chaosRecord, error) {
	f := strings.Split(v, "|")
	if len(f) != 8 {
		return chaosRecord{}, errors.New("not case|message|pid|time|n|entry|attempt|consumer")
	}
	var r chaosRecord
	var c, n int
	if _, err := fmt.Sscanf(f[0], "chaos-case-%d", &r.caseNo); err != nil {
		return r, err
	}
	if _, err := fmt.Sscanf(f[1], "wamid.CHAOS.%d.%d", &c, &r.msgNo); err != nil || c != r.caseNo {
		return r, fmt.Errorf("message id %q of case %q", f[1], f[0])
	}
	pid, err1 := strconv.Atoi(f[2])
	ns, err2 := strconv.ParseInt(f[3], 10, 64)
	n, err3 := strconv.Atoi(f[4])
	attempt, err4 := strconv.Atoi(f[6])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return r, err
	}
	if n != r.msgNo {
		return r, fmt.Errorf("the text %d is not the message's number", n)
	}
	r.pid, r.at, r.entry, r.attempt, r.consumer = pid, time.Unix(0, ns), f[5], attempt, f[7]
	return r, nil
}

// check asserts what TestReplicasSurviveSIGKILLs promises and logs the
// counts.
func (run *chaosRun) check(recs []chaosRecord, total int, delivered, elapsed time.Duration) {
	t := run.t
	run.mu.Lock()
	defer run.mu.Unlock()
	killAt := map[int]time.Time{}
	for _, k := range run.kills {
		killAt[k.pid] = k.at
	}
	cutBy := func(a chaosAttempt) bool { // the kill of its process came during the delivery
		k, ok := killAt[a.pid]
		return ok && a.status == 0 && !k.Before(a.start) && !k.After(a.end)
	}

	// Deliveries.
	var attempts, cut, down, non2xx, timeouts, otherErrs int
	acked := map[[2]int]bool{}
	for key, as := range run.attempts {
		attempts += len(as)
		for _, a := range as {
			switch {
			case a.status >= 200 && a.status <= 299:
				acked[key] = true
			case a.status != 0:
				non2xx++
			case cutBy(a):
				cut++
			case a.pid == 0:
				down++
			case strings.Contains(a.err, "Timeout"):
				timeouts++
			default:
				otherErrs++
			}
		}
	}
	planned := total * chaosRedeliver / 100

	// Runs per message and per case, in Redis's order.
	runs := map[[2]int][]chaosRecord{}
	byCase := map[int][]chaosRecord{}
	for _, r := range recs {
		key := [2]int{r.caseNo, r.msgNo}
		runs[key] = append(runs[key], r)
		byCase[r.caseNo] = append(byCase[r.caseNo], r)
	}

	// explain says why message key ran more than once, or that nothing
	// does: see the test's comment.
	explain := func(key [2]int) (reEnqueued, takenOver int, why string) {
		rs := runs[key]
		entries := map[string][]chaosRecord{}
		var order []string
		for _, r := range rs {
			if entries[r.entry] == nil {
				order = append(order, r.entry)
			}
			entries[r.entry] = append(entries[r.entry], r)
		}
		cuts := 0
		for _, a := range run.attempts[key] {
			if cutBy(a) {
				cuts++
			}
		}
		var problems []string
		if reEnqueued = len(entries) - 1; reEnqueued > cuts {
			problems = append(problems, fmt.Sprintf("enqueued %d times, %d of its deliveries cut by a kill", len(entries), cuts))
		}
		for _, e := range order {
			er := entries[e]
			for i, r := range er[:len(er)-1] { // every run of the entry that was run again
				k, killed := killAt[r.pid]
				again := er[i+1]
				switch {
				case !killed || k.Before(r.at):
					problems = append(problems, fmt.Sprintf("entry %s run again after a run by pid %d, which was never killed after it", e, r.pid))
				case again.at.Before(k):
					// The consumers of a process acknowledge in batches,
					// so a consumer may run other cases' messages before
					// its acknowledgement lands: a kill then leaves the
					// entry pending. A run again before the kill is
					// another matter: the lease was lost while alive.
					problems = append(problems, fmt.Sprintf("entry %s run again by %s at %s, before pid %d (which ran it) was killed (alive: its lease was lost, no crash)",
						e, again.consumer, again.at.Format("15:04:05.000"), r.pid))
				default:
					takenOver++
				}
			}
		}
		return reEnqueued, takenOver, strings.Join(problems, "; ")
	}

	lost, dupMsgs, dupRuns, unexplained, reEnqueues, takeOvers := 0, 0, 0, 0, 0, 0
	var explained []string
	bad := map[[2]int]bool{}
	for key := range acked {
		if len(runs[key]) == 0 {
			lost++
			if lost <= 10 {
				t.Errorf("LOST: %s of %s got a 200 and never ran; deliveries %s", chaosMessageID(key[0], key[1]), chaosCaseID(key[0]), run.describe(key))
			}
		}
	}
	for key, rs := range runs {
		if key[0] < 0 || key[0] >= chaosCases || key[1] < 0 || key[1] >= chaosPerCase {
			t.Errorf("a run of a message never sent: %v", key)
			continue
		}
		if len(rs) < 2 {
			continue
		}
		dupMsgs++
		dupRuns += len(rs) - 1
		re, over, why := explain(key)
		if why != "" {
			bad[key] = true
			unexplained++
			if unexplained <= 10 {
				t.Errorf("DUPLICATE: %s of %s ran %d times: %s; runs %s; deliveries %s; kills %s",
					chaosMessageID(key[0], key[1]), chaosCaseID(key[0]), len(rs), why, describeRuns(rs), run.describe(key), run.describeKills())
			}
			continue
		}
		reEnqueues += re
		takeOvers += over
		explained = append(explained, fmt.Sprintf("%s ran %d times (enqueued again %d, taken over %d): runs %s; deliveries %s",
			chaosMessageID(key[0], key[1]), len(rs), re, over, describeRuns(rs), run.describe(key)))
	}
	slices.Sort(explained)

	disorder := 0
	for c, rs := range byCase {
		next := 0
		for i, r := range rs {
			key := [2]int{c, r.msgNo}
			switch {
			case r.msgNo == next:
				next++
			case r.msgNo < next:
				if bad[key] {
					disorder++
					t.Errorf("ORDER: %s ran again after later messages of its case (run %d of the case), not explained by a kill; case runs %s",
						chaosMessageID(c, r.msgNo), i, describeRuns(rs))
				}
			default:
				disorder++
				t.Errorf("ORDER: in %s, %s ran first before %s had run; case runs %s",
					chaosCaseID(c), chaosMessageID(c, r.msgNo), chaosMessageID(c, next), describeRuns(rs))
			}
			if disorder > 10 {
				break
			}
		}
	}

	t.Logf("%d replicas, %d cases × %d messages: %d deliveries + %d redeliveries to another replica (%d %%) + %d redeliveries after a failure = %d HTTP deliveries",
		chaosReplicas, chaosCases, chaosPerCase, total, planned, chaosRedeliver, attempts-total-planned, attempts)
	t.Logf("failed deliveries: %d cut by a kill, %d sent while the replica was down, %d non-2xx (503: a dead replica's claim held the message past the budget), %d platform timeouts, %d other connection errors",
		cut, down, non2xx, timeouts, otherErrs)
	t.Logf("kills %d: %s", len(run.kills), run.describeKills())
	t.Logf("acknowledged %d of %d messages; %d runs; lost %d; run more than once %d messages (%d extra runs: %d enqueued again after a cut delivery, %d taken over from a killed consumer), %d not explained by a kill; order violations %d",
		len(acked), total, len(recs), lost, dupMsgs, dupRuns, reEnqueues, takeOvers, unexplained, disorder)
	for _, e := range explained {
		t.Logf("  after a kill: %s", e)
	}
	t.Logf("delivering took %s, %s with the drain", delivered.Round(time.Millisecond), elapsed.Round(time.Millisecond))
	if len(run.kills) != chaosKills {
		t.Errorf("%d kills, want %d", len(run.kills), chaosKills)
	}
	if len(acked) != total {
		t.Errorf("%d of %d messages acknowledged", len(acked), total)
	}
	if cut == 0 {
		t.Errorf("no kill cut a delivery: the test did not crash a replica mid-delivery")
	}
	if t.Failed() {
		run.logReplicaErrors()
	}
}

func (run *chaosRun) describe(key [2]int) string {
	var b strings.Builder
	for _, a := range run.attempts[key] {
		fmt.Fprintf(&b, "[replica %d pid %d %s+%s status %d %s] ", a.slot, a.pid,
			a.start.Format("15:04:05.000"), a.end.Sub(a.start).Round(time.Millisecond), a.status, a.err)
	}
	return b.String()
}

func (run *chaosRun) describeKills() string {
	var s []string
	for _, k := range run.kills {
		s = append(s, fmt.Sprintf("replica %d pid %d at %s", k.slot, k.pid, k.at.Format("15:04:05.000")))
	}
	return strings.Join(s, ", ")
}

func describeRuns(rs []chaosRecord) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%d by %s at %s (entry %s attempt %d)", r.msgNo, r.consumer, r.at.Format("15:04:05.000"), r.entry, r.attempt))
	}
	return strings.Join(s, ", ")
}

// logReplicaErrors prints the replicas' error lines, for a failure.
func (run *chaosRun) logReplicaErrors() {
	for _, p := range run.logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		lines = slices.DeleteFunc(lines, func(l string) bool { return !strings.Contains(l, "ERROR") && !strings.Contains(l, "WARN") })
		if len(lines) > 20 {
			lines = append(lines[:20], fmt.Sprintf("... %d more", len(lines)-20))
		}
		if len(lines) > 0 {
			run.t.Logf("%s:\n%s", filepath.Base(p), strings.Join(lines, "\n"))
		}
	}
}
