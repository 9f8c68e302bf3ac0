package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is returned (wrapped) by Enqueue, and by Complete, when
// fewer replicas than Options.MinReplicas acknowledged the write within
// Options.ReplicaTimeout, or when Options.WaitFsync is set and the master
// did not fsync it in time. The write may still be on the master: the
// handler answers 503, the platform redelivers, and the message may then
// run twice (at least once), never zero times.
var ErrNotReplicated = errors.New("redisstore: the write was not acknowledged by enough replicas")

const (
	// defaultReplicaTimeout bounds the wait for replicas: a healthy
	// replica acknowledges within a network round trip (tens of µs on one
	// host, a few ms across zones), and 250 ms leaves the platforms'
	// answer budgets (OneTalk and Botcopy ~5 s) nearly untouched even when
	// both Enqueue and Complete wait their full timeout.
	defaultReplicaTimeout = 250 * time.Millisecond
	// replicaRefresh is how long a node's replica count is trusted before
	// INFO replication rides along with the next write to refresh it.
	replicaRefresh = time.Second
	// maxReplicaLag is how long (seconds, INFO's lag) a replica may go
	// without acknowledging before it no longer counts: replicas
	// acknowledge every second, so one silent for longer is stalled or
	// gone, and waiting for it would only spend the timeout on every write.
	maxReplicaLag = 3
)

// replication caches, for each master the store writes to, how many
// replicas follow it and whether it has WAITAOF. Its zero value is ready.
type replication struct {
	mu    sync.Mutex
	nodes map[string]*replicaState // by node address; "" for a single master
}

type replicaState struct {
	replicas atomic.Int64 // online replicas; -1 until INFO answered
	checked  atomic.Int64 // when INFO last answered or was sent (UnixNano); 0: stale
	aof      atomic.Int32 // 0 unknown, 1 the node has WAITAOF, 2 it has not
}

func (r *replication) node(addr string) *replicaState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.nodes[addr]
	if st == nil {
		if r.nodes == nil {
			r.nodes = map[string]*replicaState{}
		}
		st = &replicaState{}
		st.replicas.Store(-1)
		r.nodes[addr] = st
	}
	return st
}

// forget makes the next write ask the node again (after a connection
// error: the master may have changed under a Sentinel client).
func (st *replicaState) forget() {
	st.replicas.Store(-1)
	st.checked.Store(0)
	st.aof.Store(0)
}

// claimRefresh reports whether the caller should refresh the count now: it
// is stale, and no other caller took the refresh in the meantime.
func (st *replicaState) claimRefresh(now int64) bool {
	c := st.checked.Load()
	return now-c >= int64(replicaRefresh) && st.checked.CompareAndSwap(c, now)
}

const (
	aofUnknown = iota
	aofYes
	aofNo
)

// durably runs write (commands on c: a client, or a pipeline) on the
// master that owns key and, unless Options turn the wait off, waits there
// for the master's replicas to have it: WAIT (WAITAOF with WaitFsync) in
// the same pipeline as the write, so on the same connection, which is what
// WAIT counts. With no replica, and no fsync to wait for, the write goes
// alone: nothing is added to it.
func (s *Store) durably(ctx context.Context, key string, write func(c redis.Cmdable) error) error {
	o := &s.opts
	if o.NoReplicaWait && o.MinReplicas <= 0 && !o.WaitFsync {
		return write(s.rdb)
	}
	node, addr := redis.Cmdable(s.rdb), ""
	cluster, _ := s.rdb.(*redis.ClusterClient)
	if cluster != nil {
		// WAIT has no key and a ClusterClient sends it anywhere (to every
		// shard outside a pipeline, to a random one inside): pipeline on
		// the client of the master that owns key's slot instead.
		c, err := cluster.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		node, addr = c, c.Options().Addr
	}
	st := s.repl.node(addr)
	err := s.durablyOn(ctx, node, st, write)
	if cluster != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
		// The slot moved before the write ran: learn where, and try once
		// there.
		cluster.ReloadState(ctx)
		c, cerr := cluster.MasterForKey(ctx, key)
		if cerr != nil {
			return err
		}
		err = s.durablyOn(ctx, c, s.repl.node(c.Options().Addr), write)
	}
	return err
}

func (s *Store) durablyOn(ctx context.Context, node redis.Cmdable, st *replicaState, write func(redis.Cmdable) error) error {
	o := &s.opts
	n := st.replicas.Load()
	if n < 0 || (n < int64(o.MinReplicas) && st.claimRefresh(time.Now().UnixNano())) {
		var err error
		if n, err = s.refresh(ctx, node, st); err != nil {
			return err
		}
	}
	if n < int64(o.MinReplicas) {
		// Refuse before writing, as Redis's min-replicas-to-write does:
		// nothing to redeliver twice.
		return fmt.Errorf("%w: %d replicas follow the master, Options.MinReplicas is %d", ErrNotReplicated, n, o.MinReplicas)
	}
	if o.NoReplicaWait {
		n = int64(o.MinReplicas) // wait for the minimum only
	}
	fsync := o.WaitFsync && st.aof.Load() != aofNo
	info := st.claimRefresh(time.Now().UnixNano())
	if n == 0 && !fsync && !info {
		return s.check(st, write(s.rdb)) // the write alone: not one more byte
	}

	var waited redis.Cmder
	var infoCmd *redis.StringCmd
	exec := func(c redis.Cmdable) error {
		pipe := c.Pipeline()
		if err := write(pipe); err != nil {
			return err
		}
		w := pipe.Len()
		switch t := s.waitTimeout(ctx, node); {
		case fsync:
			waited = redis.NewIntSliceCmd(ctx, "waitaof", 1, n, t.Milliseconds())
		case n > 0:
			waited = redis.NewIntCmd(ctx, "wait", n, t.Milliseconds())
		}
		if waited != nil {
			_ = pipe.Process(ctx, waited)
		}
		if info {
			infoCmd = pipe.Info(ctx, "replication")
		}
		cmds, err := pipe.Exec(ctx)
		if len(cmds) < w {
			return err
		}
		for _, c := range cmds[:w] { // the write's own answer comes first
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
		}
		return nil // WAIT's answer is judged below; INFO may fail alone
	}
	err := exec(node)
	if isNoScript(err) {
		// A fresh master (restarted, promoted) lacks the script: run it
		// with EVAL, as Script.Run does outside a pipeline.
		err = exec(evalOnly{node})
	}
	if err != nil {
		return s.check(st, err)
	}
	if infoCmd != nil && infoCmd.Err() == nil {
		st.replicas.Store(int64(onlineReplicas(infoCmd.Val())))
	}
	if waited == nil {
		return nil
	}
	return s.judge(st, waited, n)
}

// judge reads the answer of WAIT or WAITAOF.
func (s *Store) judge(st *replicaState, waited redis.Cmder, n int64) error {
	o := &s.opts
	var local, acked int64
	switch c := waited.(type) {
	case *redis.IntCmd:
		local, acked = 1, c.Val()
		if c.Err() != nil {
			return s.check(st, fmt.Errorf("redisstore: WAIT: %w", c.Err()))
		}
	case *redis.IntSliceCmd:
		if err := c.Err(); err != nil {
			if isUnknownCommand(err) {
				// Redis before 7.2: remember, and wait with WAIT from
				// the next write on. This one's wait did not happen.
				st.aof.Store(aofNo)
				return fmt.Errorf("%w: the server has no WAITAOF (Redis < 7.2); retry", ErrNotReplicated)
			}
			return s.check(st, fmt.Errorf("redisstore: WAITAOF: %w", err))
		}
		st.aof.Store(aofYes)
		if v := c.Val(); len(v) == 2 {
			local, acked = v[0], v[1]
		}
	}
	if acked < n {
		st.checked.Store(0) // a replica went away or fell behind: count again
	}
	if o.WaitFsync && local < 1 {
		return fmt.Errorf("%w: the master did not fsync its AOF within %s", ErrNotReplicated, s.replicaTimeout())
	}
	if acked < int64(o.MinReplicas) {
		return fmt.Errorf("%w: %d of %d replicas within %s, Options.MinReplicas is %d", ErrNotReplicated, acked, n, s.replicaTimeout(), o.MinReplicas)
	}
	return nil
}

// refresh asks the node how many replicas follow it (and, with WaitFsync,
// whether it has WAITAOF) in one round trip.
func (s *Store) refresh(ctx context.Context, node redis.Cmdable, st *replicaState) (int64, error) {
	st.checked.Store(time.Now().UnixNano())
	pipe := node.Pipeline()
	info := pipe.Info(ctx, "replication")
	var probe *redis.IntSliceCmd
	if s.opts.WaitFsync && st.aof.Load() == aofUnknown {
		probe = redis.NewIntSliceCmd(ctx, "waitaof", 0, 0, 1) // answers at once where it exists
		_ = pipe.Process(ctx, probe)
	}
	_, _ = pipe.Exec(ctx)
	if err := info.Err(); err != nil {
		st.forget()
		return 0, fmt.Errorf("redisstore: replication info: %w", err)
	}
	if probe != nil {
		switch err := probe.Err(); {
		case err == nil:
			st.aof.Store(aofYes)
		case isUnknownCommand(err):
			st.aof.Store(aofNo)
		}
	}
	n := int64(onlineReplicas(info.Val()))
	st.replicas.Store(n)
	return n, nil
}

// check passes err on, and forgets what it knew of the node after an error
// that is not Redis's answer to a command (the connection broke: the
// master may have died and another taken its place) or that says the node
// is a replica, or short of replicas, now. A server that refuses writes
// for want of replicas (min-replicas-to-write) answers ErrNotReplicated.
func (s *Store) check(st *replicaState, err error) error {
	if err == nil {
		return nil
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) || redis.HasErrorPrefix(err, "READONLY") || redis.HasErrorPrefix(err, "NOREPLICAS") ||
		strings.Contains(strings.ToLower(err.Error()), "replica") {
		st.forget()
	}
	if redis.HasErrorPrefix(err, "NOREPLICAS") {
		return fmt.Errorf("%w: %w", ErrNotReplicated, err)
	}
	return err
}

// waitTimeout is Options.ReplicaTimeout, cut to fit inside ctx's deadline
// and the client's read timeout (a pipeline's replies share one read
// deadline), so WAIT answers before either gives up on the connection.
func (s *Store) waitTimeout(ctx context.Context, node redis.Cmdable) time.Duration {
	t := s.replicaTimeout()
	if c, ok := node.(*redis.Client); ok {
		if rt := c.Options().ReadTimeout; rt > 0 && t > rt/2 {
			t = rt / 2
		}
	}
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		left -= max(left/10, 5*time.Millisecond)
		t = min(t, left)
	}
	return max(t, time.Millisecond) // WAIT 0 would wait forever
}

func (s *Store) replicaTimeout() time.Duration {
	if s.opts.ReplicaTimeout > 0 {
		return s.opts.ReplicaTimeout
	}
	return defaultReplicaTimeout
}

// onlineReplicas counts the replicas of INFO replication a WAIT can count
// on: online (not still loading the initial copy), acknowledged within
// maxReplicaLag, and streaming (a replica that has acknowledged nothing
// yet while the master has written gets no commands until its first
// acknowledgement, up to a second after its copy loaded).
func onlineReplicas(info string) int {
	type replica struct {
		online bool
		lag    int
		offset int64
	}
	var replicas []replica
	var written int64
	for line := range strings.Lines(info) {
		name, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		if name == "master_repl_offset" {
			written, _ = strconv.ParseInt(fields, 10, 64)
			continue
		}
		if !strings.HasPrefix(name, "slave") || !strings.HasPrefix(fields, "ip=") {
			continue
		}
		var r replica
		for kv := range strings.SplitSeq(fields, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "state":
				r.online = v == "online"
			case "lag":
				r.lag, _ = strconv.Atoi(v)
			case "offset":
				r.offset, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		replicas = append(replicas, r)
	}
	n := 0
	for _, r := range replicas {
		if r.online && r.lag <= maxReplicaLag && (r.offset > 0 || written == 0) {
			n++
		}
	}
	return n
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

func isUnknownCommand(err error) bool {
	return redis.HasErrorPrefix(err, "unknown command") // HasErrorPrefix drops "ERR "
}

// evalOnly makes Script.Run send EVAL (the script's text) at once, for a
// pipeline where EVALSHA's NOSCRIPT would come too late to fall back.
type evalOnly struct{ redis.Cmdable }

func (e evalOnly) Pipeline() redis.Pipeliner { return evalOnlyPipe{e.Cmdable.Pipeline()} }

type evalOnlyPipe struct{ redis.Pipeliner }

func (evalOnlyPipe) EvalSha(context.Context, string, []string, ...any) *redis.Cmd {
	return redis.NewCmdResult(nil, redis.ErrNoScript)
}

func (evalOnlyPipe) EvalShaRO(context.Context, string, []string, ...any) *redis.Cmd {
	return redis.NewCmdResult(nil, redis.ErrNoScript)
}
