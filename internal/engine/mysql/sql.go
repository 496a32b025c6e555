package mysql

import (
	"strings"

	"github.com/godwit-db/godwit/internal/schema"
)

// charset is the character set of a collation name ("latin1_swedish_ci" ->
// "latin1"); "" for binary data.
func charset(collation string) string {
	cs, _, _ := strings.Cut(collation, "_")
	return cs
}

// utf8Compatible reports whether a column's bytes are already UTF-8, so the
// utf8mb4 session reads and writes them unchanged.
func utf8Compatible(collation string) bool {
	switch charset(collation) {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii", "binary":
		return true
	}
	return false
}

func baseType(c *schema.Column) string {
	t := strings.ToLower(c.Type)
	if i := strings.IndexAny(t, "( "); i >= 0 {
		t = t[:i]
	}
	return t
}

// isBinaryType reports a binary string type (bytes with no character set).
func isBinaryType(c *schema.Column) bool {
	switch baseType(c) {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point", "linestring",
		"polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return true
	}
	return false
}

// rawBytes reports whether replay sends the column's values as bytes: binary
// data, and character data in a character set other than UTF-8.
func rawBytes(c *schema.Column) bool {
	return isBinaryType(c) || (c.Collation != "" && !utf8Compatible(c.Collation))
}

func isUnsigned(c *schema.Column) bool { return strings.Contains(strings.ToLower(c.Type), "unsigned") }

// selectExpr is how a column is read for copying and hashing, so that its text
// form loads back to the identical value: FLOAT as a double (its own display
// rounds to 6 digits), DOUBLE(M,D) as a plain double (its display rounds to D
// decimals, while the binlog carries the stored value), BIT as a number,
// YEAR in four digits, other character sets as raw bytes.
func selectExpr(c *schema.Column) string {
	q := QuoteIdent(c.Name)
	switch baseType(c) {
	case "float":
		return q + " + 0e0"
	case "double", "real":
		if strings.Contains(c.Type, ",") {
			return q + " + 0e0"
		}
	case "bit":
		return q + " + 0"
	case "year":
		return "LPAD(" + q + " + 0, 4, '0')" // '0' would load as 2000, '0000' is year 0
	}
	if !utf8Compatible(c.Collation) {
		return "CAST(" + q + " AS BINARY)"
	}
	return q
}

// loadTarget is how a column appears in LOAD DATA's column list, and its SET
// clause when the text needs converting: BIT from its number, and JSON, which
// MySQL refuses to read from the binary character set the file is read in.
func loadTarget(c *schema.Column, i int) (col, set string) {
	v := "@v" + itoa(i)
	switch baseType(c) {
	case "bit":
		return v, QuoteIdent(c.Name) + " = CAST(" + v + " AS UNSIGNED)"
	case "json":
		return v, QuoteIdent(c.Name) + " = CONVERT(" + v + " USING utf8mb4)"
	}
	return QuoteIdent(c.Name), ""
}

// placeholder is the parameter expression for a value of column c written by
// replay: character data in other character sets is sent as raw bytes and
// reinterpreted, so that no conversion through UTF-8 happens.
func placeholder(c *schema.Column) string {
	if !utf8Compatible(c.Collation) {
		return "CONVERT(? USING " + charset(c.Collation) + ") COLLATE " + c.Collation
	}
	return "?"
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func copyColumns(t *schema.Table) []*schema.Column {
	var out []*schema.Column
	for i := range t.Columns {
		if t.Columns[i].Generated == "" {
			out = append(out, &t.Columns[i])
		}
	}
	return out
}

func keyColumns(t *schema.Table) []*schema.Column {
	out := make([]*schema.Column, len(t.Key))
	for i, k := range t.Key {
		out[i] = t.Column(k)
	}
	return out
}

func selectList(cols []*schema.Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = selectExpr(c)
	}
	return strings.Join(s, ", ")
}

func quoteNames(cols []*schema.Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = QuoteIdent(c.Name)
	}
	return strings.Join(s, ", ")
}

// keyBound compares a composite key with vals, written so that the first key
// column bounds an index range scan: for key > lo,
// k1 >= a AND (k1 > a OR (k1 = a AND ...k2 > b)). strict is the operator on
// the leading columns, last the one on the final column, prefix the one on the
// first column alone.
func keyBound(keys []*schema.Column, vals []string, strict, last, prefix string) (string, []any) {
	var args []any
	var rec func(i int) string
	rec = func(i int) string {
		k := QuoteIdent(keys[i].Name)
		args = append(args, vals[i])
		if i == len(keys)-1 {
			return k + " " + last + " ?"
		}
		s := "(" + k + " " + strict + " ? OR (" + k + " = ? AND "
		args = append(args, vals[i])
		return s + rec(i+1) + "))"
	}
	if len(keys) == 1 {
		cond := rec(0)
		return cond, args
	}
	args = append(args, vals[0])
	cond := QuoteIdent(keys[0].Name) + " " + prefix + " ? AND " + rec(0)
	return cond, args
}

// after is "key > lo".
func after(keys []*schema.Column, lo []string) (string, []any) {
	return keyBound(keys, lo, ">", ">", ">=")
}

// notAfter is "key <= hi".
func notAfter(keys []*schema.Column, hi []string) (string, []any) {
	return keyBound(keys, hi, "<", "<=", "<=")
}

// rangeWhere is the predicate lo < key <= hi (nil bounds are open).
func rangeWhere(t *schema.Table, lo, hi []string) (string, []any) {
	keys := keyColumns(t)
	var conds []string
	var args []any
	if lo != nil {
		c, a := after(keys, lo)
		conds, args = append(conds, c), append(args, a...)
	}
	if hi != nil {
		c, a := notAfter(keys, hi)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(conds) == 0 {
		return "TRUE", nil
	}
	return strings.Join(conds, " AND "), args
}

// hashExpr is an expression giving a row's hash text: MD5 over every copied
// column's bytes and a NULL map (CONCAT_WS skips NULLs).
func hashExpr(t *schema.Table) string {
	cols := copyColumns(t)
	parts := make([]string, 0, len(cols)+1)
	nulls := make([]string, len(cols))
	for i, c := range cols {
		parts = append(parts, "CAST("+selectExpr(c)+" AS BINARY)")
		nulls[i] = "ISNULL(" + QuoteIdent(c.Name) + ")"
	}
	parts = append(parts, "CONCAT("+strings.Join(nulls, ", ")+")")
	return "MD5(CONCAT_WS('#', " + strings.Join(parts, ", ") + "))"
}

// needsEscape marks the bytes LOAD DATA's text format escapes.
var needsEscape = [256]bool{'\\': true, '\t': true, '\n': true, '\r': true, 0: true}

// loadEscape appends v escaped for LOAD DATA's default text format
// (fields by tab, lines by newline, backslash escapes).
func loadEscape(buf, v []byte) []byte {
	start := 0
	for i, b := range v {
		if !needsEscape[b] {
			continue
		}
		buf = append(buf, v[start:i]...)
		start = i + 1
		switch b {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case 0:
			buf = append(buf, '\\', '0')
		}
	}
	return append(buf, v[start:]...)
}
