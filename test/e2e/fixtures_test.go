package e2e

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// debeziumFunction is the stored function of Debezium's regression script:
// godwit does not migrate routines, and its $$ separators are Debezium's own.
var debeziumFunction = regexp.MustCompile(`(?s)-- DBZ-162.*?END\$\$\n;\n`)

// loadDebeziumMySQL loads Debezium's MySQL test scripts into one database of
// the source server, as its runner would (sessions without strict mode, for
// the zero dates and two-digit years the scripts insert).
func loadDebeziumMySQL(t *testing.T) *edgeSide {
	t.Helper()
	src := newEdgeSource(t, "mysql")
	conn, err := src.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"regression_test.sql", "unsigned_integer_test.sql", "year_test.sql", "decimal_test.sql", "binary_column_test.sql"} {
		script := string(testutil.Dataset(t, "debezium/mysql/"+f))
		script = debeziumFunction.ReplaceAllString(script, "")
		script = strings.NewReplacer("DROP DATABASE IF EXISTS connector_test;\n", "", "CREATE DATABASE connector_test;\n", "", "connector_test.", "").Replace(script)
		runMySQLScript(t, conn, script+"\n")
	}
	return src
}

// TestDebeziumMySQLFixtures migrates Debezium's MySQL CDC test tables (every
// integer width with ZEROFILL and UNSIGNED, SERIAL at 2^64-1, two-digit years,
// zero and invalid dates, BIT(1..64), ENUM, SET, BINARY(16), decimals, tables
// without a key) into each engine: check may refuse a table only for a value
// class its target cannot hold, start then refuses creating nothing, and the
// rest copies and verifies, every row counted on both sides.
func TestDebeziumMySQLFixtures(t *testing.T) {
	for _, de := range []string{"postgres", "sqlite", "mysql"} {
		t.Run("to_"+de, func(t *testing.T) {
			src := loadDebeziumMySQL(t)
			dst := newEdgeTarget(t, de, src)
			runFixture(t, src, dst, nil)
		})
	}
}

// TestDebeziumPostgreSQLFixtures: Debezium's PostgreSQL type tables (money,
// bit varying, interval, time with time zone, xml, point, tstzrange, arrays
// with NULLs, ltree, isn, a schema, table and column named with quotes, dots
// and spaces), filled with rows of this test's own, into each engine; within
// PostgreSQL live, the rows changed while it replicates.
func TestDebeziumPostgreSQLFixtures(t *testing.T) {
	fill := `
INSERT INTO numeric_table (si, i, bi, r, db, b) VALUES (1, 123456, 1234567890123, 3.3, 44.44, true), (-32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', NULL);
INSERT INTO numeric_decimal_table (d, dzs, dvs, n, nzs, nvs) VALUES (1.1, 10.11, 10.1111, 22.2222, 22.2222, 22.2222), (-9.99, 9999, 'NaN', -99.9999, -9999, 1e-40);
INSERT INTO string_table (vc, vcv, ch, c, t) VALUES ('žš', 'bb', 'cdef', 'abc', 'some text'), ('', '', '', '', E'tab\there');
INSERT INTO cash_table (csh) VALUES ('$1,234.11'), ('-$92,233,720,368,547,758.08');
INSERT INTO bitbin_table (ba, bol, bs, bv) VALUES (E'\\x012345', B'1', B'11', B'01'), ('', B'0', B'00', B'');
INSERT INTO time_table (ts, tz, date, ti, ttz, it, tsp) VALUES ('2016-11-04T13:51:30.123456', '2016-11-04T13:51:30.123456+02:00', '2016-11-04', '13:51:30', '13:51:30+02:00', 'P1Y2M3DT4H5M0S', '2016-11-04T13:51:30.123456+02:00'),
  ('infinity', '-infinity', '0044-03-15 BC', '24:00:00', '00:00:00-14', '-178000000 years', 'infinity');
INSERT INTO text_table (j, jb, x, u) VALUES ('{"bar": "baz"}', '{"bar": "baz"}', '<foo>bar</foo><foo>bar</foo>', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), ('[]', '{"a": {"b": [1, 2.5e3]}}', '<x/>', NULL);
INSERT INTO geom_table (p) VALUES ('(1,1)'), ('(-1.5,1e10)');
INSERT INTO tstzrange_table (unbounded_exclusive_range, bounded_inclusive_range) VALUES ('[2017-06-05 11:29:12.549426+00,)', '[2017-06-05 11:29:12.549426+00, 2017-06-05 12:34:56.789012+00]'), ('empty', NULL);
INSERT INTO array_table (int_array, bigint_array, text_array, char_array, varchar_array, date_array) VALUES ('{1,2,3}', '{1550166368505037572}', '{"one","two","three"}', '{"cone","ctwo","cthree"}', '{"vcone","vctwo","vcthree"}', '{2016-11-04,2016-11-05,2016-11-06}'), ('{}', '{}', '{"a,b","\"q\""}', '{}', '{}', '{}');
INSERT INTO array_table_with_nulls (int_array, bigint_array, text_array, char_array, varchar_array, date_array) VALUES ('{1,NULL,3}', '{NULL}', '{NULL,"x"}', '{NULL}', '{NULL}', '{NULL,2016-11-04}'), (NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO custom_table (lt, i, n) VALUES ('Top.Collections.Pictures.Astronomy.Galaxies', '978-0-393-04002-9', NULL), ('', '0-393-04002-X', 'x');
INSERT INTO "Quoted_"" . Schema"."Quoted_"" . Table" ("Quoted_"" . Text_Column") VALUES ('some text'), ('"');`
	load := func(t *testing.T, s *edgeSide) {
		s.exec(t, string(testutil.Dataset(t, "debezium/postgresql/postgres_create_tables.ddl")))
	}
	for _, de := range []string{"postgres", "mysql", "sqlite"} {
		t.Run("to_"+de, func(t *testing.T) {
			src := newEdgeSource(t, "postgres")
			load(t, src)
			src.exec(t, fill)
			dst := newEdgeTarget(t, de, src)
			if de != "postgres" {
				runFixture(t, src, dst, []string{"--allow-lossy", "as-text,array-as-json,numeric-precision"})
				return
			}
			exec1(t, dst.pg, "CREATE EXTENSION ltree; CREATE EXTENSION isn")
			g := newGodwit(t)
			name := migrationName("dbzpg")
			r := g.start("start", name, "--source", src.url, "--target", dst.url)
			g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
			src.exec(t, fill) // every row again, through the change stream
			src.exec(t, `UPDATE time_table SET it = it * 2, ttz = '23:59:59.999999+14' WHERE pk = 1; DELETE FROM cash_table WHERE pk = 2;
UPDATE "Quoted_"" . Schema"."Quoted_"" . Table" SET "Quoted_"" . Text_Column" = NULL WHERE pk = 1`)
			waitFixture(t, g, name, src, dst)
			verifyFixture(t, g, name, src, dst)
		})
	}
}

// runFixture runs check, start (when check refused, it must refuse too), a
// one-time copy of what check passed, verify, and a count of every table.
func runFixture(t *testing.T, src, dst *edgeSide, opts []string) {
	t.Helper()
	g := newGodwit(t)
	name := migrationName("dbz")
	t.Cleanup(func() { g.run("delete", name) })
	args := append([]string{"--source", src.url, "--target", dst.url, "--once"}, opts...)
	res, rep := g.check(args...)
	var excl []string
	for _, b := range rep.Blocking {
		m := regexp.MustCompile(`^column [^ ]*?\.([a-zA-Z0-9_]+)\.[^ .]+ holds [0-9]+ (.+) value\(s\)`).FindStringSubmatch(b)
		if m == nil {
			t.Errorf("check refused for a reason other than a value class: %s", b)
			continue
		}
		t.Logf("refused up front: %s (%s)", m[1], m[2])
		excl = append(excl, "--exclude", src.schema+"."+m[1])
	}
	if t.Failed() {
		t.Fatalf("check: %v", res)
	}
	if len(excl) > 0 {
		if res := g.run(append([]string{"start", name}, args...)...); res.code != 1 || !oneLine(res.stderr) {
			t.Fatalf("start with values check refused: %v", res)
		}
	}
	if res := g.runTimeout(3*time.Minute, append(append([]string{"start", name}, args...), excl...)...); res.code != 0 {
		t.Fatalf("check passed these tables, but the copy failed: %v", res)
	}
	verifyFixture(t, g, name, src, dst)
}

// fixtureTables lists the source's tables as schema and name.
func fixtureTables(t *testing.T, src *edgeSide) [][2]string {
	t.Helper()
	var q string
	switch src.engine {
	case "postgres":
		q = "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
	default:
		q = "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
	}
	var out [][2]string
	src.each(t, q, func(scan func(...any) error) error {
		var a, b string
		err := scan(&a, &b)
		out = append(out, [2]string{a, b})
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i][0]+"."+out[i][1] < out[j][0]+"."+out[j][1] })
	return out
}

// targetTable is where a source table of the fixture lands on dst.
func targetTable(src, dst *edgeSide, schemaName, name string) string {
	if dst.engine == "sqlite" {
		return dst.quote(name)
	}
	s := dst.schema
	if dst.engine == "postgres" && src.engine == "postgres" {
		s = schemaName
	}
	return dst.quote(s) + "." + dst.quote(name)
}

func waitFixture(t *testing.T, g *godwit, name string, src, dst *edgeSide) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		same := true
		for _, tb := range fixtureTables(t, src) {
			q := "SELECT count(*) FROM " + src.quote(tb[0]) + "." + src.quote(tb[1])
			if src.count(t, q) != dst.count(t, "SELECT count(*) FROM "+targetTable(src, dst, tb[0], tb[1])) {
				same = false
				break
			}
		}
		if same {
			return
		}
		if st, _ := g.status(name); st.State == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("the changes did not arrive: %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// verifyFixture runs verify (zero differences) and counts every table's rows
// on both sides, the excluded ones aside.
func verifyFixture(t *testing.T, g *godwit, name string, src, dst *edgeSide) {
	t.Helper()
	if res := g.runTimeout(2*time.Minute, "verify", name); res.code != 0 || !strings.Contains(res.stdout, "no differences") {
		t.Errorf("verify: %v", res)
	}
	st := g.mustStatus(name)
	copied := map[string]bool{}
	for _, tb := range st.Tables {
		copied[tb.Name] = true
	}
	n := 0
	for _, tb := range fixtureTables(t, src) {
		if !copied[tb[0]+"."+tb[1]] {
			continue
		}
		n++
		a := src.count(t, "SELECT count(*) FROM "+src.quote(tb[0])+"."+src.quote(tb[1]))
		b := dst.count(t, "SELECT count(*) FROM "+targetTable(src, dst, tb[0], tb[1]))
		if a != b || a == 0 {
			t.Errorf("%s.%s: %d rows on the source, %d on the target", tb[0], tb[1], a, b)
		}
	}
	t.Logf("%d tables copied and compared", n)
}
