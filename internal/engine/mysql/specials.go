package mysql

import (
	"context"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/sqlmeta"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Probes implements engine.Dialect: MySQL dates hold zero dates, invalid
// dates (godwit's sessions allow them) and year 0; TIME is a duration up to
// ±838:59:59; text holds NUL, JSON \u0000. Floats hold no NaN or infinity.
func (dialect) Probes(c *schema.Column) []engine.Probe {
	if c.Neutral == nil {
		return nil
	}
	q := QuoteIdent(c.Name)
	switch c.Neutral.Kind {
	case types.Date, types.Timestamp, types.TimestampTZ:
		zero := "'0000-00-00'"
		if c.Neutral.Kind != types.Date {
			zero = "'0000-00-00 00:00:00'"
		}
		return []engine.Probe{
			{Special: types.ZeroDate, Where: q + " = " + zero},
			{Special: types.InvalidDate, Where: q + " <> " + zero + " AND (MONTH(" + q + ") = 0 OR DAYOFMONTH(" + q + ") = 0 OR DAYOFMONTH(" + q + ") > DAYOFMONTH(LAST_DAY(" + q + ")))"},
			{Special: types.Year0, Where: "YEAR(" + q + ") = 0 AND MONTH(" + q + ") > 0 AND DAYOFMONTH(" + q + ") > 0"},
		}
	case types.Bool:
		return []engine.Probe{{Special: types.NotBool, Where: q + " NOT IN (0, 1)"}}
	case types.Int:
		if c.Neutral.Bits == 64 && c.Neutral.Unsigned {
			return []engine.Probe{{Special: types.UInt64High, Where: q + " > 9223372036854775807"}}
		}
	case types.Time:
		return []engine.Probe{{Special: types.TimeOutsideDay, Where: q + " < '00:00:00' OR " + q + " > '24:00:00'"}}
	case types.Text:
		return []engine.Probe{{Special: types.NULText, Where: "LOCATE(CHAR(0), " + q + ") > 0"}}
	case types.JSON:
		return []engine.Probe{{Special: types.NULJSON, Where: "CAST(" + q + " AS CHAR) LIKE '%\\\\\\\\u0000%'"}}
	}
	return nil
}

// Holds implements engine.Dialect.
func (dialect) Holds(c *schema.Column, s types.Special) bool {
	k := c.Neutral.Kind
	switch s {
	case types.Year0:
		return k == types.Date || k == types.Timestamp || k == types.TimestampTZ
	case types.ZeroDate:
		return !c.NotNull // the zero-dates loss writes NULL
	case types.TimeOutsideDay:
		return k == types.Time
	case types.UInt64High:
		return k == types.Int
	case types.NULText:
		return k == types.Text
	case types.NULJSON:
		return k == types.JSON || k == types.Text
	}
	return false // NaN, infinities, BC dates and years past 9999
}

// CountWhere implements engine.RowCounter.
func (s *Source) CountWhere(ctx context.Context, t *schema.Table, preds []string) ([]int64, error) {
	return sqlmeta.CountWhere(ctx, s.db, qualified(t), preds)
}
