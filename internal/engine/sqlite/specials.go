package sqlite

import (
	"context"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/sqlmeta"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Probes implements engine.Dialect: SQLite reals hold ±Infinity (a NaN it
// stores as NULL) and its text NUL characters.
func (dialect) Probes(c *schema.Column) []engine.Probe {
	if c.Neutral == nil {
		return nil
	}
	q := QuoteIdent(c.Name)
	switch c.Neutral.Kind {
	case types.Float, types.Decimal:
		return []engine.Probe{{Special: types.Infinity, Where: "typeof(" + q + ") = 'real' AND " + q + " IN (9e999, -9e999)"}}
	case types.Bool:
		return []engine.Probe{{Special: types.NotBool, Where: "typeof(" + q + ") IN ('integer', 'real') AND " + q + " NOT IN (0, 1)"}}
	case types.Text, types.JSON:
		return []engine.Probe{{Special: types.NULText, Where: "typeof(" + q + ") = 'text' AND instr(CAST(" + q + " AS BLOB), x'00') > 0"}}
	}
	return nil
}

// Holds implements engine.Dialect: what SQLite does not store as a number it
// keeps as the canonical text, so nearly every class that crosses is held
// (NaN as the text 'NaN').
func (dialect) Holds(c *schema.Column, s types.Special) bool {
	switch s {
	case types.ZeroDate:
		return !c.NotNull // the zero-dates loss writes NULL
	case types.TimeOutsideDay:
		return false // its time text would not read back as a time
	case types.UInt64High:
		return affinity(c.Type) != affInteger // a key column: INTEGER is 64-bit signed
	}
	return true
}

// CountWhere implements engine.RowCounter.
func (s *Source) CountWhere(ctx context.Context, t *schema.Table, preds []string) ([]int64, error) {
	return sqlmeta.CountWhere(ctx, s.db, QuoteIdent(t.Name), preds)
}
