package replicator

import (
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

var logs = &schema.Table{Schema: "s", Name: "l", ReplicaIdentity: "f", Columns: []schema.Column{{Name: "a"}}}

// Changes of a table without a key are never merged: equal rows are distinct
// rows, and each change must meet the one its source order gives it.
func TestCompactionKeepsWholeRowChangesInOrder(t *testing.T) {
	c := NewCompactor()
	row := []engine.Value{v("x")}
	c.Add(engine.Change{Table: tbl, Op: engine.Insert, New: []engine.Value{v("1"), v("a"), v("b")}})
	c.Add(engine.Change{Table: logs, Op: engine.Insert, New: row})
	c.Add(engine.Change{Table: logs, Op: engine.Insert, New: row})
	c.Add(engine.Change{Table: logs, Op: engine.Delete, Old: row})
	segs := c.Flush()
	if len(segs) != 4 || segs[0].Ops == nil {
		t.Fatalf("segments: %+v", segs)
	}
	for i, op := range []engine.Op{engine.Insert, engine.Insert, engine.Delete} {
		if b := segs[i+1].Barrier; b == nil || b.Op != op || b.Table != logs {
			t.Errorf("segment %d: %+v, want %c of s.l on its own", i+1, segs[i+1], op)
		}
	}
}

// A table copied at one exact position skips the changes its copy holds:
// those of transactions whose commit record lies before the position.
func TestUnseenSkipsWhatTheSnapshotHolds(t *testing.T) {
	o := Options{CopiedAt: map[string]position.Position{"s.l": position.LSN(100)}}
	ins := engine.Change{Table: logs, Op: engine.Insert, New: []engine.Value{v("x")}}
	for _, c := range []struct {
		final position.Position
		ch    engine.Change
		keep  bool
	}{
		{position.LSN(99), ins, false},
		{position.LSN(100), ins, true},
		{position.LSN(150), ins, true},
		{nil, ins, true},
		{position.LSN(99), engine.Change{Table: tbl, Op: engine.Insert}, true},
	} {
		if _, keep := o.unseen(c.ch, c.final); keep != c.keep {
			t.Errorf("change of %s at final %v: kept %v, want %v", c.ch.Table.QualifiedName(), c.final, keep, c.keep)
		}
	}
	tr := engine.Change{Op: engine.Truncate, Truncated: []*schema.Table{logs, tbl}}
	got, keep := o.unseen(tr, position.LSN(50))
	if !keep || len(got.Truncated) != 1 || got.Truncated[0] != tbl || len(tr.Truncated) != 2 {
		t.Errorf("truncate before the copy: %+v %v", got, keep)
	}
	if _, keep := o.unseen(engine.Change{Op: engine.Truncate, Truncated: []*schema.Table{logs}}, position.LSN(50)); keep {
		t.Error("a truncate the copy holds is kept")
	}
	if got, _ := o.unseen(tr, position.LSN(100)); len(got.Truncated) != 2 {
		t.Errorf("truncate after the copy: %+v", got)
	}
}
