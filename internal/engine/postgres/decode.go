package postgres

import (
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// decoder turns pgoutput messages into engine transactions. It holds no I/O.
type decoder struct {
	tables   map[string]*schema.Table // by qualified name
	rels     map[uint32]*relMap
	cur      *engine.Txn
	partSize int
	skipTo   position.LSN // transactions ending at or before this were applied already
}

// relMap maps a relation's columns (as pgoutput sends them) to a table.
type relMap struct {
	t      *schema.Table
	idx    []int // relation column i -> index in t.CopyColumns()
	keyPos []int // key column j -> relation column index
	ncols  int
}

func newDecoder(tables []*schema.Table, skipTo position.LSN) *decoder {
	d := &decoder{tables: map[string]*schema.Table{}, rels: map[uint32]*relMap{}, partSize: 2000, skipTo: skipTo}
	for _, t := range tables {
		d.tables[t.QualifiedName()] = t
	}
	return d
}

// relation records a relation message, checking the table has not changed shape.
func (d *decoder) relation(m *pglogrepl.RelationMessage) error {
	t := d.tables[m.Namespace+"."+m.RelationName]
	if t == nil {
		d.rels[m.RelationID] = nil // published but not migrated: ignore its changes
		return nil
	}
	cols := t.CopyColumns()
	var got []string
	for _, c := range m.Columns {
		got = append(got, c.Name)
	}
	var want []string
	for _, c := range cols {
		want = append(want, c.Name)
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		return &engine.PermanentError{Err: fmt.Errorf("table %s changed on the source (columns were %s, now %s): godwit does not replay schema changes; cancel this migration and start a new one",
			t.QualifiedName(), strings.Join(want, ", "), strings.Join(got, ", "))}
	}
	rm := &relMap{t: t, ncols: len(m.Columns)}
	for i := range m.Columns {
		rm.idx = append(rm.idx, i)
	}
	for _, k := range t.Key {
		for i, c := range m.Columns {
			if c.Name == k {
				rm.keyPos = append(rm.keyPos, i)
			}
		}
	}
	d.rels[m.RelationID] = rm
	return nil
}

func (rm *relMap) image(td *pglogrepl.TupleData) ([]engine.Value, error) {
	if td == nil || len(td.Columns) != rm.ncols {
		return nil, fmt.Errorf("table %s: row image has an unexpected column count", rm.t.QualifiedName())
	}
	out := make([]engine.Value, rm.ncols)
	for i, c := range td.Columns {
		v := &out[rm.idx[i]]
		switch c.DataType {
		case pglogrepl.TupleDataTypeNull:
			v.Null = true
		case pglogrepl.TupleDataTypeToast:
			v.Unchanged = true
		case pglogrepl.TupleDataTypeText:
			v.Text = string(c.Data)
		default:
			return nil, fmt.Errorf("table %s: unexpected value format %q", rm.t.QualifiedName(), c.DataType)
		}
	}
	return out, nil
}

func (rm *relMap) key(td *pglogrepl.TupleData) ([]engine.Value, error) {
	if td == nil || len(td.Columns) != rm.ncols {
		return nil, fmt.Errorf("table %s: key image has an unexpected column count", rm.t.QualifiedName())
	}
	if len(rm.keyPos) != len(rm.t.Key) {
		return nil, fmt.Errorf("table %s has no usable key on the source", rm.t.QualifiedName())
	}
	out := make([]engine.Value, len(rm.keyPos))
	for j, i := range rm.keyPos {
		c := td.Columns[i]
		if c.DataType != pglogrepl.TupleDataTypeText {
			return nil, fmt.Errorf("table %s: key column %s missing from the change (check its REPLICA IDENTITY)", rm.t.QualifiedName(), rm.t.Key[j])
		}
		out[j] = engine.Value{Text: string(c.Data)}
	}
	return out, nil
}

func sameKey(a, b []engine.Value) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// decode handles one message and returns the transactions (or parts) now complete.
func (d *decoder) decode(msg pglogrepl.Message) ([]engine.Txn, error) {
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return nil, d.relation(m)
	case *pglogrepl.BeginMessage:
		d.cur = &engine.Txn{}
		return nil, nil
	case *pglogrepl.CommitMessage:
		if d.cur == nil {
			return nil, fmt.Errorf("commit without begin at %s", position.LSN(m.CommitLSN))
		}
		txn := *d.cur
		d.cur = nil
		end := position.LSN(m.TransactionEndLSN)
		if end <= d.skipTo {
			return nil, nil
		}
		txn.End, txn.CommitTime = end, m.CommitTime
		return []engine.Txn{txn}, nil
	case *pglogrepl.InsertMessage, *pglogrepl.UpdateMessage, *pglogrepl.DeleteMessage, *pglogrepl.TruncateMessage:
		if d.cur == nil {
			return nil, fmt.Errorf("row change outside a transaction")
		}
		ch, ok, err := d.change(msg)
		if err != nil || !ok {
			return nil, err
		}
		d.cur.Changes = append(d.cur.Changes, ch)
		if len(d.cur.Changes) >= d.partSize {
			part := *d.cur
			part.More = true
			d.cur = &engine.Txn{}
			return []engine.Txn{part}, nil
		}
	}
	return nil, nil // type, origin, logical messages: nothing to apply
}

func (d *decoder) rel(id uint32) (*relMap, bool, error) {
	rm, known := d.rels[id]
	if !known {
		return nil, false, fmt.Errorf("change for relation %d before its description", id)
	}
	return rm, rm != nil, nil
}

func (d *decoder) change(msg pglogrepl.Message) (engine.Change, bool, error) {
	switch m := msg.(type) {
	case *pglogrepl.InsertMessage:
		rm, ok, err := d.rel(m.RelationID)
		if !ok || err != nil {
			return engine.Change{}, false, err
		}
		img, err := rm.image(m.Tuple)
		return engine.Change{Table: rm.t, Op: engine.Insert, New: img}, err == nil, err
	case *pglogrepl.UpdateMessage:
		rm, ok, err := d.rel(m.RelationID)
		if !ok || err != nil {
			return engine.Change{}, false, err
		}
		img, err := rm.image(m.NewTuple)
		if err != nil {
			return engine.Change{}, false, err
		}
		ch := engine.Change{Table: rm.t, Op: engine.Update, New: img}
		if m.OldTuple != nil {
			old, err := rm.key(m.OldTuple)
			if err != nil {
				return engine.Change{}, false, err
			}
			if nk, err := rm.key(m.NewTuple); err != nil || !sameKey(old, nk) {
				ch.Key = old
			}
		}
		return ch, true, nil
	case *pglogrepl.DeleteMessage:
		rm, ok, err := d.rel(m.RelationID)
		if !ok || err != nil {
			return engine.Change{}, false, err
		}
		key, err := rm.key(m.OldTuple)
		return engine.Change{Table: rm.t, Op: engine.Delete, Key: key}, err == nil, err
	case *pglogrepl.TruncateMessage:
		var ts []*schema.Table
		for _, id := range m.RelationIDs {
			if rm, ok, _ := d.rel(id); ok {
				ts = append(ts, rm.t)
			}
		}
		return engine.Change{Op: engine.Truncate, Truncated: ts}, len(ts) > 0, nil
	}
	return engine.Change{}, false, nil
}
