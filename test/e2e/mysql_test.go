package e2e

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/godwit-db/godwit/internal/testutil"
)

// myURL returns the server URL in envvar (GODWIT_TEST_MY_SOURCE, ...). When it
// is unset or the server does not answer the test is skipped, or fails when
// GODWIT_REQUIRE_DB=1.
func myURL(t *testing.T, envvar string) string {
	t.Helper()
	u, err := os.Getenv(envvar), errors.New("not set")
	if db, _ := openMyRaw(u, ""); u != "" && db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err == nil {
		return u
	}
	testutil.Unavailable(t, fmt.Sprintf(`%s=%s: %v; start the test servers with: eval "$(scripts/testdb.sh up)"`, envvar, testutil.RedactURL(u), err))
	return ""
}

// openMyRaw connects with the user, password and host of a mysql:// URL, to
// database db, every session in time zone +00:00.
func openMyRaw(rawURL, db string) (*sql.DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, db
	cfg.MultiStatements = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func openMy(t testing.TB, rawURL, db string) *sql.DB {
	t.Helper()
	d, err := openMyRaw(rawURL, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// myDBURL returns the server URL base naming database db.
func myDBURL(t testing.TB, base, db string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawPath = "/"+db, ""
	return u.String()
}

// newMyDB creates a uniquely named database on server createOn and drops it
// there and on the servers dropOn when the test ends (GODWIT_KEEP_DB=1 keeps
// the databases of a failed test).
func newMyDB(t *testing.T, prefix, createOn string, dropOn ...string) string {
	t.Helper()
	name := fmt.Sprintf("gw%s%08x", prefix, rand.Uint32())
	mustExec(t, openMy(t, createOn, ""), "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("GODWIT_KEEP_DB") == "1" {
			t.Logf("GODWIT_KEEP_DB=1: keeping database %s", name)
			return
		}
		for _, u := range append([]string{createOn}, dropOn...) {
			db, err := openMyRaw(u, "")
			if err == nil {
				_, err = db.Exec("DROP DATABASE IF EXISTS `" + name + "`")
				db.Close()
			}
			if err != nil {
				t.Errorf("drop database %s on %s: %v", name, testutil.RedactURL(u), err)
			}
		}
	})
	return name
}

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", clip(q, 300), err)
	}
}

// myTables: an integer key, a composite key, and a table keyed only by a NOT
// NULL unique column (with a second, nullable unique key).
var myTables = []struct{ name, key string }{{"items", "id"}, {"tags", "item_id, tag"}, {"people", "email"}}

func createMySource(t *testing.T, db *sql.DB, seed int64, items int) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	mustExec(t, db, `CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL,
		price DECIMAL(12,2), qty INT UNSIGNED, data BLOB, created DATETIME(6), note TEXT CHARACTER SET utf8mb4, KEY (name)
	) DEFAULT CHARSET utf8mb4;
	CREATE TABLE tags (item_id INT NOT NULL, tag VARCHAR(20) NOT NULL, weight DOUBLE, PRIMARY KEY (item_id, tag));
	CREATE TABLE people (email VARCHAR(120) NOT NULL UNIQUE, name VARCHAR(100), age TINYINT,
		handle VARCHAR(40) NULL, UNIQUE KEY handle (handle)) DEFAULT CHARSET utf8mb4`)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const batch = 500
	for lo := 1; lo <= items; lo += batch {
		var iv, tv, pv []string
		var ia, ta, pa []any
		for i := lo; i < lo+batch && i <= items; i++ {
			var note any = fmt.Sprintf("ünïcødé ✓ 日本 🦆 %d", i)
			if i%5 == 0 {
				note = nil
			}
			blob := make([]byte, r.IntN(64))
			for j := range blob {
				blob[j] = byte(r.IntN(256))
			}
			created := time.Unix(1700000000+int64(i)*61, int64(r.IntN(1e6))*1000).UTC().Format("2006-01-02 15:04:05.999999")
			iv = append(iv, "(?, ?, ?, ?, ?, ?, ?)")
			ia = append(ia, i, fmt.Sprintf("item %d", i), fmt.Sprintf("%d.%02d", r.IntN(100000), r.IntN(100)), r.Uint32(), blob, created, note)
			if i%3 == 0 {
				tv, ta = append(tv, "(?, ?, ?)"), append(ta, i, fmt.Sprintf("t%d", i%17), r.Float64())
			}
			if i%4 == 0 {
				var handle any
				if i%8 == 0 {
					handle = fmt.Sprintf("h%d", i)
				}
				pv = append(pv, "(?, ?, ?, ?)")
				pa = append(pa, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i), r.IntN(90), handle)
			}
		}
		mustExec(t, tx, "INSERT INTO items VALUES "+strings.Join(iv, ", "), ia...)
		if len(tv) > 0 {
			mustExec(t, tx, "INSERT INTO tags VALUES "+strings.Join(tv, ", "), ta...)
		}
		if len(pv) > 0 {
			mustExec(t, tx, "INSERT INTO people VALUES "+strings.Join(pv, ", "), pa...)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// myWorkload writes to the source from its own connections, as an application
// would, until halted.
type myWorkload struct {
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	commits atomic.Int64
	errs    atomic.Int64
}

func startMyWorkload(t *testing.T, srcURL, dbname string, seed int64, workers, items int) *myWorkload {
	w := &myWorkload{stop: make(chan struct{})}
	dbs := make([]*sql.DB, workers)
	for k := range dbs {
		dbs[k] = openMy(t, srcURL, dbname)
	}
	t.Cleanup(func() { w.once.Do(func() { close(w.stop) }); w.wg.Wait() })
	for k, db := range dbs {
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
					id := 1 + r.IntN(items)
					email := fmt.Sprintf("p%d@example.com", 4*(1+r.IntN(items/4)))
					switch p := r.IntN(100); {
					case p < 22:
						next++
						_, err = tx.Exec(`INSERT INTO items (id, name, price, qty, data, created, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
							next, "new", fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)), r.IntN(1000), []byte{byte(p), 0, 255},
							"2026-11-21 10:11:12.345678", nil)
					case p < 42:
						_, err = tx.Exec(`UPDATE items SET price = ?, qty = qty + 1, note = ? WHERE id = ?`,
							fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)), fmt.Sprintf("upd ✓ 🦆 %d", r.IntN(1e6)), id)
					case p < 50: // primary key change
						next++
						_, err = tx.Exec(`UPDATE items SET id = ? WHERE id = ?`, next, id)
					case p < 58:
						_, err = tx.Exec(`DELETE FROM items WHERE id = ?`, id)
					case p < 70:
						_, err = tx.Exec(`REPLACE INTO tags VALUES (?, ?, ?)`, id, fmt.Sprintf("t%d", r.IntN(20)), r.Float64())
					case p < 76:
						_, err = tx.Exec(`DELETE FROM tags WHERE item_id = ?`, id)
					case p < 84: // key change on the non-null unique key
						_, err = tx.Exec(`UPDATE people SET email = ? WHERE email = ?`, fmt.Sprintf("w%d-%d@example.com", k, r.IntN(1e9)), email)
					case p < 91: // move a value of the nullable unique key to another row
						h := fmt.Sprintf("h%d", 8*(1+r.IntN(items/8)))
						if _, err = tx.Exec(`UPDATE people SET handle = NULL WHERE handle = ?`, h); err == nil {
							_, err = tx.Exec(`UPDATE people SET handle = ? WHERE email = ?`, h, email)
						}
					case p < 95:
						_, err = tx.Exec(`UPDATE people SET age = MOD(age + 1, 120), name = ? WHERE email = ?`, fmt.Sprintf("ünï %d", r.IntN(1e6)), email)
					case p < 98:
						_, err = tx.Exec(`INSERT INTO people (email, name, age) VALUES (?, 'new', 1)`, fmt.Sprintf("n%d-%d@example.com", k, r.IntN(1e9)))
					default:
						_, err = tx.Exec(`DELETE FROM people WHERE email = ?`, email)
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

func (w *myWorkload) halt(t *testing.T) {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
	t.Logf("mysql workload: %d commits, %d failed statements", w.commits.Load(), w.errs.Load())
}

// readMy runs q and returns its column names and every row as text (NULL as
// Valid=false).
func readMy(t *testing.T, db *sql.DB, q string) ([]string, [][]sql.NullString) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", clip(q, 300), err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]sql.NullString
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

func showCell(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	return strconv.Quote(clip(v.String, 200))
}

// diffMy compares the results of q on source and target, reporting the first
// differing rows with their columns.
func diffMy(t *testing.T, what string, src, dst *sql.DB, q string) int {
	t.Helper()
	cols, a := readMy(t, src, q)
	_, b := readMy(t, dst, q)
	if len(a) != len(b) {
		t.Errorf("%s: %d rows on the source, %d on the target", what, len(a), len(b))
	}
	reported := 0
	for i := 0; i < min(len(a), len(b)) && reported < 5; i++ {
		for c := range cols {
			if a[i][c] != b[i][c] {
				t.Errorf("%s row #%d (source key %s, target key %s) column %s differs:\n source %s\n target %s",
					what, i, showCell(a[i][0]), showCell(b[i][0]), cols[c], showCell(a[i][c]), showCell(b[i][c]))
				reported++
				break
			}
		}
	}
	return len(a)
}

// compareMy reads every table of database dbname on both servers in key
// order, every column as text, and compares them.
func compareMy(t *testing.T, src, dst *sql.DB, dbname string) {
	t.Helper()
	for _, tb := range myTables {
		n := diffMy(t, "table "+tb.name, src, dst, fmt.Sprintf("SELECT * FROM `%s`.`%s` ORDER BY %s", dbname, tb.name, tb.key))
		if n == 0 {
			t.Errorf("table %s is empty on the source: the comparison proves nothing", tb.name)
		}
		t.Logf("table %s: %d rows compared", tb.name, n)
	}
}

// masterPos is the source's current binlog position, "file:pos".
func masterPos(t *testing.T, db *sql.DB) string {
	t.Helper()
	_, rows := readMy(t, db, "SHOW MASTER STATUS")
	if len(rows) != 1 {
		t.Fatalf("SHOW MASTER STATUS returned %d rows: is the binary log on?", len(rows))
	}
	return rows[0][0].String + ":" + rows[0][1].String
}

// posAtLeast reports whether binlog position have ("binlog.000001:1234") is at
// or after want; ok is false when have is not such a position.
func posAtLeast(have, want string) (atLeast, ok bool) {
	hf, hp, ok1 := strings.Cut(have, ":")
	wf, wp, _ := strings.Cut(want, ":")
	h, err1 := strconv.ParseUint(hp, 10, 64)
	w, err2 := strconv.ParseUint(wp, 10, 64)
	if !ok1 || err1 != nil || err2 != nil {
		return false, false
	}
	return hf > wf || hf == wf && h >= w, true
}

// waitCaughtUp waits until the migration applied everything up to the
// source's current binlog position and reports source == applied.
func waitCaughtUp(t *testing.T, g *godwit, name string, r *runner, src *sql.DB) {
	t.Helper()
	want := masterPos(t, src)
	g.waitFor(name, r, "caught up with "+want, 2*time.Minute, func(st status) bool {
		atLeast, ok := posAtLeast(st.AppliedPosition, want)
		if st.AppliedPosition != "" && !ok {
			t.Fatalf("applied_position %q is not a binlog position file:pos", st.AppliedPosition)
		}
		return atLeast && (st.SourcePosition == st.AppliedPosition || onlyNonTxnBetween(t, src, st.AppliedPosition, st.SourcePosition))
	})
}

// onlyNonTxnBetween reports whether the binlog holds no transaction from
// position a to b (the same file): MariaDB writes binlog checkpoint events
// after a rotation that it sends to replicas only with the next transaction.
func onlyNonTxnBetween(t *testing.T, db *sql.DB, a, b string) bool {
	af, ap, ok1 := strings.Cut(a, ":")
	bf, bp, ok2 := strings.Cut(b, ":")
	if !ok1 || !ok2 || af != bf {
		return false
	}
	_, rows := readMy(t, db, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %s LIMIT 20", af, ap))
	end, _ := strconv.ParseUint(bp, 10, 64)
	for _, r := range rows {
		if p, _ := strconv.ParseUint(r[1].String, 10, 64); p >= end {
			break
		}
		switch r[2].String {
		case "Binlog_checkpoint", "Gtid_list", "Format_desc", "Rotate":
		default:
			return false
		}
	}
	return true
}

func countTriggers(t *testing.T, db *sql.DB, dbname string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME LIKE '\_godwit%'`, dbname).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// godwitRows lists the rows of godwit's bookkeeping tables on a server (tables
// in a schema or with a name starting with _godwit) that name migration.
func godwitRows(t *testing.T, db *sql.DB, migration string) []string {
	t.Helper()
	_, cols := readMy(t, db, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
		WHERE (TABLE_SCHEMA LIKE '\_godwit%' OR TABLE_NAME LIKE '\_godwit%') AND COLUMN_NAME IN ('name', 'migration', 'migration_name')`)
	var out []string
	for _, c := range cols {
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) FROM `%s`.`%s` WHERE `%s` = ?", c[0].String, c[1].String, c[2].String)
		if err := db.QueryRow(q, migration).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%d rows in %s.%s", n, c[0].String, c[1].String))
		}
	}
	return out
}

// expectFenced runs a write that the cutover fence must reject with error 1644
// (SQLSTATE 45000) naming the migration.
func expectFenced(t *testing.T, db *sql.DB, name, q string, args ...any) {
	t.Helper()
	_, err := db.Exec(q, args...)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1644 || string(me.SQLState[:]) != "45000" || !strings.Contains(me.Message, name) {
		t.Errorf("%s on the fenced source: got %v, want error 1644 (45000) naming %s", q, err, name)
	}
}

// livePID is the pid of the runner that the status of migration name reports
// alive, else 0.
func livePID(g *godwit, name string) int {
	var s struct {
		Runner *struct {
			PID   int  `json:"pid"`
			Alive bool `json:"alive"`
		} `json:"runner"`
	}
	res := g.run("status", name, "--json")
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &s) != nil || s.Runner == nil || !s.Runner.Alive {
		return 0
	}
	return s.Runner.PID
}

// TestMySQLLiveMigrationKillResume is the end-to-end proof for MySQL/MariaDB:
// a workload writes the source during copy and replay, godwit is killed with
// SIGKILL in both phases and resumed, then every row is compared, verify
// passes, complete fences the source and delete removes the fence.
func TestMySQLLiveMigrationKillResume(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	dbname := newMyDB(t, "live", srcBase, dstBase)
	src, dst := openMy(t, srcBase, dbname), openMy(t, dstBase, "")
	const items = 20000
	createMySource(t, src, seed, items)
	g := newGodwit(t)
	wl := startMyWorkload(t, srcBase, dbname, seed, 2, items)
	name := migrationName("my")
	r := g.start("start", name, "--source", myDBURL(t, srcBase, dbname), "--target", myDBURL(t, dstBase, dbname),
		"--chunk-rows", "1000", "--max-copy-rate", "12000")
	countRows := func(db *sql.DB) (n float64) {
		for _, tb := range myTables {
			var c float64
			db.QueryRow("SELECT COUNT(*) FROM `" + dbname + "`.`" + tb.name + "`").Scan(&c) // 0 until created
			n += c
		}
		return n
	}
	total := countRows(src) // for a kill well before the copy ends
	var lastCopied float64
	var lastApplied string
	for kills := 0; kills < 4; kills++ {
		phase, delay := "COPYING", 100+rng.IntN(900)
		if kills < 2 {
			// Status polls are slow (race builds): watch this runner's chunks
			// arrive on the target, then kill it well before the copy ends.
			deadline := time.Now().Add(2 * time.Minute)
			for lastCopied >= countRows(dst) {
				if r.exited() || time.Now().After(deadline) {
					t.Fatalf("no new rows on the target (%.0f) from %s (exited: %v)", lastCopied, r.desc, r.exited())
				}
				time.Sleep(20 * time.Millisecond)
			}
			lastCopied = countRows(dst)
			delay = min(delay, max(20, int((total-lastCopied)/12000*1000/3)))
		} else {
			// The status of a killed runner stays in the store: wait until
			// this one reports itself and has applied something new.
			phase = "REPLICATING"
			g.waitFor(name, r, "progress in phase REPLICATING in run "+strconv.Itoa(g.runs), 2*time.Minute, func(st status) bool {
				return st.State == "RUNNING" && st.Phase == phase && st.AppliedPosition != lastApplied && livePID(g, name) == r.cmd.Process.Pid
			})
		}
		time.Sleep(time.Duration(delay) * time.Millisecond)
		r.kill9()
		st := g.mustStatus(name) // as the killed runner last published it (about every second)
		t.Logf("SIGKILL in phase %s after %d ms (%v; %.0f rows were on the target)", phase, delay, st, lastCopied)
		if st.Phase != phase && (phase != "COPYING" || st.Phase != "") {
			t.Fatalf("the kill meant for phase %s came in phase %s", phase, st.Phase)
		}
		lastApplied = st.AppliedPosition
		r = g.start("resume", name)
	}
	g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.Consistent })
	time.Sleep(time.Second)
	wl.halt(t)
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed nothing")
	}
	waitCaughtUp(t, g, name, r, src)
	compareMy(t, src, dst, dbname)
	if res := g.runTimeout(2*time.Minute, "verify", name); res.code != 0 {
		t.Fatalf("verify: %v", res)
	}
	if res := g.runTimeout(2*time.Minute, "complete", name); res.code != 0 {
		t.Fatalf("complete: %v", res)
	}
	if st := g.mustStatus(name); st.State != "COMPLETED" {
		t.Errorf("state after complete = %s, want COMPLETED (%v)", st.State, st)
	}
	var minID int64
	var anyEmail string
	if err := src.QueryRow(`SELECT (SELECT MIN(id) FROM items), (SELECT MIN(email) FROM people)`).Scan(&minID, &anyEmail); err != nil {
		t.Fatal(err)
	}
	expectFenced(t, src, name, `INSERT INTO items (name) VALUES ('late')`)
	expectFenced(t, src, name, `UPDATE items SET name = 'late' WHERE id = ?`, minID)
	expectFenced(t, src, name, `DELETE FROM items WHERE id = ?`, minID)
	expectFenced(t, src, name, `INSERT INTO tags VALUES (1, 'late', 0)`)
	expectFenced(t, src, name, `UPDATE people SET age = 1 WHERE email = ?`, anyEmail)
	if n := countTriggers(t, src, dbname); n == 0 {
		t.Errorf("no trigger named _godwit%% fences the source after complete")
	}
	if res := g.run("delete", name); res.code != 0 {
		t.Fatalf("delete: %v", res)
	}
	if n := countTriggers(t, src, dbname); n != 0 {
		t.Errorf("%d _godwit triggers left on the source after delete", n)
	}
	mustExec(t, src, `INSERT INTO items (name) VALUES ('late')`)
	mustExec(t, src, `UPDATE items SET name = 'late' WHERE id = ?`, minID)
	mustExec(t, src, `DELETE FROM people WHERE email = ?`, anyEmail)
}

// myTypeCol is a column of every type with three value variants (NULL is the
// fourth): SQL literals.
type myTypeCol struct {
	name, def string
	vals      [3]string
}

func myTypeCols(seed int64) []myTypeCol {
	r := rand.New(rand.NewPCG(uint64(seed), 11))
	blob := make([]byte, 3<<20)
	for i := range blob {
		blob[i] = byte(r.IntN(256))
	}
	nines := strings.Repeat("9", 35) + "." + strings.Repeat("9", 30)
	return []myTypeCol{
		{"ti", "TINYINT", [3]string{"127", "-128", "0"}},
		{"tiu", "TINYINT UNSIGNED", [3]string{"255", "0", "1"}},
		{"si", "SMALLINT", [3]string{"32767", "-32768", "0"}},
		{"siu", "SMALLINT UNSIGNED", [3]string{"65535", "0", "1"}},
		{"mi", "MEDIUMINT", [3]string{"8388607", "-8388608", "0"}},
		{"miu", "MEDIUMINT UNSIGNED", [3]string{"16777215", "0", "1"}},
		{"i", "INT", [3]string{"2147483647", "-2147483648", "0"}},
		{"iu", "INT UNSIGNED", [3]string{"4294967295", "0", "1"}},
		{"bi", "BIGINT", [3]string{"9223372036854775807", "-9223372036854775808", "0"}},
		{"biu", "BIGINT UNSIGNED", [3]string{"18446744073709551615", "0", "1"}},
		{"d65", "DECIMAL(65,30)", [3]string{nines, "-" + nines, "1.500000000000000000000000000000"}},
		{"d10", "DECIMAL(10,2)", [3]string{"12345678.90", "-99999999.99", "0.10"}},
		{"f", "FLOAT", [3]string{"3.40282e38", "1.00000012", "16777216"}},
		{"dbl", "DOUBLE", [3]string{"1e308", "0.1e0+0.2e0", "2.2250738585072014e-308"}},
		{"b1", "BIT(1)", [3]string{"b'1'", "b'0'", "b'1'"}},
		{"b64", "BIT(64)", [3]string{"b'" + strings.Repeat("1", 64) + "'", "b'0'", "b'1" + strings.Repeat("0", 62) + "1'"}},
		{"y", "YEAR", [3]string{"2155", "1901", "0"}},
		{"dt", "DATE", [3]string{"'9999-12-31'", "'1000-01-01'", "'0000-00-00'"}},
		{"dtm", "DATETIME(6)", [3]string{"'9999-12-31 23:59:59.999999'", "'1000-01-01 00:00:00.000001'", "'0000-00-00 00:00:00'"}},
		// inserted in session time zone +05:30: the extremes of TIMESTAMP in UTC
		{"ts", "TIMESTAMP(3) NULL DEFAULT NULL", [3]string{"'2038-01-19 08:44:07.999'", "'1970-01-01 05:30:01.000'", "'0000-00-00 00:00:00'"}},
		{"tm", "TIME(6)", [3]string{"'838:59:59.000000'", "'-838:59:59.000000'", "'-00:00:01.500000'"}},
		{"ch", "CHAR(10)", [3]string{"'abc'", "''", "'ü日本✓'"}},
		{"vc", "VARCHAR(100) CHARACTER SET utf8mb4", [3]string{"'🦆 ünïcødé ✓ 日本'", "''", "'trailing  '"}},
		{"vl", "VARCHAR(20) CHARACTER SET latin1", [3]string{"'café'", "''", "'naïve £'"}},
		{"bn", "BINARY(4)", [3]string{"x'00FF0000'", "x'00000000'", "'ab'"}},
		{"vb", "VARBINARY(64)", [3]string{"x'DEADBEEF00'", "x''", "x'00'"}},
		{"tb", "TINYBLOB", [3]string{"x'0001FF00'", "x''", "'tiny'"}},
		{"lb", "LONGBLOB", [3]string{"x'" + hex.EncodeToString(blob) + "'", "x''", "x'00'"}},
		{"tx", "TEXT", [3]string{"'text ✓ 🦆'", "''", "'" + strings.Repeat("x", 60000) + "'"}},
		{"ltx", "LONGTEXT", [3]string{"'" + strings.Repeat("ünïcødé ✓ 日本 🦆 ", 30000) + "'", "''", "'x'"}},
		{"en", "ENUM('a','b','c')", [3]string{"'c'", "'a'", "'b'"}},
		{"st", "SET('x','y','z')", [3]string{"'x,z'", "''", "'x,y,z'"}},
		{"js", "JSON", [3]string{`'{"a": [1, 2.50, "ü"], "b": null}'`, "'[]'", `'"str"'`}},
	}
}

// myTypeRow returns the INSERT (and UPDATE) of row id with value variant v
// (0-2, 3 = NULL everywhere).
func myTypeRow(cols []myTypeCol, id, v int) (insert, update string) {
	names, vals, sets := []string{"id"}, []string{strconv.Itoa(id)}, []string{}
	for _, c := range cols {
		val := "NULL"
		if v < 3 {
			val = c.vals[v]
		}
		names, vals, sets = append(names, c.name), append(vals, val), append(sets, c.name+" = "+val)
	}
	return "INSERT INTO tt (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")",
		"UPDATE tt SET " + strings.Join(sets, ", ") + " WHERE id = " + strconv.Itoa(id)
}

// TestMySQLTypeRoundTrip migrates a table with a column of every MariaDB type,
// rows copied and rows replayed from the binlog, and compares every value
// exactly.
func TestMySQLTypeRoundTrip(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	seed := testutil.Seed(t)
	dbname := newMyDB(t, "types", srcBase, dstBase)
	src, dst := openMy(t, srcBase, dbname), openMy(t, dstBase, "")
	cols := myTypeCols(seed)
	defs := []string{"id INT PRIMARY KEY"}
	for _, c := range cols {
		defs = append(defs, c.name+" "+c.def)
	}
	defs = append(defs, "gs BIGINT AS (i + 1) STORED", "gv VARCHAR(40) AS (CONCAT(ch, '|', en)) VIRTUAL")
	mustExec(t, src, "CREATE TABLE tt ("+strings.Join(defs, ", ")+") DEFAULT CHARSET utf8mb4")

	ctx := context.Background()
	conn, err := src.Conn(ctx) // the writer: time zone +05:30, zero dates allowed
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	write := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", clip(q, 300), err)
		}
	}
	write("SET SESSION time_zone = '+05:30', sql_mode = ''")
	for v := 0; v < 4; v++ { // copied rows 1-4
		ins, _ := myTypeRow(cols, 1+v, v)
		write(ins)
	}
	var ts1, dt3 string
	if err := src.QueryRow("SELECT (SELECT CAST(ts AS CHAR) FROM tt WHERE id = 1), (SELECT CAST(dt AS CHAR) FROM tt WHERE id = 3)").Scan(&ts1, &dt3); err != nil {
		t.Fatal(err)
	}
	if ts1 != "2038-01-19 03:14:07.999" || dt3 != "0000-00-00" {
		t.Fatalf("test setup: source ts in UTC = %q, zero date = %q", ts1, dt3)
	}

	t.Setenv("TZ", "Asia/Kolkata") // godwit runs in another time zone than the servers (UTC)
	g := newGodwit(t)
	name := migrationName("myty")
	r := g.start("start", name, "--source", myDBURL(t, srcBase, dbname), "--target", myDBURL(t, dstBase, dbname))
	g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.Consistent && st.Phase == "REPLICATING" })
	for v := 0; v < 4; v++ { // replayed: inserts 11-14, every row 1-4 updated to another variant, an insert and delete
		ins, _ := myTypeRow(cols, 11+v, v)
		write(ins)
		_, upd := myTypeRow(cols, 1+v, (v+1)%4)
		write(upd)
	}
	ins, _ := myTypeRow(cols, 15, 0)
	write(ins)
	write("UPDATE tt SET vc = 'changed ✓', ts = '2024-03-10 12:34:56.789' WHERE id = 12")
	write("DELETE FROM tt WHERE id = 15")
	waitCaughtUp(t, g, name, r, src)

	colQ := fmt.Sprintf(`SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA, COALESCE(CHARACTER_SET_NAME, ''), COALESCE(GENERATION_EXPRESSION, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = 'tt' ORDER BY ORDINAL_POSITION`, dbname)
	if n := diffMy(t, "columns of tt", src, dst, colQ); n != len(cols)+3 {
		t.Errorf("tt has %d columns on the source, want %d", n, len(cols)+3)
	}
	_, info := readMy(t, src, colQ)
	exprs := []string{"tt.id AS `key`"}
	for _, c := range info {
		switch typ := c[1].String; {
		case strings.HasPrefix(typ, "float"), strings.HasPrefix(typ, "double"):
			exprs = append(exprs, fmt.Sprintf("CAST(`%s` + 0e0 AS CHAR) AS `%[1]s`", c[0].String))
		default:
			exprs = append(exprs, fmt.Sprintf("HEX(CAST(`%s` AS BINARY)) AS `%[1]s`", c[0].String))
		}
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM `" + dbname + "`.tt ORDER BY tt.id"
	if n := diffMy(t, "table tt", src, dst, q); n != 8 {
		t.Errorf("tt has %d rows on the source, want 8", n)
	}
	if res := g.runTimeout(2*time.Minute, "verify", name); res.code != 0 {
		t.Fatalf("verify: %v", res)
	}
}

// TestMySQLBadInput: each bad input fails with exit 1 and one line naming the
// problem, and creates nothing on the target or the source.
func TestMySQLBadInput(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	nbBase := myURL(t, "GODWIT_TEST_MY_NOBINLOG")
	testutil.BuildGodwit(t)
	tiny := `CREATE TABLE t (id INT PRIMARY KEY, v TEXT);
		INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100`
	okDB := newMyDB(t, "bad", srcBase, dstBase)
	mustExec(t, openMy(t, srcBase, okDB), tiny)
	nbDB := newMyDB(t, "nobin", nbBase, dstBase)
	mustExec(t, openMy(t, nbBase, nbDB), tiny)
	keyDB := newMyDB(t, "nokey", srcBase, dstBase)
	mustExec(t, openMy(t, srcBase, keyDB), tiny+`;
		CREATE TABLE loose (a INT, b TEXT, u INT NULL UNIQUE);
		INSERT INTO loose SELECT seq, 'x', NULL FROM seq_1_to_10`)
	withUser := func(u, user string) string {
		s, err := testutil.WithUser(u, user, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	src, dst := openMy(t, srcBase, ""), openMy(t, dstBase, "")
	cases := []struct {
		name     string
		db       string
		src, dst string
		words    []string // stderr must contain all of them (case-insensitive)
	}{
		{"source binary log off", nbDB, myDBURL(t, nbBase, nbDB), myDBURL(t, dstBase, nbDB), []string{"binary log"}},
		{"missing REPLICATION privilege", okDB, myDBURL(t, withUser(srcBase, "norepl"), okDB), myDBURL(t, dstBase, okDB), []string{"REPLICATION"}},
		{"server_id clash", okDB, myDBURL(t, srcBase, okDB) + "?server_id=1", myDBURL(t, dstBase, okDB), []string{"server_id"}},
		{"table without key", keyDB, myDBURL(t, srcBase, keyDB), myDBURL(t, dstBase, keyDB), []string{"loose", "--allow-no-key"}},
		{"database missing", okDB + "_missing", myDBURL(t, srcBase, okDB+"_missing"), myDBURL(t, dstBase, okDB), []string{okDB + "_missing", "does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGodwit(t)
			name := migrationName("mybad")
			res := g.run("start", name, "--source", c.src, "--target", c.dst)
			if res.code != 1 || !oneLine(res.stderr) {
				t.Errorf("want exit 1 and one line on stderr: %v", res)
			}
			var words []string // the message without the URLs it may quote (one holds "server_id")
			for _, f := range strings.Fields(res.stderr) {
				if !strings.Contains(f, "://") {
					words = append(words, f)
				}
			}
			for _, w := range c.words {
				if !containsFold(strings.Join(words, " "), w) {
					t.Errorf("stderr should contain %q: %v", w, res)
				}
			}
			t.Logf("exit %d, stderr: %s", res.code, strings.TrimSpace(res.stderr))
			if st := g.run("status", name); st.code == 0 {
				t.Errorf("the refused migration exists in the state store: %v", st)
			}
			var dbs int
			if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", c.db).Scan(&dbs); err != nil {
				t.Fatal(err)
			}
			if dbs != 0 {
				t.Errorf("the refused start created database %s on the target", c.db)
			}
			if rows := godwitRows(t, dst, name); len(rows) > 0 {
				t.Errorf("the refused start left bookkeeping on the target: %s", strings.Join(rows, ", "))
			}
			if n := countTriggers(t, src, c.db); n != 0 {
				t.Errorf("the refused start left %d _godwit triggers on the source", n)
			}
		})
	}
}

// TestMySQLOnce copies a small source once (--once): the run ends by itself
// COMPLETED, the copy equals the source, and delete removes the bookkeeping.
func TestMySQLOnce(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	seed := testutil.Seed(t)
	dbname := newMyDB(t, "once", srcBase, dstBase)
	src, dst := openMy(t, srcBase, dbname), openMy(t, dstBase, "")
	createMySource(t, src, seed, 3000)
	g := newGodwit(t)
	name := migrationName("myonce")
	res := g.runTimeout(3*time.Minute, "start", name, "--source", myDBURL(t, srcBase, dbname), "--target", myDBURL(t, dstBase, dbname),
		"--once", "--chunk-rows", "500")
	if res.code != 0 {
		t.Fatalf("start --once: %v", res)
	}
	if st := g.mustStatus(name); st.State != "COMPLETED" {
		t.Errorf("state after start --once = %s, want COMPLETED (%v)", st.State, st)
	}
	compareMy(t, src, dst, dbname)
	if n := countTriggers(t, src, dbname); n != 0 {
		t.Errorf("after start --once the source has %d _godwit triggers", n)
	}
	if rows := godwitRows(t, dst, name); len(rows) == 0 {
		t.Errorf("no bookkeeping rows naming %s found on the target after start --once (looked in _godwit* tables, columns name/migration)", name)
	}
	if res := g.run("delete", name); res.code != 0 {
		t.Fatalf("delete: %v", res)
	}
	if rows := godwitRows(t, dst, name); len(rows) > 0 {
		t.Errorf("after delete the target still has: %s", strings.Join(rows, ", "))
	}
	if res := g.run("status", name); res.code != 1 {
		t.Errorf("status of a deleted migration: want exit 1: %v", res)
	}
}

// TestMySQLOnceWithoutCapture: a one-time copy needs no change capture, so it
// works from a server whose binary log is off and for a user without the
// REPLICATION privileges (the refusals of a live start say to use --once).
func TestMySQLOnceWithoutCapture(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	nbBase := myURL(t, "GODWIT_TEST_MY_NOBINLOG")
	norepl, err := testutil.WithUser(srcBase, "norepl", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, server, user string }{{"binary log off", nbBase, nbBase}, {"no REPLICATION privilege", srcBase, norepl}} {
		t.Run(c.name, func(t *testing.T) {
			dbname := newMyDB(t, "oncenc", c.server, dstBase)
			mustExec(t, openMy(t, c.server, dbname), `CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t SELECT seq, CONCAT('v ✓', seq) FROM seq_1_to_2500`)
			g := newGodwit(t)
			name := migrationName("myoncenc")
			res := g.runTimeout(3*time.Minute, "start", name, "--source", myDBURL(t, c.user, dbname), "--target", myDBURL(t, dstBase, dbname), "--once", "--chunk-rows", "1000")
			if res.code != 0 {
				t.Fatalf("start --once: %v", res)
			}
			if st := g.mustStatus(name); st.State != "COMPLETED" {
				t.Errorf("state after start --once = %s, want COMPLETED (%v)", st.State, st)
			}
			diffMy(t, "table t", openMy(t, c.server, ""), openMy(t, dstBase, ""), "SELECT * FROM `"+dbname+"`.t ORDER BY id")
		})
	}
}

// TestMySQLOnceCopyIsOneSnapshot runs a one-time copy while transfers move
// money between accounts in other chunks. Every transfer keeps the total, so a
// copy taken from one consistent view has exactly the starting total; a copy
// whose chunks saw different moments almost never does.
func TestMySQLOnceCopyIsOneSnapshot(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	seed := testutil.Seed(t)
	dbname := newMyDB(t, "snap", srcBase, dstBase)
	const rows, each = 60000, 100
	mustExec(t, openMy(t, srcBase, dbname), fmt.Sprintf(`CREATE TABLE ledger (id INT PRIMARY KEY, balance BIGINT NOT NULL);
		INSERT INTO ledger SELECT seq, %d FROM seq_1_to_%d`, each, rows))
	g := newGodwit(t)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var transfers atomic.Int64
	for w := 0; w < 2; w++ {
		db := openMy(t, srcBase, dbname)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for ctx.Err() == nil {
				a, b, amount := 1+r.IntN(rows), 1+r.IntN(rows), 1+r.IntN(50)
				if a == b {
					continue
				}
				if _, err := db.ExecContext(ctx, `UPDATE ledger SET balance = balance + CASE id WHEN ? THEN -? ELSE ? END WHERE id IN (?, ?)`, a, amount, amount, a, b); err == nil {
					transfers.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	name := migrationName("mysnap")
	res := g.runTimeout(3*time.Minute, "start", name, "--source", myDBURL(t, srcBase, dbname), "--target", myDBURL(t, dstBase, dbname),
		"--once", "--chunk-rows", "2000", "--max-copy-rate", "30000")
	stop()
	wg.Wait()
	if res.code != 0 {
		t.Fatalf("start --once: %v", res)
	}
	if transfers.Load() < 100 {
		t.Fatalf("only %d transfers ran during the copy: the test did not exercise concurrency", transfers.Load())
	}
	var total, count int64
	if err := openMy(t, dstBase, dbname).QueryRow("SELECT SUM(balance), COUNT(*) FROM ledger").Scan(&total, &count); err != nil {
		t.Fatal(err)
	}
	if count != rows || total != rows*each {
		t.Fatalf("target ledger has %d rows summing to %d, want %d rows summing to %d: the copy mixed moments (%d transfers ran meanwhile)",
			count, total, rows, rows*each, transfers.Load())
	}
	t.Logf("%d transfers ran during the copy; the copy is one consistent view", transfers.Load())
}
