package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// checksummer implements engine.Checksummer for a SQLite file. SQLite has no
// hash function, so rows are hashed here from their canonical values.
type checksummer struct {
	db *sql.DB
}

var _ engine.Checksummer = checksummer{}

func rowHash(vals []any) uint64 {
	h := fnv.New64a()
	for _, v := range vals {
		h.Write([]byte(canon(v)))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func (c checksummer) NextBound(ctx context.Context, t *schema.Table, lo []string, rows int64) ([]string, error) {
	where, args, err := rangeWhere(t, lo, nil)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT 1 OFFSET %d", rawList(t.Key), QuoteIdent(t.Name), where, quoteList(t.Key), rows-1)
	vals := make([]any, len(t.Key))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err = c.db.QueryRowContext(ctx, q, args...).Scan(ptrs...)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("walking the key of %s: %w", t.QualifiedName(), err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = canon(v)
	}
	return out, nil
}

// scanRows runs fn on every row of the range, key columns first.
func (c checksummer) scanRows(ctx context.Context, t *schema.Table, lo, hi []string, fn func(key []string, vals []any)) error {
	where, args, err := rangeWhere(t, lo, hi)
	if err != nil {
		return err
	}
	cols := copyColumnNames(t)
	q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s", rawList(t.Key), rawList(cols), QuoteIdent(t.Name), where, quoteList(t.Key))
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.QualifiedName(), err)
	}
	defer rows.Close()
	nk := len(t.Key)
	for rows.Next() {
		vals := make([]any, nk+len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		key := make([]string, nk)
		for i := range key {
			key[i] = canon(vals[i])
		}
		fn(key, vals[nk:])
	}
	return rows.Err()
}

func (c checksummer) ChunkHash(ctx context.Context, t *schema.Table, lo, hi []string) (int64, string, error) {
	var n int64
	sum := new(big.Int)
	err := c.scanRows(ctx, t, lo, hi, func(_ []string, vals []any) {
		n++
		sum.Add(sum, new(big.Int).SetUint64(rowHash(vals)))
	})
	return n, sum.String(), err
}

func (c checksummer) RowHashes(ctx context.Context, t *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	var out []engine.RowHash
	err := c.scanRows(ctx, t, lo, hi, func(key []string, vals []any) {
		out = append(out, engine.RowHash{Key: key, Hash: fmt.Sprint(rowHash(vals))})
	})
	return out, err
}

func (c checksummer) Rows(ctx context.Context, t *schema.Table, keys [][]string) ([][]*string, error) {
	cols := copyColumnNames(t)
	where := make([]string, len(t.Key))
	for i, k := range t.Key {
		where[i] = QuoteIdent(k) + " = ?"
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", rawList(cols), QuoteIdent(t.Name), strings.Join(where, " AND "))
	out := make([][]*string, len(keys))
	for i, k := range keys {
		args, err := uncanonAll(k)
		if err != nil {
			return nil, err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(vals))
		for j := range vals {
			ptrs[j] = &vals[j]
		}
		err = c.db.QueryRowContext(ctx, q, args...).Scan(ptrs...)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		row := make([]*string, len(vals))
		for j, v := range vals {
			if v != nil {
				s := canon(v)
				row[j] = &s
			}
		}
		out[i] = row
	}
	return out, nil
}
