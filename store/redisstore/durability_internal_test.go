package redisstore

import "testing"

func TestOnlineReplicas(t *testing.T) {
	for _, c := range []struct {
		name, info string
		want       int
	}{
		{"none", "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:120\r\n", 0},
		{"two online", "role:master\r\nconnected_slaves:2\r\n" +
			"slave0:ip=10.0.0.2,port=6379,state=online,offset=118,lag=0\r\n" +
			"slave1:ip=10.0.0.3,port=6379,state=online,offset=120,lag=1\r\nmaster_repl_offset:120\r\n", 2},
		{"one loading its copy", "connected_slaves:2\r\n" +
			"slave0:ip=10.0.0.2,port=6379,state=online,offset=118,lag=0\r\n" +
			"slave1:ip=10.0.0.3,port=6379,state=wait_bgsave,offset=0,lag=0\r\nmaster_repl_offset:120\r\n", 1},
		{"one silent for 10 s", "connected_slaves:2\r\n" +
			"slave0:ip=10.0.0.2,port=6379,state=online,offset=118,lag=0\r\n" +
			"slave1:ip=10.0.0.3,port=6379,state=online,offset=90,lag=10\r\nmaster_repl_offset:120\r\n", 1},
		{"one not acknowledged yet", "connected_slaves:1\r\n" +
			"slave0:ip=10.0.0.2,port=6379,state=online,offset=0,lag=0\r\nmaster_repl_offset:164\r\n", 0},
		{"a master never written", "connected_slaves:1\r\n" +
			"slave0:ip=10.0.0.2,port=6379,state=online,offset=0,lag=0\r\nmaster_repl_offset:0\r\n", 1},
		{"a replica's own INFO", "role:slave\r\nmaster_host:10.0.0.1\r\nslave_repl_offset:120\r\nslave_priority:100\r\nconnected_slaves:0\r\n", 0},
	} {
		if got := onlineReplicas(c.info); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
