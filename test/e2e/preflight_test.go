package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// captureObjects counts what godwit's change capture would have left on a
// PostgreSQL source database: replication slots and publications.
func captureObjects(t *testing.T, url string) int {
	t.Helper()
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := connect(t, url).QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())
	   + (SELECT count(*) FROM pg_publication)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func pgUserTables(t *testing.T, url string) int {
	t.Helper()
	var n int
	if err := connect(t, url).QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStartRefusesWhatCheckBlocks: whatever check blocks on, start refuses
// with the same line before it creates anything on either database: no slot,
// no publication, no table, no migration in the store. Among them, target
// definitions found only by trying them (a domain and an enum type the
// target lacks), and target tables holding rows.
func TestStartRefusesWhatCheckBlocks(t *testing.T) {
	src, dst := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	exec1(t, connect(t, src), `
create domain posint as int check (value > 0);
create type mood as enum ('ok', 'sad');
create table t (id int primary key, d posint, m mood);
insert into t values (1, 2, 'ok');
create table plain (id int primary key, v text);
insert into plain values (1, 'a');`)
	g := newGodwit(t)
	refused := func(what string, args []string, says string) {
		t.Helper()
		res, rep := g.check(args...)
		if res.code != 1 || rep.Ready || !strings.Contains(joined(rep.Blocking), says) {
			t.Fatalf("%s: check %+v\n%v", what, rep, res)
		}
		start := g.run(append([]string{"start", "m1"}, args...)...)
		if start.code != 1 || !oneLine(start.stderr) || !strings.Contains(start.stderr, says) {
			t.Fatalf("%s: start %v", what, start)
		}
		if n := captureObjects(t, src); n != 0 {
			t.Fatalf("%s: start left %d slots and publications on the source", what, n)
		}
		if res := g.run("list", "--json"); strings.TrimSpace(res.stdout) != "[]" {
			t.Fatalf("%s: the store holds %s", what, res.stdout)
		}
	}
	refused("a domain the target lacks", []string{"--source", src, "--target", dst, "--include", "public.t"}, `type "posint" does not exist`)
	if n := pgUserTables(t, dst); n != 0 {
		t.Fatalf("the dry run left %d tables on the target", n)
	}
	exec1(t, connect(t, dst), `create domain posint as int check (value > 0)`)
	refused("an enum type the target lacks", []string{"--source", src, "--target", dst, "--include", "public.t"}, `type "mood" does not exist`)
	exec1(t, connect(t, dst), `create type mood as enum ('ok', 'sad'); create table plain (id int primary key, v text); insert into plain values (7, 'x')`)
	refused("target rows", []string{"--source", src, "--target", dst}, "public.plain already exist and hold rows")

	// With the target made ready, the same start runs to the end.
	exec1(t, connect(t, dst), `truncate plain`)
	if res := g.runTimeout(2*time.Minute, "start", "m1", "--source", src, "--target", dst, "--once"); res.code != 0 {
		t.Fatalf("start once the target is ready: %v", res)
	}
	var n int
	if err := connect(t, dst).QueryRow(context.Background(), "SELECT count(*) FROM t WHERE d = 2 AND m = 'ok'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the row of t on the target: %d %v", n, err)
	}
}

// TestIdentifiersCrossExactly: PostgreSQL schema and table names with dots,
// spaces and quotes become MySQL databases and tables of the very same names
// (a dot used to split a schema name); columns that MySQL would take for one
// (case) are refused by check and start, naming both, before anything is
// created.
func TestIdentifiersCrossExactly(t *testing.T) {
	src := testutil.NewPGDatabase(t, "source")
	myBase := myURL(t, "GODWIT_TEST_MY_TARGET")
	tag := fmt.Sprintf("%06x", rand.Uint32()&0xffffff)
	dotted, spaced := "gw.x"+tag, "gw y"+tag
	t.Cleanup(func() {
		db := openMy(t, myBase, "")
		for _, d := range []string{dotted, spaced, "gw"} {
			db.Exec("DROP DATABASE IF EXISTS `" + d + "`")
		}
	})
	exec1(t, connect(t, src), fmt.Sprintf(`
create schema %[1]q; create schema %[2]q;
create table %[1]q."p.q" (id int primary key, v text);
create table %[1]q.child (id int primary key, p int references %[1]q."p.q"(id));
create table %[2]q."it's ""t""" (id int primary key, "select" text);
create table public.cased (id int primary key, "Col" int, col int);
insert into %[1]q."p.q" values (1, 'a'), (2, 'b');
insert into %[1]q.child values (10, 1);
insert into %[2]q."it's ""t""" values (5, 'five');
insert into public.cased values (1, 2, 3);`, dotted, spaced))
	g := newGodwit(t)
	name := migrationName("ids")
	t.Cleanup(func() { g.run("delete", name) }) // its bookkeeping on the shared MySQL server
	args := []string{"--source", src, "--target", myBase}
	res, rep := g.check(args...)
	if res.code != 1 || !strings.Contains(joined(rep.Blocking), `columns "Col" and "col" would be one column on MySQL`) {
		t.Fatalf("check of case-alike columns: %+v\n%v", rep, res)
	}
	if start := g.run(append([]string{"start", name}, args...)...); start.code != 1 || !oneLine(start.stderr) || !strings.Contains(start.stderr, `"Col" and "col"`) {
		t.Fatalf("start with case-alike columns: %v", start)
	}
	if n := captureObjects(t, src); n != 0 {
		t.Fatalf("start left %d slots and publications on the source", n)
	}
	args = append(args, "--exclude", "public.cased")
	if res := g.runTimeout(2*time.Minute, append([]string{"start", name, "--once"}, args...)...); res.code != 0 {
		t.Fatalf("start: %v", res)
	}
	db := openMy(t, myBase, "")
	for _, c := range []struct{ q, want string }{
		{"SELECT group_concat(v ORDER BY id) FROM `" + dotted + "`.`p.q`", "a,b"},
		{"SELECT group_concat(p) FROM `" + dotted + "`.child", "1"},
		{"SELECT `select` FROM `" + spaced + "`.`it's \"t\"`", "five"},
		{"SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'gw'", "0"},
	} {
		var got string
		if err := db.QueryRow(c.q).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.q, got, err, c.want)
		}
	}
	if res := g.run("verify", name); res.code != 0 {
		t.Errorf("verify: %v", res)
	}
}

// TestAllowNoKeyNamesTables: a table without a key migrated with
// --allow-no-key is copied once; writes to it afterwards never reach the
// target, so verify and complete must say they did not check it, naming it,
// instead of "no differences" alone.
func TestAllowNoKeyNamesTables(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	db := openSQLite(t, src)
	mustExec(t, db, "CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE loose (v TEXT); INSERT INTO k VALUES (1, 'a'); INSERT INTO loose VALUES ('x')")
	g := newGodwit(t)
	r := g.start("start", "nokey", "--source", "sqlite://"+src, "--target", "sqlite://"+dst, "--allow-no-key")
	g.waitFor("nokey", r, "consistent", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	mustExec(t, db, "INSERT INTO loose VALUES ('y'), ('z'); INSERT INTO k VALUES (2, 'b')")
	time.Sleep(1500 * time.Millisecond)
	res := g.run("verify", "nokey")
	if res.code != 0 || !strings.Contains(res.stdout, "not verified: main.loose") || !strings.Contains(res.stdout, "no differences") {
		t.Fatalf("verify: %v", res)
	}
	res = g.run("verify", "nokey", "--json")
	if !strings.Contains(res.stdout, `"not_kept":["main.loose"]`) {
		t.Fatalf("verify --json: %v", res)
	}
	res = g.run("complete", "nokey")
	if res.code != 0 || !strings.Contains(res.stderr, "not verified: main.loose") {
		t.Fatalf("complete: %v", res)
	}
	var n int
	if err := openSQLiteRO(t, dst).QueryRow("SELECT count(*) FROM loose").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the target's loose holds %d rows (%v): the test expects the copy-once table to stay behind", n, err)
	}
}
