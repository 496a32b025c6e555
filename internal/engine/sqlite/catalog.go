package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
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
		// The user's triggers (godwit's capture and fence triggers are _godwit_...).
		trows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name NOT LIKE '\_godwit%' ESCAPE '\' ORDER BY name`, t.Name)
		if err != nil {
			return nil, err
		}
		for trows.Next() {
			var n string
			if err := trows.Scan(&n); err != nil {
				trows.Close()
				return nil, err
			}
			t.Triggers = append(t.Triggers, n)
		}
		trows.Close()
		if err := trows.Err(); err != nil {
			return nil, err
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
	if len(t.Key) > 0 {
		t.Constraints = append(t.Constraints, schema.Constraint{Name: t.Name + "_pkey", Kind: "p", Def: "PRIMARY KEY (" + quoteList(t.Key) + ")", Columns: t.Key})
	}
	// An INTEGER PRIMARY KEY is the rowid: SQLite hands out its values.
	if len(t.Key) == 1 && !withoutRowid.MatchString(t.CreateSQL) {
		if c := t.Column(t.Key[0]); strings.EqualFold(strings.TrimSpace(c.Type), "INTEGER") {
			c.AutoIncrement = true
		}
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
	if err := describeIndexes(ctx, db, t); err != nil {
		return err
	}
	if err := readForeignKeys(ctx, db, t); err != nil {
		return err
	}

	if len(t.Key) == 0 {
		if err := pickUniqueKey(ctx, db, t); err != nil {
			return err
		}
	}
	return db.QueryRowContext(ctx, "SELECT count(*) FROM "+QuoteIdent(t.Name)).Scan(&t.Rows)
}

func schemaIndex(name, def string) schema.Index { return schema.Index{Name: name, Def: def} }

var withoutRowid = regexp.MustCompile(`(?i)\)[^)]*\bWITHOUT\s+ROWID\b[^)]*$`)

// describeIndexes fills Columns and Unique of the indexes and adds the table's
// UNIQUE constraints (SQLite's automatic indexes of origin "u").
func describeIndexes(ctx context.Context, db *sql.DB, t *schema.Table) error {
	type info struct {
		name            string
		unique, partial bool
		origin          string
	}
	rows, err := db.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`, t.Name)
	if err != nil {
		return err
	}
	var list []info
	for rows.Next() {
		var i info
		if err := rows.Scan(&i.name, &i.unique, &i.origin, &i.partial); err != nil {
			rows.Close()
			return err
		}
		list = append(list, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range list {
		cols, err := indexColumns(ctx, db, i.name)
		if err != nil {
			return err
		}
		switch i.origin {
		case "u":
			if cols != nil {
				t.Constraints = append(t.Constraints, schema.Constraint{Name: t.Name + "_" + strings.Join(cols, "_") + "_key", Kind: "u",
					Def: "UNIQUE (" + quoteList(cols) + ")", Columns: cols})
			}
		case "c":
			for j := range t.Indexes {
				if t.Indexes[j].Name == i.name {
					t.Indexes[j].Unique = i.unique
					if !i.partial { // a partial index cannot be rebuilt as a whole one
						t.Indexes[j].Columns = cols
					}
				}
			}
		}
	}
	return nil
}

// indexColumns lists an index's columns; nil when one is an expression.
func indexColumns(ctx context.Context, db *sql.DB, index string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", index)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	expr := false
	for rows.Next() {
		var name sql.NullString
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		expr = expr || !name.Valid
		cols = append(cols, name.String)
	}
	if expr {
		return nil, rows.Err()
	}
	return cols, rows.Err()
}

// readForeignKeys adds the table's foreign keys; "NO ACTION" is "".
func readForeignKeys(ctx context.Context, db *sql.DB, t *schema.Table) error {
	rows, err := db.QueryContext(ctx, `SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t.Name)
	if err != nil {
		return err
	}
	var fks []*schema.Constraint
	last := -1
	implicit := map[*schema.Constraint]bool{} // REFERENCES parent without columns: its primary key
	for rows.Next() {
		var id int
		var ref, from, onUpdate, onDelete string
		var to sql.NullString
		if err := rows.Scan(&id, &ref, &from, &to, &onUpdate, &onDelete); err != nil {
			rows.Close()
			return err
		}
		if id != last {
			fk := &schema.Constraint{Kind: "f", OnDelete: action(onDelete), OnUpdate: action(onUpdate)}
			fk.SetRef(schemaName, ref)
			fks = append(fks, fk)
			last = id
		}
		fk := fks[len(fks)-1]
		fk.Columns = append(fk.Columns, from)
		fk.RefColumns = append(fk.RefColumns, to.String)
		implicit[fk] = implicit[fk] || !to.Valid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, fk := range fks {
		_, ref := fk.Ref()
		if implicit[fk] {
			pk, err := primaryKey(ctx, db, ref)
			if err != nil {
				return err
			}
			fk.RefColumns = pk
		}
		fk.Name = t.Name + "_" + strings.Join(fk.Columns, "_") + "_fkey"
		fk.Def = "FOREIGN KEY (" + quoteList(fk.Columns) + ") REFERENCES " + QuoteIdent(ref) + " (" + quoteList(fk.RefColumns) + ")"
		if fk.OnDelete != "" {
			fk.Def += " ON DELETE " + fk.OnDelete
		}
		if fk.OnUpdate != "" {
			fk.Def += " ON UPDATE " + fk.OnUpdate
		}
		t.Constraints = append(t.Constraints, *fk)
	}
	return nil
}

func action(a string) string {
	if strings.EqualFold(a, "NO ACTION") {
		return ""
	}
	return strings.ToUpper(a)
}

func primaryKey(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	return queryStrings(ctx, db, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", table)
}

// queryStrings runs a query of one text column and returns its values.
func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

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
