package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Source is a source in a migration between engines: the engine's own Source,
// reading chunks in its dialect's ReadFormat, with a canonical Checksummer.
type Source struct {
	engine.Source
	check *checker
}

// Target is a target in a migration between engines: it is given the source's
// tables and works on their target tables, converting every value.
type Target struct {
	inner  engine.Target
	cv     *converter
	check  *checker
	reader engine.Source // opened on the target database by verification
}

// NewSource wraps the source of a migration to another engine: chunks are
// read in the dialect's ReadFormat, and checksums are canonical.
func NewSource(src engine.Source, sd engine.Dialect, opts Options) (*Source, error) {
	allowed, err := types.ParseLosses(opts.AllowLossy)
	if err != nil {
		return nil, err
	}
	if f, ok := src.(engine.CopyFormatSetter); ok {
		if err := f.SetCopyFormat(sd.ReadFormat()); err != nil {
			return nil, err
		}
	}
	rr, ok := src.(engine.RangeReader)
	if !ok {
		return nil, fmt.Errorf("the %s engine cannot be the source of a migration to another engine yet", sd.Engine())
	}
	return &Source{Source: src, check: &checker{d: sd, zeroNull: allowed[types.LossZeroDates], sums: src,
		table: func(t *schema.Table) *schema.Table { return t },
		kept:  opts.KeptColumns,
		open:  func(context.Context) (engine.RangeReader, error) { return rr, nil }}}, nil
}

// NewTarget wraps the target of a migration from another engine for the
// source tables (Neutral set) and the target tables Map made of them.
// openReader opens a reader of the target database, for verification; the
// target closes it.
func NewTarget(tgt engine.Target, sd, td engine.Dialect, sources, targets []*schema.Table, opts Options,
	openReader func(ctx context.Context) (engine.Source, error)) (*Target, error) {
	cv, err := newConverter(sd, td, sources, targets, opts)
	if err != nil {
		return nil, err
	}
	t := &Target{inner: tgt, cv: cv}
	t.check = &checker{d: td, zeroNull: cv.zeroNull, sums: tgt,
		table: func(tb *schema.Table) *schema.Table { return cv.pair(tb).dst },
		kept:  Options{}.KeptColumns,
		open: func(ctx context.Context) (engine.RangeReader, error) {
			s, err := openReader(ctx)
			if err != nil {
				return nil, err
			}
			rr, ok := s.(engine.RangeReader)
			if !ok {
				s.Close()
				return nil, fmt.Errorf("the %s engine cannot read a target for verification yet", td.Engine())
			}
			t.reader = s
			return rr, nil
		}}
	return t, nil
}

// ReadChunk, CopyFormat: the engine's own, in the dialect's read format.

func (s *Source) NextBound(ctx context.Context, t *schema.Table, lo []string, rows int64) ([]string, error) {
	return s.check.NextBound(ctx, t, lo, rows)
}
func (s *Source) ChunkHash(ctx context.Context, t *schema.Table, lo, hi []string) (int64, string, error) {
	return s.check.ChunkHash(ctx, t, lo, hi)
}
func (s *Source) RowHashes(ctx context.Context, t *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	return s.check.RowHashes(ctx, t, lo, hi)
}
func (s *Source) Rows(ctx context.Context, t *schema.Table, keys [][]string) ([][]*string, error) {
	return s.check.Rows(ctx, t, keys)
}

func (t *Target) targets(tables []*schema.Table) []*schema.Table {
	out := make([]*schema.Table, len(tables))
	for i, tb := range tables {
		out[i] = t.cv.pair(tb).dst
	}
	return out
}

func (t *Target) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return t.inner.Describe(ctx)
}
func (t *Target) NonEmpty(ctx context.Context, tables []*schema.Table) ([]string, error) {
	return t.inner.NonEmpty(ctx, t.targets(tables))
}
func (t *Target) Prepare(ctx context.Context, migration string) (*engine.Checkpoint, error) {
	return t.inner.Prepare(ctx, migration)
}
func (t *Target) CreateTables(ctx context.Context, migration string, tables []*schema.Table, chunks []engine.Chunk, start position.Position, truncate bool) error {
	return t.inner.CreateTables(ctx, migration, t.targets(tables), chunks, start, truncate)
}

// WriteChunk converts the source's rows as they stream and hands them to the
// target in its own format; the chunk keeps its source table name.
func (t *Target) WriteChunk(ctx context.Context, migration string, tb *schema.Table, c engine.Chunk, format string, r io.Reader, end func() (position.Position, error)) (int64, error) {
	p := t.cv.pair(tb)
	pr, pw := io.Pipe()
	bw := bufio.NewWriterSize(pw, 256<<10)
	enc := t.cv.td.NewEncoder(bw, p.dstCols)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var out []engine.Value
		err := t.cv.sd.DecodeRows(r, p.srcAll, func(row []engine.Value) error {
			var err error
			if out, err = t.cv.row(p, row, out); err != nil {
				return err
			}
			return enc.Encode(out)
		})
		if err == nil {
			err = enc.Close()
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	n, err := t.inner.WriteChunk(ctx, migration, p.dst, c, enc.Format(), pr, end)
	pr.CloseWithError(errors.New("target stopped reading"))
	<-done
	return n, err
}

func (t *Target) CreateKeyIndex(ctx context.Context, tb *schema.Table) error {
	return t.inner.CreateKeyIndex(ctx, t.cv.pair(tb).dst)
}
func (t *Target) CreateSecondary(ctx context.Context, tb *schema.Table) error {
	return t.inner.CreateSecondary(ctx, t.cv.pair(tb).dst)
}
func (t *Target) CreateForeignKeys(ctx context.Context, tb *schema.Table, migrated map[string]bool) error {
	m := map[string]bool{}
	for name, ok := range migrated {
		if p := t.cv.pairs[name]; p != nil {
			m[p.dst.QualifiedName()] = ok
		}
	}
	return t.inner.CreateForeignKeys(ctx, t.cv.pair(tb).dst, m)
}
func (t *Target) ValidateForeignKeys(ctx context.Context, tb *schema.Table) error {
	return t.inner.ValidateForeignKeys(ctx, t.cv.pair(tb).dst)
}
func (t *Target) SetStage(ctx context.Context, migration string, stage engine.Stage, consistency position.Position) error {
	return t.inner.SetStage(ctx, migration, stage, consistency)
}
func (t *Target) Applied(ctx context.Context, migration string) (position.Position, error) {
	return t.inner.Applied(ctx, migration)
}
func (t *Target) DropTables(ctx context.Context, tables []*schema.Table) error {
	return t.inner.DropTables(ctx, t.targets(tables))
}
func (t *Target) DropMeta(ctx context.Context, migration string) error {
	return t.inner.DropMeta(ctx, migration)
}
func (t *Target) Close() {
	t.check.mu.Lock()
	if t.reader != nil {
		t.reader.Close()
	}
	t.check.mu.Unlock()
	t.inner.Close()
}

// SetSequences carries counters to the target's auto-increment columns: each
// becomes the next value the target hands out. Sequences a source default uses
// without a column owning them have no counterpart on another engine.
func (t *Target) SetSequences(ctx context.Context, tables []*schema.Table, values []engine.SequenceValue) error {
	var out []engine.SequenceValue
	for _, v := range values {
		p := t.cv.pairs[v.Table]
		if p == nil {
			continue
		}
		col := p.colName[v.Column]
		if col == "" {
			for _, c := range p.dstCols {
				if c.AutoIncrement {
					col = c.Name
				}
			}
		}
		dc := p.dst.Column(col)
		if dc == nil || !dc.AutoIncrement {
			continue
		}
		next := v.Value
		if v.Called {
			next++
		}
		out = append(out, engine.SequenceValue{Table: p.dst.QualifiedName(), Column: col, Value: next})
	}
	return t.inner.SetSequences(ctx, t.targets(tables), out)
}

func (t *Target) BeginApply(ctx context.Context, migration string) (engine.ApplyTx, error) {
	a, err := t.inner.BeginApply(ctx, migration)
	if err != nil {
		return nil, err
	}
	return &applyTx{inner: a, cv: t.cv}, nil
}

func (t *Target) NextBound(ctx context.Context, tb *schema.Table, lo []string, rows int64) ([]string, error) {
	return t.check.NextBound(ctx, tb, lo, rows)
}
func (t *Target) ChunkHash(ctx context.Context, tb *schema.Table, lo, hi []string) (int64, string, error) {
	return t.check.ChunkHash(ctx, tb, lo, hi)
}
func (t *Target) RowHashes(ctx context.Context, tb *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	return t.check.RowHashes(ctx, tb, lo, hi)
}
func (t *Target) Rows(ctx context.Context, tb *schema.Table, keys [][]string) ([][]*string, error) {
	return t.check.Rows(ctx, tb, keys)
}

type applyTx struct {
	inner engine.ApplyTx
	cv    *converter
}

func (a *applyTx) Apply(ctx context.Context, seg engine.Segment) error {
	var out engine.Segment
	if seg.Barrier != nil {
		ch, err := a.cv.change(seg.Barrier)
		if err != nil {
			return &engine.PermanentError{Err: err}
		}
		out.Barrier = ch
	}
	for _, o := range seg.Ops {
		c, err := a.cv.ops(o)
		if err != nil {
			return &engine.PermanentError{Err: err}
		}
		out.Ops = append(out.Ops, c)
	}
	err := a.inner.Apply(ctx, out)
	var missing *engine.MissingRowError
	if errors.As(err, &missing) && seg.Barrier != nil {
		// The workflow fetches the row from the source: give it the source's key.
		p := a.cv.pair(seg.Barrier.Table)
		key := make([]engine.Value, len(p.keyPos))
		for j, i := range p.keyPos {
			key[j] = seg.Barrier.New[p.srcIdx[i]]
		}
		return &engine.MissingRowError{Table: seg.Barrier.Table, Key: key}
	}
	return err
}

func (a *applyTx) Commit(ctx context.Context, applied position.Position) error {
	return a.inner.Commit(ctx, applied)
}
func (a *applyTx) Rollback(ctx context.Context) { a.inner.Rollback(ctx) }

var (
	_ engine.Source = (*Source)(nil)
	_ engine.Target = (*Target)(nil)
)

// Unwrap is the engine's own source, for the optional abilities the workflow
// looks for (Nudge, PinSnapshot, RetainedBytes...) and for rows in the
// engine's own value form (replay fetching a row).
func (s *Source) Unwrap() engine.Source { return s.Source }

// Unwrap is the engine's own target.
func (t *Target) Unwrap() engine.Target { return t.inner }
