package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// migrationName returns a fresh migration name (lowercase letters and
// digits): slot names are per cluster, so names must not repeat across tests.
func migrationName(prefix string) string {
	return fmt.Sprintf("%s%08x", prefix, rand.Uint32())
}

// TestPGLiveMigrationKillResume migrates a source under a concurrent write
// workload while killing the runner with SIGKILL during the copy and during
// replication, resumes it each time, and then compares every table.
func TestPGLiveMigrationKillResume(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b696c6c))
	g := newGodwit(t)
	createSourceSchema(t, srcURL, seed, fullScale)

	wl := startWorkload(t, srcURL, seed, 3, 12*time.Millisecond, fullScale)
	name := migrationName("live")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--chunk-rows", "2000", "--max-copy-rate", "25000")

	copyKills, replKills := 0, 0
	for copyKills < 2 {
		st := g.waitFor(name, r, "phase COPYING or REPLICATING", 90*time.Second, func(st status) bool {
			return st.State == "RUNNING" && (st.Phase == "COPYING" || st.Phase == "REPLICATING")
		})
		if st.Phase != "COPYING" {
			t.Errorf("the copy finished after only %d SIGKILL(s) during COPYING, want 2 (seed %d); make the data larger or the copy slower", copyKills, seed)
			break
		}
		delay := time.Duration(100+rng.IntN(1400)) * time.Millisecond
		waited, phase := g.sleepDuringCopy(name, r, delay)
		r.kill9()
		t.Logf("SIGKILL after %v in phase %s", waited.Round(time.Millisecond), phase)
		switch phase {
		case "COPYING":
			copyKills++
		case "REPLICATING":
			replKills++
		}
		r = g.start("resume", name)
	}
	for replKills < 2 {
		g.waitFor(name, r, "phase REPLICATING", 3*time.Minute, func(st status) bool {
			return st.State == "RUNNING" && st.Phase == "REPLICATING"
		})
		delay := time.Duration(300+rng.IntN(2700)) * time.Millisecond
		sleepRunning(t, r, delay)
		st, _ := g.status(name)
		r.kill9()
		t.Logf("SIGKILL after %v in phase %s (%v)", delay, st.Phase, st)
		replKills++
		r = g.start("resume", name)
	}
	g.waitFor(name, r, "phase REPLICATING after the last resume", 2*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING"
	})
	sleepRunning(t, r, 2*time.Second) // the last runner also replicates live writes

	wl.stop()
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed no transaction")
	}
	lsnText, lsn := currentLSN(t, srcURL)
	start := time.Now()
	st := g.waitFor(name, r, "consistent with applied_position >= "+lsnText, 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.Consistent && err == nil && applied >= lsn
	})
	t.Logf("caught up with source LSN %s in %v: %v", lsnText, time.Since(start).Round(time.Millisecond), st)

	compareTables(t, srcURL, dstURL, allTables)
	dst := connect(t, dstURL)
	var n, distinct int
	if err := dst.QueryRow(context.Background(), "select count(*), count(distinct email) from members").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct {
		t.Errorf("target members: %d rows but %d distinct emails", n, distinct)
	}

	// SIGTERM pauses the migration and the runner exits cleanly.
	if code := r.terminate(time.Minute); code != 0 {
		t.Errorf("runner exit code after SIGTERM = %d, want 0", code)
	}
	if st := g.mustStatus(name); st.State != "PAUSED" {
		t.Errorf("state after SIGTERM = %s, want PAUSED (%v)", st.State, st)
	}
	if res := g.run("cancel", name); res.code != 0 {
		t.Fatalf("cancel: %v", res)
	}
	if st := g.mustStatus(name); st.State != "CANCELLED" {
		t.Errorf("state after cancel = %s, want CANCELLED (%v)", st.State, st)
	}
	if objs := godwitObjects(t, srcURL); len(objs) > 0 {
		t.Errorf("after cancel the source still has: %s", strings.Join(objs, ", "))
	}
	for _, ts := range allTables {
		var exists bool
		if err := dst.QueryRow(context.Background(), "select to_regclass($1) is not null", ts.ident()).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			t.Errorf("target table %s is gone after cancel without --drop-target", ts)
		}
	}
}

// sleepDuringCopy waits up to d while the runner copies, and returns early
// when the copy is about to finish (estimated from the row counters) so that
// the kill still lands in COPYING. It returns the time waited and the last
// phase seen.
func (g *godwit) sleepDuringCopy(name string, r *runner, d time.Duration) (time.Duration, string) {
	g.t.Helper()
	start := time.Now()
	phase := "COPYING"
	var c0 float64
	t0 := time.Time{}
	for {
		left := d - time.Since(start)
		if left <= 0 {
			return time.Since(start), phase
		}
		time.Sleep(min(left, 150*time.Millisecond))
		if r.exited() {
			g.t.Fatalf("%s exited with code %d during the copy", r.desc, r.exitCode())
		}
		st, err := g.status(name)
		if err != nil {
			continue
		}
		if st.State == "FAILED" {
			g.t.Fatalf("migration FAILED: %s", st.errText())
		}
		phase = st.Phase
		if phase != "COPYING" {
			return time.Since(start), phase
		}
		copied, est := st.rows()
		now := time.Now()
		if t0.IsZero() {
			t0, c0 = now, copied
			continue
		}
		if copied > c0 && est > copied {
			rate := (copied - c0) / now.Sub(t0).Seconds()
			if remaining := (est - copied) / rate; remaining < 0.6 {
				return time.Since(start), phase
			}
		}
	}
}

// sleepRunning sleeps for d and fails if the runner exits meanwhile.
func sleepRunning(t *testing.T, r *runner, d time.Duration) {
	t.Helper()
	select {
	case <-r.done:
		t.Fatalf("%s exited with code %d while it should run", r.desc, r.exitCode())
	case <-time.After(d):
	}
}

// TestPGOnceCopy copies a source once (--once) and checks the result.
func TestPGOnceCopy(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	g := newGodwit(t)
	createSourceSchema(t, srcURL, seed, smallScale)

	name := migrationName("once")
	res := g.runTimeout(3*time.Minute, "start", name, "--source", srcURL, "--target", dstURL, "--once", "--chunk-rows", "500")
	if res.code != 0 {
		t.Fatalf("start --once: %v", res)
	}
	st := g.mustStatus(name)
	if st.State != "COMPLETED" {
		t.Errorf("state after start --once = %s, want COMPLETED (%v)", st.State, st)
	}
	compareTables(t, srcURL, dstURL, allTables)
	if objs := godwitObjects(t, srcURL); len(objs) > 0 {
		t.Errorf("after start --once the source still has: %s", strings.Join(objs, ", "))
	}
	// The counters came along: the target's next inserts take new ids.
	dst := connect(t, dstURL)
	for _, ins := range []string{`insert into "Sales"."Order Lines"("Qty") values (1)`, `insert into ev(payload) values ('after')`} {
		if _, err := dst.Exec(context.Background(), ins); err != nil {
			t.Errorf("after start --once, %s on the target: %v", ins, err)
		}
	}

	res = g.run("list", "--json")
	var list any
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &list) != nil || !strings.Contains(res.stdout, name) {
		t.Errorf("list --json should exit 0 and print JSON naming %s: %v", name, res)
	}
	if res = g.run("delete", name); res.code != 0 {
		t.Errorf("delete: %v", res)
	}
	if res = g.run("status", name); res.code != 1 {
		t.Errorf("status of a deleted migration: want exit 1: %v", res)
	}
}

// TestPGBadInput checks that bad input fails with the right exit code and a
// single-line, actionable message on stderr.
func TestPGBadInput(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	testutil.BuildGodwit(t)
	setupTiny := func(t *testing.T, url string) {
		conn := connect(t, url)
		exec1(t, conn, `create table t(id int primary key, v text);
			insert into t select i, 'v' || i from generate_series(1, 100) i;
			grant select on all tables in schema public to norepl`)
	}
	setupTiny(t, srcURL)
	srcDB := srcURL[strings.LastIndex(srcURL, "/")+1:]
	mustURL := func(u string, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	start := func(name, src, dst string, extra ...string) []string {
		return append([]string{"start", name, "--source", src, "--target", dst}, extra...)
	}

	cases := []struct {
		name  string
		codes []int    // accepted exit codes
		words []string // stderr must contain one of them (case-insensitive)
		args  func(t *testing.T, g *godwit, name string) []string
		check func(t *testing.T, res result)
	}{
		{
			name: "malformed source URL", codes: []int{1, 2}, words: []string{"invalid", "parse", "malformed", "url"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, "postgres://[bad", dstURL)
			},
		},
		{
			name: "unreachable host", codes: []int{1}, words: []string{"connect", "refused", "unreachable"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, "postgres://postgres@127.0.0.1:1/"+srcDB, dstURL)
			},
		},
		{
			name: "wrong password", codes: []int{1}, words: []string{"password", "authentication"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, mustURL(testutil.WithUser(srcURL, "pwuser", "wrong")), dstURL)
			},
			check: func(t *testing.T, res result) {
				if strings.Contains(strings.ToLower(res.stderr+res.stdout), "wrong") {
					t.Errorf("the output shows the password: %v", res)
				}
			},
		},
		{
			name: "database missing", codes: []int{1}, words: []string{"does not exist"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, mustURL(testutil.WithDatabase(srcURL, "gw_missing_"+name)), dstURL)
			},
		},
		{
			name: "source wal_level not logical", codes: []int{1}, words: []string{"wal_level"},
			args: func(t *testing.T, g *godwit, name string) []string {
				replica := testutil.NewPGDatabase(t, "replica")
				setupTiny(t, replica)
				return start(name, replica, dstURL)
			},
		},
		{
			name: "missing REPLICATION privilege", codes: []int{1}, words: []string{"replication"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, mustURL(testutil.WithUser(srcURL, "norepl", "")), dstURL)
			},
		},
		{
			name: "no tables matched", codes: []int{1}, words: []string{"no tables", "no table", "matched no"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, srcURL, dstURL, "--include", "nope.*")
			},
		},
		{
			name: "name already exists", codes: []int{1}, words: []string{"already exists", "exists"},
			args: func(t *testing.T, g *godwit, name string) []string {
				dst := testutil.NewPGDatabase(t, "target")
				if res := g.runTimeout(2*time.Minute, start(name, srcURL, dst, "--once")...); res.code != 0 {
					t.Fatalf("first start --once: %v", res)
				}
				return start(name, srcURL, dst, "--once")
			},
		},
		{
			name: "unknown name", codes: []int{1}, words: []string{"unknown", "not found", "no such", "does not exist"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return []string{"status", "nosuch"}
			},
		},
		{
			name: "source equals target", codes: []int{1}, words: []string{"same"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return start(name, srcURL, srcURL)
			},
		},
		{
			name: "usage start without name", codes: []int{2}, words: []string{"usage", "arg", "name", "required", "missing"},
			args: func(t *testing.T, g *godwit, name string) []string {
				return []string{"start"}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGodwit(t)
			args := c.args(t, g, migrationName("bad"))
			res := g.run(args...)
			okCode := false
			for _, code := range c.codes {
				okCode = okCode || res.code == code
			}
			if !okCode {
				t.Errorf("exit code %d, want one of %v: %v", res.code, c.codes, res)
			}
			if !oneLine(res.stderr) {
				t.Errorf("stderr should be exactly one line: %v", res)
			}
			lower := strings.ToLower(res.stderr)
			found := false
			for _, w := range c.words {
				found = found || strings.Contains(lower, strings.ToLower(w))
			}
			if !found {
				t.Errorf("stderr should contain one of %q: %v", c.words, res)
			}
			if c.check != nil {
				c.check(t, res)
			}
			t.Logf("exit %d, stderr: %s", res.code, strings.TrimSpace(res.stderr))
		})
	}
	if objs := godwitObjects(t, srcURL); len(objs) > 0 {
		t.Errorf("failed starts left on the source: %s", strings.Join(objs, ", "))
	}
}
