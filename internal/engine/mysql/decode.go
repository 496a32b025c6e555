package mysql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// tableInfo maps a binlog row image (every column, in table order) to a
// table's copied columns and key.
type tableInfo struct {
	t       *schema.Table
	all     []*schema.Column
	copyIdx []int  // row index of each copied column
	keyIdx  []int  // row index of each key column
	keyPos  []int  // position of each key column among the copied columns
	isKey   []bool // by copied column
}

func newTableInfo(t *schema.Table) *tableInfo {
	ti := &tableInfo{t: t}
	for i := range t.Columns {
		ti.all = append(ti.all, &t.Columns[i])
		if t.Columns[i].Generated == "" {
			ti.copyIdx = append(ti.copyIdx, i)
		}
	}
	for _, k := range t.Key {
		for i, c := range t.Columns {
			if c.Name == k {
				ti.keyIdx = append(ti.keyIdx, i)
			}
		}
		for j, i := range ti.copyIdx {
			if t.Columns[i].Name == k {
				ti.keyPos = append(ti.keyPos, j)
			}
		}
	}
	ti.isKey = make([]bool, len(ti.copyIdx))
	for _, p := range ti.keyPos {
		ti.isKey[p] = true
	}
	return ti
}

// value converts a decoded binlog value of column c into a replay value:
// integers made unsigned where the column is (the binlog does not say),
// character data as bytes where it is not UTF-8, everything else as decoded
// (DECIMAL and temporal values arrive as exact text; ENUM and SET as their
// numbers, which the server maps back the same way).
func value(c *schema.Column, v any) engine.Value {
	out := rawValue(c, v)
	if !out.Null {
		out.Text = text(out.Raw)
	}
	return out
}

// text is a value's identity text (replay compares keys by it).
func text(raw any) string {
	switch r := raw.(type) {
	case string:
		return r
	case []byte:
		return string(r)
	case int64:
		return strconv.FormatInt(r, 10)
	case uint64:
		return strconv.FormatUint(r, 10)
	case float64:
		return strconv.FormatFloat(r, 'g', -1, 64)
	default:
		return fmt.Sprint(r)
	}
}

// rawValue is value without the text, for columns that are not keys: replay
// writes Raw and only compares key texts.
func rawValue(c *schema.Column, v any) engine.Value {
	if v == nil {
		return engine.Value{Null: true}
	}
	unsigned := isUnsigned(c)
	var out engine.Value
	switch x := v.(type) {
	case int8:
		out.Raw = signed(int64(x), uint64(uint8(x)), unsigned)
	case int16:
		out.Raw = signed(int64(x), uint64(uint16(x)), unsigned)
	case int32:
		if baseType(c) == "mediumint" && unsigned && x < 0 {
			out.Raw = uint64(uint32(x) & 0xffffff)
		} else {
			out.Raw = signed(int64(x), uint64(uint32(x)), unsigned)
		}
	case int64:
		if baseType(c) == "bit" || unsigned {
			out.Raw = uint64(x)
		} else {
			out.Raw = x
		}
	case uint8:
		out.Raw = uint64(x)
	case uint16:
		out.Raw = uint64(x)
	case uint32:
		out.Raw = uint64(x)
	case uint64:
		out.Raw = x
	case int:
		out.Raw = int64(x)
	case float32:
		out.Raw = float64(x)
	case float64:
		out.Raw = x
	case string:
		if rawBytes(c) {
			out.Raw = []byte(x)
		} else {
			out.Raw = x
		}
	case []byte:
		if rawBytes(c) {
			out.Raw = x
		} else {
			out.Raw = string(x)
		}
	default:
		out.Raw = fmt.Sprint(x)
	}
	return out
}

func signed(s int64, u uint64, unsigned bool) any {
	if unsigned {
		return u
	}
	return s
}

// image turns a row into values of the copied columns; skipped columns (a
// MINIMAL or NOBLOB row image) are Unchanged.
func (ti *tableInfo) image(row []any, skipped []int) []engine.Value {
	out := make([]engine.Value, len(ti.copyIdx))
	for j, i := range ti.copyIdx {
		if contains(skipped, i) {
			out[j] = engine.Value{Unchanged: true}
			continue
		}
		if ti.isKey[j] {
			out[j] = value(ti.all[i], row[i])
		} else {
			out[j] = rawValue(ti.all[i], row[i])
		}
	}
	return out
}

func (ti *tableInfo) key(row []any) []engine.Value {
	out := make([]engine.Value, len(ti.keyIdx))
	for j, i := range ti.keyIdx {
		out[j] = value(ti.all[i], row[i])
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// ddl is what a statement in the binlog does to tables.
type ddl struct {
	Verb   string   // "truncate", "alter", "drop", "rename", "replace", "dropdb" or "" (no table change)
	Tables []string // qualified tables it names
}

// tokens splits a statement into words, identifiers and punctuation; comments
// and string literals are dropped, except the body of executable comments
// (/*!50100 ... */), which the server runs.
func tokens(q string) []string {
	var out []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case strings.HasPrefix(q[i:], "/*!"):
			j := i + 3
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			end := strings.Index(q[j:], "*/")
			if end < 0 {
				end = len(q) - j
			}
			out = append(out, tokens(q[j:j+end])...)
			i = j + end + 2
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case strings.HasPrefix(q[i:], "--") || c == '#':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return out
			}
			i += end + 1
		case c == '`':
			var b strings.Builder
			j := i + 1
			for j < len(q) {
				if q[j] == '`' {
					if j+1 < len(q) && q[j+1] == '`' {
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(q[j])
				j++
			}
			out = append(out, "`"+b.String())
			i = j + 1
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '_' || c == '$' || c >= 0x80 || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '$' || q[j] >= 0x80 || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			out = append(out, q[i:j])
			i = j
		case unicode.IsSpace(rune(c)):
			i++
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

// parseDDL reports which tables a binlogged statement changes the shape or
// contents of outside row events.
func parseDDL(q, defaultSchema string) ddl {
	tk := tokens(q)
	kw := func(i int) string {
		if i < len(tk) && !strings.HasPrefix(tk[i], "`") {
			return strings.ToUpper(tk[i])
		}
		return ""
	}
	// name reads [schema.]table at i and returns it qualified and the next index.
	name := func(i int) (string, int) {
		if i >= len(tk) {
			return "", i
		}
		a := strings.TrimPrefix(tk[i], "`")
		if i+2 < len(tk) && tk[i+1] == "." {
			return a + "." + strings.TrimPrefix(tk[i+2], "`"), i + 3
		}
		return defaultSchema + "." + a, i + 1
	}
	names := func(i int, sep func(int) int) []string {
		var out []string
		for i < len(tk) {
			n, j := name(i)
			out = append(out, n)
			i = sep(j)
			if i < 0 {
				break
			}
		}
		return out
	}
	commaList := func(j int) int {
		if j < len(tk) && tk[j] == "," {
			return j + 1
		}
		return -1
	}
	i := 0
	switch kw(0) {
	case "TRUNCATE":
		if kw(1) == "TABLE" {
			i = 1
		}
		n, _ := name(i + 1)
		return ddl{Verb: "truncate", Tables: []string{n}}
	case "ALTER":
		for i = 1; i < len(tk) && kw(i) != "TABLE"; i++ {
			if kw(i) != "ONLINE" && kw(i) != "IGNORE" {
				return ddl{}
			}
		}
		i++
		if kw(i) == "IF" && kw(i+1) == "EXISTS" {
			i += 2
		}
		n, _ := name(i)
		return ddl{Verb: "alter", Tables: []string{n}}
	case "DROP":
		i = 1
		if kw(i) == "TEMPORARY" {
			return ddl{}
		}
		if kw(i) == "DATABASE" || kw(i) == "SCHEMA" {
			i++
			if kw(i) == "IF" && kw(i+1) == "EXISTS" {
				i += 2
			}
			if i < len(tk) {
				return ddl{Verb: "dropdb", Tables: []string{strings.TrimPrefix(tk[i], "`") + ".*"}}
			}
			return ddl{}
		}
		if kw(i) != "TABLE" {
			return ddl{}
		}
		i++
		if kw(i) == "IF" && kw(i+1) == "EXISTS" {
			i += 2
		}
		return ddl{Verb: "drop", Tables: names(i, commaList)}
	case "RENAME":
		if kw(1) != "TABLE" && kw(1) != "TABLES" {
			return ddl{}
		}
		var out []string
		for i = 2; i < len(tk); {
			a, j := name(i)
			if kw(j) != "TO" {
				break
			}
			b, k := name(j + 1)
			out = append(out, a, b)
			if k >= len(tk) || tk[k] != "," {
				break
			}
			i = k + 1
		}
		return ddl{Verb: "rename", Tables: out}
	case "CREATE":
		if kw(1) == "OR" && kw(2) == "REPLACE" {
			i = 3
			if kw(i) == "TEMPORARY" {
				return ddl{}
			}
			if kw(i) == "TABLE" {
				n, _ := name(i + 1)
				return ddl{Verb: "replace", Tables: []string{n}}
			}
		}
	}
	return ddl{}
}

// matches reports whether a qualified name from parseDDL names t.
func matches(name string, t *schema.Table) bool {
	if strings.HasSuffix(name, ".*") {
		return strings.TrimSuffix(name, ".*") == t.Schema
	}
	return name == t.QualifiedName()
}
