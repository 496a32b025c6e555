// Package replicator applies a source's change stream to the target: it batches
// consecutive source transactions into one target transaction, reduces each
// batch to its net effect per row key, and records the applied position with
// the rows. This file is the pure part: compaction.
package replicator

import (
	"slices"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// Compactor reduces a run of changes to their net effect per key. Applying the
// segments it returns in order, each as deletes then upserts and partial
// updates, gives the same rows as applying the changes one by one.
type Compactor struct {
	tables map[*schema.Table]*tableState
	order  []*tableState
	segs   []engine.Segment
	n      int
}

type entryKind byte

const (
	kindDelete  entryKind = 'd'
	kindUpsert  entryKind = 'u'
	kindPartial entryKind = 'p'
)

type entry struct {
	kind entryKind
	key  []engine.Value // for deletes and partials
	img  []engine.Value // full image, for upserts
	cols []string       // for partials
	vals []engine.Value
}

type tableState struct {
	t       *schema.Table
	keyIdx  []int // position of each key column in CopyColumns
	colName []string
	entries map[string]*entry
	keys    []string // insertion order, for deterministic output
}

// NewCompactor returns an empty compactor.
func NewCompactor() *Compactor { return &Compactor{tables: map[*schema.Table]*tableState{}} }

// Len is the number of changes added since the last Flush.
func (c *Compactor) Len() int { return c.n }

func (c *Compactor) state(t *schema.Table) *tableState {
	if s := c.tables[t]; s != nil {
		return s
	}
	s := &tableState{t: t, entries: map[string]*entry{}}
	for _, col := range t.CopyColumns() {
		s.colName = append(s.colName, col.Name)
	}
	// In the key's order, as Change.Key is: a key (d, id) over columns
	// (id, d) must not become (id, d), or a row's upsert and delete differ.
	for _, k := range t.Key {
		s.keyIdx = append(s.keyIdx, slices.Index(s.colName, k))
	}
	c.tables[t] = s
	c.order = append(c.order, s)
	return s
}

func keyString(vals []engine.Value) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(v.Text)
	}
	return b.String()
}

func (s *tableState) keyOf(img []engine.Value) ([]engine.Value, bool) {
	key := make([]engine.Value, len(s.keyIdx))
	for i, j := range s.keyIdx {
		if img[j].Unchanged || img[j].Null {
			return nil, false
		}
		key[i] = img[j]
	}
	return key, true
}

func (s *tableState) set(k string, e *entry) {
	if _, ok := s.entries[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.entries[k] = e
}

// merge lays the carried values of img over base (a full image).
func merge(base, img []engine.Value) []engine.Value {
	out := append([]engine.Value(nil), base...)
	for i, v := range img {
		if !v.Unchanged {
			out[i] = v
		}
	}
	return out
}

// carried returns the non-key columns an image carries.
func (s *tableState) carried(img []engine.Value) (cols []string, vals []engine.Value) {
	isKey := func(i int) bool {
		for _, j := range s.keyIdx {
			if i == j {
				return true
			}
		}
		return false
	}
	for i, v := range img {
		if !v.Unchanged && !isKey(i) {
			cols = append(cols, s.colName[i])
			vals = append(vals, v)
		}
	}
	return cols, vals
}

// mergePartial lays carried columns over an earlier partial update.
func mergePartial(e *entry, cols []string, vals []engine.Value) *entry {
	out := &entry{kind: kindPartial, key: e.key, cols: append([]string(nil), e.cols...), vals: append([]engine.Value(nil), e.vals...)}
	for i, c := range cols {
		found := false
		for j, have := range out.cols {
			if have == c {
				out.vals[j], found = vals[i], true
				break
			}
		}
		if !found {
			out.cols, out.vals = append(out.cols, c), append(out.vals, vals[i])
		}
	}
	return out
}

// Add records one change.
func (c *Compactor) Add(ch engine.Change) {
	c.n++
	if ch.Op == engine.Truncate || !ch.Table.HasKey() {
		// A table without a key (identified by its whole row) has no key to
		// merge changes by: each is applied on its own, in order.
		c.barrier(ch)
		return
	}
	s := c.state(ch.Table)
	switch ch.Op {
	case engine.Insert:
		key, ok := s.keyOf(ch.New)
		if !ok {
			c.barrier(ch)
			return
		}
		s.set(keyString(key), &entry{kind: kindUpsert, img: ch.New})
	case engine.Delete:
		s.set(keyString(ch.Key), &entry{kind: kindDelete, key: ch.Key})
	case engine.Update:
		newKey, ok := s.keyOf(ch.New)
		if !ok {
			c.barrier(ch)
			return
		}
		nk := keyString(newKey)
		ok2 := nk
		if ch.Key != nil {
			ok2 = keyString(ch.Key)
		}
		moved := ok2 != nk
		if !engine.IsPartial(ch.New) {
			if moved {
				s.set(ok2, &entry{kind: kindDelete, key: ch.Key})
			}
			s.set(nk, &entry{kind: kindUpsert, img: ch.New})
			return
		}
		prev := s.entries[ok2]
		switch {
		case prev != nil && prev.kind == kindUpsert:
			if moved {
				s.set(ok2, &entry{kind: kindDelete, key: ch.Key})
			}
			s.set(nk, &entry{kind: kindUpsert, img: merge(prev.img, ch.New)})
		case moved:
			// The old row's other values are only on the target: move it there, in order.
			c.barrier(ch)
		case prev == nil:
			cols, vals := s.carried(ch.New)
			if len(cols) > 0 {
				s.set(nk, &entry{kind: kindPartial, key: newKey, cols: cols, vals: vals})
			}
		case prev.kind == kindPartial:
			cols, vals := s.carried(ch.New)
			s.set(nk, mergePartial(prev, cols, vals))
		default: // an update of a row deleted earlier in the run: keep the source's order
			c.barrier(ch)
		}
	}
}

func (c *Compactor) barrier(ch engine.Change) {
	c.cut()
	chc := ch
	c.segs = append(c.segs, engine.Segment{Barrier: &chc})
}

// cut closes the pending net effect into a segment.
func (c *Compactor) cut() {
	var ops []*engine.TableOps
	for _, s := range c.order {
		if len(s.keys) == 0 {
			continue
		}
		to := &engine.TableOps{Table: s.t}
		for _, k := range s.keys {
			e := s.entries[k]
			switch e.kind {
			case kindDelete:
				to.Deletes = append(to.Deletes, e.key)
			case kindUpsert:
				to.Upserts = append(to.Upserts, e.img)
			case kindPartial:
				to.Partials = append(to.Partials, engine.Partial{Key: e.key, Cols: e.cols, Vals: e.vals})
			}
		}
		ops = append(ops, to)
		s.entries, s.keys = map[string]*entry{}, nil
	}
	if len(ops) > 0 {
		c.segs = append(c.segs, engine.Segment{Ops: ops})
	}
}

// Flush returns the segments for everything added since the last Flush.
func (c *Compactor) Flush() []engine.Segment {
	c.cut()
	segs := c.segs
	c.segs, c.n = nil, 0
	return segs
}
