package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// checksummer implements engine.Checksummer on a pool; source and target share it.
// A row's canonical text is its record text under godwit's fixed session
// settings, so the same values give the same text on every PostgreSQL.
type checksummer struct {
	pool *pgxpool.Pool
}

var _ engine.Checksummer = checksummer{}

func rowSelect(t *schema.Table, lo, hi []string) string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s", quoteList(copyColumnNames(t)), only(t), RangePredicate(t, lo, hi))
}

func (c checksummer) NextBound(ctx context.Context, t *schema.Table, lo []string, rows int64) ([]string, error) {
	keyText := make([]string, len(t.Key))
	for i, k := range t.Key {
		// Named apart from the key: ORDER BY a name takes an output column
		// first, and would sort the keys as text, without the index.
		keyText[i] = fmt.Sprintf("%s::text AS godwit_bound_%d", QuoteIdent(k), i)
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s OFFSET %d LIMIT 1",
		strings.Join(keyText, ", "), only(t), RangePredicate(t, lo, nil), quoteList(t.Key), rows-1)
	vals := make([]string, len(t.Key))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := c.pool.QueryRow(ctx, q).Scan(ptrs...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("walking the key of %s: %w", t.QualifiedName(), err)
	}
	return vals, nil
}

func (c checksummer) ChunkHash(ctx context.Context, t *schema.Table, lo, hi []string) (int64, string, error) {
	q := "SELECT count(*), coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text FROM (" + rowSelect(t, lo, hi) + ") x"
	var n int64
	var h string
	if err := c.pool.QueryRow(ctx, q).Scan(&n, &h); err != nil {
		return 0, "", fmt.Errorf("hashing %s: %w", t.QualifiedName(), err)
	}
	return n, h, nil
}

func (c checksummer) RowHashes(ctx context.Context, t *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = "x." + QuoteIdent(k) + "::text"
	}
	order := make([]string, len(t.Key))
	for i, k := range t.Key {
		order[i] = "x." + QuoteIdent(k) // the typed key, not the text output of the same name
	}
	q := fmt.Sprintf("SELECT %s, hashtextextended(x::text, 0)::text FROM (%s) x ORDER BY %s",
		strings.Join(keys, ", "), rowSelect(t, lo, hi), strings.Join(order, ", "))
	rows, err := c.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("hashing rows of %s: %w", t.QualifiedName(), err)
	}
	defer rows.Close()
	var out []engine.RowHash
	for rows.Next() {
		vals := make([]string, len(t.Key)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, engine.RowHash{Key: vals[:len(t.Key)], Hash: vals[len(t.Key)]})
	}
	return out, rows.Err()
}

func (c checksummer) Rows(ctx context.Context, t *schema.Table, keys [][]string) ([][]*string, error) {
	out := make([][]*string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	types := keyTypes(t)
	args := make([]any, len(t.Key))
	params := make([]string, len(t.Key))
	join := make([]string, len(t.Key))
	for i, k := range t.Key {
		col := make([]string, len(keys))
		for j, key := range keys {
			col[j] = key[i]
		}
		args[i] = col
		params[i] = "$" + strconv.Itoa(i+1) + "::text[]"
		join[i] = "t." + QuoteIdent(k) + " = u." + QuoteIdent(k) + "::" + types[i]
	}
	cols := copyColumnNames(t)
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "t." + QuoteIdent(c) + "::text"
	}
	q := fmt.Sprintf("SELECT u.ord, %s FROM unnest(%s) WITH ORDINALITY AS u(%s, ord) JOIN %s AS t ON %s",
		strings.Join(sel, ", "), strings.Join(params, ", "), quoteList(t.Key), only(t), strings.Join(join, " AND "))
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading rows of %s: %w", t.QualifiedName(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var ord int64
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols)+1)
		ptrs[0] = &ord
		for i := range vals {
			ptrs[i+1] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out[ord-1] = vals
	}
	return out, rows.Err()
}
