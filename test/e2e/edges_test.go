package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/testutil"
)

// edgeType is one source column type and the edge values of it the matrix
// tries, as SQL literals of the source engine. Each value gets a table of its
// own (t_<type>_<n>, the value in column v, id 1), and with key set a second
// one keyed by the value (k_<type>_<n>).
type edgeType struct {
	name string // in table names
	kind string // how verifyEdges compares the value on both sides (edgeNorm)
	typ  string
	vals []string
	key  bool
}

// edgeTypes are every engine's column types with the values at their edges:
// zero, negative zero, extremes, NaN and infinities, special dates, empty
// and padded text, NUL characters and bytes, 4-byte UTF-8, long values.
var edgeTypes = map[string][]edgeType{
	"postgres": {
		{"i2", "int", "smallint", []string{"0", "-32768", "32767"}, true},
		{"i8", "int", "bigint", []string{"0", "-9223372036854775808", "9223372036854775807"}, true},
		{"f8", "float", "double precision", []string{"'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "1.7976931348623157e308", "5e-324", "0.1"}, true},
		{"f4", "float32", "real", []string{"'NaN'", "'-Infinity'", "3.4028235e38", "1.17549435e-38"}, false},
		{"num", "dec", "numeric", []string{"'NaN'", "'Infinity'", "0", "-0.000", "123456789012345678901234567890.123456789", "1e-30"}, false},
		{"dec", "dec", "numeric(10,2)", []string{"0", "-99999999.99", "0.01"}, true},
		{"d", "date", "date", []string{"'infinity'", "'-infinity'", "'0044-03-15 BC'", "'12345-01-01'", "'0001-01-01'", "'9999-12-31'", "'2000-02-29'"}, true},
		{"ts", "ts", "timestamp(6)", []string{"'infinity'", "'0044-03-15 10:00 BC'", "'12345-06-01 00:00'", "'2000-02-29 23:59:59.999999'", "'1970-01-01 00:00'"}, true},
		{"tz", "ts", "timestamptz", []string{"'-infinity'", "'0001-01-01 00:00+00'", "'2038-01-19 03:14:08+00'", "'2000-01-01 12:00:00.5+05:30'"}, false},
		{"tm", "time", "time(6)", []string{"'00:00:00'", "'23:59:59.999999'", "'24:00:00'"}, false},
		{"txt", "text", "text", []string{"''", "'a  '", "'😀 4-byte'", "repeat('x', 100000)", "'quote '' and \\ backslash'"}, false},
		{"vc", "text", "varchar(20)", []string{"''", "'ünïcödé'", "'trailing   '"}, true},
		{"ch", "char", "char(5)", []string{"'ab'", "''"}, false},
		{"by", "bytes", "bytea", []string{"'\\x'", "'\\x00'", "'\\xff00ff'", "'\\xc328'"}, false},
		{"js", "json", "json", []string{`'{"a":"\u0000"}'`, `'{"b":1E+2,"a":[]}'`, `'"just a string"'`}, false},
		{"jb", "json", "jsonb", []string{`'{"z":1,"a":{"y":null}}'`, `'[1.5e10, -0]'`}, false},
		{"bo", "bool", "boolean", []string{"true", "false"}, false},
		{"uu", "uuid", "uuid", []string{"'00000000-0000-0000-0000-000000000000'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"}, true},
		{"ci", "exact", "cidr", []string{"'10.1.2.3/32'", "'10.0.0.0/8'", "'::1/128'"}, false},
		{"ie", "exact", "inet", []string{"'10.1.2.3'", "'10.1.2.3/24'"}, false},
	},
	"mysql": {
		{"i8", "int", "bigint", []string{"0", "-9223372036854775808", "9223372036854775807"}, true},
		{"u8", "int", "bigint unsigned", []string{"0", "18446744073709551615"}, true},
		{"i1", "int", "tinyint", []string{"-128", "127"}, false},
		{"f8", "float", "double", []string{"0", "-0", "1.7976931348623157e308", "2.2250738585072014e-308"}, false},
		{"dec", "dec", "decimal(65,30)", []string{"0", "-99999999999999999999999999999999999.999999999999999999999999999999"}, false},
		{"d", "date", "date", []string{"'0000-00-00'", "'2020-02-31'", "'2020-00-10'", "'0000-01-01'", "'1000-01-01'", "'9999-12-31'"}, false},
		{"dt", "ts", "datetime(6)", []string{"'0000-00-00 00:00:00'", "'2020-01-00 10:00:00'", "'9999-12-31 23:59:59.999999'", "'1000-01-01 00:00:00'"}, false},
		{"ts", "ts", "timestamp(3) NULL", []string{"'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999'"}, false},
		{"tm", "time", "time(6)", []string{"'-01:00:00'", "'838:59:59'", "'24:00:00'", "'23:59:59.5'", "'00:00:00'"}, false},
		{"yr", "int", "year", []string{"0", "1901", "2155"}, false},
		{"txt", "text", "text", []string{"''", "CONCAT('a', CHAR(0), 'b')", "'a  '", "'😀 4-byte'", "REPEAT('y', 60000)"}, false},
		{"vc", "text", "varchar(20)", []string{"''", "'ünïcödé'", "'trailing   '"}, true},
		{"ch", "char", "char(5)", []string{"'ab'", "''"}, false},
		{"vb", "bytes", "varbinary(8)", []string{"x''", "x'00'", "x'41ffff'", "x'ff'"}, true},
		{"bl", "bytes", "blob", []string{"x'00ff00'", "x''"}, false},
		{"js", "json", "json", []string{`'{"a":"x\\u0000y"}'`, `'{"b":1E+2,"a":[]}'`, `'[]'`}, false},
		{"bit", "bit", "bit(8)", []string{"b'10101010'", "b'0'"}, false},
		{"en", "exact", "enum('a','b','')", []string{"'a'", "''"}, false},
		{"st", "set", "set('x','y')", []string{"'x,y'", "''"}, false},
	},
	"sqlite": {
		{"int", "int", "INTEGER", []string{"0", "-9223372036854775808", "9223372036854775807"}, true},
		{"real", "float", "REAL", []string{"9e999", "-9e999", "0.0", "-0.0", "1.7976931348623157e308"}, false},
		{"txt", "text", "TEXT", []string{"''", "'a' || char(0) || 'b'", "'😀 4-byte'", "'a  '"}, true},
		{"blob", "bytes", "BLOB", []string{"x''", "x'00ff'"}, false},
		{"num", "dec", "NUMERIC", []string{"0", "1.5", "12345678901234567890"}, false},
		{"date", "date", "DATE", []string{"'2020-01-01'", "'0001-01-01'"}, false},
		{"dt", "ts", "DATETIME", []string{"'2020-01-01 10:00:00'", "'2020-01-01 10:00:00.123456'"}, false},
		{"bool", "bool", "BOOLEAN", []string{"0", "1"}, false},
	},
}

// edgeSide is one database of the matrix.
type edgeSide struct {
	engine string
	url    string
	schema string // where its tables are (PostgreSQL schema, MySQL database)
	pg     *pgx.Conn
	db     *sql.DB
}

func (s *edgeSide) exec(t *testing.T, q string) {
	t.Helper()
	if s.pg != nil {
		exec1(t, s.pg, q)
		return
	}
	mustExec(t, s.db, q)
}

func (s *edgeSide) row(t *testing.T, q string, dst ...any) {
	t.Helper()
	var err error
	if s.pg != nil {
		err = s.pg.QueryRow(context.Background(), q).Scan(dst...)
	} else {
		err = s.db.QueryRow(q).Scan(dst...)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// each runs q and calls fn with the scanner of each row.
func (s *edgeSide) each(t *testing.T, q string, fn func(scan func(...any) error) error) {
	t.Helper()
	type rows interface {
		Next() bool
		Scan(...any) error
		Err() error
	}
	var r rows
	if s.pg != nil {
		pr, err := s.pg.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer pr.Close()
		r = pr
	} else {
		sr, err := s.db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer sr.Close()
		r = sr
	}
	for r.Next() {
		if err := fn(r.Scan); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (s *edgeSide) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	s.row(t, q, &n)
	return n
}

// value reads the v of a table's one row as this engine's text (bytes and
// bits in hex), nil for NULL.
func (s *edgeSide) value(t *testing.T, table, kind string) *string {
	t.Helper()
	expr := map[string]string{"postgres": "v::text", "mysql": "CAST(v AS CHAR)", "sqlite": "CAST(v AS TEXT)"}[s.engine]
	switch {
	case kind == "bytes" && s.engine == "postgres":
		expr = "encode(v, 'hex')"
	case kind == "exact" && s.engine == "postgres":
		expr = "format('%s', v)" // the type's output, as applications read it (inet omits /32, cidr does not)
	case kind == "bytes" || kind == "bit" && s.engine == "mysql":
		expr = "hex(v)"
	case kind == "float32" && s.engine == "mysql":
		expr = "CAST(v AS DOUBLE)" // MySQL prints a FLOAT with 6 digits
	case kind == "float32" && s.engine == "postgres":
		expr = "v::float8::text"
	case s.engine == "sqlite" && kind == "float":
		expr = "CASE WHEN v = 9e999 THEN 'Infinity' WHEN v = -9e999 THEN '-Infinity' ELSE CAST(v AS TEXT) END"
	}
	var out sql.NullString
	if s.pg != nil {
		var p *string
		s.row(t, "SELECT "+expr+" FROM "+s.table(table), &p)
		return p
	}
	s.row(t, "SELECT "+expr+" FROM "+s.table(table), &out)
	if !out.Valid {
		return nil
	}
	return &out.String
}

func newEdgeSource(t *testing.T, engine string) *edgeSide {
	switch engine {
	case "postgres":
		url := testutil.NewPGDatabase(t, "source")
		return &edgeSide{engine: engine, url: url, schema: "public", pg: connect(t, url)}
	case "mysql":
		base := myURL(t, "GODWIT_TEST_MY_SOURCE")
		db := newMyDB(t, "edge", base)
		conn := openMy(t, base, db)
		// Zero and invalid dates are values a MySQL source holds.
		conn.SetMaxOpenConns(1)
		mustExec(t, conn, "SET SESSION sql_mode = 'ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION'")
		return &edgeSide{engine: engine, url: myDBURL(t, base, db), schema: db, db: conn}
	default:
		path := filepath.Join(t.TempDir(), "edge-source.db")
		return &edgeSide{engine: engine, url: "sqlite://" + path, schema: "main", db: openSQLite(t, path)}
	}
}

// newEdgeTarget is an empty target database of engine for tables from src;
// schema is where they land. A SQLite target is read once godwit made it.
func newEdgeTarget(t *testing.T, engine string, src *edgeSide) *edgeSide {
	switch engine {
	case "postgres":
		url := testutil.NewPGDatabase(t, "target")
		s := &edgeSide{engine: engine, url: url, schema: src.schema, pg: connect(t, url)} // a MySQL database becomes a schema
		if src.engine == "sqlite" {
			s.schema = "public"
		}
		return s
	case "mysql":
		base := myURL(t, "GODWIT_TEST_MY_TARGET")
		if src.engine == "mysql" { // within MySQL tables keep their database
			conn := openMy(t, base, "")
			t.Cleanup(func() { conn.Exec("DROP DATABASE IF EXISTS `" + src.schema + "`") })
			return &edgeSide{engine: engine, url: base, schema: src.schema, db: conn}
		}
		db := newMyDB(t, "edget", base)
		return &edgeSide{engine: engine, url: myDBURL(t, base, db), schema: db, db: openMy(t, base, db)}
	default:
		path := filepath.Join(t.TempDir(), "edge-target.db")
		return &edgeSide{engine: engine, url: "sqlite://" + path, schema: "main", db: openSQLiteLazy(t, path)}
	}
}

// openSQLiteLazy opens a SQLite file read-only on first use (godwit creates it).
func openSQLiteLazy(t *testing.T, path string) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (s *edgeSide) quote(name string) string {
	if s.engine == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// table is a table of the side, qualified where the engine has schemas.
func (s *edgeSide) table(name string) string {
	if s.engine == "sqlite" {
		return s.quote(name)
	}
	return s.quote(s.schema) + "." + s.quote(name)
}

// edgeTable is one table of the matrix and the value it holds.
type edgeTable struct {
	name, kind, typ, val string
	key                  bool
}

func edgeTables(engine string) []edgeTable {
	var out []edgeTable
	for _, et := range edgeTypes[engine] {
		for i, v := range et.vals {
			out = append(out, edgeTable{fmt.Sprintf("t_%s_%d", et.name, i), et.kind, et.typ, v, false})
			if et.key {
				out = append(out, edgeTable{fmt.Sprintf("k_%s_%d", et.name, i), et.kind, et.typ, v, true})
			}
		}
	}
	return out
}

func (s *edgeSide) createEdgeTables(t *testing.T, tables []edgeTable, rows bool) {
	t.Helper()
	for _, et := range tables {
		def := "id int PRIMARY KEY, v " + et.typ
		if et.key {
			def = "v " + et.typ + " PRIMARY KEY, id int NOT NULL"
		}
		if s.engine == "mysql" && et.key && strings.Contains(et.typ, "text") {
			def = "v " + et.typ + ", id int NOT NULL, PRIMARY KEY (v(100))"
		}
		s.exec(t, "CREATE TABLE "+s.table(et.name)+" ("+def+")")
		if rows {
			s.insertEdge(t, et)
		}
	}
}

func (s *edgeSide) insertEdge(t *testing.T, et edgeTable) {
	t.Helper()
	s.exec(t, "INSERT INTO "+s.table(et.name)+" (id, v) VALUES (1, "+et.val+")")
}

// blockedLine reads the table of a value-class refusal of check.
var blockedLine = regexp.MustCompile(`^column [^ ]*\.([tk]_[a-z0-9]+_[0-9]+)\.v holds [0-9]+ (.+) value\(s\)`)

// TestEdgeValueMatrix is the generated matrix of the trust guarantee: for
// every source engine, every column type with its edge values (as a key and
// as a plain column), and every target engine (its own too), each value either
// crosses exactly or is refused by check and start before anything is
// created, naming the column and the value class. Never: check passes and
// the copy fails, or verify passes over different data.
//
// Each pair runs: check (the refusals are read off its report and must all be
// value classes), start on everything (must refuse, creating nothing, when
// check refused anything), a one-time copy of the rest with verify and an
// independent count of every table's non-NULL values, then a live migration
// of the same tables created empty, the values inserted while it replicates,
// so that they cross through each engine's change stream, verified again.
func TestEdgeValueMatrix(t *testing.T) {
	engines := []string{"postgres", "mysql", "sqlite"}
	total, crossed, refused := 0, 0, 0
	for _, se := range engines {
		for _, de := range engines {
			t.Run(se+"_to_"+de, func(t *testing.T) {
				c, r, n := runEdgePair(t, se, de)
				crossed, refused, total = crossed+c, refused+r, total+n
			})
		}
	}
	var types, values int
	for _, e := range engines {
		types += len(edgeTypes[e])
		for _, et := range edgeTypes[e] {
			values += len(et.vals)
		}
	}
	t.Logf("matrix: %d column types with %d edge values over 3 source engines, each into all 3 engines (as key too where a type can be one): %d tables tried, %d crossed exactly (once and live), %d refused up front",
		types, values, total, crossed, refused)
}

func runEdgePair(t *testing.T, se, de string) (crossed, refused, total int) {
	src := newEdgeSource(t, se)
	tables := edgeTables(se)
	src.createEdgeTables(t, tables, true)
	dst := newEdgeTarget(t, de, src)
	g := newGodwit(t)
	var lossy []string // within one engine none: the migration then copies the source's own definitions
	if se != de {
		lossy = []string{"--allow-lossy", "numeric-precision,as-text,array-as-json"}
	}
	args := append([]string{"--source", src.url, "--target", dst.url}, lossy...)

	res, rep := g.check(args...)
	blocked := map[string]string{} // table -> class
	for _, b := range rep.Blocking {
		m := blockedLine.FindStringSubmatch(b)
		if m == nil {
			t.Errorf("check refused for a reason other than a value class: %s", b)
			continue
		}
		blocked[m[1]] = m[2]
	}
	if t.Failed() {
		t.Fatalf("check: %v", res)
	}
	for tb, class := range blocked {
		t.Logf("refused up front: %s (%s)", tb, class)
	}
	name, live := migrationName("edge"), migrationName("edgel")
	t.Cleanup(func() { // the bookkeeping on shared servers goes too (after the runner is killed)
		g.run("cancel", live)
		g.run("delete", live)
		g.run("delete", name)
	})
	if len(blocked) > 0 {
		if res := g.run(append([]string{"start", name}, args...)...); res.code != 1 || !oneLine(res.stderr) || !strings.Contains(res.stderr, "holds") {
			t.Fatalf("start with values check refused: %v", res)
		}
		if res := g.run("list", "--json"); strings.TrimSpace(res.stdout) != "[]" {
			t.Fatalf("a refused start left a migration: %s", res.stdout)
		}
	}
	var excl []string
	var pass []edgeTable
	for _, et := range tables {
		if _, ok := blocked[et.name]; ok {
			excl = append(excl, "--exclude", src.schema+"."+et.name)
		} else {
			pass = append(pass, et)
		}
	}
	if res := g.runTimeout(3*time.Minute, append(append([]string{"start", name, "--once"}, args...), excl...)...); res.code != 0 {
		t.Fatalf("check passed these tables, but the copy failed: %v", res)
	}
	verifyEdges(t, g, name, src, dst, pass, "once")

	// Live: the same tables created empty, their values inserted while
	// the migration replicates.
	src2 := newEdgeSource(t, se)
	src2.createEdgeTables(t, pass, false)
	src2.exec(t, "CREATE TABLE "+src2.table("marker")+" (id int PRIMARY KEY)")
	dst2 := newEdgeTarget(t, de, src2)
	r := g.start(append([]string{"start", live, "--source", src2.url, "--target", dst2.url}, lossy...)...)
	g.waitFor(live, r, "replicating", 2*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Phase == "REPLICATING" && st.Consistent })
	for _, et := range pass {
		src2.insertEdge(t, et)
	}
	src2.exec(t, "INSERT INTO "+src2.table("marker")+" VALUES (1)")
	deadline := time.Now().Add(2 * time.Minute)
	for dst2.count(t, "SELECT count(*) FROM "+dst2.table("marker")) == 0 {
		if st, _ := g.status(live); st.State == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("the live migration did not replay the values: %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	verifyEdges(t, g, live, src2, dst2, pass, "live")
	return len(pass), len(blocked), len(tables)
}

// verifyEdges runs godwit's verify, then counts on both sides, independently
// of godwit, each table's rows and non-NULL values.
func verifyEdges(t *testing.T, g *godwit, name string, src, dst *edgeSide, tables []edgeTable, how string) {
	t.Helper()
	res := g.runTimeout(2*time.Minute, "verify", name, "--json")
	var v verifyJSON
	if err := json.Unmarshal([]byte(res.stdout), &v); res.code != 0 || err != nil || v.Differences != 0 {
		var found []string
		for _, f := range v.Found {
			found = append(found, fmt.Sprintf("%s key %v %s source %v target %v", f.Table, f.Key, f.Kind, derefAll(f.Source), derefAll(f.Target)))
		}
		t.Errorf("%s: verify: %d differences\n%s\n%v", how, v.Differences, strings.Join(found, "\n"), res)
	}
	var wrong []string
	for _, et := range tables {
		if n := dst.count(t, "SELECT count(*) FROM "+dst.table(et.name)); n != 1 {
			wrong = append(wrong, fmt.Sprintf("%s (%s = %s): %d rows on the target", et.name, et.typ, et.val, n))
			continue
		}
		a, b := src.value(t, et.name, et.kind), dst.value(t, et.name, et.kind)
		if !edgeEqual(et.kind, a, b) {
			wrong = append(wrong, fmt.Sprintf("%s (%s = %s): source %s, target %s", et.name, et.typ, et.val, showText(a), showText(b)))
		}
	}
	slices.Sort(wrong)
	if len(wrong) > 0 {
		t.Errorf("%s: values did not arrive:\n%s", how, strings.Join(wrong, "\n"))
	}
}

// TestTypeWithoutBinaryIO: a PostgreSQL type without binary send/receive
// (contrib isn's isbn and ean13, directly, through a domain and in an array)
// has no binary COPY form: such a table is copied in text, live and resumed,
// where it used to fail the migration.
func TestTypeWithoutBinaryIO(t *testing.T) {
	src, dst := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	for _, u := range []string{src, dst} {
		exec1(t, connect(t, u), "CREATE EXTENSION isn; CREATE DOMAIN isbnd AS isbn")
	}
	exec1(t, connect(t, src), `CREATE TABLE b (id int PRIMARY KEY, i isbn, d isbnd, a isbn[], e ean13);
INSERT INTO b SELECT g, '978-0-393-04002-9', '0-393-04002-X', '{978-0-393-04002-9}', '9780393040029' FROM generate_series(1, 500) g`)
	g := newGodwit(t)
	r := g.start("start", "isn", "--source", src, "--target", dst, "--chunk-rows", "100")
	g.waitFor("isn", r, "consistent", 2*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	exec1(t, connect(t, src), `INSERT INTO b VALUES (501, '0-393-04002-X', NULL, '{}', NULL); UPDATE b SET e = '9780393040029', i = NULL WHERE id = 7`)
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := connect(t, dst).QueryRow(context.Background(), "SELECT count(*) FROM b WHERE id = 501 OR (id = 7 AND i IS NULL)").Scan(&n); err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changes to the isbn table did not arrive")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res := g.run("verify", "isn"); res.code != 0 {
		t.Fatalf("verify: %v", res)
	}
	all := func(url string) string {
		var s string
		if err := connect(t, url).QueryRow(context.Background(), "SELECT string_agg(b::text, '|' ORDER BY id) FROM b").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := all(src), all(dst); a != b || strings.Count(a, "|") != 500 {
		t.Fatalf("rows differ:\nsource %s\ntarget %s", clip(a, 300), clip(b, 300))
	}
}
