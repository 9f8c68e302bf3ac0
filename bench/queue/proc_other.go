//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing here: the benchmark stops its redis-server
// when it exits or is interrupted (SIGINT, SIGTERM).
func dieWithParent(*exec.Cmd) {}
