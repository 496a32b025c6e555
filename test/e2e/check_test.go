package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/testutil"
)

// checkReport is the part of `godwit check --json` the tests read.
type checkReport struct {
	Ready  bool `json:"ready"`
	Source *struct {
		Engine   string            `json:"engine"`
		Settings map[string]string `json:"settings"`
	} `json:"source"`
	Tables []struct {
		Name string   `json:"name"`
		Key  []string `json:"key"`
		Note string   `json:"note"`
	} `json:"tables"`
	Blocking []string `json:"blocking"`
	Warnings []string `json:"warnings"`
}

func (g *godwit) check(args ...string) (result, checkReport) {
	g.t.Helper()
	res := g.run(append([]string{"check", "--json"}, args...)...)
	var rep checkReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		g.t.Fatalf("check --json did not print JSON: %v\n%v", err, res)
	}
	return res, rep
}

func joined(s []string) string { return strings.Join(s, " | ") }

// TestCheckMySQL: check reports a ready migration, then each blocking problem
// (a table without a key, target tables holding rows, binary log off), and
// creates nothing on either server.
func TestCheckMySQL(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	db := newMyDB(t, "chk", srcBase, dstBase)
	src := openMy(t, srcBase, db)
	mustExec(t, src, "CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO items VALUES (1, 'a'), (2, 'b')")
	mustExec(t, src, "CREATE TABLE loose (v INT)")
	g := newGodwit(t)
	// The password must not show: check with the password user.
	pw := func(base string) string {
		u, _ := url.Parse(myDBURL(t, base, db))
		u.User = url.UserPassword("pwuser", "pw-Secret-42")
		return u.String()
	}
	source, target := pw(srcBase), pw(dstBase)

	res, rep := g.check("--source", source, "--target", target, "--exclude", db+".loose")
	if res.code != 0 || !rep.Ready || len(rep.Tables) != 1 || rep.Tables[0].Name != db+".items" || joined(rep.Tables[0].Key) != "id" {
		t.Fatalf("ready migration: %+v\n%v", rep, res)
	}
	if rep.Source == nil || rep.Source.Engine != "mysql" || rep.Source.Settings["binlog_format"] != "ROW" {
		t.Fatalf("source description: %+v", rep.Source)
	}
	if strings.Contains(res.stdout+res.stderr, "pw-Secret-42") {
		t.Fatal("the password appears in check's output")
	}
	human := g.run("check", "--source", source, "--target", target, "--exclude", db+".loose")
	if human.code != 0 || !strings.Contains(human.stdout, "ready: nothing blocks") || !strings.Contains(human.stdout, db+".items") {
		t.Fatalf("readable report: %v", human)
	}

	res, rep = g.check("--source", source, "--target", target)
	if res.code != 1 || rep.Ready || !strings.Contains(joined(rep.Blocking), db+".loose") || !oneLine(res.stderr) {
		t.Fatalf("table without key: %+v\n%v", rep, res)
	}
	res, rep = g.check("--source", source, "--target", target, "--allow-no-key")
	if res.code != 0 || !strings.Contains(joined(rep.Warnings), db+".loose") {
		t.Fatalf("--allow-no-key: %+v\n%v", rep, res)
	}

	// Nothing was created: no database on the target, no triggers on the source.
	dst := openMy(t, dstBase, "")
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("check created %d databases on the target (%v)", n, err)
	}
	if err := src.QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("check created %d triggers on the source (%v)", n, err)
	}

	mustExec(t, dst, "CREATE DATABASE `"+db+"`")
	mustExec(t, dst, "CREATE TABLE `"+db+"`.items (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO `"+db+"`.items VALUES (9, 'z')")
	res, rep = g.check("--source", source, "--target", target, "--exclude", db+".loose")
	if res.code != 1 || !strings.Contains(joined(rep.Blocking), "--truncate-target") {
		t.Fatalf("target table holding rows: %+v\n%v", rep, res)
	}
	res, rep = g.check("--source", source, "--target", target, "--exclude", db+".loose", "--truncate-target")
	if res.code != 0 || !strings.Contains(joined(rep.Warnings), "emptied") {
		t.Fatalf("--truncate-target: %+v\n%v", rep, res)
	}

	nobin := myURL(t, "GODWIT_TEST_MY_NOBINLOG")
	nb := newMyDB(t, "chknb", nobin)
	mustExec(t, openMy(t, nobin, nb), "CREATE TABLE items (id INT PRIMARY KEY)")
	res, rep = g.check("--source", myDBURL(t, nobin, nb), "--target", myDBURL(t, dstBase, nb))
	if res.code != 1 || !strings.Contains(joined(rep.Blocking), "binary log") {
		t.Fatalf("binary log off: %+v\n%v", rep, res)
	}
	res, _ = g.check("--source", myDBURL(t, nobin, nb), "--target", myDBURL(t, dstBase, nb), "--once")
	if res.code != 0 {
		t.Fatalf("--once needs no binary log: %v", res)
	}
}

// TestCheckPostgreSQL: a ready pair, then a source whose wal_level is not logical.
func TestCheckPostgreSQL(t *testing.T) {
	src, dst := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	exec1(t, connect(t, src), "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, 'x' FROM generate_series(1, 100) g")
	g := newGodwit(t)
	res, rep := g.check("--source", src, "--target", dst)
	if res.code != 0 || !rep.Ready || len(rep.Tables) != 1 || rep.Tables[0].Name != "public.items" || rep.Source.Settings["wal_level"] != "logical" {
		t.Fatalf("ready migration: %+v\n%v", rep, res)
	}
	if objs := godwitObjects(t, src); len(objs) != 0 {
		t.Fatalf("check left objects on the source: %v", objs)
	}
	replica := testutil.NewPGDatabase(t, "replica")
	exec1(t, connect(t, replica), "CREATE TABLE items (id int PRIMARY KEY)")
	res, rep = g.check("--source", replica, "--target", dst)
	if res.code != 1 || !strings.Contains(joined(rep.Blocking), "wal_level") {
		t.Fatalf("wal_level replica: %+v\n%v", rep, res)
	}
}
