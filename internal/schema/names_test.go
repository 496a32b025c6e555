package schema

import (
	"strings"
	"testing"
)

func TestCheckNames(t *testing.T) {
	mysql := NameRules{Engine: "MySQL", MaxLen: 64, NoTrailingSpace: true, BMPOnly: true, FoldColumns: strings.ToLower}
	pg := NameRules{Engine: "PostgreSQL", MaxLen: 63, LenInBytes: true}
	sqlite := NameRules{Engine: "SQLite", FoldColumns: FoldASCII}
	tbl := func(schemaName, name string, cols ...string) *Table {
		t := &Table{Schema: schemaName, Name: name}
		for _, c := range cols {
			t.Columns = append(t.Columns, Column{Name: c})
		}
		return t
	}
	long64 := strings.Repeat("x", 64)
	cases := []struct {
		rules NameRules
		t     *Table
		says  string // "" for accepted
	}{
		{mysql, tbl("a.b", "t.1", "Col", "col 2", "select", `q"uote`, "ünï"), ""},
		{mysql, tbl("s", "t", "Col", "col"), `columns "Col" and "col" would be one column on MySQL`},
		{mysql, tbl("s", "t", "É", "é"), "would be one column"},
		{mysql, tbl("s", "t", "a", "a"), "have the same name"},
		{mysql, tbl("s", long64, "a"), ""},
		{mysql, tbl("s", long64+"y", "a"), "65 characters long, and MySQL takes at most 64"},
		{mysql, tbl("s", "t", "trailing "), "ends with a space"},
		{mysql, tbl("my schema ", "t", "a"), "--target-schema"},
		{mysql, tbl("s", "t", "smile😀"), "beyond U+FFFF"},
		{mysql, tbl("s", "t", "nul\x00"), "NUL"},
		{pg, tbl("s", "t", "Col", "col"), ""},
		{pg, tbl("s", strings.Repeat("é", 31), "a"), ""},
		{pg, tbl("s", strings.Repeat("é", 32), "a"), "64 bytes long, and PostgreSQL takes at most 63"},
		{pg, tbl("s", "t", "trailing ", "smile😀"), ""},
		{sqlite, tbl("main", "t", "Col", "col"), "would be one column on SQLite"},
		{sqlite, tbl("main", "t", "É", "é"), ""}, // SQLite folds ASCII only
		{sqlite, tbl("main", "t", ""), "empty"},
	}
	for _, c := range cases {
		err := c.rules.CheckNames(c.t)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%s %s.%s %v: %v", c.rules.Engine, c.t.Schema, c.t.Name, c.t.Columns, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%s %s.%s %v: %v, want %q", c.rules.Engine, c.t.Schema, c.t.Name, c.t.Columns, err, c.says)
		}
	}
}
