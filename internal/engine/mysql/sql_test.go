package mysql

import (
	"reflect"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/schema"
)

func TestRangeWhere(t *testing.T) {
	one := &schema.Table{Key: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: "int"}}}
	w, args := rangeWhere(one, []string{"10"}, []string{"20"})
	if w != "`id` > ? AND `id` <= ?" || !reflect.DeepEqual(args, []any{"10", "20"}) {
		t.Errorf("single key: %s %v", w, args)
	}
	if w, args := rangeWhere(one, nil, nil); w != "TRUE" || args != nil {
		t.Errorf("open range: %s %v", w, args)
	}
	two := &schema.Table{Key: []string{"a", "b"}, Columns: []schema.Column{{Name: "a"}, {Name: "b"}}}
	w, args = rangeWhere(two, []string{"1", "x"}, nil)
	if w != "`a` >= ? AND (`a` > ? OR (`a` = ? AND `b` > ?))" || !reflect.DeepEqual(args, []any{"1", "1", "1", "x"}) {
		t.Errorf("composite lo: %s %v", w, args)
	}
	w, args = rangeWhere(two, nil, []string{"2", "y"})
	if w != "`a` <= ? AND (`a` < ? OR (`a` = ? AND `b` <= ?))" || !reflect.DeepEqual(args, []any{"2", "2", "2", "y"}) {
		t.Errorf("composite hi: %s %v", w, args)
	}
}

func TestSelectAndLoad(t *testing.T) {
	cases := []struct {
		c      schema.Column
		sel    string
		holder string
	}{
		{schema.Column{Name: "f", Type: "float"}, "`f` + 0e0", "?"},
		{schema.Column{Name: "b", Type: "bit(3)"}, "`b` + 0", "?"},
		{schema.Column{Name: "g", Type: "double(10,5)"}, "`g` + 0e0", "?"},
		{schema.Column{Name: "h", Type: "double"}, "`h`", "?"},
		{schema.Column{Name: "l", Type: "varchar(3)", Collation: "latin1_swedish_ci"}, "CAST(`l` AS BINARY)", "CONVERT(? USING latin1) COLLATE latin1_swedish_ci"},
		{schema.Column{Name: "u", Type: "text", Collation: "utf8mb4_unicode_ci"}, "`u`", "?"},
		{schema.Column{Name: "d", Type: "decimal(5,2)"}, "`d`", "?"},
	}
	for _, c := range cases {
		if got := selectExpr(&c.c); got != c.sel {
			t.Errorf("selectExpr(%s) = %s, want %s", c.c.Type, got, c.sel)
		}
		if got := placeholder(&c.c); got != c.holder {
			t.Errorf("placeholder(%s) = %s, want %s", c.c.Type, got, c.holder)
		}
	}
	tb := &schema.Table{Schema: "s", Name: "t", Columns: []schema.Column{{Name: "a", Type: "int"}, {Name: "b", Type: "bit(1)"}, {Name: "g", Type: "int", Generated: "a"}}}
	want := "LOAD DATA LOCAL INFILE 'Reader::r1' INTO TABLE `s`.`t` CHARACTER SET binary (`a`, @v1) SET `b` = CAST(@v1 AS UNSIGNED)"
	if got := loadSQL(tb, "r1"); got != want {
		t.Errorf("loadSQL = %s", got)
	}
	if !strings.Contains(hashExpr(tb), "ISNULL(`b`)") || strings.Contains(hashExpr(tb), "`g`") {
		t.Errorf("hashExpr = %s", hashExpr(tb))
	}
}

func TestLoadEscape(t *testing.T) {
	got := string(loadEscape(nil, []byte("a\tb\nc\\d\x00e\rf")))
	if got != `a\tb\nc\\d\0e\rf` {
		t.Errorf("loadEscape = %q", got)
	}
}

func TestCheckVars(t *testing.T) {
	ok := serverVars{LogBin: "1", Format: "ROW", RowImage: "FULL", ServerID: 1}
	if err := checkVars(ok, 99); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    serverVars
		id   uint32
		want string
	}{
		{serverVars{LogBin: "0", Format: "ROW", ServerID: 1}, 99, "log_bin"},
		{serverVars{LogBin: "1", Format: "MIXED", ServerID: 1}, 99, "binlog_format is MIXED"},
		{ok, 1, "server_id 1"},
		{serverVars{LogBin: "1", Format: "ROW", RowImage: "MINIMAL", ServerID: 1}, 99, "binlog_row_image is MINIMAL"},
	} {
		if err := checkVars(c.v, c.id); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkVars(%+v, %d) = %v, want %q", c.v, c.id, err, c.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	c, err := ParseURL("source", "mysql://u:p%40ss@db.example:3307/shop?server_id=77")
	if err != nil || c.User != "u" || c.Password != "p@ss" || c.Port != 3307 || c.Database != "shop" || c.ServerID != 77 {
		t.Fatalf("%+v %v", c, err)
	}
	if c, _ := ParseURL("source", "mariadb://h/"); c.Port != 3306 || c.User != "root" || c.Database != "" {
		t.Fatalf("defaults: %+v", c)
	}
	for _, bad := range []string{"postgres://h/db", "mysql://h/db?sslmode=x", "mysql://h:99999/db", "mysql://h/db?server_id=0", "mysql://h/a/b"} {
		if _, err := ParseURL("source", bad); err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "p@ss") {
			t.Errorf("password in error: %v", err)
		}
	}
	if !SameServer("mysql://a@localhost:3306/x", "mysql://b@127.0.0.1/y") || SameServer("mysql://h:1/x", "mysql://h:2/x") {
		t.Fatal("SameServer wrong")
	}
}

func TestUpsertChoice(t *testing.T) {
	tb := &schema.Table{Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "v"}},
		Indexes: []schema.Index{{Name: "v", Def: "KEY `v` (`v`)"}}}
	if !onlyKeyUnique(tb) || upsertClause(tb) != " ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)" {
		t.Fatalf("plain index: %v %s", onlyKeyUnique(tb), upsertClause(tb))
	}
	tb.Indexes = append(tb.Indexes, schema.Index{Name: "u", Def: "UNIQUE KEY `u` (`v`)"})
	if onlyKeyUnique(tb) {
		t.Fatal("a unique secondary key allowed ON DUPLICATE KEY UPDATE")
	}
	keyOnly := &schema.Table{Key: []string{"a", "b"}, KeyIndex: "ab", Columns: []schema.Column{{Name: "a"}, {Name: "b"}},
		Indexes: []schema.Index{{Name: "ab", Def: "UNIQUE KEY `ab` (`a`,`b`)"}}}
	if !onlyKeyUnique(keyOnly) || upsertClause(keyOnly) != " ON DUPLICATE KEY UPDATE `a` = `a`" {
		t.Fatalf("key-only table: %s", upsertClause(keyOnly))
	}
}

func FuzzLoadEscape(f *testing.F) {
	f.Add([]byte("a\tb\\n\x00"))
	f.Fuzz(func(t *testing.T, v []byte) {
		got := loadEscape(nil, v)
		// Unescaping gives the input back.
		var back []byte
		for i := 0; i < len(got); i++ {
			if got[i] != '\\' {
				back = append(back, got[i])
				continue
			}
			i++
			back = append(back, map[byte]byte{'\\': '\\', 't': '\t', 'n': '\n', 'r': '\r', '0': 0}[got[i]])
		}
		if string(back) != string(v) {
			t.Fatalf("%q escaped to %q unescapes to %q", v, got, back)
		}
	})
}

func TestCaptureWarnings(t *testing.T) {
	tables := []*schema.Table{
		{Schema: "shop", Name: "orders", Constraints: []schema.Constraint{
			{Name: "fk_customer", Kind: "f", OnDelete: "RESTRICT", OnUpdate: "CASCADE"},
			{Name: "fk_store", Kind: "f", OnDelete: "SET NULL", OnUpdate: "NO ACTION"},
			{Name: "fk_plain", Kind: "f", OnDelete: "RESTRICT", OnUpdate: "RESTRICT"},
		}},
		{Schema: "shop", Name: "items"},
	}
	got := (&Source{}).CaptureWarnings(tables)
	if len(got) != 1 || !strings.Contains(got[0], "shop.orders.fk_customer (ON UPDATE CASCADE), shop.orders.fk_store (ON DELETE SET NULL);") || strings.Contains(got[0], "fk_plain") {
		t.Errorf("warnings: %q", got)
	}
	if got := (&Source{}).CaptureWarnings(tables[1:]); got != nil {
		t.Errorf("no actions, warnings %q", got)
	}
}
