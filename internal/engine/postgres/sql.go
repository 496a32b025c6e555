package postgres

// Pure SQL builders: identifier and literal quoting, key-range predicates and the
// statements replay uses. No I/O here; every function has table tests.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
)

// QuoteIdent quotes an identifier the way PostgreSQL's quote_ident does, always.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteLiteral quotes a string constant (standard_conforming_strings on, which
// godwit sets on every session it opens).
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QualName is the quoted schema-qualified name of a table.
func QualName(t *schema.Table) string { return QuoteIdent(t.Schema) + "." + QuoteIdent(t.Name) }

// only names the table's own rows: without ONLY a parent table's reads
// include its inheritance children's rows. A partitioned table holds no rows
// of its own: its rows are those of its partitions.
func only(t *schema.Table) string {
	if t.Partitioning != nil {
		return QualName(t)
	}
	return "ONLY " + QualName(t)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteIdent(n)
	}
	return strings.Join(q, ", ")
}

func copyColumnNames(t *schema.Table) []string {
	cols := t.CopyColumns()
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// keyTypes returns the type of each key column.
func keyTypes(t *schema.Table) []string {
	out := make([]string, len(t.Key))
	for i, k := range t.Key {
		out[i] = t.Column(k).Type
	}
	return out
}

// rowLiteral renders key values as a row of typed literals: ('1'::bigint, 'a'::text).
func rowLiteral(vals, types []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = QuoteLiteral(v) + "::" + types[i]
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func keyExpr(t *schema.Table) string {
	if len(t.Key) == 1 {
		return QuoteIdent(t.Key[0])
	}
	return "(" + quoteList(t.Key) + ")"
}

// RangePredicate is the WHERE condition selecting lo < key <= hi, using row
// comparison so a composite key is ordered like its btree index. nil bounds are open.
func RangePredicate(t *schema.Table, lo, hi []string) string {
	var conds []string
	if lo != nil {
		conds = append(conds, keyExpr(t)+" > "+rowLiteral(lo, keyTypes(t)))
	}
	if hi != nil {
		conds = append(conds, keyExpr(t)+" <= "+rowLiteral(hi, keyTypes(t)))
	}
	if len(conds) == 0 {
		return "true"
	}
	return strings.Join(conds, " AND ")
}

// CopyOutSQL reads one chunk in binary COPY format.
func CopyOutSQL(t *schema.Table, lo, hi []string) string {
	return fmt.Sprintf("COPY (SELECT %s FROM %s WHERE %s) TO STDOUT (FORMAT binary)",
		quoteList(copyColumnNames(t)), only(t), RangePredicate(t, lo, hi))
}

// CopyInSQL loads binary COPY data into the table's copied columns.
func CopyInSQL(t *schema.Table) string {
	return fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", QualName(t), quoteList(copyColumnNames(t)))
}

// unnestFrom renders "unnest($1::text[], ...) AS u(c1, ...)" for the given columns,
// parameters numbered from first, and the typed select list "u.c1::type, ...".
func unnestFrom(names, types []string, first int) (from, typed string) {
	params := make([]string, len(names))
	cast := make([]string, len(names))
	for i, n := range names {
		params[i] = "$" + strconv.Itoa(first+i) + "::text[]"
		cast[i] = "u." + QuoteIdent(n) + "::" + types[i]
	}
	return "unnest(" + strings.Join(params, ", ") + ") AS u(" + quoteList(names) + ")",
		strings.Join(cast, ", ")
}

// UpsertSQL inserts full row images given as one text array per copied column,
// replacing the row with the same key.
func UpsertSQL(t *schema.Table) string {
	cols := t.CopyColumns()
	names := make([]string, len(cols))
	types := make([]string, len(cols))
	overriding := ""
	for i, c := range cols {
		names[i], types[i] = c.Name, c.Type
		if c.Identity == "ALWAYS" {
			overriding = " OVERRIDING SYSTEM VALUE"
		}
	}
	from, typed := unnestFrom(names, types, 1)
	var set []string
	for _, c := range cols {
		// GENERATED ALWAYS identity values cannot be updated (and never change).
		if !contains(t.Key, c.Name) && c.Identity != "ALWAYS" {
			set = append(set, QuoteIdent(c.Name)+" = EXCLUDED."+QuoteIdent(c.Name))
		}
	}
	action := "DO NOTHING"
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	return fmt.Sprintf("INSERT INTO %s (%s)%s SELECT %s FROM %s ON CONFLICT (%s) %s",
		QualName(t), quoteList(names), overriding, typed, from, quoteList(t.Key), action)
}

// keyJoin is "t.k1 = u.k1::type AND ..." for the table's key.
func keyJoin(t *schema.Table, alias string) string {
	types := keyTypes(t)
	conds := make([]string, len(t.Key))
	for i, k := range t.Key {
		conds[i] = alias + "." + QuoteIdent(k) + " = u." + QuoteIdent(k) + "::" + types[i]
	}
	return strings.Join(conds, " AND ")
}

// DeleteSQL deletes the rows whose keys are given as one text array per key column.
func DeleteSQL(t *schema.Table) string {
	from, _ := unnestFrom(t.Key, keyTypes(t), 1)
	return fmt.Sprintf("DELETE FROM %s AS t USING %s WHERE %s", QualName(t), from, keyJoin(t, "t"))
}

// PartialUpdateSQL sets the given non-key columns of rows found by key; the
// parameters are the key arrays first, then one array per column.
func PartialUpdateSQL(t *schema.Table, cols []string) string {
	names := append(append([]string{}, t.Key...), cols...)
	types := keyTypes(t)
	for _, c := range cols {
		types = append(types, t.Column(c).Type)
	}
	from, _ := unnestFrom(names, types, 1)
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = QuoteIdent(c) + " = u." + QuoteIdent(c) + "::" + t.Column(c).Type
	}
	return fmt.Sprintf("UPDATE %s AS t SET %s FROM %s WHERE %s", QualName(t), strings.Join(set, ", "), from, keyJoin(t, "t"))
}

// keyParams renders "k1 = $1::type AND ..." with parameters from first.
func keyParams(t *schema.Table, first int) string {
	types := keyTypes(t)
	conds := make([]string, len(t.Key))
	for i, k := range t.Key {
		conds[i] = QuoteIdent(k) + " = $" + strconv.Itoa(first+i) + "::" + types[i]
	}
	return strings.Join(conds, " AND ")
}

// MovedKeySQL handles an update that changed the key but did not carry every
// column (unchanged TOAST). It returns two statements over parameters $1..$n old
// The first, over the old key then the new key, drops the old row when a row
// with the new key already exists (the copy saw the newer state); the second,
// over the old key then the carried columns, moves the old row to its new key.
func MovedKeySQL(t *schema.Table, carried []string) (dropStale, move string) {
	n := len(t.Key)
	dropStale = fmt.Sprintf("DELETE FROM %s WHERE %s AND EXISTS (SELECT 1 FROM %s WHERE %s)",
		QualName(t), keyParams(t, 1), QualName(t), keyParams(t, n+1))
	set := make([]string, 0, len(carried))
	for i, c := range carried {
		set = append(set, QuoteIdent(c)+" = $"+strconv.Itoa(n+1+i)+"::"+t.Column(c).Type)
	}
	move = fmt.Sprintf("UPDATE %s SET %s WHERE %s", QualName(t), strings.Join(set, ", "), keyParams(t, 1))
	return dropStale, move
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The statements below replay a table identified by all its values (no key,
// REPLICA IDENTITY FULL): one row at a time, matched on every column.

func typedParams(cols []schema.Column, first int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = fmt.Sprintf("$%d::%s", first+i, c.Type)
	}
	return out
}

// rowMatch selects the physical address of one row equal to the values
// $first.. in every column (NULL matching NULL).
func rowMatch(t *schema.Table, first int) string {
	cols := t.CopyColumns()
	params := typedParams(cols, first)
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = QuoteIdent(c.Name) + " IS NOT DISTINCT FROM " + params[i]
	}
	return fmt.Sprintf("ctid = (SELECT ctid FROM %s WHERE %s LIMIT 1)", QualName(t), strings.Join(conds, " AND "))
}

// RowInsertSQL inserts one row given as text values in CopyColumns order.
func RowInsertSQL(t *schema.Table) string {
	cols := t.CopyColumns()
	names := make([]string, len(cols))
	overriding := ""
	for i, c := range cols {
		names[i] = c.Name
		if c.Identity == "ALWAYS" {
			overriding = " OVERRIDING SYSTEM VALUE"
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s)%s VALUES (%s)", QualName(t), quoteList(names), overriding, strings.Join(typedParams(cols, 1), ", "))
}

// RowDeleteSQL deletes one row equal to the old values $1...
func RowDeleteSQL(t *schema.Table) string {
	return fmt.Sprintf("DELETE FROM %s WHERE %s", QualName(t), rowMatch(t, 1))
}

// RowUpdateSQL sets one row equal to the old values $n+1.. (n columns) to the
// new values $1..$n. GENERATED ALWAYS identity values cannot be set (and never change).
func RowUpdateSQL(t *schema.Table) string {
	cols := t.CopyColumns()
	params := typedParams(cols, 1)
	var set []string
	for i, c := range cols {
		if c.Identity != "ALWAYS" {
			set = append(set, QuoteIdent(c.Name)+" = "+params[i])
		}
	}
	if len(set) == 0 {
		set = append(set, QuoteIdent(cols[0].Name)+" = "+QuoteIdent(cols[0].Name))
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE %s", QualName(t), strings.Join(set, ", "), rowMatch(t, len(cols)+1))
}
