package workflow

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/godwit-db/godwit/internal/store"
)

// staleAfter is how old a heartbeat may be before its runner counts as gone.
const staleAfter = 15 * time.Second

// alive reports whether the runner recorded for m still runs. On this host the
// process is checked directly, so a runner killed with -9 is seen gone at once.
func alive(m *store.Migration, host string) bool {
	if m.RunnerPID == 0 || time.Since(m.Heartbeat) > staleAfter {
		return false
	}
	if m.RunnerHost != host {
		return true
	}
	return processAlive(m.RunnerPID)
}

func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A killed child its parent has not reaped yet is a zombie: gone all the same.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// Hostname names this machine in leases.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
