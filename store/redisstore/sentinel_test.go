package redisstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file is the harness of the replication tests: redis-server
// processes with the arguments a test needs (AOF, replicaof, cluster), a
// TCP proxy that delays the replication stream, and three redis-sentinel
// processes. Everything listens on free loopback ports and is killed when
// the test ends. A missing binary skips the test, or fails it under
// BOTWIRE_REQUIRE_REDIS=1 (CI).

// needBinary returns the path of a Redis binary, or skips the test.
func needBinary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatalf("%s is not installed and BOTWIRE_REQUIRE_REDIS=1: install it (apt-get install redis-server redis-sentinel)", name)
		}
		t.Skipf("%s is not installed; install it to run the replication tests (BOTWIRE_REQUIRE_REDIS=1 makes this a failure)", name)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is one redis-server or redis-sentinel of a test.
type proc struct {
	t    testing.TB
	bin  string
	Addr string
	Port int
	Dir  string
	args []string
	cmd  *exec.Cmd
}

// startServer starts a redis-server in its own directory, without
// persistence unless args turn it on (a later directive wins).
func startServer(t testing.TB, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, bin: needBinary(t, "redis-server"), Port: freePort(t), Dir: t.TempDir()}
	p.Addr = "127.0.0.1:" + strconv.Itoa(p.Port)
	p.args = append([]string{"--port", strconv.Itoa(p.Port), "--bind", "127.0.0.1", "--dir", p.Dir,
		"--logfile", "redis.log", "--save", "", "--appendonly", "no",
		"--repl-diskless-sync-delay", "0"}, args...) // a replica syncs at once, not 5 s later
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Dir = p.Dir
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s on %s did not answer PING in 10 s: %v\n%s", filepath.Base(p.bin), p.Addr, err, p.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the process with SIGKILL: no shutdown, no last fsync. start
// brings it back with the same arguments and directory (so the same AOF).
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

func (p *proc) log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (p *proc) client(t testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// info returns one field of INFO.
func (p *proc) info(section, field string) string {
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	s, _ := rdb.Info(context.Background(), section).Result()
	for line := range strings.Lines(s) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// waitFor polls cond every 20 ms until it holds, or fails the test after
// d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startReplica starts a replica of the server at addr (a master, or a
// proxy in front of one) and waits until it copied the master.
func startReplica(t testing.TB, addr string, args ...string) *proc {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	r := startServer(t, append([]string{"--replicaof", host, port}, args...)...)
	waitFor(t, 30*time.Second, "replica link up", func() bool { return r.info("replication", "master_link_status") == "up" })
	// 30 s, not less: on a loaded 2-core CI machine the first write can
	// take many WAIT rounds to be acknowledged through a delaying proxy.
	// The master streams commands to a new replica once it acknowledged
	// the copy (up to a second later): write, and wait for it.
	m := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer m.Close()
	waitFor(t, 30*time.Second, "replica streaming from the master", func() bool {
		pipe := m.Pipeline()
		pipe.Incr(context.Background(), "botwire-test:replica-check")
		w := pipe.Do(context.Background(), "wait", 1, 200)
		_, err := pipe.Exec(context.Background())
		v, _ := w.Int()
		return err == nil && v >= 1
	})
	return r
}

// delayProxy sits between a replica and its master: the replica's
// replicaof points at it. The master's replication stream reaches the
// replica delay late, as over a slow or distant link; the replica's
// acknowledgements go back at once. When the master dies, what the proxy
// still holds is dropped, as a network loses what is in flight when a host
// goes down (on loopback nothing is ever in flight long enough to lose).
type delayProxy struct {
	Addr   string
	target string
	ln     net.Listener
	delay  atomic.Int64 // nanoseconds

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startProxy(t testing.TB, target string, delay time.Duration) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.delay.Store(int64(delay))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.pipe(c)
			}()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// SetDelay changes the delay of what the master sends from now on.
func (p *delayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// cut drops every connection, with what is in flight, and stops
// accepting: the replica is cut off from its master for good.
func (p *delayProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *delayProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *delayProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

type chunk struct {
	at time.Time
	b  []byte
}

func (p *delayProxy) pipe(down net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		down.Close()
		return
	}
	if !p.track(down, up) {
		p.untrack(down, up)
		return
	}
	defer p.untrack(down, up)
	var done sync.WaitGroup
	done.Add(2)
	go func() { // the replica's acknowledgements: at once
		defer done.Done()
		_, _ = io.Copy(up, down)
		up.Close()
	}()
	held := make(chan chunk, 1<<16)
	go func() { // the master's stream: delay late
		defer done.Done()
		for c := range held {
			if d := time.Until(c.at.Add(time.Duration(p.delay.Load()))); d > 0 {
				time.Sleep(d)
			}
			if _, err := down.Write(c.b); err != nil {
				up.Close()
				for range held { // drop the rest
				}
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			held <- chunk{time.Now(), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			break
		}
	}
	// The master is gone: what it sent in the last delay never arrives.
	down.Close()
	close(held)
	done.Wait()
}

// failoverSet is a master, a replica behind a delayProxy, and three
// sentinels watching them with quorum 2.
type failoverSet struct {
	Name      string
	Master    *proc
	Replica   *proc
	Proxy     *delayProxy
	Sentinels []*proc
}

func startFailoverSet(t testing.TB, delay time.Duration) *failoverSet {
	t.Helper()
	sbin := needBinary(t, "redis-sentinel")
	f := &failoverSet{Name: "botwire"}
	f.Master = startServer(t)
	f.Proxy = startProxy(t, f.Master.Addr, delay)
	f.Replica = startReplica(t, f.Proxy.Addr)
	for range 3 {
		s := &proc{t: t, bin: sbin, Port: freePort(t), Dir: t.TempDir()}
		s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
		conf := filepath.Join(s.Dir, "sentinel.conf")
		err := os.WriteFile(conf, fmt.Appendf(nil, `port %d
bind 127.0.0.1
dir %s
logfile redis.log
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s 400
sentinel failover-timeout %s 4000
`, s.Port, s.Dir, f.Name, f.Master.Port, f.Name, f.Name), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		s.args = []string{conf}
		s.start()
		t.Cleanup(s.kill)
		f.Sentinels = append(f.Sentinels, s)
	}
	// A failover needs each sentinel to know the replica and the other
	// two (they meet through hello messages every 2 s).
	for _, s := range f.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		waitFor(t, 15*time.Second, "sentinel "+s.Addr+" sees the replica and the other sentinels", func() bool {
			m, err := sc.Master(context.Background(), f.Name).Result()
			return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2"
		})
		sc.Close()
	}
	return f
}

func (f *failoverSet) sentinelAddrs() []string {
	var addrs []string
	for _, s := range f.Sentinels {
		addrs = append(addrs, s.Addr)
	}
	return addrs
}

// client is a go-redis FailoverClient as the README builds one: short
// dial and read timeouts, the context's deadline applied, no retry of a
// command that may have run.
func (f *failoverSet) client(t testing.TB) *redis.Client {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: f.Name, SentinelAddrs: f.sentinelAddrs(),
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: 64,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// masterAddr is the master the sentinels name now.
func (f *failoverSet) masterAddr() string {
	for _, s := range f.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		a, err := sc.GetMasterAddrByName(context.Background(), f.Name).Result()
		sc.Close()
		if err == nil && len(a) == 2 {
			return net.JoinHostPort(a[0], a[1])
		}
	}
	return ""
}

// replicatedCluster is a Redis Cluster of three masters with one replica
// each, made by redis-cli --cluster create.
type replicatedCluster struct {
	Nodes []*proc
}

func startReplicatedCluster(t testing.TB) *replicatedCluster {
	t.Helper()
	cli := needBinary(t, "redis-cli")
	c := &replicatedCluster{}
	var addrs []string
	for range 6 {
		n := startServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
			"--repl-ping-replica-period", "1") // a PING in the stream: replicas acknowledge an offset soon
		c.Nodes = append(c.Nodes, n)
		addrs = append(addrs, n.Addr)
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitFor(t, 15*time.Second, "cluster ok with an online replica per master", func() bool {
		masters := 0
		for _, n := range c.Nodes {
			if n.info("cluster", "cluster_enabled") != "1" {
				return false
			}
			rdb := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			ci, _ := rdb.ClusterInfo(context.Background()).Result()
			rdb.Close()
			if !strings.Contains(ci, "cluster_state:ok") {
				return false
			}
			if n.info("replication", "role") == "master" {
				masters++
				// online, and streaming: it acknowledged an offset
				if info := n.infoText("replication"); !strings.Contains(info, "state=online") || strings.Contains(info, "offset=0,") {
					return false
				}
			}
		}
		return masters == 3
	})
	return c
}

func (p *proc) infoText(section string) string {
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	s, _ := rdb.Info(context.Background(), section).Result()
	return s
}

// commandCalls reads INFO commandstats: calls per command name.
func (p *proc) commandCalls() map[string]int {
	calls := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(p.infoText("commandstats")))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for kv := range strings.SplitSeq(rest, ",") {
			if k, v, _ := strings.Cut(kv, "="); k == "calls" {
				calls[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(v)
			}
		}
	}
	return calls
}
