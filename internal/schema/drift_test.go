package schema

import (
	"reflect"
	"testing"
)

func driftTable() *Table {
	return &Table{Schema: "s", Name: "t", Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: "integer", NotNull: true}, {Name: "a", Type: "text"}, {Name: "b", Type: "numeric(10,2)"}}}
}

func TestDrift(t *testing.T) {
	other := &Table{Schema: "s", Name: "u", Key: []string{"id"}, Columns: []Column{{Name: "id", Type: "integer"}}}
	for _, c := range []struct {
		name   string
		change func(*Table) *Table
		want   []string
	}{
		{"unchanged", func(t *Table) *Table { t.Rows = 99; return t }, nil},
		{"dropped", func(*Table) *Table { return nil }, []string{"s.t: no longer on the source (dropped or renamed)"}},
		{"column added", func(t *Table) *Table { t.Columns = append(t.Columns, Column{Name: "c", Type: "jsonb"}); return t },
			[]string{"s.t: column c added (jsonb)"}},
		{"column dropped", func(t *Table) *Table { t.Columns = t.Columns[:2]; return t }, []string{"s.t: column b dropped or renamed"}},
		{"column renamed", func(t *Table) *Table { t.Columns[1].Name = "a2"; return t },
			[]string{"s.t: column a dropped or renamed", "s.t: column a2 added (text)"}},
		{"retyped", func(t *Table) *Table { t.Columns[2].Type = "numeric(12,2)"; return t },
			[]string{"s.t: column b changed type from numeric(10,2) to numeric(12,2)"}},
		{"not null", func(t *Table) *Table { t.Columns[1].NotNull = true; return t }, []string{"s.t: column a is now NOT NULL"}},
		{"nullable", func(t *Table) *Table { t.Columns[0].NotNull = false; return t }, []string{"s.t: column id is now nullable"}},
		{"generated", func(t *Table) *Table { t.Columns[2].Generated = "a || 'x'"; return t }, []string{"s.t: column b changed its generation expression"}},
		{"reordered", func(t *Table) *Table { t.Columns[1], t.Columns[2] = t.Columns[2], t.Columns[1]; return t },
			[]string{"s.t: columns reordered (id, b, a, was id, a, b)"}},
		{"key", func(t *Table) *Table { t.Key = []string{"id", "a"}; return t }, []string{"s.t: key changed from (id) to (id, a)"}},
	} {
		now := []*Table{other}
		if n := c.change(driftTable()); n != nil {
			now = append(now, n)
		}
		got := Drift([]*Table{driftTable(), other}, now)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
