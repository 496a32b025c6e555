package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
)

// SQLite has one schema per file as far as godwit is concerned: "main".
const schemaName = "main"

func readTables(ctx context.Context, db *sql.DB, f schema.Filter) ([]*schema.Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'table'
  AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_godwit%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	var out []*schema.Table
	for rows.Next() {
		t := &schema.Table{Schema: schemaName}
		var def sql.NullString
		if err := rows.Scan(&t.Name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		t.CreateSQL = def.String
		if f.Match(t.QualifiedName()) {
			out = append(out, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range out {
		if strings.Contains(strings.ToUpper(t.CreateSQL), "CREATE VIRTUAL TABLE") {
			return nil, fmt.Errorf("table %s is a virtual table: not supported; exclude it with --exclude %q", t.QualifiedName(), t.QualifiedName())
		}
		if err := describe(ctx, db, t); err != nil {
			return nil, fmt.Errorf("reading table %s: %w", t.QualifiedName(), err)
		}
	}
	return out, nil
}

func describe(ctx context.Context, db *sql.DB, t *schema.Table) error {
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, t.Name)
	if err != nil {
		return err
	}
	type pkCol struct {
		name string
		pos  int
	}
	var pks []pkCol
	for rows.Next() {
		var c schema.Column
		var notNull, pk, hidden int
		if err := rows.Scan(&c.Name, &c.Type, &notNull, &c.Default, &pk, &hidden); err != nil {
			rows.Close()
			return err
		}
		c.NotNull = notNull != 0
		if hidden == 2 || hidden == 3 {
			c.Generated = "generated" // part of CreateSQL; never copied
		}
		if pk > 0 {
			pks = append(pks, pkCol{c.Name, pk})
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	sort.Slice(pks, func(i, j int) bool { return pks[i].pos < pks[j].pos })
	for _, p := range pks {
		t.Key = append(t.Key, p.name)
	}

	// Indexes with a definition (automatic ones come with the table's constraints).
	rows, err = db.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", t.Name)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ix struct{ name, def string }
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			rows.Close()
			return err
		}
		t.Indexes = append(t.Indexes, schemaIndex(ix.name, ix.def))
	}
	rows.Close()

	if len(t.Key) == 0 {
		if err := pickUniqueKey(ctx, db, t); err != nil {
			return err
		}
	}
	return db.QueryRowContext(ctx, "SELECT count(*) FROM "+QuoteIdent(t.Name)).Scan(&t.Rows)
}

func schemaIndex(name, def string) schema.Index { return schema.Index{Name: name, Def: def} }

// pickUniqueKey uses the narrowest total unique index over NOT NULL columns.
func pickUniqueKey(ctx context.Context, db *sql.DB, t *schema.Table) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_index_list(?) WHERE "unique" = 1 AND partial = 0 ORDER BY name`, t.Name)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	var best []string
	var bestName string
	for _, n := range names {
		rows, err := db.QueryContext(ctx, "SELECT cid, coalesce(name, '') FROM pragma_index_info(?) ORDER BY seqno", n)
		if err != nil {
			return err
		}
		var cols []string
		ok := true
		for rows.Next() {
			var cid int
			var name string
			if err := rows.Scan(&cid, &name); err != nil {
				rows.Close()
				return err
			}
			c := t.Column(name)
			if cid < 0 || c == nil || !c.NotNull {
				ok = false
			}
			cols = append(cols, name)
		}
		rows.Close()
		if ok && len(cols) > 0 && (best == nil || len(cols) < len(best)) {
			best, bestName = cols, n
		}
	}
	t.Key, t.KeyIndex = best, bestName
	return nil
}

// uncanon turns a canonical value text back into a typed value.
func uncanon(s string) (any, error) {
	if s == "null" {
		return nil, nil
	}
	kind, val, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("bad key value %q", s)
	}
	switch kind {
	case "i":
		return strconv.ParseInt(val, 10, 64)
	case "f":
		return strconv.ParseFloat(val, 64)
	case "t":
		return val, nil
	case "b":
		return hex.DecodeString(val)
	}
	return nil, fmt.Errorf("bad key value %q", s)
}

func uncanonAll(vals []string) ([]any, error) {
	out := make([]any, len(vals))
	for i, v := range vals {
		x, err := uncanon(v)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// rangeWhere renders lo < key <= hi with row values, and its arguments.
func rangeWhere(t *schema.Table, lo, hi []string) (string, []any, error) {
	key := "(" + quoteList(t.Key) + ")"
	marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.Key)), ", ") + ")"
	var conds []string
	var args []any
	if lo != nil {
		v, err := uncanonAll(lo)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, key+" > "+marks), append(args, v...)
	}
	if hi != nil {
		v, err := uncanonAll(hi)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, key+" <= "+marks), append(args, v...)
	}
	if len(conds) == 0 {
		return "1", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

func copyColumnNames(t *schema.Table) []string {
	var out []string
	for _, c := range t.CopyColumns() {
		out = append(out, c.Name)
	}
	return out
}
