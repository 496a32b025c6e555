package bridge

import (
	"context"
	"fmt"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// ScanValues looks on the source for the values its columns can hold and
// their target columns cannot (types.Special: NaN into MySQL, a zero date
// into PostgreSQL, NUL characters into PostgreSQL text...), in one pass over
// each table that has such columns, and returns one line for each class
// found: the column, the class, how many rows, and what to do. A mapping is
// only known to fail for values that are there: this is how check and start
// refuse it before anything is created, instead of the copy failing half-way.
func ScanValues(ctx context.Context, src engine.RowCounter, sd, td engine.Dialect, tables []*schema.Table, m *Mapped, opts Options) ([]string, error) {
	allowed, err := types.ParseLosses(opts.AllowLossy)
	if err != nil {
		return nil, err
	}
	var found []string
	for i, t := range tables {
		cols, _ := opts.KeptColumns(t)
		tcols := m.Targets[i].CopyColumns()
		type probe struct {
			col, tcol *schema.Column
			special   types.Special
		}
		var probes []probe
		var preds []string
		for j := range cols {
			c, tc := &cols[j], &tcols[j]
			if c.Neutral == nil || tc.Neutral == nil {
				continue
			}
			for _, p := range sd.Probes(c) {
				if p.Special.Crosses(allowed) && td.Holds(tc, p.Special) {
					continue
				}
				probes = append(probes, probe{c, tc, p.Special})
				preds = append(preds, p.Where)
			}
		}
		if len(preds) == 0 {
			continue
		}
		counts, err := src.CountWhere(ctx, t, preds)
		if err != nil {
			return nil, fmt.Errorf("looking for values %s cannot hold in %s: %w", td.Engine(), t.QualifiedName(), err)
		}
		for k, n := range counts {
			if n > 0 {
				p := probes[k]
				found = append(found, fmt.Sprintf("column %s.%s holds %d %s value(s) (%s), which the %s column %s (%s) cannot hold: %s",
					t.QualifiedName(), p.col.Name, n, p.special, p.col.Type, td.Engine(), m.Targets[i].QualifiedName()+"."+p.tcol.Name, p.tcol.Type, remedy(p.special, p.tcol, allowed)))
			}
		}
	}
	return found, nil
}

// remedy is what the user can do about values of class s that column tc
// cannot hold.
func remedy(s types.Special, tc *schema.Column, allowed map[types.Loss]bool) string {
	out := "change those rows on the source, or leave the column out with a spec file (docs/spec.md)"
	if s == types.ZeroDate {
		if !allowed[types.LossZeroDates] {
			return "--allow-lossy " + string(types.LossZeroDates) + " writes them as NULL (docs/types.md), or " + out
		}
		if tc.NotNull {
			return "with --allow-lossy zero-dates they become NULL, and the column is NOT NULL: " + out
		}
	}
	return out
}
