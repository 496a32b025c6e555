package postgres

import (
	"context"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Probes implements engine.Dialect: PostgreSQL floats and numerics hold NaN
// and ±Infinity, its dates and timestamps ±infinity, BC dates and years past
// 9999, its json (not jsonb) \u0000. Its text holds no NUL.
func (dialect) Probes(c *schema.Column) []engine.Probe {
	if c.Neutral == nil {
		return nil
	}
	q := QuoteIdent(c.Name)
	switch c.Neutral.Kind {
	case types.Float, types.Decimal:
		// As text: 'Infinity'::numeric is an error before PostgreSQL 14.
		return []engine.Probe{
			{Special: types.NaN, Where: q + "::text = 'NaN'"},
			{Special: types.Infinity, Where: q + "::text IN ('Infinity', '-Infinity')"},
		}
	case types.JSON:
		if strings.HasPrefix(c.Type, "jsonb") {
			return nil
		}
		return []engine.Probe{{Special: types.NULJSON, Where: q + "::text LIKE '%\\u0000%'"}}
	case types.Date, types.Timestamp, types.TimestampTZ:
		return []engine.Probe{
			{Special: types.DateInfinity, Where: "NOT isfinite(" + q + ")"},
			{Special: types.DateBC, Where: "isfinite(" + q + ") AND extract(year FROM " + q + ") < 1"},
			{Special: types.DateYear5, Where: "isfinite(" + q + ") AND extract(year FROM " + q + ") > 9999"},
		}
	}
	return nil
}

// Holds implements engine.Dialect.
func (dialect) Holds(c *schema.Column, s types.Special) bool {
	k := c.Neutral.Kind
	switch s {
	case types.NaN, types.Infinity:
		return k == types.Float || k == types.Decimal
	case types.DateInfinity, types.DateBC, types.DateYear5:
		return k == types.Date || k == types.Timestamp || k == types.TimestampTZ
	case types.ZeroDate:
		return !c.NotNull // the zero-dates loss writes NULL
	case types.UInt64High:
		return k == types.Int || k == types.Decimal // numeric(20)
	case types.NULJSON:
		return strings.HasPrefix(c.Type, "json") && !strings.HasPrefix(c.Type, "jsonb")
	}
	return false // year 0, invalid dates, times outside a day, NUL in text
}

// CountWhere implements engine.RowCounter.
func (s *Source) CountWhere(ctx context.Context, t *schema.Table, preds []string) ([]int64, error) {
	sel := make([]string, len(preds))
	for i, p := range preds {
		sel[i] = "count(*) FILTER (WHERE " + p + ")"
	}
	out := make([]int64, len(preds))
	dst := make([]any, len(preds))
	for i := range out {
		dst[i] = &out[i]
	}
	// A partitioned table's rows are its partitions'; inheritance children
	// are other tables.
	err := s.pool.QueryRow(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+only(t)).Scan(dst...)
	return out, err
}
