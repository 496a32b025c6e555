package engine

import (
	"reflect"
	"testing"

	"github.com/godwit-db/godwit/internal/schema"
)

// A partial update's key is in the key's order, not the columns': a key
// (day, id) over columns (id, note, day) must give [day id].
func TestOpsOfPartialKeyOrder(t *testing.T) {
	tb := &schema.Table{Schema: "s", Name: "t", Key: []string{"day", "id"},
		Columns: []schema.Column{{Name: "id"}, {Name: "note"}, {Name: "big"}, {Name: "day"}}}
	ch := &Change{Table: tb, Op: Update, New: []Value{{Text: "7"}, {Text: "hi"}, {Unchanged: true}, {Text: "2024-01-02"}}}
	o := OpsOf(ch)
	if len(o.Partials) != 1 {
		t.Fatalf("ops: %+v", o)
	}
	p := o.Partials[0]
	if got := []string{p.Key[0].Text, p.Key[1].Text}; !reflect.DeepEqual(got, []string{"2024-01-02", "7"}) {
		t.Errorf("key %v, want [2024-01-02 7]", got)
	}
	if !reflect.DeepEqual(p.Cols, []string{"note"}) || p.Vals[0].Text != "hi" {
		t.Errorf("columns %v %v", p.Cols, p.Vals)
	}
}
