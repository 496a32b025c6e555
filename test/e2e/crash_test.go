package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// crashable is a database server a test kills with SIGKILL and starts again.
type crashable interface {
	kill9(t *testing.T)
	start(t *testing.T)
}

// pgFault is the PostgreSQL cluster that fault tests kill and restart
// (scripts/testdb.sh: fault); no other test uses it.
type pgFault struct{ data string }

func pgFaultServer(t *testing.T) pgFault {
	t.Helper()
	testutil.PGAdmin(t, "fault")
	data := os.Getenv("GODWIT_TEST_PG_FAULT_DATA")
	if data == "" {
		testutil.Unavailable(t, `GODWIT_TEST_PG_FAULT_DATA is not set: eval "$(scripts/testdb.sh up)"`)
	}
	return pgFault{data}
}

// kill9 kills the postmaster and every process it started at once, as a
// crash of the server does (a postmaster killed alone leaves its backends,
// which keep the next one from starting).
func (f pgFault) kill9(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.data, "postmaster.pid"))
	if err != nil {
		t.Fatalf("the fault cluster's postmaster.pid: %v", err)
	}
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	pids := append(childrenOf(pm), pm)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		for i := 0; syscall.Kill(pid, 0) == nil; i++ {
			if i > 200 {
				t.Fatalf("postgres %d survived SIGKILL", pid)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		rest := string(b)[strings.LastIndexByte(string(b), ')')+1:]
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// start starts the cluster again (crash recovery included) and waits until it answers.
func (f pgFault) start(t *testing.T) {
	t.Helper()
	root, err := testutil.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "testdb.sh"), "start-pg", "fault").CombinedOutput()
	if err != nil {
		t.Fatalf("starting the fault cluster: %v\n%s", err, out)
	}
}

// TestServerCrashes: the source's or the target's server is killed with
// SIGKILL during the copy and again while replicating under writes, and
// started again a few seconds later. The runner must ride both out by itself
// (retrying visible in status while the server is down), catch up within
// 30 s of the second restart, and every row must equal the source's. (A
// MariaDB source killed while replicating is TestMySQLSourceCrash.)
func TestServerCrashes(t *testing.T) {
	none := func(_, u string) string { return u }
	t.Run("postgres-source", func(t *testing.T) {
		f := pgFaultServer(t)
		crashes(t, f, pgLive(t, testutil.NewPGDatabase(t, "fault"), testutil.NewPGDatabase(t, "target"), none), false)
	})
	t.Run("postgres-target", func(t *testing.T) {
		f := pgFaultServer(t)
		crashes(t, f, pgLive(t, testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "fault"), none), true)
	})
	t.Run("mariadb-source", func(t *testing.T) {
		f := myFaultServer(t)
		crashes(t, f, myLive(t, f.url, myURL(t, "GODWIT_TEST_MY_TARGET"), none), false)
	})
	t.Run("mariadb-target", func(t *testing.T) {
		f := myFaultServer(t)
		crashes(t, f, myLive(t, myURL(t, "GODWIT_TEST_MY_SOURCE"), f.url, none), true)
	})
}

// crashes runs the two crashes; target says the crashing server is the target.
func crashes(t *testing.T, f crashable, m netMigration, target bool) {
	g, name, r := m.g, m.name, m.r
	g.waitFor(name, r, "copying", time.Minute, func(st status) bool { return st.Phase == "COPYING" })
	time.Sleep(time.Second)
	if st := g.mustStatus(name); st.Phase != "COPYING" {
		t.Fatalf("the copy ended before the crash (make it slower): %v", st)
	}
	f.kill9(t)
	time.Sleep(3 * time.Second)
	f.start(t)
	restarted := time.Now()
	g.waitFor(name, r, "consistent after a crash during the copy", 3*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	t.Logf("crash during the copy: consistent %v after the restart", time.Since(restarted).Round(100*time.Millisecond))

	time.Sleep(time.Second)
	f.kill9(t)
	down := g.waitFor(name, r, "status showing the server down", 30*time.Second, func(st status) bool { return st.Retrying != nil })
	t.Logf("crash while replicating, in status: %+v", *down.Retrying)
	// The source is told only what the target has committed: at most what
	// its checkpoint holds once it is back (nothing can have committed yet
	// the moment it restarts; anything later only raises the bound).
	var ackedDown uint64
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if target && m.acked != nil {
			ackedDown = max(ackedDown, m.acked())
		}
	}
	f.start(t)
	if target && m.acked != nil {
		if applied := m.applied(); ackedDown > applied {
			t.Errorf("while the target was down the source was told %X, past the target's checkpoint %X", ackedDown, applied)
		}
	}
	restarted = time.Now()
	time.Sleep(2 * time.Second) // writes after the restart
	g.waitFor(name, r, "caught up after the restart", time.Minute, m.caughtUp())
	took := time.Since(restarted)
	t.Logf("crash while replicating: caught up %v after the restart", took.Round(100*time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("recovery took %v after the server came back, want under 30 s", took)
	}
	m.stop()
	st := g.waitFor(name, r, "caught up after the writes", time.Minute, m.caughtUp())
	if m.acked != nil {
		// Nor is anything held back once it is committed: the slot follows.
		applied, _ := parseLSN(st.AppliedPosition)
		deadline := time.Now().Add(15 * time.Second)
		for m.acked() < applied && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if a := m.acked(); a < applied {
			t.Errorf("the slot's confirmed position %X stays behind the applied %X", a, applied)
		}
	}
	m.compare()
	if res := g.run("verify", name); res.code != 0 {
		t.Errorf("verify: %v", res)
	}
	if code := r.terminate(time.Minute); code != 0 {
		t.Errorf("runner exit code after SIGTERM = %d, want 0", code)
	}
}
