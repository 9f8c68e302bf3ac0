package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
	"github.com/botwire/botwire/store/storetest"
)

// This file runs the storetest contract suites on a Redis Cluster of three
// masters (no replicas) started by the test, through a go-redis
// ClusterClient, with key prefixes and ids chosen so the keys land on
// several slots and nodes, odd characters included. chaos_test.go shares
// its small harness (requireRedisBinary, freeLoopbackPort, redisNode).

// requireRedisBinary returns the path of a Redis binary, or skips the test
// (fails it under BOTWIRE_REQUIRE_REDIS=1, as in CI).
func requireRedisBinary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("BOTWIRE_REQUIRE_REDIS") == "1" {
			t.Fatalf("%s is not installed and BOTWIRE_REQUIRE_REDIS=1: install it (apt-get install redis-server)", name)
		}
		t.Skipf("%s is not installed; install it to run this test (BOTWIRE_REQUIRE_REDIS=1 makes this a failure)", name)
	}
	return bin
}

// freeLoopbackPort returns a TCP port free on 127.0.0.1 right now.
func freeLoopbackPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisNode is one redis-server of a test, in a temporary directory of its
// own (its log, nodes.conf, AOF), killed and waited for at cleanup.
type redisNode struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// startRedisNode starts redis-server on a free loopback port with args
// after the common ones, and waits for its PING.
func startRedisNode(t testing.TB, args ...string) *redisNode {
	t.Helper()
	bin := requireRedisBinary(t, "redis-server")
	port := freeLoopbackPort(t)
	n := &redisNode{Addr: "127.0.0.1:" + strconv.Itoa(port), dir: t.TempDir()}
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", n.dir,
		"--logfile", "redis.log", "--save", "", "--appendonly", "no"}, args...)
	n.cmd = exec.Command(bin, all...)
	n.cmd.Dir = n.dir
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer PING in 10 s: %v\n%s", n.Addr, err, n.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *redisNode) stop() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

// logTail is the end of the server's log, for failure messages.
func (n *redisNode) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (n *redisNode) plainClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
}

// startThreeMasterCluster starts three cluster-enabled redis-servers, joins
// them with redis-cli --cluster create (no replicas: every slot on one of
// the three masters) and waits until every node reports cluster_state:ok,
// knows the other two and sees all 16384 slots assigned.
func startThreeMasterCluster(t *testing.T) []*redisNode {
	t.Helper()
	cli := requireRedisBinary(t, "redis-cli")
	var nodes []*redisNode
	var addrs []string
	for range 3 {
		n := startRedisNode(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr)
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		rdb := n.plainClient()
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:3") && strings.Contains(info, "cluster_slots_assigned:16384") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				t.Fatalf("node %s: no cluster_state:ok in 20 s: %v\n%s\n%s", n.Addr, err, info, n.logTail())
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
	return nodes
}

// oddKey maps a key of the suites to an odd id: braces that open and close
// an empty hash tag (so Redis hashes the whole key), a NUL, a colon and
// non-ASCII. Ids like it come from platforms (OneTalk's case and message
// ids are the sender's), so the store must keep working with them.
func oddKey(k string) string { return "}{" + k + "}\x00:ü{" }

// The storetest contracts hold on a 3-master Redis Cluster through a
// ClusterClient (built as the README shows it: ContextTimeoutEnabled),
// with prefixes and ids whose keys spread over slots of all three nodes
// and which carry braces, spaces, colons and non-ASCII. A contract that
// fails here is a bug of the store on Cluster (a CROSSSLOT or a MOVED it
// does not handle), not of the test.
func TestContractOnCluster(t *testing.T) {
	nodes := startThreeMasterCluster(t)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		return c.Ping(ctx).Err()
	}); err != nil {
		t.Fatal(err)
	}

	var seq atomic.Int64
	for _, c := range []struct {
		name   string
		prefix string // a counter is appended for every fresh store
		key    func(string) string
	}{
		// Queue partitions {cl-N:q:P} spread over the three masters.
		{"plain prefix", "cl-", nil},
		// A hash tag in the prefix: Redis hashes "7" for the queue, so
		// every partition is in one slot; dedup and rate keys still
		// spread by key.
		{"hash tag in prefix", "bot{7}-", nil},
		{"brace, space and colon in prefix", "a b{c:d-", nil},
		{"non-ASCII prefix", "бот·🤖-", nil},
		// A prefix starting with '}' closes the store's own hash tag at
		// once: "{}x:q:0}:stream" has an empty tag, so Redis hashes the
		// whole key and a partition's keys are on different slots.
		{"prefix starting with a closing brace", "}odd-", nil},
		{"odd ids", "ids-", oddKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // wall time is the slowest case, not the sum
			newStore := func(t *testing.T, o store.QueueOptions) *redisstore.Store {
				return redisstore.New(rdb, redisstore.Options{Prefix: c.prefix + strconv.FormatInt(seq.Add(1), 10), Partitions: 8, Queue: o})
			}
			if c.key == nil {
				storetest.Deduplicator(t, func(t *testing.T) store.Deduplicator { return newStore(t, store.QueueOptions{}) })
				storetest.RateLimiter(t, func(t *testing.T) store.RateLimiter { return newStore(t, store.QueueOptions{}) })
				storetest.Queue(t, func(t *testing.T, o store.QueueOptions) store.Queue { return watchConsume(t, newStore(t, o)) })
				return
			}
			storetest.Deduplicator(t, func(t *testing.T) store.Deduplicator { return oddDedup{newStore(t, store.QueueOptions{}), c.key} })
			storetest.RateLimiter(t, func(t *testing.T) store.RateLimiter { return oddLimiter{newStore(t, store.QueueOptions{}), c.key} })
			storetest.Queue(t, func(t *testing.T, o store.QueueOptions) store.Queue {
				q := oddQueue{key: c.key}
				if o.Observer != nil {
					o.Observer = oddObserver{o.Observer, q}
				}
				q.s = newStore(t, o)
				return watchConsume(t, q)
			})
		})
	}

	t.Cleanup(func() { // after the parallel cases: the keys were on every master
		for _, n := range nodes {
			c := n.plainClient()
			size, err := c.DBSize(context.Background()).Result()
			c.Close()
			t.Logf("node %s: %d keys", n.Addr, size)
			if err == nil && size == 0 {
				t.Errorf("node %s holds no key: the test did not spread its keys over the cluster", n.Addr)
			}
		}
	})
}

// watchConsume fails the test with the error a Consume returns while its
// context is still live: the suites drop that error (a consumer that
// stops shows as a timeout there), and it is the evidence of a store
// failure on Cluster (a CROSSSLOT, a MOVED not followed).
func watchConsume(t *testing.T, q store.Queue) store.Queue {
	w := &watchedQueue{Queue: q, t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.ended = true
		w.mu.Unlock()
	})
	if a, ok := q.(store.QueueAdmin); ok {
		return watchedAdmin{w, a} // so the QueueAdmin contract runs here too
	}
	return w
}

// watchedAdmin is a watchedQueue of a queue that implements
// store.QueueAdmin, with its methods passed on.
type watchedAdmin struct {
	*watchedQueue
	a store.QueueAdmin
}

func (w watchedAdmin) List(ctx context.Context, o store.ListOptions) (store.Page, error) {
	return w.a.List(ctx, o)
}
func (w watchedAdmin) Message(ctx context.Context, id string) (store.Message, error) {
	return w.a.Message(ctx, id)
}
func (w watchedAdmin) ReplayAll(ctx context.Context) (int, error) { return w.a.ReplayAll(ctx) }
func (w watchedAdmin) DeleteDead(ctx context.Context, id string) error {
	return w.a.DeleteDead(ctx, id)
}
func (w watchedAdmin) DeleteAllDead(ctx context.Context) (int, error) { return w.a.DeleteAllDead(ctx) }
func (w watchedAdmin) Pause(ctx context.Context) error                { return w.a.Pause(ctx) }
func (w watchedAdmin) Resume(ctx context.Context) error               { return w.a.Resume(ctx) }
func (w watchedAdmin) Paused(ctx context.Context) (bool, error)       { return w.a.Paused(ctx) }

type watchedQueue struct {
	store.Queue
	t     *testing.T
	mu    sync.Mutex
	ended bool
}

// Stats passes the queue's Stats on, so the Stats contract runs here too.
func (w *watchedQueue) Stats(ctx context.Context) (store.QueueStats, error) {
	return w.Queue.(store.QueueInspector).Stats(ctx)
}

func (w *watchedQueue) Consume(ctx context.Context, consumer string, h store.Handler) error {
	err := w.Queue.Consume(ctx, consumer, h)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && ctx.Err() == nil && !w.ended {
		w.t.Errorf("Consume(%q) stopped with an error: %v", consumer, err)
	}
	return err
}

// oddDedup, oddLimiter and oddQueue pass the suites' keys to the store
// mapped by key (the queue maps them back for the handler and the dead
// letters), so the same contracts run with odd ids.
type oddDedup struct {
	s   *redisstore.Store
	key func(string) string
}

func (d oddDedup) Claim(ctx context.Context, key, tok string, lease time.Duration) (store.Claim, error) {
	return d.s.Claim(ctx, d.key(key), tok, lease)
}

func (d oddDedup) Renew(ctx context.Context, key, tok string, lease time.Duration) error {
	return d.s.Renew(ctx, d.key(key), tok, lease)
}

func (d oddDedup) Complete(ctx context.Context, key, tok string, answer []byte, ttl time.Duration) error {
	return d.s.Complete(ctx, d.key(key), tok, answer, ttl)
}

func (d oddDedup) Release(ctx context.Context, key, tok string) error {
	return d.s.Release(ctx, d.key(key), tok)
}

type oddLimiter struct {
	s   *redisstore.Store
	key func(string) string
}

func (l oddLimiter) Take(ctx context.Context, key string, limit int, period time.Duration) (bool, time.Duration, error) {
	return l.s.Take(ctx, l.key(key), limit, period)
}

type oddQueue struct {
	s   *redisstore.Store
	key func(string) string
}

func (q oddQueue) unmap(k string) string {
	pre, post, _ := strings.Cut(q.key("\x01"), "\x01")
	return strings.TrimSuffix(strings.TrimPrefix(k, pre), post)
}

func (q oddQueue) Enqueue(ctx context.Context, m store.Message) (string, error) {
	m.Key = q.key(m.Key)
	return q.s.Enqueue(ctx, m)
}

func (q oddQueue) Consume(ctx context.Context, consumer string, h store.Handler) error {
	return q.s.Consume(ctx, consumer, func(ctx context.Context, m store.Message) error {
		want := q.unmap(m.Key)
		if q.key(want) != m.Key {
			return fmt.Errorf("message key %q is not a key the test enqueued", m.Key)
		}
		m.Key = want
		return h(ctx, m)
	})
}

func (q oddQueue) DeadLetters(ctx context.Context) ([]store.Message, error) {
	ms, err := q.s.DeadLetters(ctx)
	for i := range ms {
		ms[i].Key = q.unmap(ms[i].Key)
	}
	return ms, err
}

func (q oddQueue) Replay(ctx context.Context, id string) error { return q.s.Replay(ctx, id) }

// oddObserver maps the keys of the queue's events back, as oddQueue does
// for the handler.
type oddObserver struct {
	observe.Observer
	q oddQueue
}

func (o oddObserver) Event(ctx context.Context, e observe.Event) {
	if e.Key != "" {
		e.Key = o.q.unmap(e.Key)
	}
	o.Observer.Event(ctx, e)
}

func (q oddQueue) Stats(ctx context.Context) (store.QueueStats, error) { return q.s.Stats(ctx) }
