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
	sql := "CREATE TABLE " + QualName(t) + " (\n  " + strings.Join(parts, ",\n  ") + "\n)"
	if t.Partitioning != nil {
		sql += " PARTITION BY " + t.Partitioning.Key
	}
	return sql
}

// partitions returns a table's partitions, parents first (none when it is
// not partitioned).
func partitions(tb *schema.Table) []*schema.Partition {
	if tb.Partitioning == nil {
		return nil
	}
	out := make([]*schema.Partition, len(tb.Partitioning.Partitions))
	for i := range tb.Partitioning.Partitions {
		out[i] = &tb.Partitioning.Partitions[i]
	}
	return out
}

// partQual is the quoted schema-qualified name of a partition.
func partQual(p *schema.Partition) string { return QuoteIdent(p.Schema) + "." + QuoteIdent(p.Name) }

// CreatePartitionSQL renders a partition of its parent, with the check
// constraints of its own; it inherits columns and the rest from its parent.
func CreatePartitionSQL(p *schema.Partition) string {
	var checks []string
	for _, con := range p.Constraints {
		if con.Kind == "c" && !strings.HasSuffix(con.Def, " NOT VALID") {
			checks = append(checks, "CONSTRAINT "+QuoteIdent(con.Name)+" "+con.Def)
		}
	}
	sql := "CREATE TABLE " + partQual(p) + " PARTITION OF " + QuoteIdent(p.ParentSchema) + "." + QuoteIdent(p.ParentName)
	if len(checks) > 0 {
		sql += " (\n  " + strings.Join(checks, ",\n  ") + "\n)"
	}
	sql += " " + p.Bound
	if p.Key != "" {
		sql += " PARTITION BY " + p.Key
	}
	return sql
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
