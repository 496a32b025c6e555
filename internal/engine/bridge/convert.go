package bridge

import (
	"errors"
	"fmt"
	"slices"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// pair is one source table and the table it becomes on the target.
type pair struct {
	src, dst *schema.Table
	srcAll   []schema.Column // the source's copied columns, as its rows hold them
	srcCols  []schema.Column // those the migration moves, index-aligned with dstCols
	dstCols  []schema.Column
	srcIdx   []int // index in srcAll of each of srcCols
	keyPos   []int // srcCols index of each key column
	colName  map[string]string
}

func newPair(src, dst *schema.Table, opts Options) (*pair, error) {
	p := &pair{src: src, dst: dst, srcAll: src.CopyColumns(), dstCols: dst.CopyColumns(), colName: map[string]string{}}
	p.srcCols, p.srcIdx = opts.KeptColumns(src)
	if len(p.srcCols) != len(p.dstCols) {
		return nil, fmt.Errorf("table %s: %d columns on the source, %d on the target mapping", src.QualifiedName(), len(p.srcCols), len(p.dstCols))
	}
	for i := range p.srcCols {
		p.colName[p.srcCols[i].Name] = p.dstCols[i].Name
		if p.srcCols[i].Neutral == nil {
			return nil, fmt.Errorf("table %s column %s has no neutral type: the migration was created by an older godwit; start it again", src.QualifiedName(), p.srcCols[i].Name)
		}
	}
	for _, k := range src.Key {
		for i, c := range p.srcCols {
			if c.Name == k {
				p.keyPos = append(p.keyPos, i)
			}
		}
	}
	return p, nil
}

// converter turns source values into target values through the canonical form.
type converter struct {
	sd, td   engine.Dialect
	zeroNull bool // zero dates become NULL (the zero-dates loss is allowed)
	pairs    map[string]*pair
}

func newConverter(sd, td engine.Dialect, sources, targets []*schema.Table, opts Options) (*converter, error) {
	allowed, err := types.ParseLosses(opts.AllowLossy)
	if err != nil {
		return nil, err
	}
	if len(sources) != len(targets) {
		return nil, fmt.Errorf("%d source tables but %d target tables in the migration's mapping", len(sources), len(targets))
	}
	cv := &converter{sd: sd, td: td, zeroNull: allowed[types.LossZeroDates], pairs: map[string]*pair{}}
	for i := range sources {
		p, err := newPair(sources[i], targets[i], opts)
		if err != nil {
			return nil, err
		}
		cv.pairs[sources[i].QualifiedName()] = p
	}
	return cv, nil
}

func (cv *converter) pair(t *schema.Table) *pair {
	p := cv.pairs[t.QualifiedName()]
	if p == nil {
		panic("bridge: table " + t.QualifiedName() + " is not in the migration's mapping")
	}
	return p
}

// value converts the value of copied column i.
func (cv *converter) value(p *pair, i int, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	c, err := cv.sd.ToCanon(&p.srcCols[i], v)
	if err != nil {
		if errors.Is(err, types.ErrZeroDate) {
			if cv.zeroNull {
				return engine.Value{Null: true}, nil
			}
			return v, fmt.Errorf("%s.%s: %w: no other engine has zero dates; allow them to become NULL with --allow-lossy %s", p.src.QualifiedName(), p.srcCols[i].Name, err, types.LossZeroDates)
		}
		return v, fmt.Errorf("%s.%s: %w", p.src.QualifiedName(), p.srcCols[i].Name, err)
	}
	out, err := cv.td.FromCanon(&p.dstCols[i], c)
	if err != nil {
		return v, fmt.Errorf("%s.%s -> %s.%s: %w", p.src.QualifiedName(), p.srcCols[i].Name, p.dst.QualifiedName(), p.dstCols[i].Name, err)
	}
	return out, nil
}

// row converts a full source image (or one with Unchanged values) into out,
// leaving out the columns the migration does not move.
func (cv *converter) row(p *pair, in, out []engine.Value) ([]engine.Value, error) {
	out = out[:0]
	for i, j := range p.srcIdx {
		c, err := cv.value(p, i, in[j])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// key converts key values (in Table.Key order).
func (cv *converter) key(p *pair, in []engine.Value) ([]engine.Value, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]engine.Value, len(in))
	for j, v := range in {
		c, err := cv.value(p, p.keyPos[j], v)
		if err != nil {
			return nil, err
		}
		out[j] = c
	}
	return out, nil
}

func (cv *converter) change(ch *engine.Change) (*engine.Change, error) {
	out := &engine.Change{Op: ch.Op}
	if ch.Op == engine.Truncate {
		for _, t := range ch.Truncated {
			out.Truncated = append(out.Truncated, cv.pair(t).dst)
		}
		if ch.Table != nil {
			out.Table = cv.pair(ch.Table).dst
		}
		return out, nil
	}
	p := cv.pair(ch.Table)
	out.Table = p.dst
	var err error
	if out.Key, err = cv.key(p, ch.Key); err != nil {
		return nil, err
	}
	if ch.New != nil {
		if out.New, err = cv.row(p, ch.New, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (cv *converter) ops(o *engine.TableOps) (*engine.TableOps, error) {
	p := cv.pair(o.Table)
	out := &engine.TableOps{Table: p.dst}
	for _, k := range o.Deletes {
		c, err := cv.key(p, k)
		if err != nil {
			return nil, err
		}
		out.Deletes = append(out.Deletes, c)
	}
	for _, img := range o.Upserts {
		c, err := cv.row(p, img, nil)
		if err != nil {
			return nil, err
		}
		out.Upserts = append(out.Upserts, c)
	}
	for _, part := range o.Partials {
		k, err := cv.key(p, part.Key)
		if err != nil {
			return nil, err
		}
		np := engine.Partial{Key: k}
		for j, col := range part.Cols {
			i := colIndex(p.srcCols, col)
			if i < 0 {
				continue // excluded
			}
			v, err := cv.value(p, i, part.Vals[j])
			if err != nil {
				return nil, err
			}
			np.Cols = append(np.Cols, p.dstCols[i].Name)
			np.Vals = append(np.Vals, v)
		}
		if len(np.Cols) > 0 { // only excluded columns changed: nothing to set
			out.Partials = append(out.Partials, np)
		}
	}
	return out, nil
}

// colIndex is the index of the named column in cols, or -1.
func colIndex(cols []schema.Column, name string) int {
	return slices.IndexFunc(cols, func(c schema.Column) bool { return c.Name == name })
}
