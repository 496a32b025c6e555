package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
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
		return nil, nil
	}
	if err := readColumns(ctx, db, byName); err != nil {
		return nil, err
	}
	if err := readKeys(ctx, db, byName); err != nil {
		return nil, err
	}
	for _, t := range tables {
		var name, create string
		if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE "+qualified(t)).Scan(&name, &create); err != nil {
			return nil, fmt.Errorf("reading the definition of %s: %w", t.QualifiedName(), err)
		}
		splitCreate(t, create)
	}
	return tables, nil
}

func readColumns(ctx context.Context, db querier, byName map[string]*schema.Table) error {
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
		if isGenerated(extra) {
			c.Generated = gen
			if c.Generated == "" {
				c.Generated = "generated"
			}
		}
		if strings.Contains(strings.ToLower(extra), "auto_increment") {
			c.Identity = "AUTO_INCREMENT"
		}
		t.Columns = append(t.Columns, c)
	}
	return rows.Err()
}

// isGenerated reports a generated column from information_schema's EXTRA
// (MySQL 8 also says DEFAULT_GENERATED for expression defaults, which are not).
func isGenerated(extra string) bool {
	e := strings.ToUpper(extra)
	return strings.Contains(e, "VIRTUAL GENERATED") || strings.Contains(e, "STORED GENERATED") || strings.Contains(e, "PERSISTENT GENERATED")
}

func readKeys(ctx context.Context, db querier, byName map[string]*schema.Table) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART IS NOT NULL, NULLABLE
FROM information_schema.STATISTICS ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return fmt.Errorf("reading keys: %w", err)
	}
	defer rows.Close()
	type index struct {
		cols   []string
		usable bool
	}
	unique := map[string]map[string]*index{}
	for rows.Next() {
		var sch, tbl, name, nullable string
		var col sql.NullString
		var nonUnique int
		var prefix bool
		if err := rows.Scan(&sch, &tbl, &name, &nonUnique, &col, &prefix, &nullable); err != nil {
			return err
		}
		q := sch + "." + tbl
		if byName[q] == nil || nonUnique != 0 {
			continue
		}
		if unique[q] == nil {
			unique[q] = map[string]*index{}
		}
		ix := unique[q][name]
		if ix == nil {
			ix = &index{usable: true}
			unique[q][name] = ix
		}
		if !col.Valid || prefix || nullable == "YES" {
			ix.usable = false // an expression, a prefix or a nullable column cannot identify rows
		}
		ix.cols = append(ix.cols, col.String)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for q, ixs := range unique {
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
	return nil
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
			ref := t.Schema + "." + unquote(m[2])
			if m[3] != "" {
				ref = unquote(m[2]) + "." + unquote(m[3])
			}
			t.Constraints = append(t.Constraints, schema.Constraint{Name: unquote(m[1]), Kind: "f", Def: trimmed, RefTable: ref})
			continue
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

func unquote(s string) string { return strings.ReplaceAll(s, "``", "`") }

// qualified is `schema`.`name`.
func qualified(t *schema.Table) string { return QuoteIdent(t.Schema) + "." + QuoteIdent(t.Name) }
