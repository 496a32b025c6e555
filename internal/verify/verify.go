// Package verify proves the target equals the source, table by table, while
// changes may still flow. It hashes key-ordered chunks on both sides; a chunk
// that differs is re-checked after replay has passed the source position read
// with it, then narrowed to rows, and each differing row is confirmed: read on
// the source, on the target once replay has caught up, and on the source again.
// A row the source did not change meanwhile but the target holds differently is
// a difference; a row that changed meanwhile is re-checked in a later round.
package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/throttle"
)

// Options tune a verification. Live says changes are still flowing; then
// SourcePosition and WaitApplied must be set.
type Options struct {
	ChunkRows      int64 // rows per compared chunk (default 20000)
	Rounds         int   // confirmation rounds for rows in flight (default 12)
	Live           bool
	SourcePosition func(context.Context) (position.Position, error)
	// WaitApplied blocks until replay has applied at least pos on the target.
	WaitApplied func(ctx context.Context, pos position.Position) error
	Throttle    throttle.Throttler
	// Resume continues each table after the given key (from an interrupted run).
	Resume map[string][]string
	// OnChunk is called after each chunk with the table, the key it reached (nil
	// at the table's end), the rows compared and the differences found in it.
	OnChunk func(table string, reached []string, rows int64, diffs []Difference)
	// MaxDifferences stops a table's row-level work after this many (default 1000).
	MaxDifferences int
}

func (o *Options) defaults() {
	if o.ChunkRows <= 0 {
		o.ChunkRows = 20000
	}
	if o.Rounds <= 0 {
		o.Rounds = 12
	}
	if o.Throttle == nil {
		o.Throttle = throttle.Noop{}
	}
	if o.MaxDifferences <= 0 {
		o.MaxDifferences = 1000
	}
	if o.OnChunk == nil {
		o.OnChunk = func(string, []string, int64, []Difference) {}
	}
}

// Difference is one row that differs.
type Difference struct {
	Table string            `json:"table"`
	Key   map[string]string `json:"key"`
	// Kind is "missing" (on the target), "extra" (only on the target),
	// "changed", or "rows differ" for a table without a key (Detail says how).
	Kind    string             `json:"kind"`
	Detail  string             `json:"detail,omitempty"`
	Columns []string           `json:"columns,omitempty"`
	Source  map[string]*string `json:"source,omitempty"`
	Target  map[string]*string `json:"target,omitempty"`
}

// String renders a difference on one line: table, key, kind and columns.
func (d Difference) String() string {
	var kv []string
	for k, v := range d.Key {
		kv = append(kv, k+"="+v)
	}
	if d.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", d.Table, d.Kind, d.Detail)
	}
	sort.Strings(kv)
	s := fmt.Sprintf("%s (%s): %s", d.Table, strings.Join(kv, ", "), d.Kind)
	if len(d.Columns) > 0 {
		s += " in " + strings.Join(d.Columns, ", ")
	}
	return s
}

// Result is what a verification found.
type Result struct {
	Rows        int64
	Differences []Difference
	// Unsettled are rows that changed on the source in every round, so they
	// could not be compared.
	Unsettled []Difference
}

// Run verifies the tables. src and tgt must be the two sides' checksummers.
func Run(ctx context.Context, src, tgt engine.Checksummer, tables []*schema.Table, opts Options) (*Result, error) {
	opts.defaults()
	res := &Result{}
	for _, t := range tables {
		if !t.HasKey() {
			if !t.RowIdentity() {
				return nil, fmt.Errorf("table %s has no key: it cannot be verified row by row", t.QualifiedName())
			}
			if err := verifyWhole(ctx, src, tgt, t, opts, res); err != nil {
				return nil, err
			}
			continue
		}
		if err := verifyTable(ctx, src, tgt, t, opts, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func verifyTable(ctx context.Context, src, tgt engine.Checksummer, t *schema.Table, opts Options, res *Result) error {
	lo := opts.Resume[t.QualifiedName()]
	found := 0
	for {
		hi, err := src.NextBound(ctx, t, lo, opts.ChunkRows)
		if err != nil {
			return err
		}
		rows, diffs, unsettled, err := compareChunk(ctx, src, tgt, t, lo, hi, opts, found < opts.MaxDifferences)
		if err != nil {
			return err
		}
		found += len(diffs)
		res.Rows += rows
		res.Differences = append(res.Differences, diffs...)
		res.Unsettled = append(res.Unsettled, unsettled...)
		opts.OnChunk(t.QualifiedName(), hi, rows, diffs)
		if err := opts.Throttle.Wait(ctx, rows); err != nil {
			return err
		}
		if hi == nil {
			return nil
		}
		lo = hi
	}
}

// verifyWhole compares a table without a key, identified by its whole row,
// as one multiset: its row count and the sum of its rows' hashes (a sum, so
// that duplicate rows count). With changes in flight, as confirm does for
// rows: the source is hashed before and after the target, once replay passed
// the source position; a target that differs while the source stood still is
// a difference, one that differs while the source changed is hashed again in
// the next round. A difference names the table and both counts; there is no
// key to name rows by.
func verifyWhole(ctx context.Context, src, tgt engine.Checksummer, t *schema.Table, opts Options, res *Result) error {
	var n, m int64
	settled := false
	for round := 0; round < opts.Rounds && !settled; round++ {
		n1, h1, err := src.ChunkHash(ctx, t, nil, nil)
		if err != nil {
			return err
		}
		if err := wait(ctx, opts); err != nil {
			return err
		}
		var th string
		if m, th, err = tgt.ChunkHash(ctx, t, nil, nil); err != nil {
			return err
		}
		n = n1
		if n1 == m && h1 == th {
			res.Rows += n
			opts.OnChunk(t.QualifiedName(), nil, n, nil)
			return nil
		}
		settled = !opts.Live
		if opts.Live {
			n2, h2, err := src.ChunkHash(ctx, t, nil, nil)
			if err != nil {
				return err
			}
			settled = n1 == n2 && h1 == h2
		}
	}
	d := Difference{Table: t.QualifiedName(), Kind: "rows differ",
		Detail: fmt.Sprintf("no key: %d rows on the source, %d on the target, not the same rows", n, m)}
	if settled {
		res.Differences = append(res.Differences, d)
	} else {
		d.Kind, d.Detail = "unsettled", fmt.Sprintf("no key: it changed on the source during each of %d comparisons", opts.Rounds)
		res.Unsettled = append(res.Unsettled, d)
	}
	res.Rows += n
	opts.OnChunk(t.QualifiedName(), nil, n, []Difference{d})
	return nil
}

// wait lets replay pass the source position now, when changes flow.
func wait(ctx context.Context, opts Options) error {
	if !opts.Live {
		return nil
	}
	pos, err := opts.SourcePosition(ctx)
	if err != nil {
		return err
	}
	return opts.WaitApplied(ctx, pos)
}

func compareChunk(ctx context.Context, src, tgt engine.Checksummer, t *schema.Table, lo, hi []string, opts Options, rowLevel bool) (int64, []Difference, []Difference, error) {
	var rows int64
	for attempt := 0; attempt < 2; attempt++ {
		n, sh, err := src.ChunkHash(ctx, t, lo, hi)
		if err != nil {
			return 0, nil, nil, err
		}
		if err := wait(ctx, opts); err != nil {
			return 0, nil, nil, err
		}
		m, th, err := tgt.ChunkHash(ctx, t, lo, hi)
		if err != nil {
			return 0, nil, nil, err
		}
		rows = n
		if n == m && sh == th {
			return rows, nil, nil, nil
		}
		if !opts.Live {
			break
		}
	}
	if !rowLevel {
		return rows, nil, nil, nil
	}
	// Narrow to rows.
	sr, err := src.RowHashes(ctx, t, lo, hi)
	if err != nil {
		return 0, nil, nil, err
	}
	if err := wait(ctx, opts); err != nil {
		return 0, nil, nil, err
	}
	tr, err := tgt.RowHashes(ctx, t, lo, hi)
	if err != nil {
		return 0, nil, nil, err
	}
	candidates := diffKeys(sr, tr)
	diffs, unsettled, err := confirm(ctx, src, tgt, t, candidates, opts)
	return rows, diffs, unsettled, err
}

// diffKeys merges two key-ordered row hash lists and returns the keys that are
// on one side only or hash differently.
func diffKeys(a, b []engine.RowHash) [][]string {
	index := make(map[string]string, len(b))
	keys := make(map[string][]string, len(b))
	for _, r := range b {
		k := strings.Join(r.Key, "\x00")
		index[k], keys[k] = r.Hash, r.Key
	}
	var out [][]string
	for _, r := range a {
		k := strings.Join(r.Key, "\x00")
		h, ok := index[k]
		if !ok || h != r.Hash {
			out = append(out, r.Key)
		}
		delete(index, k)
	}
	for _, r := range b { // only on b, in b's order
		if _, ok := index[strings.Join(r.Key, "\x00")]; ok {
			out = append(out, r.Key)
		}
	}
	return out
}

func equalRows(a, b []*string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || (a[i] != nil && *a[i] != *b[i]) {
			return false
		}
	}
	return true
}

// confirm reads the candidate rows until each is equal, a settled difference,
// or has changed on the source in every round.
func confirm(ctx context.Context, src, tgt engine.Checksummer, t *schema.Table, keys [][]string, opts Options) ([]Difference, []Difference, error) {
	var diffs []Difference
	for round := 0; round < opts.Rounds && len(keys) > 0; round++ {
		s1, err := src.Rows(ctx, t, keys)
		if err != nil {
			return nil, nil, err
		}
		if err := wait(ctx, opts); err != nil {
			return nil, nil, err
		}
		tv, err := tgt.Rows(ctx, t, keys)
		if err != nil {
			return nil, nil, err
		}
		s2 := s1
		if opts.Live {
			if s2, err = src.Rows(ctx, t, keys); err != nil {
				return nil, nil, err
			}
		}
		var again [][]string
		for i, k := range keys {
			switch {
			case equalRows(s1[i], tv[i]):
			case !equalRows(s1[i], s2[i]):
				again = append(again, k)
			default:
				diffs = append(diffs, describe(t, k, s1[i], tv[i]))
			}
		}
		keys = again
	}
	var unsettled []Difference
	for _, k := range keys {
		unsettled = append(unsettled, Difference{Table: t.QualifiedName(), Key: keyMap(t, k), Kind: "unsettled"})
	}
	return diffs, unsettled, nil
}

func keyMap(t *schema.Table, key []string) map[string]string {
	m := make(map[string]string, len(key))
	for i, k := range t.Key {
		m[k] = key[i]
	}
	return m
}

func rowMap(cols []schema.Column, vals []*string) map[string]*string {
	if vals == nil {
		return nil
	}
	m := make(map[string]*string, len(cols))
	for i, c := range cols {
		m[c.Name] = vals[i]
	}
	return m
}

func describe(t *schema.Table, key []string, s, tv []*string) Difference {
	cols := t.CopyColumns()
	d := Difference{Table: t.QualifiedName(), Key: keyMap(t, key), Source: rowMap(cols, s), Target: rowMap(cols, tv)}
	switch {
	case tv == nil:
		d.Kind = "missing"
	case s == nil:
		d.Kind = "extra"
	default:
		d.Kind = "changed"
		for i, c := range cols {
			if (s[i] == nil) != (tv[i] == nil) || (s[i] != nil && *s[i] != *tv[i]) {
				d.Columns = append(d.Columns, c.Name)
			}
		}
	}
	return d
}
