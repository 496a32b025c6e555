package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// systemDatabases are never migrated.
var systemDatabases = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true, metaDB: true}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readTables reads the selected base tables: columns, key, indexes, foreign
// keys and the definition to create them with. Without include patterns, a
// database named in the URL limits the selection to it.
func readTables(ctx context.Context, db querier, urlDB string, f schema.Filter) ([]*schema.Table, error) {
	if len(f.Include) == 0 && urlDB != "" {
		f.Include = []string{urlDB + ".*"}
	}
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, coalesce(TABLE_ROWS, 0), coalesce(DATA_LENGTH, 0) + coalesce(INDEX_LENGTH, 0)
FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	var tables []*schema.Table
	byName := map[string]*schema.Table{}
	for rows.Next() {
		t := &schema.Table{}
		if err := rows.Scan(&t.Schema, &t.Name, &t.Rows, &t.Bytes); err != nil {
			rows.Close()
			return nil, err
		}
		if systemDatabases[t.Schema] || !f.Match(t.QualifiedName()) {
			continue
		}
		tables = append(tables, t)
		byName[t.QualifiedName()] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		if urlDB != "" {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", urlDB).Scan(&n); err == nil && n == 0 {
				return nil, fmt.Errorf("database %q does not exist on the source (or this user cannot see it): check the database name in the source URL", urlDB)
			}
		}
		return nil, nil
	}
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return nil, fmt.Errorf("reading the server version: %w", err)
	}
	if err := readColumns(ctx, db, byName, strings.Contains(strings.ToLower(version), "mariadb")); err != nil {
		return nil, err
	}
	indexes, err := readKeys(ctx, db, byName)
	if err != nil {
		return nil, err
	}
	fks, err := readForeignKeys(ctx, db, byName)
	if err != nil {
		return nil, err
	}
	if err := readTriggers(ctx, db, byName); err != nil {
		return nil, err
	}
	for _, t := range tables {
		var name, create string
		if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE "+qualified(t)).Scan(&name, &create); err != nil {
			return nil, fmt.Errorf("reading the definition of %s: %w", t.QualifiedName(), err)
		}
		splitCreate(t, create)
		describeKeys(t, indexes[t.QualifiedName()], fks[t.QualifiedName()])
	}
	return tables, nil
}

func readColumns(ctx context.Context, db querier, byName map[string]*schema.Table, mariadb bool) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
  coalesce(GENERATION_EXPRESSION, ''), coalesce(COLLATION_NAME, '')
FROM information_schema.COLUMNS ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return fmt.Errorf("reading columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sch, tbl, nullable, extra, gen string
		var def sql.NullString
		var c schema.Column
		if err := rows.Scan(&sch, &tbl, &c.Name, &c.Type, &nullable, &def, &extra, &gen, &c.Collation); err != nil {
			return err
		}
		t := byName[sch+"."+tbl]
		if t == nil {
			continue
		}
		c.NotNull = nullable == "NO"
		c.Default = def.String
		if !mariadb {
			c.Default = mysqlDefault(&c, def, extra)
		}
		if isGenerated(extra) {
			c.Generated = gen
			if c.Generated == "" {
				c.Generated = "generated"
			}
		}
		if strings.Contains(strings.ToLower(extra), "auto_increment") {
			c.Identity, c.AutoIncrement = "AUTO_INCREMENT", true
		}
		t.Columns = append(t.Columns, c)
	}
	return rows.Err()
}

// mysqlDefault brings MySQL's COLUMN_DEFAULT to MariaDB's form, which the
// dialect's Default reads: string literals quoted, NULL spelled out,
// expressions (EXTRA says DEFAULT_GENERATED) as written.
func mysqlDefault(c *schema.Column, def sql.NullString, extra string) string {
	switch {
	case !def.Valid && !c.NotNull && !isGenerated(extra) && !strings.Contains(strings.ToLower(extra), "auto_increment"):
		return "NULL"
	case !def.Valid:
		return ""
	case strings.Contains(strings.ToUpper(extra), "DEFAULT_GENERATED"):
		return def.String
	}
	switch neutral(nil, c).Kind {
	case types.Int, types.Decimal, types.Float, types.Year, types.Bit:
		return def.String
	case types.Bytes:
		if strings.HasPrefix(def.String, "0x") {
			return def.String
		}
	}
	return QuoteString(def.String)
}

// isGenerated reports a generated column from information_schema's EXTRA
// (MySQL 8 also says DEFAULT_GENERATED for expression defaults, which are not).
func isGenerated(extra string) bool {
	e := strings.ToUpper(extra)
	return strings.Contains(e, "VIRTUAL GENERATED") || strings.Contains(e, "STORED GENERATED") || strings.Contains(e, "PERSISTENT GENERATED")
}

// indexInfo is one index as information_schema.STATISTICS describes it.
type indexInfo struct {
	cols   []string
	unique bool
	usable bool // can identify rows: unique, on whole non-null columns
	plain  bool // a B-tree or hash index on columns, which other engines can rebuild
}

// readKeys picks each table's key (its primary key, else the narrowest usable
// unique index) and returns every index by table and name.
func readKeys(ctx context.Context, db querier, byName map[string]*schema.Table) (map[string]map[string]*indexInfo, error) {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART IS NOT NULL, NULLABLE, INDEX_TYPE
FROM information_schema.STATISTICS ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return nil, fmt.Errorf("reading keys: %w", err)
	}
	defer rows.Close()
	all := map[string]map[string]*indexInfo{}
	for rows.Next() {
		var sch, tbl, name, nullable, typ string
		var col sql.NullString
		var nonUnique int
		var prefix bool
		if err := rows.Scan(&sch, &tbl, &name, &nonUnique, &col, &prefix, &nullable, &typ); err != nil {
			return nil, err
		}
		q := sch + "." + tbl
		if byName[q] == nil {
			continue
		}
		if all[q] == nil {
			all[q] = map[string]*indexInfo{}
		}
		ix := all[q][name]
		if ix == nil {
			ix = &indexInfo{unique: nonUnique == 0, usable: nonUnique == 0, plain: typ == "BTREE" || typ == "HASH"}
			all[q][name] = ix
		}
		if !col.Valid || prefix || nullable == "YES" {
			ix.usable = false // an expression, a prefix or a nullable column cannot identify rows
		}
		if !col.Valid {
			ix.plain = false
		}
		ix.cols = append(ix.cols, col.String)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for q, ixs := range all {
		t := byName[q]
		if pk := ixs["PRIMARY"]; pk != nil {
			t.Key = pk.cols
			continue
		}
		var names []string
		for n, ix := range ixs {
			if ix.usable && !hasGenerated(t, ix.cols) {
				names = append(names, n)
			}
		}
		sort.Slice(names, func(i, j int) bool {
			a, b := ixs[names[i]], ixs[names[j]]
			if len(a.cols) != len(b.cols) {
				return len(a.cols) < len(b.cols)
			}
			return names[i] < names[j]
		})
		if len(names) > 0 {
			t.Key, t.KeyIndex = ixs[names[0]].cols, names[0]
		}
	}
	return all, nil
}

// readForeignKeys returns the foreign keys of the tables by table and name,
// with their columns and rules.
func readForeignKeys(ctx context.Context, db querier, byName map[string]*schema.Table) (map[string]map[string]*schema.Constraint, error) {
	rows, err := db.QueryContext(ctx, `SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA,
  k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]*schema.Constraint{}
	rule := func(r string) string {
		if strings.EqualFold(r, "NO ACTION") {
			return ""
		}
		return strings.ToUpper(r)
	}
	for rows.Next() {
		var sch, tbl, name, col, refSch, refTbl, refCol, onUpdate, onDelete string
		if err := rows.Scan(&sch, &tbl, &name, &col, &refSch, &refTbl, &refCol, &onUpdate, &onDelete); err != nil {
			return nil, err
		}
		q := sch + "." + tbl
		if byName[q] == nil {
			continue
		}
		if out[q] == nil {
			out[q] = map[string]*schema.Constraint{}
		}
		fk := out[q][name]
		if fk == nil {
			fk = &schema.Constraint{OnDelete: rule(onDelete), OnUpdate: rule(onUpdate)}
			fk.SetRef(refSch, refTbl)
			out[q][name] = fk
		}
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
	}
	return out, rows.Err()
}

// describeKeys completes what splitCreate read with the columns of the
// primary key, of each index and of each foreign key, for other engines. An
// index on expressions, or a full-text, spatial or vector one, gets no columns.
func describeKeys(t *schema.Table, ixs map[string]*indexInfo, fks map[string]*schema.Constraint) {
	if pk := ixs["PRIMARY"]; pk != nil {
		t.Constraints = append(t.Constraints, schema.Constraint{Name: "PRIMARY", Kind: "p", Columns: pk.cols,
			Def: "PRIMARY KEY (" + quoteList(pk.cols, ",") + ")"})
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if info := ixs[ix.Name]; info != nil {
			ix.Unique = info.unique
			if info.plain {
				ix.Columns = info.cols
			}
		}
	}
	for i := range t.Constraints {
		c := &t.Constraints[i]
		if fk := fks[c.Name]; c.Kind == "f" && fk != nil {
			c.Columns, c.RefColumns, c.OnDelete, c.OnUpdate = fk.Columns, fk.RefColumns, fk.OnDelete, fk.OnUpdate
			c.SetRef(fk.Ref())
		}
	}
}

func hasGenerated(t *schema.Table, cols []string) bool {
	for _, c := range cols {
		if col := t.Column(c); col == nil || col.Generated != "" {
			return true
		}
	}
	return false
}

var (
	autoIncOption = regexp.MustCompile(` AUTO_INCREMENT=\d+`)
	indexLine     = regexp.MustCompile("^(?:UNIQUE |FULLTEXT |SPATIAL |VECTOR )?(?:KEY|INDEX) `((?:[^`]|``)+)`")
	checkLine     = regexp.MustCompile("^CONSTRAINT `((?:[^`]|``)+)` (CHECK .*)$")
	jsonValid     = regexp.MustCompile("^CHECK \\(json_valid\\(`(?:[^`]|``)+`\\)\\)$")
	fkLine        = regexp.MustCompile("^CONSTRAINT `((?:[^`]|``)+)` FOREIGN KEY .* REFERENCES `((?:[^`]|``)+)`(?:\\.`((?:[^`]|``)+)`)?")
)

// splitCreate splits SHOW CREATE TABLE output into the definition godwit
// creates before the copy (columns, primary key, checks) and what it adds later:
// secondary indexes (unique ones among them) and foreign keys. SHOW CREATE
// TABLE writes one element per line, which is what makes this split reliable.
func splitCreate(t *schema.Table, create string) {
	lines := strings.Split(create, "\n")
	var keep []string
	for i, line := range lines {
		trimmed := strings.TrimSuffix(strings.TrimSpace(line), ",")
		if i == 0 || !strings.HasPrefix(line, "  ") {
			keep = append(keep, line)
			continue
		}
		if m := indexLine.FindStringSubmatch(trimmed); m != nil {
			t.Indexes = append(t.Indexes, schema.Index{Name: strings.ReplaceAll(m[1], "``", "`"), Def: trimmed})
			continue
		}
		if m := fkLine.FindStringSubmatch(trimmed); m != nil {
			c := schema.Constraint{Name: unquote(m[1]), Kind: "f", Def: trimmed}
			if m[3] != "" {
				c.SetRef(unquote(m[2]), unquote(m[3]))
			} else {
				c.SetRef(t.Schema, unquote(m[2]))
			}
			t.Constraints = append(t.Constraints, c)
			continue
		}
		if m := checkLine.FindStringSubmatch(trimmed); m != nil && !jsonValid.MatchString(m[2]) {
			// Kept in CreateSQL; listed so that another engine can say it is left behind.
			// MariaDB's json_valid check is what makes a column JSON: not a check of the user's.
			t.Constraints = append(t.Constraints, schema.Constraint{Name: unquote(m[1]), Kind: "c", Def: m[2]})
		}
		keep = append(keep, strings.TrimSuffix(line, ","))
	}
	// Re-join the kept elements with commas between them.
	var b strings.Builder
	for i, line := range keep {
		b.WriteString(line)
		if i+1 < len(keep) && strings.HasPrefix(line, "  ") && strings.HasPrefix(keep[i+1], "  ") {
			b.WriteString(",")
		}
		if i+1 < len(keep) {
			b.WriteString("\n")
		}
	}
	t.CreateSQL = autoIncOption.ReplaceAllString(b.String(), "")
}

// readTriggers lists the user's triggers of each table (godwit's fences are
// named _godwit_...).
func readTriggers(ctx context.Context, db querier, byName map[string]*schema.Table) error {
	rows, err := db.QueryContext(ctx, `SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS
WHERE TRIGGER_NAME NOT LIKE '\_godwit\_%' ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME`)
	if err != nil {
		return fmt.Errorf("reading the source's triggers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var db, table, name string
		if err := rows.Scan(&db, &table, &name); err != nil {
			return err
		}
		if t := byName[db+"."+table]; t != nil {
			t.Triggers = append(t.Triggers, name)
		}
	}
	return rows.Err()
}

func unquote(s string) string { return strings.ReplaceAll(s, "``", "`") }

// qualified is `schema`.`name`.
func qualified(t *schema.Table) string { return QuoteIdent(t.Schema) + "." + QuoteIdent(t.Name) }
