package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// faultServer is the MariaDB server that fault tests kill and restart
// (scripts/testdb.sh: my-fault).
type faultServer struct {
	url, cnf string
}

func myFaultServer(t *testing.T) faultServer {
	t.Helper()
	url, cnf := os.Getenv("GODWIT_TEST_MY_FAULT"), os.Getenv("GODWIT_TEST_MY_FAULT_CNF")
	if url == "" || cnf == "" {
		testutil.Unavailable(t, `GODWIT_TEST_MY_FAULT and GODWIT_TEST_MY_FAULT_CNF are not set: eval "$(scripts/testdb.sh up)"`)
	}
	return faultServer{url, cnf}
}

func (f faultServer) pid(t *testing.T) int {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(f.cnf), "pid"))
	if err != nil {
		t.Fatalf("the fault server's pid file: %v", err)
	}
	var pid int
	fmt.Sscan(strings.TrimSpace(string(b)), &pid)
	return pid
}

// kill9 kills the server at once, as a crash does, and waits until it is gone.
func (f faultServer) kill9(t *testing.T) {
	t.Helper()
	pid := f.pid(t)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
	for i := 0; syscall.Kill(pid, 0) == nil; i++ {
		if i > 100 {
			t.Fatalf("mariadbd %d survived SIGKILL", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start starts the server again (crash recovery included) and waits until it answers.
func (f faultServer) start(t *testing.T) {
	t.Helper()
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("start-stop-daemon", "--start", "--background", "--pidfile", filepath.Join(filepath.Dir(f.cnf), "pid"),
			"--chuid", "mysql", "--exec", "/usr/sbin/mariadbd", "--", "--defaults-file="+f.cnf)
	} else {
		cmd = exec.Command("sh", "-c", "nohup /usr/sbin/mariadbd --defaults-file="+f.cnf+" >/dev/null 2>&1 &")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting mariadbd: %v %s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := openMyRaw(f.url, "")
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fault server did not come back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestMySQLSourceCrash: the MariaDB source is killed -9 while the migration
// replicates under writes, and restarted. The runner must notice by itself
// (it used to stay REPLICATING with no error, never catching up), reconnect
// from the last committed position, catch up within 30 s of the restart, and
// every row must equal the source's.
func TestMySQLSourceCrash(t *testing.T) {
	f := myFaultServer(t)
	db := newMyDB(t, "crash", f.url, myURL(t, "GODWIT_TEST_MY_TARGET"))
	src := openMy(t, f.url, db)
	mustExec(t, src, "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40))")
	for i := 0; i < 2000; i += 500 {
		var vals []string
		for j := i; j < i+500; j++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, 'row %d')", j, j, j))
		}
		mustExec(t, src, "INSERT INTO t VALUES "+strings.Join(vals, ","))
	}
	dstBase := myURL(t, "GODWIT_TEST_MY_TARGET")
	g := newGodwit(t)
	name := migrationName("crash")
	t.Cleanup(func() {
		g.run("cancel", name)
		g.run("delete", name)
	})
	r := g.start("start", name, "--source", myDBURL(t, f.url, db), "--target", dstBase)
	g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })

	// A writer that keeps going through the outage: its failed statements
	// while the server is down are simply retried.
	var stop atomic.Bool
	var committed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 2000; !stop.Load(); i++ {
			w, err := openMyRaw(f.url, db)
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ; !stop.Load(); i++ {
				if _, err := w.Exec(fmt.Sprintf("INSERT INTO t VALUES (%d, %d, 'live'); UPDATE t SET v = v + 1 WHERE id = %d; DELETE FROM t WHERE id = %d", i, i, i%2000, (i*7)%2000)); err != nil {
					break
				}
				committed.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
			w.Close()
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	f.kill9(t)
	t.Logf("source killed with SIGKILL after %d writer commits", committed.Load())
	// While the source is down, status must say so, and the lag grow.
	down := g.waitFor(name, r, "status showing the stream down", 30*time.Second, func(st status) bool {
		return st.Retrying != nil && st.LagSeconds != nil && *st.LagSeconds >= 2
	})
	if down.State != "RUNNING" || down.Retrying.Reason == "" {
		t.Errorf("while the source is down: %v, retrying %+v", down, down.Retrying)
	}
	t.Logf("while down: lag %.1fs, retrying %+v", *down.LagSeconds, *down.Retrying)
	if res := g.run("status", name); !strings.Contains(res.stdout, "DOWN since") {
		t.Errorf("status does not show the stream down:\n%s", res.stdout)
	}
	f.start(t)
	restarted := time.Now()
	time.Sleep(2 * time.Second) // writes after the restart too
	stop.Store(true)
	wg.Wait()
	want := myMasterPos(t, f.url)
	st := g.waitFor(name, r, "caught up after the restart", time.Minute, func(st status) bool {
		ok, _ := posAtLeast(st.AppliedPosition, want)
		return st.State == "RUNNING" && ok
	})
	took := time.Since(restarted)
	if st.Retrying != nil {
		t.Errorf("after recovery status still shows the stream down: %+v", st.Retrying)
	}
	t.Logf("caught up %v after the restart (%d writer commits in all): %v", took.Round(100*time.Millisecond), committed.Load(), st)
	if took > 30*time.Second {
		t.Errorf("recovery took %v, more than 30 s after the source came back", took)
	}
	log, _ := os.ReadFile(g.logPath)
	if !strings.Contains(string(log), "replication interrupted") {
		t.Errorf("the runner's log does not show the interruption")
	}
	compareMyTables(t, f.url, dstBase, db, "t")
	if res := g.run("verify", name); res.code != 0 {
		t.Errorf("verify: %v", res)
	}

	// An idle source whose binary log rotates ends it with events that are no
	// transaction (MariaDB's binlog checkpoint): the applied position must
	// still reach the source's, or the lag grows forever.
	src2 := openMy(t, f.url, db)
	mustExec(t, src2, "FLUSH BINARY LOGS")
	want = myMasterPos(t, f.url)
	st = g.waitFor(name, r, "caught up with an idle source after a rotation", 20*time.Second, func(st status) bool {
		ok, _ := posAtLeast(st.AppliedPosition, want)
		return ok && st.SourcePosition == st.AppliedPosition
	})
	if st.LagBytes != nil && *st.LagBytes > 0 {
		t.Errorf("idle source after a rotation: lag %v bytes (%v)", *st.LagBytes, st)
	}
}

// myMasterPos is the source's binlog position now, as file:pos.
func myMasterPos(t *testing.T, url string) string {
	t.Helper()
	return masterPos(t, openMy(t, url, ""))
}

// compareMyTables compares, independently of godwit, every row of tables
// between two MySQL servers (the same database name on both).
func compareMyTables(t *testing.T, srcURL, dstURL, db string, tables ...string) {
	t.Helper()
	for _, tb := range tables {
		q := "SELECT * FROM `" + db + "`.`" + tb + "` ORDER BY 1"
		rs, err := openMy(t, srcURL, db).Query(q)
		if err != nil {
			t.Fatal(err)
		}
		_, a, err := scanAll(rs)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := openMy(t, dstURL, db).Query(q)
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := scanAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Errorf("%s: %d rows on the source, %d on the target", tb, len(a), len(b))
			continue
		}
		diffs := 0
		for i := range a {
			if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
				if diffs++; diffs <= 5 {
					t.Errorf("%s row %d: source %v, target %v", tb, i, a[i], b[i])
				}
			}
		}
		t.Logf("%s: %d rows compared, %d differ", tb, len(a), diffs)
	}
}
