package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/testutil"
)

var midScale = scale{accounts: 20_000, docs: 300, items: 3_000, members: 1_000, orderLines: 1_000, ev: 1_000}

// live is a migration replicating under a concurrent workload.
type live struct {
	srcURL, dstURL, name string
	g                    *godwit
	r                    *runner
	wl                   *workload
}

// startLive creates the sample schema plus a table the workload never writes
// (quiet), starts the workload and a migration, and waits until it is consistent.
func startLive(t *testing.T, prefix string) *live {
	l := &live{srcURL: testutil.NewPGDatabase(t, "source"), dstURL: testutil.NewPGDatabase(t, "target"), g: newGodwit(t), name: migrationName(prefix)}
	seed := testutil.Seed(t)
	createSourceSchema(t, l.srcURL, seed, midScale)
	src := connect(t, l.srcURL)
	exec1(t, src, `create table quiet(id int primary key, v text not null)`)
	exec1(t, src, `insert into quiet select i, 'row ' || i from generate_series(1, 500) i`)
	l.wl = startWorkload(t, l.srcURL, seed, 3, 12*time.Millisecond, midScale)
	l.r = l.g.start("start", l.name, "--source", l.srcURL, "--target", l.dstURL, "--chunk-rows", "5000")
	l.waitReplicating(t)
	return l
}

func (l *live) waitReplicating(t *testing.T) status {
	return l.g.waitFor(l.name, l.r, "consistent and replicating", 2*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING" && st.Consistent
	})
}

type verifyJSON struct {
	State       string `json:"state"`
	Differences int    `json:"differences"`
	RowsChecked int64  `json:"rows_checked"`
	Found       []struct {
		Table   string             `json:"table"`
		Key     map[string]string  `json:"key"`
		Kind    string             `json:"kind"`
		Columns []string           `json:"columns"`
		Source  map[string]*string `json:"source"`
		Target  map[string]*string `json:"target"`
	} `json:"found"`
}

func (l *live) verify(t *testing.T) (int, verifyJSON) {
	t.Helper()
	res := l.g.runTimeout(3*time.Minute, "verify", l.name, "--json", "--chunk-rows", "3000")
	var v verifyJSON
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil && res.code != 1 {
		t.Fatalf("verify --json printed no result: %v", res)
	}
	if res.code == 1 {
		t.Fatalf("verify could not verify: %v", res)
	}
	return res.code, v
}

func execURL(t *testing.T, url, sql string, args ...any) error {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(context.Background())
	_, err := conn.Exec(context.Background(), sql, args...)
	return err
}

func fenceTriggers(t *testing.T, url string) int {
	conn := connect(t, url)
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "select count(*) from pg_trigger where tgname like 'godwit%fence'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPGVerifyAndComplete: verify reports nothing on a clean migration under
// writes and every injected corruption by key; a cutover with a failing final
// verification unfences; a clean one completes with the data, sequences and
// fence as promised.
func TestPGVerifyAndComplete(t *testing.T) {
	l := startLive(t, "vc")
	for i := 0; i < 2; i++ {
		if code, v := l.verify(t); code != 0 || v.State != "passed" || v.RowsChecked == 0 {
			t.Fatalf("verify under a concurrent workload: exit %d, %+v (want 0, passed: no false positives)", code, v)
		}
	}
	// Corrupt the target where the workload never writes: a changed value, a
	// deleted row and an extra row.
	for _, q := range []string{"update quiet set v = 'corrupt' where id = 7", "delete from quiet where id = 8", "insert into quiet values (9999, 'extra')"} {
		if err := execURL(t, l.dstURL, q); err != nil {
			t.Fatal(err)
		}
	}
	code, v := l.verify(t)
	if code != 3 || v.State != "failed" || v.Differences != 3 {
		t.Fatalf("verify after corruption: exit %d, %+v (want 3 with 3 differences)", code, v)
	}
	kinds := map[string]string{}
	for _, d := range v.Found {
		if d.Table != "public.quiet" {
			t.Errorf("difference in %s, which was not corrupted: %+v", d.Table, d)
		}
		kinds[d.Key["id"]] = d.Kind
		if d.Kind == "changed" && (len(d.Columns) != 1 || d.Columns[0] != "v" || *d.Target["v"] != "corrupt" || *d.Source["v"] != "row 7") {
			t.Errorf("changed row reported wrongly: %+v", d)
		}
	}
	if kinds["7"] != "changed" || kinds["8"] != "missing" || kinds["9999"] != "extra" {
		t.Fatalf("differences by key = %v, want 7 changed, 8 missing, 9999 extra", kinds)
	}

	// The final verification of a cutover finds them too: the fence comes off.
	res := l.g.runTimeout(2*time.Minute, "complete", l.name, "--timeout", "90s")
	if res.code != 1 || !strings.Contains(res.stderr, "differ") {
		t.Fatalf("complete with a corrupt target: want exit 1 naming the differences: %v", res)
	}
	if n := fenceTriggers(t, l.srcURL); n != 0 {
		t.Fatalf("after an aborted cutover the source still has %d fence triggers", n)
	}
	if err := execURL(t, l.srcURL, "update quiet set v = v where id = 1"); err != nil {
		t.Fatalf("source not writable after an aborted cutover: %v", err)
	}
	l.waitReplicating(t)

	// Repair the target and cut over for real, under the workload, with a hook.
	for _, q := range []string{"update quiet set v = 'row 7' where id = 7", "insert into quiet values (8, 'row 8')", "delete from quiet where id = 9999"} {
		if err := execURL(t, l.dstURL, q); err != nil {
			t.Fatal(err)
		}
	}
	marker := filepath.Join(t.TempDir(), "hook.env")
	res = l.g.runTimeout(2*time.Minute, "complete", l.name, "--timeout", "90s",
		"--hook", `echo "$GODWIT_MIGRATION $GODWIT_SOURCE $GODWIT_TARGET" > `+marker)
	if res.code != 0 || !strings.Contains(res.stdout, "frozen for") {
		t.Fatalf("complete: %v", res)
	}
	st := l.g.mustStatus(l.name)
	if st.State != "COMPLETED" || st.FreezeMS == nil || *st.FreezeMS <= 0 {
		t.Fatalf("after complete: %v freeze_ms=%v", st, st.FreezeMS)
	}
	t.Logf("cutover under the workload froze writes for %d ms (with final verification)", *st.FreezeMS)
	hookEnv, err := os.ReadFile(marker)
	if err != nil || !strings.HasPrefix(string(hookEnv), l.name+" postgres://") {
		t.Errorf("hook did not see the migration in its environment: %q %v", hookEnv, err)
	}
	l.wl.stop()
	if l.wl.errCodes["25006"] == 0 {
		t.Logf("note: the workload hit no fenced write (errors by SQLSTATE: %v)", l.wl.errCodes)
	}
	compareTables(t, l.srcURL, l.dstURL, append(allTables, tableSpec{"public", "quiet", []string{"id"}}))

	// Writes to the source are refused with a message naming the migration;
	// the target takes them, and its sequences are past the source's.
	err = execURL(t, l.srcURL, "insert into ev(payload) values ('after cutover')")
	if err == nil || !strings.Contains(err.Error(), l.name) {
		t.Fatalf("write to a fenced source: %v (want an error naming %s)", err, l.name)
	}
	for _, seq := range []struct{ table, col string }{{"public.ev", "id"}, {`"Sales"."Order Lines"`, "id"}} {
		var srcMax, next int64
		src := connect(t, l.srcURL)
		if err := src.QueryRow(context.Background(), "select coalesce(max("+seq.col+"), 0) from "+seq.table).Scan(&srcMax); err != nil {
			t.Fatal(err)
		}
		dst := connect(t, l.dstURL)
		if err := dst.QueryRow(context.Background(), "select nextval(pg_get_serial_sequence($1, $2))", seq.table, seq.col).Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next <= srcMax {
			t.Errorf("target sequence of %s.%s gives %d, not past the source's max %d", seq.table, seq.col, next, srcMax)
		}
	}
	if err := execURL(t, l.dstURL, "insert into ev(payload) values ('on the target')"); err != nil {
		t.Errorf("target refuses writes after cutover: %v", err)
	}
	if objs := godwitObjects(t, l.srcURL); len(objs) > 0 {
		t.Errorf("slot or publication left after completion: %v", objs)
	}
	res = l.g.run("delete", l.name)
	if res.code != 0 || fenceTriggers(t, l.srcURL) != 0 {
		t.Fatalf("delete after completion should remove the fence: %v", res)
	}
	if err := execURL(t, l.srcURL, "insert into quiet values (100000, 'writable')"); err != nil {
		t.Fatalf("source still fenced after delete: %v", err)
	}
}

// TestPGCompleteFailsSafe: a failing hook, a timeout behind a long write, and
// a runner killed mid-cutover all leave the source writable and the migration
// replicating, or (killed during the hook) finish the cutover.
func TestPGCompleteFailsSafe(t *testing.T) {
	l := startLive(t, "cf")
	assertReplicatingAndWritable := func(what string) {
		t.Helper()
		l.waitReplicating(t)
		if n := fenceTriggers(t, l.srcURL); n != 0 {
			t.Fatalf("%s: %d fence triggers left on the source", what, n)
		}
		if err := execURL(t, l.srcURL, "update quiet set v = v || '.' where id = 2"); err != nil {
			t.Fatalf("%s: source not writable: %v", what, err)
		}
	}

	res := l.g.runTimeout(time.Minute, "complete", l.name, "--skip-verify", "--hook", "echo repointing failed >&2; exit 1")
	if res.code != 1 || !strings.Contains(res.stderr, "hook") {
		t.Fatalf("complete with a failing hook: %v", res)
	}
	assertReplicatingAndWritable("failing hook")

	// A transaction holding a write on a migrated table: the fence waits for it,
	// and gives up at the timeout.
	ctx := context.Background()
	holder := connect(t, l.srcURL)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "update quiet set v = 'held' where id = 3"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	res = l.g.runTimeout(time.Minute, "complete", l.name, "--skip-verify", "--timeout", "2s")
	if res.code != 1 || !strings.Contains(res.stderr, "timeout") || time.Since(started) > 30*time.Second {
		t.Fatalf("complete behind a held write with --timeout 2s: want exit 1 mentioning the timeout, soon: %v (%v)", res, time.Since(started))
	}
	tx.Rollback(ctx)
	assertReplicatingAndWritable("timeout")

	// Killed while fencing (behind a held write): resume removes the fence.
	tx, err = holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "update quiet set v = 'held' where id = 4"); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- l.g.runTimeout(2*time.Minute, "complete", l.name, "--skip-verify", "--timeout", "60s") }()
	l.g.waitFor(l.name, l.r, "cutover fencing", time.Minute, func(st status) bool { return st.Cutover == "fencing" })
	l.r.kill9()
	tx.Rollback(ctx)
	if res := <-done; res.code != 1 {
		t.Fatalf("complete whose runner died: want exit 1: %v", res)
	}
	l.r = l.g.start("resume", l.name)
	assertReplicatingAndWritable("killed while fencing")

	// SIGTERM while the hook runs: the runner aborts the cutover (the fence comes
	// off) before it exits, paused.
	go func() {
		done <- l.g.runTimeout(2*time.Minute, "complete", l.name, "--skip-verify", "--timeout", "60s", "--hook", "sleep 30")
	}()
	l.g.waitFor(l.name, l.r, "cutover hook", time.Minute, func(st status) bool { return st.Cutover == "hook" })
	if code := l.r.terminate(time.Minute); code != 0 {
		t.Fatalf("runner stopped by SIGTERM during the hook: exit %d", code)
	}
	<-done
	if st := l.g.mustStatus(l.name); st.State != "PAUSED" || fenceTriggers(t, l.srcURL) != 0 {
		t.Fatalf("after SIGTERM during the hook: %v with %d fence triggers (want PAUSED, unfenced)", st, fenceTriggers(t, l.srcURL))
	}
	l.r = l.g.start("resume", l.name)
	assertReplicatingAndWritable("SIGTERM during the hook")

	// Killed while the hook runs: the switch may have happened, so resume finishes it.
	go func() {
		done <- l.g.runTimeout(2*time.Minute, "complete", l.name, "--skip-verify", "--timeout", "60s", "--hook", "sleep 30")
	}()
	l.g.waitFor(l.name, l.r, "cutover hook", time.Minute, func(st status) bool { return st.Cutover == "hook" })
	l.r.kill9()
	<-done
	l.r = l.g.start("resume", l.name)
	if code := l.r.wait(time.Minute); code != 0 {
		t.Fatalf("resume after a kill during the hook: exit %d", code)
	}
	if st := l.g.mustStatus(l.name); st.State != "COMPLETED" {
		t.Fatalf("after a kill during the hook and resume: %v (want COMPLETED)", st)
	}
	if fenceTriggers(t, l.srcURL) == 0 {
		t.Fatal("completed migration left the source unfenced")
	}
	_ = pgx.Identifier{}
}

// TestPGStartVerify: start --verify verifies on its own once consistent, and
// status shows the result.
func TestPGStartVerify(t *testing.T) {
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	g := newGodwit(t)
	createSourceSchema(t, srcURL, seed, smallScale)
	wl := startWorkload(t, srcURL, seed, 2, 20*time.Millisecond, smallScale)
	name := migrationName("sv")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--verify")
	var v struct {
		Verify *struct {
			State       string `json:"state"`
			RowsChecked int64  `json:"rows_checked"`
		} `json:"verify"`
	}
	g.waitFor(name, r, "automatic verification done", 2*time.Minute, func(status) bool {
		res := g.run("status", name, "--json")
		if json.Unmarshal([]byte(res.stdout), &v) != nil || v.Verify == nil {
			return false
		}
		return v.Verify.State != "running"
	})
	wl.stop()
	if v.Verify.State != "passed" || v.Verify.RowsChecked == 0 {
		again := g.runTimeout(2*time.Minute, "verify", name, "--json")
		t.Fatalf("automatic verification: %+v; verify run again: %v", *v.Verify, again)
	}
}

// TestPGVerifyResumesAfterKill: a verification killed with SIGKILL part way
// goes on from where it stopped when run again, and passes.
func TestPGVerifyResumesAfterKill(t *testing.T) {
	l := startLive(t, "vr")
	v := l.g.start("verify", l.name, "--chunk-rows", "1000", "--max-rate", "4000")
	var st struct {
		Verify *struct {
			State      string `json:"state"`
			ChunksDone int    `json:"chunks_done"`
		} `json:"verify"`
	}
	l.g.waitFor(l.name, l.r, "verification under way", time.Minute, func(status) bool {
		res := l.g.run("status", l.name, "--json")
		return json.Unmarshal([]byte(res.stdout), &st) == nil && st.Verify != nil && st.Verify.ChunksDone >= 3
	})
	v.kill9()
	done := st.Verify.ChunksDone
	res := l.g.runTimeout(3*time.Minute, "verify", l.name, "--chunk-rows", "1000")
	if res.code != 0 {
		t.Fatalf("verify after a killed one: %v", res)
	}
	if !strings.Contains(res.stderr, "resuming an interrupted verification") {
		t.Fatalf("the second verify did not resume the killed one (it had %d chunks done): %v", done, res)
	}
}
