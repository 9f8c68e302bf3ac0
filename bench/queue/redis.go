package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// errNoRedis is returned by startRedis when redis-server is not on PATH.
var errNoRedis = errors.New("redis-server is not installed (not on PATH); install it (apt-get install redis-server) to run this benchmark")

// redisServer is a redis-server of the benchmark's own on a free loopback
// port, without persistence.
type redisServer struct {
	addr    string
	version string
	cmd     *exec.Cmd
	admin   *redis.Client // FLUSHALL and INFO, never used by an implementation
}

// quietPool drops go-redis's note on a connection closed under a blocked
// read, which is how the floor's readers are stopped; it passes every
// other message on.
type quietPool struct{ l *log.Logger }

func (q quietPool) Printf(_ context.Context, format string, v ...any) {
	if !strings.Contains(format, "state changed by hook to") {
		q.l.Printf(format, v...)
	}
}

var setLogger sync.Once

func startRedis(bin string) (*redisServer, error) {
	setLogger.Do(func() { redis.SetLogger(quietPool{log.New(os.Stderr, "redis: ", log.LstdFlags|log.Lshortfile)}) })
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, errNoRedis
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.cmd = exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s.admin = redis.NewClient(&redis.Options{Addr: s.addr})
	deadline := time.Now().Add(10 * time.Second)
	for s.admin.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("redis-server did not answer PING in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info, err := s.admin.Info(context.Background(), "server").Result(); err == nil {
		s.version = infoField(info, "redis_version")
	}
	return s, nil
}

func (s *redisServer) stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *redisServer) client() *redis.Client {
	// ContextTimeoutEnabled as redisstore's documentation recommends.
	return redis.NewClient(&redis.Options{Addr: s.addr, ContextTimeoutEnabled: true})
}

func (s *redisServer) flush(ctx context.Context) error {
	return s.admin.FlushAll(ctx).Err()
}

// calls is the total of calls= over the cmdstat_* lines of INFO
// commandstats: every command Redis ran, those run by scripts included.
func (s *redisServer) calls(ctx context.Context) (int64, error) {
	info, err := s.admin.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	return sumCalls(info)
}

func sumCalls(info string) (int64, error) {
	var n int64
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		_, stats, ok := strings.Cut(line, ":")
		if !ok {
			return 0, fmt.Errorf("bad commandstats line %q", line)
		}
		found := false
		for f := range strings.SplitSeq(stats, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				c, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return 0, fmt.Errorf("bad commandstats line %q", line)
				}
				n += c
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("commandstats line without calls=: %q", line)
		}
	}
	return n, sc.Err()
}

// callsBetween returns the commands run between two calls readings, less
// the INFO that took the first reading (counted in the second).
func callsBetween(before, after int64) int64 { return after - before - 1 }

func infoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
