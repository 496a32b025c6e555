package postgres

import (
	"regexp"
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
)

// CreateTableSQL renders a table with its columns and check constraints; keys,
// indexes and foreign keys come later, after the copy.
func CreateTableSQL(t *schema.Table) string {
	var parts []string
	for _, c := range t.Columns {
		col := QuoteIdent(c.Name) + " " + c.Type
		if c.Collation != "" {
			col += " COLLATE " + c.Collation
		}
		switch {
		case c.Identity != "":
			col += " GENERATED " + c.Identity + " AS IDENTITY"
		case c.Generated != "":
			col += " GENERATED ALWAYS AS (" + c.Generated + ") STORED"
		case c.Default != "":
			col += " DEFAULT " + c.Default
		}
		if c.NotNull && c.Identity == "" {
			col += " NOT NULL"
		}
		parts = append(parts, col)
	}
	for _, con := range t.Constraints {
		// A check the source holds NOT VALID may have rows that fail it: it is
		// added after the copy, NOT VALID again (CreateKeyIndex).
		if con.Kind == "c" && !strings.HasSuffix(con.Def, " NOT VALID") {
			parts = append(parts, "CONSTRAINT "+QuoteIdent(con.Name)+" "+con.Def)
		}
	}
	return "CREATE TABLE " + QualName(t) + " (\n  " + strings.Join(parts, ",\n  ") + "\n)"
}

var nextvalRef = regexp.MustCompile(`nextval\('((?:[^']|'')+)'::regclass\)`)

// SequencesUsed returns the sequence names (as SQL names) that column defaults
// call nextval on, with the column that owns each.
func SequencesUsed(t *schema.Table) (names, columns []string) {
	for _, c := range t.Columns {
		if m := nextvalRef.FindStringSubmatch(c.Default); m != nil {
			names = append(names, strings.ReplaceAll(m[1], "''", "'"))
			columns = append(columns, c.Name)
		}
	}
	return names, columns
}
