package postgres

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// decoder turns pgoutput messages into engine transactions. It holds no I/O.
type decoder struct {
	tables map[string]*schema.Table // by qualified name
	rels   map[uint32]*relMap
	// Changes of partitions come as their partitioned table's
	// (publish_via_partition_root), but pgoutput describes each partition
	// too, right after the table: parts records the ids of those descriptions.
	partOf    map[string]*schema.Table // partitions at the start, by name
	parts     map[uint32]string
	lastTable *schema.Table // the partitioned table the last message described
	cur       *engine.Txn
	partSize  int
	skipTo    position.LSN // transactions ending at or before this were applied already
}

// relMap maps a relation's columns (as pgoutput sends them) to a table.
type relMap struct {
	t      *schema.Table
	idx    []int // relation column i -> index in t.CopyColumns()
	keyPos []int // key column j -> relation column index
	ncols  int
}

func newDecoder(tables []*schema.Table, skipTo position.LSN) *decoder {
	d := &decoder{tables: map[string]*schema.Table{}, rels: map[uint32]*relMap{}, partOf: map[string]*schema.Table{}, parts: map[uint32]string{},
		partSize: 2000, skipTo: skipTo}
	for _, t := range tables {
		d.tables[t.QualifiedName()] = t
		for _, p := range partitions(t) {
			d.partOf[p.QualifiedName()] = t
		}
	}
	return d
}

// relation records a relation message, checking the table has not changed shape.
func (d *decoder) relation(m *pglogrepl.RelationMessage) error {
	name := m.Namespace + "." + m.RelationName
	t := d.tables[name]
	root := d.lastTable // one added since the start follows its table, with its columns
	d.lastTable = nil
	if root != nil && !sameColumns(m, root) {
		root = nil
	}
	if t == nil && (d.partOf[name] != nil || root != nil) {
		if d.partOf[name] == nil {
			d.partOf[name] = root
		}
		delete(d.rels, m.RelationID)
		d.parts[m.RelationID] = name
		return nil
	}
	delete(d.parts, m.RelationID)
	if t == nil {
		// The publication holds only migrated tables: an unknown name is one of
		// them renamed (or moved to another schema). Its changes must not be dropped.
		return &engine.PermanentError{Err: fmt.Errorf("a migrated table is now named %s.%s on the source (renamed or moved?): godwit does not replay schema changes; cancel this migration and start a new one",
			m.Namespace, m.RelationName)}
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
	if t.Partitioning != nil {
		d.lastTable = t
	}
	return nil
}

// sameColumns reports whether a relation has the columns of table t, in any
// order (a partition attached to t may order them otherwise).
func sameColumns(m *pglogrepl.RelationMessage, t *schema.Table) bool {
	cols := t.CopyColumns()
	if len(m.Columns) != len(cols) {
		return false
	}
	for _, c := range m.Columns {
		if t.Column(c.Name) == nil {
			return false
		}
	}
	return true
}

// parseTuple decodes a pgoutput TupleData at the start of src into values in
// the relation's column order, and returns what follows it. It copies each value
// once (the message buffer is reused by the next read) and allocates nothing else.
func (rm *relMap) parseTuple(src []byte) ([]engine.Value, []byte, error) {
	bad := fmt.Errorf("table %s: malformed row image", rm.t.QualifiedName())
	if len(src) < 2 {
		return nil, nil, bad
	}
	n := int(binary.BigEndian.Uint16(src))
	src = src[2:]
	if n != rm.ncols {
		return nil, nil, fmt.Errorf("table %s: row image has %d columns, want %d", rm.t.QualifiedName(), n, rm.ncols)
	}
	out := make([]engine.Value, n)
	for i := 0; i < n; i++ {
		if len(src) < 1 {
			return nil, nil, bad
		}
		kind := src[0]
		src = src[1:]
		v := &out[rm.idx[i]]
		switch kind {
		case pglogrepl.TupleDataTypeNull:
			v.Null = true
		case pglogrepl.TupleDataTypeToast:
			v.Unchanged = true
		case pglogrepl.TupleDataTypeText:
			if len(src) < 4 {
				return nil, nil, bad
			}
			l := int(binary.BigEndian.Uint32(src))
			if l < 0 || len(src) < 4+l {
				return nil, nil, bad
			}
			v.Text = string(src[4 : 4+l])
			src = src[4+l:]
		default:
			return nil, nil, fmt.Errorf("table %s: unexpected value format %q", rm.t.QualifiedName(), kind)
		}
	}
	return out, src, nil
}

// key picks the key columns out of a row or key image.
func (rm *relMap) key(img []engine.Value) ([]engine.Value, error) {
	if len(rm.keyPos) != len(rm.t.Key) {
		return nil, fmt.Errorf("table %s has no usable key on the source", rm.t.QualifiedName())
	}
	out := make([]engine.Value, len(rm.keyPos))
	for j, i := range rm.keyPos {
		v := img[rm.idx[i]]
		if v.Null || v.Unchanged {
			return nil, fmt.Errorf("table %s: key column %s missing from the change (check its REPLICA IDENTITY)", rm.t.QualifiedName(), rm.t.Key[j])
		}
		out[j] = v
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

// wholeRow decodes a change of a table identified by all its values (REPLICA
// IDENTITY FULL): updates and deletes carry the whole old row, and an update's
// unchanged TOAST values are taken from it, so every image is whole.
func (rm *relMap) wholeRow(op byte, old []engine.Value, rest []byte) (engine.Change, bool, error) {
	t := rm.t
	if (op == 'U' || op == 'D') && (old == nil || engine.IsPartial(old)) {
		return engine.Change{}, false, &engine.PermanentError{Err: fmt.Errorf("table %s: a change arrived without its whole old row: its REPLICA IDENTITY is no longer FULL on the source; set it back (ALTER TABLE %s REPLICA IDENTITY FULL), then cancel and start again", t.QualifiedName(), QualName(t))}
	}
	if op == 'D' {
		return engine.Change{Table: t, Op: engine.Delete, Old: old}, true, nil
	}
	if len(rest) < 1 || rest[0] != 'N' {
		return engine.Change{}, false, fmt.Errorf("table %s: change without a new row image", t.QualifiedName())
	}
	img, _, err := rm.parseTuple(rest[1:])
	if err != nil {
		return engine.Change{}, false, err
	}
	if op == 'I' {
		return engine.Change{Table: t, Op: engine.Insert, New: img}, true, nil
	}
	for i, v := range img {
		if v.Unchanged {
			img[i] = old[i]
		}
	}
	return engine.Change{Table: t, Op: engine.Update, New: img, Old: old}, true, nil
}

// decode handles one pgoutput message and returns the transactions (or parts)
// now complete. Row changes, the bulk of the stream, are decoded here directly;
// the rest goes through pglogrepl's parser.
func (d *decoder) decode(data []byte) ([]engine.Txn, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty replication message")
	}
	if data[0] != 'R' && data[0] != 'Y' { // a table's description may precede its partition's
		d.lastTable = nil
	}
	switch data[0] {
	case 'I', 'U', 'D':
		if d.cur == nil {
			return nil, fmt.Errorf("row change outside a transaction")
		}
		ch, ok, err := d.change(data)
		if err != nil || !ok {
			return nil, err
		}
		return d.add(ch), nil
	}
	msg, err := parseMessage(data)
	if err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return nil, d.relation(m)
	case *pglogrepl.BeginMessage:
		d.cur = &engine.Txn{Final: position.LSN(m.FinalLSN)}
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
	case *pglogrepl.TruncateMessage:
		if d.cur == nil {
			return nil, fmt.Errorf("truncate outside a transaction")
		}
		var ts []*schema.Table
		for _, id := range m.RelationIDs {
			if _, part := d.parts[id]; part {
				_, _, err := d.rel(id)
				return nil, err
			}
			if rm, ok, _ := d.rel(id); ok {
				ts = append(ts, rm.t)
			}
		}
		if len(ts) > 0 {
			return d.add(engine.Change{Op: engine.Truncate, Truncated: ts}), nil
		}
	}
	return nil, nil // type, origin, logical messages: nothing to apply
}

// parseMessage wraps pglogrepl.Parse, which can panic on malformed input.
func parseMessage(data []byte) (msg pglogrepl.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("malformed replication message of type %q", data[0])
		}
	}()
	// A truncate names its relation count up front; pglogrepl allocates that much.
	if data[0] == 'T' && (len(data) < 6 || uint64(binary.BigEndian.Uint32(data[1:5]))*4 != uint64(len(data)-6)) {
		return nil, fmt.Errorf("malformed truncate message")
	}
	if msg, err = pglogrepl.Parse(data); err != nil {
		return nil, fmt.Errorf("decoding a change: %w", err)
	}
	return msg, nil
}

// add appends a change to the open transaction, handing out a part when it is full.
func (d *decoder) add(ch engine.Change) []engine.Txn {
	d.cur.Changes = append(d.cur.Changes, ch)
	if len(d.cur.Changes) < d.partSize {
		return nil
	}
	part := *d.cur
	part.More = true
	d.cur = &engine.Txn{Final: part.Final}
	return []engine.Txn{part}
}

func (d *decoder) rel(id uint32) (*relMap, bool, error) {
	if name, ok := d.parts[id]; ok {
		// Only a publication without publish_via_partition_root sends them.
		return nil, false, &engine.PermanentError{Err: fmt.Errorf("changes of partition %s of %s arrive under the partition's name: the publication must have publish_via_partition_root on; cancel this migration and start a new one",
			name, d.partOf[name].QualifiedName())}
	}
	rm, known := d.rels[id]
	if !known {
		return nil, false, fmt.Errorf("change for relation %d before its description", id)
	}
	return rm, rm != nil, nil
}

// change decodes an insert ('I'), update ('U') or delete ('D') message.
func (d *decoder) change(data []byte) (engine.Change, bool, error) {
	if len(data) < 6 {
		return engine.Change{}, false, fmt.Errorf("short row change message")
	}
	op, rest := data[0], data[5:]
	rm, ok, err := d.rel(binary.BigEndian.Uint32(data[1:5]))
	if !ok || err != nil {
		return engine.Change{}, false, err
	}
	var old []engine.Value
	if (op == 'U' || op == 'D') && (rest[0] == 'K' || rest[0] == 'O') {
		if old, rest, err = rm.parseTuple(rest[1:]); err != nil {
			return engine.Change{}, false, err
		}
	}
	if rm.t.RowIdentity() {
		return rm.wholeRow(op, old, rest)
	}
	if op == 'D' {
		if old == nil {
			return engine.Change{}, false, fmt.Errorf("table %s: delete without a key (check its REPLICA IDENTITY)", rm.t.QualifiedName())
		}
		key, err := rm.key(old)
		return engine.Change{Table: rm.t, Op: engine.Delete, Key: key}, err == nil, err
	}
	if len(rest) < 1 || rest[0] != 'N' {
		return engine.Change{}, false, fmt.Errorf("table %s: change without a new row image", rm.t.QualifiedName())
	}
	img, _, err := rm.parseTuple(rest[1:])
	if err != nil {
		return engine.Change{}, false, err
	}
	if op == 'I' {
		return engine.Change{Table: rm.t, Op: engine.Insert, New: img}, true, nil
	}
	ch := engine.Change{Table: rm.t, Op: engine.Update, New: img}
	if old != nil {
		ok, err := rm.key(old)
		if err != nil {
			return engine.Change{}, false, err
		}
		if nk, err := rm.key(img); err != nil || !sameKey(ok, nk) {
			ch.Key = ok
		}
	}
	return ch, true, nil
}
