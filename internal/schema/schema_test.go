package schema

import "testing"

func TestFilter(t *testing.T) {
	cases := []struct {
		f    Filter
		name string
		want bool
	}{
		{Filter{}, "public.a", true},
		{Filter{Include: []string{"public.*"}}, "public.a", true},
		{Filter{Include: []string{"public.*"}}, "sales.a", false},
		{Filter{Include: []string{"public.pgbench_*"}}, "public.pgbench_accounts", true},
		{Filter{Include: []string{"public.pgbench_*"}}, "public.other", false},
		{Filter{Include: []string{"*.*"}, Exclude: []string{"public.tmp_*"}}, "public.tmp_x", false},
		{Filter{Exclude: []string{"public.tmp_*"}}, "public.keep", true},
		{Filter{Include: []string{"Sales.Order Lines"}}, "Sales.Order Lines", true},
		{Filter{Include: []string{"sales.*"}}, "Sales.x", false}, // case matters, like quoted identifiers
	}
	for _, c := range cases {
		if got := c.f.Match(c.name); got != c.want {
			t.Errorf("%+v.Match(%q) = %v, want %v", c.f, c.name, got, c.want)
		}
	}
}

func TestFilterValidate(t *testing.T) {
	if err := (Filter{Include: []string{"public.*"}}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"public.[", "orders"} {
		if err := (Filter{Include: []string{bad}}).Validate(); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestCopyColumns(t *testing.T) {
	tb := Table{Columns: []Column{{Name: "a"}, {Name: "b", Generated: "a*2"}, {Name: "c"}}}
	got := tb.CopyColumns()
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "c" {
		t.Fatalf("CopyColumns = %+v", got)
	}
	if tb.Column("c") == nil || tb.Column("zz") != nil {
		t.Fatal("Column lookup wrong")
	}
}

func TestIndexedColumns(t *testing.T) {
	tb := Table{Key: []string{"id"}, Constraints: []Constraint{{Kind: "u", Columns: []string{"email"}}, {Kind: "c", Def: "CHECK (a > 0)"}},
		Indexes: []Index{{Name: "ix", Columns: []string{"org", "name"}}, {Name: "expr", Def: "lower(x)"}}}
	got := tb.IndexedColumns()
	if len(got) != 4 || !got["id"] || !got["email"] || !got["org"] || !got["name"] || got["a"] {
		t.Fatalf("IndexedColumns = %v", got)
	}
}
