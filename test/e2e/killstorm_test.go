package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// stormKills is how many times the kill storm kills the runner.
const stormKills = 30

// stormMinPerPhase is how many of the kills must land in the copy, and how
// many in the replay, for the storm to prove anything about both.
const stormMinPerPhase = 5

// stormScale: ~320k rows, so that the copy, in chunks of 5000 and throttled
// (--max-copy-rate 8000 here, 12000 for the MariaDB storm's as many rows from
// createMySource), outlasts several runs of 0.3-3 s even with the race-built
// runner, and the replay still gets the rest of the kills.
var stormScale = scale{accounts: 250_000, docs: 300, items: 40_000, members: 10_000, orderLines: 10_000, ev: 10_000}

// TestKillStorm: a live migration under a concurrent write workload (inserts,
// updates, deletes, primary and unique key changes) survives a storm of 30
// SIGKILLs of its runner, each at a seeded random moment 0.3-3 s into a run
// and each followed by 'godwit resume', spread over the copy and the replay.
// After the last resume has caught up with the source, an independent
// row-by-row comparison finds every table equal and 'godwit verify' finds no
// difference: no change was lost or applied twice across the kills. Run for
// PostgreSQL to PostgreSQL and MariaDB to MariaDB; GODWIT_SEED replays a run.
func TestKillStorm(t *testing.T) {
	t.Run("postgres", testKillStormPG)
	t.Run("mariadb", testKillStormMy)
}

func testKillStormPG(t *testing.T) {
	began := time.Now()
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73746f726d))
	g := newGodwit(t)
	createSourceSchema(t, srcURL, seed, stormScale)

	wl := startWorkload(t, srcURL, seed, 3, 12*time.Millisecond, stormScale)
	name := migrationName("storm")
	r := killStorm(t, g, name, rng, "start", name, "--source", srcURL, "--target", dstURL,
		"--chunk-rows", "5000", "--max-copy-rate", "8000")

	g.waitFor(name, r, "consistent and replicating after the last resume", 3*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING" && st.Consistent
	})
	sleepRunning(t, r, time.Second) // the last runner replicates live writes too
	wl.stop()
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed no transaction")
	}
	lsnText, lsn := currentLSN(t, srcURL)
	caught := time.Now()
	st := g.waitFor(name, r, "consistent with applied_position >= "+lsnText, 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.Consistent && err == nil && applied >= lsn
	})
	t.Logf("caught up with source LSN %s in %v: %v", lsnText, time.Since(caught).Round(time.Millisecond), st)

	compareTables(t, srcURL, dstURL, allTables)
	stormVerify(t, g, name)
	t.Logf("kill storm (postgres) took %v", time.Since(began).Round(time.Second))
}

func testKillStormMy(t *testing.T) {
	began := time.Now()
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73746f726d))
	dbname := newMyDB(t, "storm", srcBase, dstBase)
	src, dst := openMy(t, srcBase, dbname), openMy(t, dstBase, "")
	const items = 200_000 // and items/3 tags, items/4 people
	start := time.Now()
	createMySource(t, src, seed, items)
	t.Logf("source data created in %v", time.Since(start).Round(time.Millisecond))
	g := newGodwit(t)

	wl := startMyWorkload(t, srcBase, dbname, seed, 3, items)
	name := migrationName("storm")
	r := killStorm(t, g, name, rng, "start", name, "--source", myDBURL(t, srcBase, dbname), "--target", myDBURL(t, dstBase, dbname),
		"--chunk-rows", "5000", "--max-copy-rate", "12000")

	g.waitFor(name, r, "consistent and replicating after the last resume", 3*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING" && st.Consistent
	})
	sleepRunning(t, r, time.Second) // the last runner replicates live writes too
	wl.halt(t)
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed nothing")
	}
	caught := time.Now()
	waitCaughtUp(t, g, name, r, src)
	t.Logf("caught up with the source in %v: %v", time.Since(caught).Round(time.Millisecond), g.mustStatus(name))

	compareMy(t, src, dst, dbname)
	stormVerify(t, g, name)
	t.Logf("kill storm (mariadb) took %v", time.Since(began).Round(time.Second))
}

// killStorm runs "godwit ARGS" (a start) and then, stormKills times, lets the
// runner work for a seeded random 0.3-3 s, reads the phase status shows,
// kills the runner with SIGKILL and resumes the migration. The phase is the
// one last published (about every second), so a kill early in a run counts in
// the phase the previous run was in; STARTING is before any run published one.
// The last stormMinPerPhase kills are kept for the replay: should the copy
// still run then (a slow machine), the storm waits for the replay first. It
// fails the test when a run exits by itself, the migration FAILED, or fewer
// than stormMinPerPhase kills landed in the copy or in the replay. It returns
// the runner of the last resume, still running.
func killStorm(t *testing.T, g *godwit, name string, rng *rand.Rand, args ...string) *runner {
	t.Helper()
	began := time.Now()
	r := g.start(args...)
	// A kill before the migration is recorded would leave nothing to resume:
	// the storm's clock starts once status knows it.
	st := g.waitFor(name, r, "the migration to be recorded", 2*time.Minute, func(status) bool { return true })
	byPhase := map[string]int{}
	for i := 1; i <= stormKills; i++ {
		delay := time.Duration(300+rng.IntN(2700)) * time.Millisecond
		if i > stormKills-stormMinPerPhase && st.Phase != "REPLICATING" {
			t.Logf("SIGKILL %d/%d is kept for the replay: waiting for it", i, stormKills)
			g.waitFor(name, r, "phase REPLICATING", 3*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" })
		}
		sleepRunning(t, r, delay)
		st = stormStatus(t, g, name, r)
		r.kill9()
		phase := st.Phase
		if phase == "" {
			phase = "STARTING"
		}
		byPhase[phase]++
		copied, est := st.rows()
		t.Logf("SIGKILL %d/%d after %v in phase %s (state %s, rows %.0f/%.0f, consistent %v, applied %q)",
			i, stormKills, delay, phase, st.State, copied, est, st.Consistent, st.AppliedPosition)
		r = g.start("resume", name)
	}
	var parts []string
	for p, n := range byPhase {
		parts = append(parts, p+"="+strconv.Itoa(n))
	}
	sort.Strings(parts)
	t.Logf("%d SIGKILLs in %v: %d during COPYING, %d during REPLICATING (all: %s)",
		stormKills, time.Since(began).Round(time.Millisecond), byPhase["COPYING"], byPhase["REPLICATING"], strings.Join(parts, " "))
	if byPhase["COPYING"] < stormMinPerPhase || byPhase["REPLICATING"] < stormMinPerPhase {
		t.Errorf("want at least %d SIGKILLs during COPYING and %d during REPLICATING, got %d and %d: retune the data size or the copy rate",
			stormMinPerPhase, stormMinPerPhase, byPhase["COPYING"], byPhase["REPLICATING"])
	}
	return r
}

// stormStatus reads the status just before a kill, retrying a failing status
// command for a while; it fails the test when the migration FAILED or the
// runner exited.
func stormStatus(t *testing.T, g *godwit, name string, r *runner) status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := g.status(name)
		if err == nil {
			if st.State == "FAILED" {
				t.Fatalf("migration FAILED: %s\nstatus: %v", st.errText(), st)
			}
			if r.exited() {
				t.Fatalf("%s exited with code %d while it should run; status: %v", r.desc, r.exitCode(), st)
			}
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status before a kill keeps failing: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stormVerify runs 'godwit verify' and fails unless it checked rows and found
// no difference.
func stormVerify(t *testing.T, g *godwit, name string) {
	t.Helper()
	res := g.runTimeout(3*time.Minute, "verify", name, "--json")
	var v verifyJSON
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil {
		t.Fatalf("verify --json printed no result (%v): %v", err, res)
	}
	if res.code != 0 || v.State != "passed" || v.Differences != 0 || v.RowsChecked == 0 {
		var found []string
		for i, d := range v.Found {
			if i == 5 {
				found = append(found, "...")
				break
			}
			found = append(found, fmt.Sprintf("%s %s key %v columns %v", d.Table, d.Kind, d.Key, d.Columns))
		}
		t.Errorf("verify after the kill storm: exit %d, state %s, %d differences, %d rows checked (want exit 0, passed, 0 differences): %s",
			res.code, v.State, v.Differences, v.RowsChecked, strings.Join(found, "; "))
		return
	}
	t.Logf("verify: %s, %d rows checked, %d differences", v.State, v.RowsChecked, v.Differences)
}
