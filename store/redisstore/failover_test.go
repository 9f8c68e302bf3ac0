package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A stream of OneTalk deliveries to a WithQueue handler on a Sentinel
// deployment whose replica is 20 ms behind; the master is SIGKILLed in the
// middle and the sentinels promote the replica. With the default options
// every message that got its 200 is processed after the failover, and the
// handler answers 503 while there is no master, then 200 again, without a
// restart.
func TestFailoverLosesNoAcknowledgedMessage(t *testing.T) {
	r := runFailover(t, redisstore.Options{})
	if len(r.lost) > 0 {
		t.Errorf("%d of %d acknowledged messages were lost in the failover (first: %v)", len(r.lost), r.acked, r.lost[:min(len(r.lost), 5)])
	}
}

// The same without the wait (Options.NoReplicaWait, what the store did
// before): the harness sees what a failover loses, so the test above can
// fail.
func TestFailoverWithoutWaitLosesMessages(t *testing.T) {
	r := runFailover(t, redisstore.Options{NoReplicaWait: true})
	if len(r.lost) == 0 {
		t.Errorf("no acknowledged message lost without the wait (%d acknowledged): the harness does not reproduce a failover loss", r.acked)
	}
}

type failoverRun struct {
	acked int
	lost  []string
}

func runFailover(t *testing.T, opts redisstore.Options) failoverRun {
	t.Parallel()
	f := startFailoverSet(t, 20*time.Millisecond)
	opts.Prefix, opts.Partitions, opts.Poll = "failover", 16, 10*time.Millisecond
	opts.Queue = store.QueueOptions{Lease: time.Second, RetryDelay: 50 * time.Millisecond}
	st := redisstore.New(f.client(t), opts)

	var mu sync.Mutex
	processed := map[string]int{}
	acked := map[string]bool{}
	// The consumers are held until the failover is over, so messages wait
	// in the queue (as behind a slow bot): a message a failover drops is
	// then one never processed, not one processed before it was dropped.
	release := make(chan struct{})
	h, err := onetalk.NewHandler(secret, func(_ context.Context, r *onetalk.InboundRequest) error {
		<-release
		mu.Lock()
		processed[r.Message.Text.Body]++
		mu.Unlock()
		return nil
	}, onetalk.WithQueue(st, 16), onetalk.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	defer func() {
		select {
		case <-release:
		default:
			close(release) // a t.Fatal before the release
		}
	}()
	fake := onetalktest.NewServer(onetalktest.Config{Secret: secret, Bot: h})
	defer fake.Close()

	var killed atomic.Bool
	var beforeKill, unavailable, afterKill atomic.Int64
	var otherMu sync.Mutex
	var other []string
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for g := range 16 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 0; ; i++ {
				body := fmt.Sprintf("%d-%d", g, i)
				for { // redeliver until acknowledged, as OneTalk does
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					d, err := fake.Deliver(ctx, onetalktest.Text(fmt.Sprint("case-", g), body))
					cancel()
					if err == nil && d.StatusCode == http.StatusOK {
						mu.Lock()
						acked[body] = true
						mu.Unlock()
						if killed.Load() {
							afterKill.Add(1)
						} else {
							beforeKill.Add(1)
						}
						time.Sleep(time.Millisecond) // at most ~16 000 messages a second
						break
					}
					if err == nil && d.StatusCode == http.StatusServiceUnavailable {
						unavailable.Add(1)
					} else {
						otherMu.Lock()
						other = append(other, fmt.Sprint(d, err))
						otherMu.Unlock()
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	oldMaster := f.Master.Addr
	f.Master.kill()
	killed.Store(true)
	killedAt := time.Now()
	waitFor(t, 20*time.Second, "the handler answering 200 again after the failover", func() bool { return afterKill.Load() >= 200 })
	recovered := time.Since(killedAt)
	close(stop)
	senders.Wait()
	close(release)
	if a := f.masterAddr(); a == oldMaster || a != f.Replica.Addr {
		t.Fatalf("the sentinels name %s as master, want the promoted replica %s", a, f.Replica.Addr)
	}

	// Let the consumers finish: until every acknowledged message ran, or
	// nothing new ran for 2 s (what is left then is lost).
	lost := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var l []string
		for body := range acked {
			if processed[body] == 0 {
				l = append(l, body)
			}
		}
		slices.Sort(l)
		return l
	}
	last, lastChange := len(lost()), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n := len(lost())
		if n == 0 || time.Since(lastChange) > 2*time.Second {
			break
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
	}
	r := failoverRun{acked: len(acked), lost: lost()}
	dups := 0
	mu.Lock()
	for _, n := range processed {
		if n > 1 {
			dups++
		}
	}
	mu.Unlock()
	t.Logf("%d acknowledged (%d before the SIGKILL), %d answered 503 during the failover, 200 again %s after the SIGKILL; lost %d, run twice %d",
		r.acked, beforeKill.Load(), unavailable.Load(), recovered.Round(10*time.Millisecond), len(r.lost), dups)
	if unavailable.Load() == 0 {
		t.Error("no 503 during the failover")
	}
	if len(other) > 0 {
		t.Errorf("%d answers were neither 200 nor 503, e.g. %s", len(other), other[0])
	}
	return r
}

// promote makes a replica a master, as a sentinel does.
func promote(t *testing.T, p *proc) {
	t.Helper()
	if err := p.client(t).ReplicaOf(context.Background(), "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
}

// payloads runs a consumer on st and returns what it got: it stops once it
// got every payload of want, or when nothing came for idle.
func payloads(st *redisstore.Store, idle time.Duration, want map[string]bool) map[string]bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	got := map[string]bool{}
	missing := len(want)
	last := time.Now()
	go func() {
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			if time.Since(last) > idle {
				cancel()
			}
			mu.Unlock()
		}
	}()
	_ = st.Consume(ctx, "check", func(_ context.Context, m store.Message) error {
		mu.Lock()
		defer mu.Unlock()
		p := string(m.Payload)
		if want[p] && !got[p] {
			missing--
		}
		got[p], last = true, time.Now()
		if missing == 0 {
			cancel()
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return got
}

// Enqueue returns once the replica has the message: cut the replication
// link (and what is in flight on it) the moment Enqueue returned, promote
// the replica, and the message is there. Without the wait it is not.
func TestEnqueueReturnsOnceTheReplicaHasIt(t *testing.T) {
	for _, c := range []struct {
		name string
		opts redisstore.Options
		want int
	}{{"default", redisstore.Options{}, 1}, {"NoReplicaWait", redisstore.Options{NoReplicaWait: true}, 0}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			master := startServer(t)
			proxy := startProxy(t, master.Addr, 50*time.Millisecond)
			replica := startReplica(t, proxy.Addr)
			c.opts.Prefix, c.opts.Partitions = "enqueue", 2
			if _, err := redisstore.New(master.client(t), c.opts).Enqueue(context.Background(), store.Message{Key: "case-1", Payload: []byte("acknowledged")}); err != nil {
				t.Fatal(err)
			}
			proxy.cut()
			promote(t, replica)
			got := payloads(redisstore.New(replica.client(t), redisstore.Options{Prefix: "enqueue", Partitions: 2}), time.Second,
				map[string]bool{"acknowledged": true})
			if len(got) != c.want {
				t.Fatalf("the promoted replica has %v, want %d message", got, c.want)
			}
		})
	}
}

// postOneTalk delivers one OneTalk message with a fixed id to h.
func postOneTalk(h http.Handler, caseID, id string) int {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(
		`{"caseID":"`+caseID+`","message":{"id":"`+id+`","type":"text","text":{"body":"hi"}}}`))
	r.Header.Set(onetalk.SecretHeader, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// The completion of a deduplicated delivery is on the replica when the
// handler answers: after a failover the redelivery is answered from it and
// the callback does not run again. Without the wait it runs twice.
func TestCompletedDeliveryIsOnTheReplica(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  redisstore.Options
		calls int
	}{{"default", redisstore.Options{}, 1}, {"NoReplicaWait", redisstore.Options{NoReplicaWait: true}, 2}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			master := startServer(t)
			proxy := startProxy(t, master.Addr, 50*time.Millisecond)
			replica := startReplica(t, proxy.Addr)
			var calls atomic.Int64
			fn := func(context.Context, *onetalk.InboundRequest) error { calls.Add(1); return nil }
			c.opts.Prefix = "complete"
			before, err := onetalk.NewHandler(secret, fn, onetalk.WithDeduplication(redisstore.New(master.client(t), c.opts), 0))
			if err != nil {
				t.Fatal(err)
			}
			if code := postOneTalk(before, "C1", "m1"); code != 200 {
				t.Fatalf("first delivery: %d", code)
			}
			proxy.cut()
			promote(t, replica)
			after, err := onetalk.NewHandler(secret, fn, onetalk.WithDeduplication(redisstore.New(replica.client(t), redisstore.Options{Prefix: "complete"}), 0))
			if err != nil {
				t.Fatal(err)
			}
			if code := postOneTalk(after, "C1", "m1"); code != 200 {
				t.Fatalf("redelivery after the failover: %d", code)
			}
			if n := calls.Load(); n != int64(c.calls) {
				t.Fatalf("the callback ran %d times, want %d", n, c.calls)
			}
		})
	}
}

// A master without the completion script (restarted, or just promoted)
// answers the EVALSHA in the pipeline with NOSCRIPT: the store sends the
// script itself, with the WAIT, and the delivery completes.
func TestCompleteSendsTheScriptToAFreshMaster(t *testing.T) {
	t.Parallel()
	master := startServer(t)
	startReplica(t, master.Addr)
	var calls atomic.Int64
	h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { calls.Add(1); return nil },
		onetalk.WithDeduplication(redisstore.New(master.client(t), redisstore.Options{Prefix: "noscript"}), 0))
	if err != nil {
		t.Fatal(err)
	}
	if code := postOneTalk(h, "C1", "m1"); code != 200 {
		t.Fatalf("m1: %d", code)
	}
	if err := master.client(t).ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the redelivery is answered from the completed key
		if code := postOneTalk(h, "C1", "m2"); code != 200 {
			t.Fatalf("m2: %d", code)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("the callback ran %d times, want 2 (m2 once)", n)
	}
	if c := master.commandCalls(); c["eval"] == 0 || c["wait"] < 2 {
		t.Errorf("commands %v: want the script sent with EVAL, and WAIT after each completion", c)
	}
}

// MinReplicas 1: while the replica is behind by more than ReplicaTimeout,
// Enqueue fails with ErrNotReplicated and the handler answers 503; once it
// catches up, 200 again.
func TestMinReplicasAnswers503WhileTheReplicaLags(t *testing.T) {
	t.Parallel()
	master := startServer(t)
	proxy := startProxy(t, master.Addr, 0)
	startReplica(t, proxy.Addr)
	st := redisstore.New(master.client(t), redisstore.Options{Prefix: "lag", MinReplicas: 1, ReplicaTimeout: 100 * time.Millisecond})
	h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithQueue(st, 1), onetalk.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	if code := postOneTalk(h, "C1", "m1"); code != 200 {
		t.Fatalf("with the replica in sync: %d", code)
	}
	proxy.SetDelay(time.Second)
	start := time.Now()
	_, err = st.Enqueue(context.Background(), store.Message{Key: "C1", Payload: []byte("late")})
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Enqueue with the replica 1 s behind: %v, want ErrNotReplicated", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Enqueue took %s to fail, ReplicaTimeout is 100 ms", d)
	}
	t.Log(err)
	if code := postOneTalk(h, "C1", "m2"); code != http.StatusServiceUnavailable {
		t.Fatalf("with the replica 1 s behind: %d, want 503", code)
	}
	proxy.SetDelay(0)
	waitFor(t, 5*time.Second, "200 once the replica caught up", func() bool { return postOneTalk(h, "C1", "m3") == 200 })
}

// MinReplicas 1 on a server without replicas: refused before writing.
func TestMinReplicasRefusesWithoutAReplica(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	st := redisstore.New(srv.client(t), redisstore.Options{Prefix: "alone", MinReplicas: 1})
	_, err := st.Enqueue(context.Background(), store.Message{Key: "C1", Payload: []byte("x")})
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Enqueue: %v, want ErrNotReplicated", err)
	}
	h, err := onetalk.NewHandler(secret, func(context.Context, *onetalk.InboundRequest) error { return nil },
		onetalk.WithQueue(st, 1), onetalk.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	if code := postOneTalk(h, "C1", "m1"); code != http.StatusServiceUnavailable {
		t.Fatalf("handler: %d, want 503", code)
	}
	if n := srv.commandCalls()["xadd"]; n != 0 {
		t.Fatalf("%d XADD ran: a refused message was written", n)
	}
}

// trips counts what a client sends: round trips (a command, or a
// pipeline) and commands by name.
type trips struct {
	mu    sync.Mutex
	n     int
	names map[string]int
}

func (c *trips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.count(cmd)
		return next(ctx, cmd)
	}
}

func (c *trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.count(cmds...)
		return next(ctx, cmds)
	}
}

func (c *trips) count(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = map[string]int{}
	}
	handshake := true
	for _, cmd := range cmds {
		name := strings.ToLower(cmd.Name())
		c.names[name]++
		handshake = handshake && (name == "hello" || name == "client")
	}
	if !handshake { // a new connection's HELLO and CLIENT SETINFO are not the store's
		c.n++
	}
}

func (c *trips) get() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, maps.Clone(c.names)
}

// With no replica the wait costs nothing: one round trip per Enqueue (the
// XADD alone), plus one INFO when the store starts. With a replica, WAIT
// rides in the XADD's pipeline: still one round trip.
func TestWaitAddsNoRoundTrip(t *testing.T) {
	for _, withReplica := range []bool{false, true} {
		t.Run(fmt.Sprint("replica=", withReplica), func(t *testing.T) {
			t.Parallel()
			master := startServer(t)
			if withReplica {
				startReplica(t, master.Addr)
			}
			rdb := master.client(t)
			var c trips
			rdb.AddHook(&c)
			st := redisstore.New(rdb, redisstore.Options{Prefix: "trips"})
			const n = 200
			start := time.Now()
			for i := range n {
				if _, err := st.Enqueue(context.Background(), store.Message{Key: fmt.Sprint("case-", i%7), Payload: []byte("x")}); err != nil {
					t.Fatal(err)
				}
			}
			refreshes := int(time.Since(start)/time.Second) + 1 // INFO rides along once a second
			got, names := c.get()
			t.Logf("%d enqueues: %d round trips, commands %v", n, got, names)
			if got != n+1 {
				t.Errorf("%d round trips for %d enqueues, want %d (one each, one INFO at start)", got, n, n+1)
			}
			if names["xadd"] != n || names["info"] > 1+refreshes {
				t.Errorf("commands %v", names)
			}
			wantWait := 0
			if withReplica {
				wantWait = n
			}
			if names["wait"] != wantWait {
				t.Errorf("%d WAIT sent, want %d", names["wait"], wantWait)
			}
		})
	}
}

// WaitFsync waits with WAITAOF where the server has it (Redis 7.2), and
// falls back to WAIT on an older server (it answers "unknown command").
func TestWaitFsyncUsesWaitAOFOrFallsBack(t *testing.T) {
	t.Parallel()
	master := startServer(t, "--appendonly", "yes", "--appendfsync", "always")
	startReplica(t, master.Addr, "--appendonly", "yes", "--appendfsync", "always")
	rdb := master.client(t)
	var c trips
	rdb.AddHook(&c)
	st := redisstore.New(rdb, redisstore.Options{Prefix: "fsync", WaitFsync: true})
	for range 5 {
		if _, err := st.Enqueue(context.Background(), store.Message{Key: "C1", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	version := master.info("server", "redis_version")
	_, names := c.get()
	t.Logf("Redis %s: %v", version, names)
	if hasWaitAOF(version) {
		if names["waitaof"] < 5 {
			t.Errorf("Redis %s has WAITAOF, sent %d", version, names["waitaof"])
		}
	} else if names["wait"] != 5 || names["waitaof"] != 1 {
		t.Errorf("Redis %s has no WAITAOF: want one probe and 5 WAIT, got %v", version, names)
	}
}

func hasWaitAOF(version string) bool {
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	return major > 7 || major == 7 && minor >= 2
}

// On a Cluster every WAIT goes to the master that took the write: on each
// master, as many WAIT as XADD.
func TestClusterWaitsOnTheKeysMaster(t *testing.T) {
	t.Parallel()
	cl := startReplicatedCluster(t)
	var addrs []string
	for _, n := range cl.Nodes {
		addrs = append(addrs, n.Addr)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
	defer rdb.Close()
	st := redisstore.New(rdb, redisstore.Options{Prefix: "cluster", Partitions: 16, MinReplicas: 1})
	for i := range 200 {
		if _, err := st.Enqueue(context.Background(), store.Message{Key: fmt.Sprint("case-", i), Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	masters := 0
	for _, n := range cl.Nodes {
		if n.info("replication", "role") != "master" {
			continue
		}
		masters++
		calls := n.commandCalls()
		t.Logf("master %s: %d XADD, %d WAIT", n.Addr, calls["xadd"], calls["wait"])
		if calls["xadd"] == 0 || calls["wait"] != calls["xadd"] {
			t.Errorf("master %s: %d XADD, %d WAIT; want one WAIT per XADD, on the same node", n.Addr, calls["xadd"], calls["wait"])
		}
	}
	if masters != 3 {
		t.Fatalf("%d masters", masters)
	}
}

// Which persistence setting keeps an acknowledged message through a
// SIGKILL of redis-server and a restart on the same directory: with AOF
// (always or everysec) none is lost — Redis writes the AOF before it
// answers, so only a loss of the host (the page cache) can take what
// everysec has not fsynced yet. Without persistence everything is lost,
// and a replica does not help a master that restarts before a failover:
// the replica copies the empty master (logged, for the README's table).
func TestRedisKillKeepsAcknowledgedMessages(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		replica bool
		keep    bool
	}{
		{"appendfsync=always", []string{"--appendonly", "yes", "--appendfsync", "always"}, false, true},
		{"appendfsync=everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, false, true},
		{"no persistence", nil, false, false},
		{"no persistence, replica+WAIT", nil, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, c.args...)
			var replica *proc
			if c.replica {
				replica = startReplica(t, srv.Addr)
			}
			opts := redisstore.Options{Prefix: "kill", Partitions: 4}
			st := redisstore.New(srv.client(t), opts)
			var mu sync.Mutex
			acked := map[string]bool{}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						p := fmt.Sprintf("%d-%d", g, i)
						if _, err := st.Enqueue(context.Background(), store.Message{Key: fmt.Sprint("case-", g), Payload: []byte(p)}); err != nil {
							return // the server is gone
						}
						mu.Lock()
						acked[p] = true
						mu.Unlock()
					}
				}()
			}
			time.Sleep(300 * time.Millisecond)
			srv.kill()
			wg.Wait()
			srv.start()
			if replica != nil {
				waitFor(t, 10*time.Second, "the replica back on its restarted master", func() bool {
					return replica.info("replication", "master_link_status") == "up"
				})
				if n := replica.client(t).DBSize(context.Background()).Val(); n != 0 {
					t.Logf("the replica kept %d keys", n)
				} else {
					t.Log("the replica copied the empty master: its keys are gone too")
				}
			}
			have := payloads(redisstore.New(srv.client(t), opts), 3*time.Second, acked)
			lost := 0
			for p := range acked {
				if !have[p] {
					lost++
				}
			}
			t.Logf("%s: %d acknowledged before the SIGKILL, %d lost after the restart", c.name, len(acked), lost)
			if c.keep && lost > 0 {
				t.Errorf("%d of %d acknowledged messages lost", lost, len(acked))
			}
		})
	}
}

// What the wait costs per Enqueue, one message at a time as a webhook
// sends them, in one run: a server without replica (the wait costs
// nothing), a master with a replica on loopback, and one whose replica
// is 1 ms away (a delayProxy, like a replica in another zone); each with
// the default wait and with NoReplicaWait.
//
//	cd store/redisstore && go test -run '^$' -bench BenchmarkEnqueueReplicas -benchmem -count 6
func BenchmarkEnqueueReplicas(b *testing.B) {
	alone := startServer(b)
	master := startServer(b)
	startReplica(b, master.Addr)
	far := startServer(b)
	startReplica(b, startProxy(b, far.Addr, time.Millisecond).Addr)
	for _, c := range []struct {
		name string
		srv  *proc
	}{{"no-replica", alone}, {"replica", master}, {"replica-1ms", far}} {
		for _, wait := range []bool{false, true} {
			name := c.name + "/wait"
			if !wait {
				name = c.name + "/NoReplicaWait"
			}
			b.Run(name, func(b *testing.B) {
				st := redisstore.New(c.srv.client(b), redisstore.Options{Prefix: fmt.Sprint("bench", prefixes.Add(1)), NoReplicaWait: !wait})
				ctx := context.Background()
				if _, err := st.Enqueue(ctx, store.Message{Key: "warm-up", Payload: []byte("x")}); err != nil {
					b.Fatal(err)
				}
				payload := []byte(`{"caseID":"C1","message":{"id":"wamid.1","type":"text","text":{"body":"hi"}}}`)
				lat := make([]time.Duration, 0, b.N)
				i := 0
				for b.Loop() {
					i++
					start := time.Now()
					if _, err := st.Enqueue(ctx, store.Message{Key: fmt.Sprint("case-", i%64), Payload: payload}); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			})
		}
	}
}
