package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the redis-server die with the benchmark, also when
// the benchmark is killed.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
