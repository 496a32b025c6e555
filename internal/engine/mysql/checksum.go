package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// checksummer implements engine.Checksummer on the server: rows are hashed
// with MD5 over their exact bytes, chunks by the sum of their row hashes.
type checksummer struct {
	db *sql.DB
}

var _ engine.Checksummer = checksummer{}

func (c checksummer) NextBound(ctx context.Context, t *schema.Table, lo []string, rows int64) ([]string, error) {
	where, args := rangeWhere(t, lo, nil)
	keys := quoteNames(keyColumns(t))
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT 1 OFFSET %d", keys, qualified(t), where, keys, rows-1)
	vals := make([]sql.NullString, len(t.Key))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := c.db.QueryRowContext(ctx, q, args...).Scan(ptrs...)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("walking the key of %s: %w", t.QualifiedName(), err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.String
	}
	return out, nil
}

func (c checksummer) ChunkHash(ctx context.Context, t *schema.Table, lo, hi []string) (int64, string, error) {
	where, args := rangeWhere(t, lo, hi)
	q := fmt.Sprintf("SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(LEFT(%s, 16), 16, 10) AS UNSIGNED)), 0) AS CHAR) FROM %s WHERE %s",
		hashExpr(t), qualified(t), where)
	var n int64
	var sum string
	if err := c.db.QueryRowContext(ctx, q, args...).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("hashing %s: %w", t.QualifiedName(), err)
	}
	return n, sum, nil
}

func (c checksummer) RowHashes(ctx context.Context, t *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	where, args := rangeWhere(t, lo, hi)
	keys := quoteNames(keyColumns(t))
	rows, err := c.db.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s", keys, hashExpr(t), qualified(t), where, keys), args...)
	if err != nil {
		return nil, fmt.Errorf("hashing rows of %s: %w", t.QualifiedName(), err)
	}
	defer rows.Close()
	var out []engine.RowHash
	vals := make([]sql.NullString, len(t.Key)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		rh := engine.RowHash{Key: make([]string, len(t.Key)), Hash: vals[len(t.Key)].String}
		for i := range t.Key {
			rh.Key[i] = vals[i].String
		}
		out = append(out, rh)
	}
	return out, rows.Err()
}

func (c checksummer) Rows(ctx context.Context, t *schema.Table, keys [][]string) ([][]*string, error) {
	cols := copyColumns(t)
	where := make([]string, len(t.Key))
	for i, k := range t.Key {
		where[i] = QuoteIdent(k) + " = ?"
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", selectList(cols), qualified(t), strings.Join(where, " AND "))
	out := make([][]*string, len(keys))
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for i, k := range keys {
		args := make([]any, len(k))
		for j, v := range k {
			args[j] = v
		}
		err := c.db.QueryRowContext(ctx, q, args...).Scan(ptrs...)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading rows of %s: %w", t.QualifiedName(), err)
		}
		row := make([]*string, len(cols))
		for j, v := range vals {
			if v.Valid {
				s := v.String
				row[j] = &s
			}
		}
		out[i] = row
	}
	return out, nil
}
