package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/godwit-db/godwit/internal/testutil"
)

func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteTables: an integer key, a composite key, and a table keyed only by a
// NOT NULL unique column; values of every SQLite storage class, NULLs, unicode.
var sqliteTables = []struct{ name, key string }{{"items", "id"}, {"tags", "item_id, tag"}, {"people", "email"}}

func createSQLiteSource(t *testing.T, path string, seed int64, items int) {
	db := openSQLite(t, path)
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	stmts := []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, data BLOB, created TEXT, note TEXT)`,
		`CREATE TABLE tags (item_id INTEGER NOT NULL, tag TEXT NOT NULL, weight REAL, PRIMARY KEY (item_id, tag)) WITHOUT ROWID`,
		`CREATE TABLE people (email TEXT NOT NULL UNIQUE, name TEXT, age INTEGER)`,
		`CREATE INDEX items_name ON items (name)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	tx, _ := db.Begin()
	for i := 1; i <= items; i++ {
		var note any = fmt.Sprintf("ünïcødé ✓ 日本 %d", i)
		if i%5 == 0 {
			note = nil
		}
		blob := make([]byte, r.IntN(64))
		for j := range blob {
			blob[j] = byte(r.IntN(256))
		}
		if _, err := tx.Exec(`INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)`, i, fmt.Sprintf("item %d", i), r.Float64()*1000, blob,
			time.Unix(1700000000+int64(i)*60, 0).UTC().Format(time.RFC3339), note); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			tx.Exec(`INSERT INTO tags VALUES (?, ?, ?)`, i, fmt.Sprintf("t%d", i%17), r.Float64())
		}
		if i%4 == 0 {
			tx.Exec(`INSERT INTO people VALUES (?, ?, ?)`, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i), r.IntN(90))
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// sqliteWorkload writes to the source file from its own connections, as an
// application would, until stopped.
type sqliteWorkload struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	commits atomic.Int64
	errs    atomic.Int64
}

func startSQLiteWorkload(t *testing.T, path string, seed int64, workers int) *sqliteWorkload {
	w := &sqliteWorkload{stop: make(chan struct{})}
	for k := 0; k < workers; k++ {
		db := openSQLite(t, path)
		r := rand.New(rand.NewPCG(uint64(seed), uint64(100+k)))
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			next := int64(k+1) * 10_000_000
			for {
				select {
				case <-w.stop:
					return
				case <-time.After(8 * time.Millisecond):
				}
				tx, err := db.Begin()
				if err != nil {
					w.errs.Add(1)
					continue
				}
				for n := 1 + r.IntN(3); n > 0 && err == nil; n-- {
					id := 1 + r.IntN(20000)
					switch p := r.IntN(100); {
					case p < 25:
						next++
						_, err = tx.Exec(`INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)`, next, "new", r.Float64(), []byte{byte(p), 0, 255}, "2026-11-21T00:00:00Z", nil)
					case p < 50:
						_, err = tx.Exec(`UPDATE items SET price = ?, note = ? WHERE id = ?`, r.Float64()*10, fmt.Sprintf("upd ✓ %d", r.IntN(1e6)), id)
					case p < 58: // key change
						next++
						_, err = tx.Exec(`UPDATE items SET id = ? WHERE id = ?`, next, id)
					case p < 68:
						_, err = tx.Exec(`DELETE FROM items WHERE id = ?`, id)
					case p < 80:
						_, err = tx.Exec(`INSERT OR REPLACE INTO tags VALUES (?, ?, ?)`, id, fmt.Sprintf("t%d", r.IntN(20)), r.Float64())
					case p < 86:
						_, err = tx.Exec(`DELETE FROM tags WHERE item_id = ?`, id)
					case p < 93:
						_, err = tx.Exec(`UPDATE people SET email = ? WHERE email = ?`, fmt.Sprintf("w%d-%d@example.com", k, r.IntN(1e9)), fmt.Sprintf("p%d@example.com", id))
					default:
						_, err = tx.Exec(`UPDATE people SET age = age + 1 WHERE rowid % 50 = ?`, r.IntN(50))
					}
				}
				if err != nil || r.IntN(20) == 0 {
					tx.Rollback()
					if err != nil {
						w.errs.Add(1)
					}
					continue
				}
				if tx.Commit() == nil {
					w.commits.Add(1)
				}
			}
		}()
	}
	return w
}

func (w *sqliteWorkload) halt(t *testing.T) {
	close(w.stop)
	w.wg.Wait()
	t.Logf("sqlite workload: %d commits, %d failed statements", w.commits.Load(), w.errs.Load())
}

// compareSQLite reads every table from both files in key order, values with
// their exact types, and compares them.
func compareSQLite(t *testing.T, src, dst string) {
	a, b := openSQLite(t, src), openSQLite(t, dst)
	for _, tb := range sqliteTables {
		read := func(db *sql.DB) [][]any {
			rows, err := db.Query("SELECT * FROM " + tb.name + " ORDER BY " + tb.key)
			if err != nil {
				t.Fatal(err)
			}
			_, out, err := scanAll(rows)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		ra, rb := read(a), read(b)
		if len(ra) != len(rb) {
			t.Errorf("table %s: %d rows on the source, %d on the target", tb.name, len(ra), len(rb))
			continue
		}
		for i := range ra {
			if !reflect.DeepEqual(ra[i], rb[i]) {
				t.Errorf("table %s row %d differs:\n source %#v\n target %#v", tb.name, i, ra[i], rb[i])
				break
			}
		}
		t.Logf("table %s: %d rows, source and target are equal", tb.name, len(ra))
	}
}

// TestSQLiteLiveMigrationKillResume is the end-to-end proof for SQLite: a
// workload in another process writes the source file during copy and replay,
// godwit is killed with SIGKILL in both phases and resumed, then every row is
// compared, verify passes, and complete fences the source.
func TestSQLiteLiveMigrationKillResume(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	createSQLiteSource(t, src, seed, 20000)
	g := newGodwit(t)
	wl := startSQLiteWorkload(t, src, seed, 2)
	name := migrationName("sq")
	r := g.start("start", name, "--source", "sqlite://"+src, "--target", "sqlite:"+dst, "--chunk-rows", "1000", "--max-copy-rate", "6000")
	// Two kills while copying (sleepDuringCopy kills before the copy can finish;
	// a stale status of the killed runner must not count as the new one's
	// phase), then two while replicating.
	copyKills, replKills := 0, 0
	for copyKills < 2 {
		st := g.waitFor(name, r, "phase COPYING or REPLICATING", time.Minute, func(st status) bool {
			return st.State == "RUNNING" && (st.Phase == "COPYING" || st.Phase == "REPLICATING")
		})
		if st.Phase != "COPYING" {
			t.Errorf("the copy finished after only %d SIGKILL(s) during COPYING, want 2 (seed %d)", copyKills, seed)
			break
		}
		waited, phase := g.sleepDuringCopy(name, r, time.Duration(100+rng.IntN(900))*time.Millisecond)
		r.kill9()
		t.Logf("SIGKILL after %v in phase %s", waited.Round(time.Millisecond), phase)
		if phase == "COPYING" {
			copyKills++
		} else {
			replKills++
		}
		r = g.start("resume", name)
	}
	for replKills < 2 {
		g.waitFor(name, r, "phase REPLICATING", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Phase == "REPLICATING" })
		time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
		st, _ := g.status(name)
		r.kill9()
		t.Logf("SIGKILL in phase %s (%v)", st.Phase, st)
		replKills++
		r = g.start("resume", name)
	}
	g.waitFor(name, r, "consistent", time.Minute, func(st status) bool { return st.Consistent })
	time.Sleep(time.Second)
	wl.halt(t)
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed nothing")
	}
	g.waitFor(name, r, "caught up", time.Minute, func(st status) bool {
		return st.SourcePosition != "" && st.SourcePosition == st.AppliedPosition
	})
	compareSQLite(t, src, dst)
	if res := g.runTimeout(time.Minute, "verify", name); res.code != 0 {
		t.Fatalf("verify: %v", res)
	}
	if res := g.runTimeout(time.Minute, "complete", name); res.code != 0 {
		t.Fatalf("complete: %v", res)
	}
	if _, err := openSQLite(t, src).ExecContext(context.Background(), `INSERT INTO items (name) VALUES ('late')`); err == nil {
		t.Fatal("write to the fenced source accepted")
	}
	if res := g.run("delete", name); res.code != 0 {
		t.Fatalf("delete: %v", res)
	}
	var left int
	openSQLite(t, src).QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE '\_godwit%' ESCAPE '\'`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d godwit objects left in the source file after delete", left)
	}
}

// TestSQLiteBadInput: a missing source file is an error, not an empty database.
func TestSQLiteBadInput(t *testing.T) {
	g := newGodwit(t)
	dir := t.TempDir()
	res := g.run("start", "m", "--source", "sqlite://"+filepath.Join(dir, "nope.db"), "--target", "sqlite:"+filepath.Join(dir, "t.db"))
	if res.code != 1 || !oneLine(res.stderr) || !containsFold(res.stderr, "does not exist") {
		t.Fatalf("missing source file: %v", res)
	}
	src := filepath.Join(dir, "s.db")
	createSQLiteSource(t, src, 1, 10)
	res = g.run("start", "m", "--source", "sqlite://"+src, "--target", "sqlite://"+src)
	if res.code != 1 || !containsFold(res.stderr, "same") {
		t.Fatalf("source = target: %v", res)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// A migration whose name the target already knows from another state store
// does nothing and stays CREATED, and deleting it leaves the other's
// bookkeeping alone (it used to skip every table and end COMPLETED).
func TestSQLiteNameTakenOnTarget(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "s.db"), filepath.Join(dir, "t.db")
	createSQLiteSource(t, src, 2, 50)
	first := newGodwit(t)
	if res := first.run("start", "orders", "--once", "--source", "sqlite://"+src, "--target", "sqlite://"+dst); res.code != 0 {
		t.Fatalf("first migration: %v", res)
	}
	src2, dst2 := filepath.Join(dir, "s2.db"), dst // another source, the same target
	createSQLiteSource(t, src2, 2, 50)
	second := newGodwit(t)
	res := second.run("start", "orders", "--once", "--truncate-target", "--source", "sqlite://"+src2, "--target", "sqlite://"+dst2)
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if res.code != 1 || !strings.HasPrefix(lines[len(lines)-1], "godwit: the target already holds the checkpoints of another migration named orders") {
		t.Fatalf("want exit 1 naming the other migration: %v", res)
	}
	if st := second.mustStatus("orders"); st.State != "CREATED" {
		t.Errorf("state after the refusal = %s, want CREATED", st.State)
	}
	if res := second.run("delete", "orders"); res.code != 0 || strings.Contains(res.stdout, "(target)") {
		t.Errorf("delete of the refused migration touched the target: %v", res)
	}
	// The first store still owns its bookkeeping: its delete removes it.
	if res := first.run("delete", "orders"); res.code != 0 || !strings.Contains(res.stdout, "bookkeeping for orders (target)") {
		t.Errorf("delete in the first store: %v", res)
	}
}
