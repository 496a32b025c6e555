// Package sqlmeta is what the engines godwit reaches through database/sql
// (SQLite, MySQL) share: the targets' bookkeeping — a migrations table with
// the stage and positions, and a chunks table with each chunk's bounds (JSON)
// and state, written by each target in its own SQL and read back here — and
// the sources' row counts by predicate.
package sqlmeta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
)

// EncodePos is a position as stored (its Encode form), or NULL.
func EncodePos(p position.Position) any {
	if p == nil {
		return nil
	}
	return p.Encode()
}

// JSONBound is a chunk bound as stored (a JSON array), or NULL when open.
func JSONBound(b []string) any {
	if b == nil {
		return nil
	}
	j, _ := json.Marshal(engine.EncodeBound(b))
	return string(j)
}

// ReadCheckpoint reads what the target recorded of a migration from the
// migrations and chunks tables (names as the target's SQL writes them).
// Stage "" means the migration is new there.
func ReadCheckpoint(ctx context.Context, db *sql.DB, migrations, chunks, name string) (*engine.Checkpoint, error) {
	cp := &engine.Checkpoint{}
	var stage string
	var start, applied, cons sql.NullString
	err := db.QueryRowContext(ctx, "SELECT stage, start_pos, applied_pos, consistency_pos FROM "+migrations+" WHERE name = ?", name).Scan(&stage, &start, &applied, &cons)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, nil
	}
	if err != nil {
		return nil, err
	}
	cp.Stage = engine.Stage(stage)
	if err := cp.SetPositions(start.String, applied.String, cons.String); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT table_name, seq, lo, hi, done, `rows`, coalesce(end_pos, '') FROM "+chunks+" WHERE migration = ? ORDER BY table_name, seq", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c engine.Chunk
		var lo, hi sql.NullString
		var done int
		if err := rows.Scan(&c.Table, &c.Seq, &lo, &hi, &done, &c.Rows, &c.End); err != nil {
			return nil, err
		}
		c.Done = done != 0
		for _, b := range []struct {
			s   sql.NullString
			dst *[]string
		}{{lo, &c.Lo}, {hi, &c.Hi}} {
			if !b.s.Valid {
				continue
			}
			var vals []string
			err := json.Unmarshal([]byte(b.s.String), &vals)
			if err == nil {
				*b.dst, err = engine.DecodeBound(vals)
			}
			if err != nil {
				return nil, fmt.Errorf("chunk %d of %s: bound %s: %w", c.Seq, c.Table, b.s.String, err)
			}
		}
		cp.Chunks = append(cp.Chunks, c)
	}
	return cp, rows.Err()
}

// Applied is the position up to which the target holds every change: the
// last one replay committed, or the start before any.
func Applied(ctx context.Context, db *sql.DB, migrations, name string) (position.Position, error) {
	var s sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT coalesce(applied_pos, start_pos) FROM "+migrations+" WHERE name = ?", name).Scan(&s); err != nil {
		return nil, fmt.Errorf("reading the applied position: %w", err)
	}
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	return position.Parse(s.String)
}

// CountWhere counts, in one pass over the table from (quoted), the rows each
// predicate is true for.
func CountWhere(ctx context.Context, db *sql.DB, from string, preds []string) ([]int64, error) {
	sel := make([]string, len(preds))
	for i, p := range preds {
		sel[i] = "COALESCE(SUM(CASE WHEN " + p + " THEN 1 ELSE 0 END), 0)"
	}
	out := make([]int64, len(preds))
	dst := make([]any, len(preds))
	for i := range out {
		dst[i] = &out[i]
	}
	err := db.QueryRowContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+from).Scan(dst...)
	return out, err
}
