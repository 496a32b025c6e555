package mysql

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Dialect is the MySQL/MariaDB half of a migration between engines.
func Dialect() engine.Dialect { return dialect{} }

type dialect struct{}

var _ engine.Dialect = dialect{}

func (dialect) Engine() string { return "mysql" }

// ReadFormat is the chunk format ReadChunk already writes.
func (dialect) ReadFormat() string { return Format }

// Neutral implements engine.Dialect for a column as information_schema
// describes it (COLUMN_TYPE). MariaDB's JSON is a longtext with a json_valid
// check, which only the table definition shows.
func (dialect) Neutral(t *schema.Table, c *schema.Column) (types.Type, error) {
	nt := neutral(t, c)
	switch nt.Kind {
	case types.Text, types.Enum, types.Set:
		if cs := charset(c.Collation); !utf8Compatible(c.Collation) && decoderFor(cs) == nil {
			return nt, fmt.Errorf("column %s is in character set %s, which godwit cannot convert to UTF-8: convert it to utf8mb4 on the source, or exclude the table", c.Name, cs)
		}
	}
	return nt, nil
}

// typeParts splits a COLUMN_TYPE into its lower-case base name, the text in its
// parentheses (case kept: enum labels) and the lower-case words after them.
func typeParts(typ string) (base, args, rest string) {
	typ = strings.TrimSpace(typ)
	open := strings.IndexByte(typ, '(')
	if open < 0 {
		base, rest, _ = strings.Cut(typ, " ")
		return strings.ToLower(base), "", strings.ToLower(rest)
	}
	end := strings.LastIndexByte(typ, ')')
	if end < open {
		end = len(typ)
	}
	return strings.ToLower(strings.TrimSpace(typ[:open])), typ[open+1 : end], strings.ToLower(typ[min(end+1, len(typ)):])
}

// intArgs reads "10,2" as numbers; missing ones are 0.
func intArgs(args string) (int, int) {
	a, b, _ := strings.Cut(args, ",")
	x, _ := strconv.Atoi(strings.TrimSpace(a))
	y, _ := strconv.Atoi(strings.TrimSpace(b))
	return x, y
}

var intBits = map[string]int{"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}

func neutral(t *schema.Table, c *schema.Column) types.Type {
	base, args, rest := typeParts(c.Type)
	n, s := intArgs(args)
	nt := types.Type{Native: c.Type}
	switch base {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		nt.Kind, nt.Bits, nt.Unsigned = types.Int, intBits[base], strings.Contains(rest, "unsigned")
	case "decimal", "numeric", "dec", "fixed":
		nt.Kind, nt.Precision, nt.Scale = types.Decimal, n, s
		if args == "" {
			nt.Precision = 10
		}
	case "float":
		nt.Kind, nt.Bits = types.Float, 32
	case "double", "real":
		nt.Kind, nt.Bits = types.Float, 64
	case "char":
		nt.Kind, nt.Length, nt.Fixed = types.Text, max(n, 1), true
	case "varchar":
		nt.Kind, nt.Length = types.Text, n
	case "tinytext", "text", "mediumtext":
		nt.Kind = types.Text
	case "longtext":
		nt.Kind = types.Text
		if t != nil && strings.Contains(t.CreateSQL, "json_valid("+QuoteIdent(c.Name)+")") {
			nt.Kind = types.JSON
		}
	case "binary":
		nt.Kind, nt.Length, nt.Fixed = types.Bytes, max(n, 1), true
	case "varbinary":
		nt.Kind, nt.Length = types.Bytes, n
	case "tinyblob", "blob", "mediumblob", "longblob":
		nt.Kind = types.Bytes
	case "date":
		nt.Kind = types.Date
	case "time":
		nt.Kind, nt.Precision = types.Time, n
	case "datetime":
		nt.Kind, nt.Precision = types.Timestamp, n
	case "timestamp":
		nt.Kind, nt.Precision = types.TimestampTZ, n
	case "year":
		nt.Kind = types.Year
	case "json":
		nt.Kind = types.JSON
	case "enum":
		nt.Kind, nt.Labels = types.Enum, parseLabels(args)
	case "set":
		nt.Kind, nt.Labels = types.Set, parseLabels(args)
	case "bit":
		nt.Kind, nt.Length = types.Bit, max(n, 1)
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		nt.Kind = types.Spatial
	default:
		nt.Kind = types.Other
	}
	return nt
}

// parseLabels reads the quoted labels of an enum or set: 'a','b' (see unquoteSQL).
func parseLabels(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		lit, n := unquoteSQL(s[i:])
		out = append(out, lit)
		i += n - 1
	}
	return out
}

// unquoteSQL reads the string literal at the start of s (single-quoted, a
// quote doubled or backslash-escaped inside) and returns it and the bytes it took.
func unquoteSQL(s string) (string, int) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\'':
			return b.String(), i + 1
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(unescapeByte(s[i]))
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s)
}

// unescapeByte is the byte a backslash escape stands for, in string
// literals and in LOAD DATA's text format alike.
func unescapeByte(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 0x1a
	}
	return c
}

// ColumnType implements engine.Dialect.
func (dialect) ColumnType(nt types.Type, key bool) (string, types.Loss, error) {
	switch nt.Kind {
	case types.Bool:
		return "tinyint(1)", "", nil
	case types.Int:
		name := map[int]string{8: "tinyint", 16: "smallint", 24: "mediumint", 32: "int"}[nt.Bits]
		if name == "" {
			name = "bigint"
		}
		if nt.Unsigned {
			name += " unsigned"
		}
		return name, "", nil
	case types.Decimal:
		if nt.Precision > 0 && nt.Precision <= 65 && nt.Scale <= 30 {
			return fmt.Sprintf("decimal(%d,%d)", nt.Precision, nt.Scale), "", nil
		}
		return "decimal(65,30)", types.LossNumericPrecision, nil
	case types.Float:
		if nt.Bits == 32 {
			return "float", "", nil
		}
		return "double", "", nil
	case types.Text:
		switch {
		case nt.Fixed && nt.Length > 0 && nt.Length <= 255:
			return fmt.Sprintf("char(%d)", nt.Length), "", nil
		case nt.Length > 0 && nt.Length <= 16383:
			return fmt.Sprintf("varchar(%d)", nt.Length), "", nil
		case key:
			return "varchar(768)", "", nil
		}
		return "longtext", "", nil
	case types.Bytes:
		switch {
		case nt.Fixed && nt.Length > 0 && nt.Length <= 255:
			return fmt.Sprintf("binary(%d)", nt.Length), "", nil
		case nt.Length > 0 && nt.Length <= 65535:
			return fmt.Sprintf("varbinary(%d)", nt.Length), "", nil
		case key:
			return "varbinary(3072)", "", nil
		}
		return "longblob", "", nil
	case types.Date:
		return "date", "", nil
	case types.Time:
		return withPrecision("time", nt.Precision), "", nil
	case types.Timestamp, types.TimestampTZ:
		// TIMESTAMP ends in 2038: an instant is kept as a UTC datetime.
		return withPrecision("datetime", nt.Precision), "", nil
	case types.Year:
		return "year", "", nil
	case types.JSON:
		return "json", "", nil
	case types.UUID:
		return "char(36)", "", nil
	case types.Enum, types.Set:
		if len(nt.Labels) == 0 {
			return "", "", fmt.Errorf("%s type has no labels", nt.Kind)
		}
		if nt.Kind == types.Set && len(nt.Labels) > 64 {
			return "", "", fmt.Errorf("a MySQL SET holds at most 64 labels, this one has %d: exclude the table", len(nt.Labels))
		}
		quoted := make([]string, len(nt.Labels))
		for i, l := range nt.Labels {
			quoted[i] = QuoteString(l)
		}
		return string(nt.Kind) + "(" + strings.Join(quoted, ",") + ")", "", nil
	case types.Bit:
		if nativeBit(nt) {
			return fmt.Sprintf("bit(%d)", nt.Length), "", nil
		}
		if nt.Length > 0 && nt.Length <= 16383 {
			return fmt.Sprintf("varchar(%d)", nt.Length), types.LossAsText, nil
		}
		return "longtext", types.LossAsText, nil
	case types.Array:
		return "json", types.LossArrayAsJSON, nil
	case types.Interval:
		return "varchar(64)", types.LossAsText, nil
	case types.Inet:
		return "varchar(43)", types.LossAsText, nil
	case types.Spatial:
		return "", "", errors.New("spatial types are not carried between engines: exclude the table")
	}
	return "longtext", types.LossAsText, nil // TSVector, Other
}

// nativeBit reports whether a bit string type is a MySQL BIT column.
func nativeBit(nt types.Type) bool { return !nt.Varying && nt.Length >= 1 && nt.Length <= 64 }

func withPrecision(name string, p int) string {
	p = min(max(p, 0), 6)
	if p == 0 {
		return name
	}
	return fmt.Sprintf("%s(%d)", name, p)
}

var numericDefault = regexp.MustCompile(`^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$`)

// Default implements engine.Dialect. MariaDB's COLUMN_DEFAULT quotes string
// literals and says NULL; readColumns brings MySQL's to the same form.
func (dialect) Default(c *schema.Column) (types.Default, bool) {
	d := strings.TrimSpace(c.Default)
	nt := neutralOf(c)
	lower := strings.ToLower(d)
	switch {
	case d == "":
		return types.Default{}, false
	case lower == "null":
		return types.Default{Null: true}, true
	case isNow(lower, nt.Kind):
		return types.Default{Now: true}, true
	}
	var lit string
	switch {
	case strings.HasPrefix(d, "'"):
		s, n := unquoteSQL(d)
		if n != len(d) {
			return types.Default{}, false
		}
		if nt.Kind == types.Bytes && strings.ContainsRune(s, '?') {
			return types.Default{}, false // information_schema shows bytes it cannot print as '?'
		}
		lit = s
	case strings.HasPrefix(lower, "0x") && nt.Kind == types.Bytes:
		b, err := hex.DecodeString(d[2:])
		if err != nil {
			return types.Default{}, false
		}
		lit = string(b)
	case (strings.HasPrefix(lower, "b'") || strings.HasPrefix(lower, "0x")) && nt.Kind == types.Bit:
		n, err := literalBits(d)
		if err != nil {
			return types.Default{}, false
		}
		lit = strconv.FormatUint(n, 10) // as SELECT reads BIT
	case numericDefault.MatchString(d):
		lit = d
	default:
		return types.Default{}, false // an expression
	}
	v, err := dialect{}.ToCanon(c, engine.Value{Text: lit})
	if err != nil {
		return types.Default{}, false
	}
	return types.Default{Value: v.Text}, true
}

// isNow reports a default that is the current time, for a column of kind k.
func isNow(d string, k types.Kind) bool {
	d = strings.TrimSuffix(strings.TrimPrefix(d, "("), ")")
	name, _, _ := strings.Cut(d, "(")
	switch name {
	case "current_timestamp", "now", "localtime", "localtimestamp":
		return k == types.Timestamp || k == types.TimestampTZ
	case "curdate", "current_date":
		return k == types.Date
	case "curtime", "current_time":
		return k == types.Time
	}
	return false
}

// literalBits reads b'101' or 0x1f.
func literalBits(s string) (uint64, error) {
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	return strconv.ParseUint(strings.Trim(s[1:], "'"), 2, 64)
}

// DefaultSQL implements engine.Dialect. A default FinishTable must put in
// parentheses (on TEXT, BLOB and JSON columns) is still written bare here.
func (dialect) DefaultSQL(nt types.Type, d types.Default) string {
	switch {
	case d.Null:
		return "NULL"
	case d.Now:
		switch nt.Kind {
		case types.Timestamp, types.TimestampTZ:
			p := min(max(nt.Precision, 0), 6)
			if p == 0 {
				return "CURRENT_TIMESTAMP"
			}
			return fmt.Sprintf("CURRENT_TIMESTAMP(%d)", p)
		case types.Date:
			return "(CURRENT_DATE)"
		case types.Time:
			return "(CURRENT_TIME)"
		}
		return ""
	}
	v := d.Value
	switch nt.Kind {
	case types.Bool:
		if v == "t" {
			return "1"
		}
		return "0"
	case types.Int, types.Year:
		return v
	case types.Decimal:
		if v == "NaN" || strings.HasSuffix(v, "Infinity") {
			return "" // no MySQL decimal value
		}
		return v
	case types.Float:
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.Contains(v, "Inf") || v == "NaN" {
			return "" // NaN and infinities have no MySQL float
		}
		return v
	case types.Bit:
		if nativeBit(nt) {
			return "b'" + v + "'"
		}
	case types.Bytes:
		if v == "" {
			return "''"
		}
		return "0x" + hex.EncodeToString([]byte(v))
	}
	return QuoteString(v)
}

// neutralOf is the column's neutral type: the one the bridge set, or the
// catalog type's own.
func neutralOf(c *schema.Column) types.Type {
	if c.Neutral != nil {
		return *c.Neutral
	}
	return neutral(nil, c)
}

// ToCanon implements engine.Dialect for copy rows (DecodeRows), Rows text and
// Stream values: ENUM and SET arrive from the binary log as numbers, BIT as
// an unsigned number, text in other character sets as its bytes.
func (dialect) ToCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	nt := neutralOf(c)
	var s string
	switch r := v.Raw.(type) {
	case nil:
		s = v.Text
	case int64, uint64:
		n, _ := strconv.ParseUint(text(r), 10, 64) // negative int64: not an index nor bits
		switch nt.Kind {
		case types.Enum:
			return enumLabel(nt, n)
		case types.Set:
			return setLabels(nt, n)
		case types.Bit:
			return engine.Value{Text: bitString(n, nt.Length)}, nil
		}
		s = text(r)
	default:
		s = text(r)
	}
	switch nt.Kind {
	case types.Bit:
		if baseType(c) == "bit" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return engine.Value{}, fmt.Errorf("%q is not the number of a BIT value", s)
			}
			s = bitString(n, nt.Length)
		}
	case types.Bytes:
		if nt.Fixed && len(s) < nt.Length && baseType(c) == "binary" {
			s += strings.Repeat("\x00", nt.Length-len(s)) // the binary log drops BINARY's padding
		}
		return engine.Value{Text: s}, nil
	case types.Date, types.Timestamp, types.TimestampTZ:
		if zeroDate(s) {
			return engine.Value{}, fmt.Errorf("%q: %w", s, types.ErrZeroDate)
		}
	case types.Array:
		out, err := types.CanonJSON(s)
		return engine.Value{Text: out}, err
	}
	if !utf8Compatible(c.Collation) {
		dec := decoderFor(charset(c.Collation))
		if dec == nil {
			return engine.Value{}, fmt.Errorf("character set %s cannot be converted to UTF-8", charset(c.Collation))
		}
		u, err := dec.String(s)
		if err != nil {
			return engine.Value{}, fmt.Errorf("%q is not valid %s text: %v", s, charset(c.Collation), err)
		}
		s = u
	}
	out, err := types.Canon(nt, s)
	if err != nil {
		return engine.Value{}, err
	}
	return engine.Value{Text: out}, nil
}

// zeroDate reports a MySQL date with a zero month or day ('0000-00-00' among them).
func zeroDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	return s[5:7] == "00" || s[8:10] == "00"
}

func enumLabel(nt types.Type, n uint64) (engine.Value, error) {
	if n == 0 {
		return engine.Value{Text: ""}, nil // the error value of an invalid insert
	}
	if n > uint64(len(nt.Labels)) {
		return engine.Value{}, fmt.Errorf("enum index %d is beyond its %d labels", n, len(nt.Labels))
	}
	return engine.Value{Text: nt.Labels[n-1]}, nil
}

func setLabels(nt types.Type, n uint64) (engine.Value, error) {
	var out []string
	for i, l := range nt.Labels {
		if n&(1<<uint(i)) != 0 {
			out = append(out, l)
			n &^= 1 << uint(i)
		}
	}
	if n != 0 {
		return engine.Value{}, fmt.Errorf("set bits %b are beyond its %d labels", n, len(nt.Labels))
	}
	return engine.Value{Text: strings.Join(out, ",")}, nil
}

// bitString writes n as length bits.
func bitString(n uint64, length int) string {
	s := strconv.FormatUint(n, 2)
	if len(s) < length {
		s = strings.Repeat("0", length-len(s)) + s
	}
	return s
}

// FromCanon implements engine.Dialect: integers as int64/uint64, floats as
// float64, bytes as []byte, BIT as its unsigned number (what LOAD DATA's CAST
// and a parameter take), everything else as text.
func (dialect) FromCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	nt := neutralOf(c)
	s := v.Text
	switch nt.Kind {
	case types.Bool:
		switch s {
		case "t":
			return engine.Value{Text: "1", Raw: int64(1)}, nil
		case "f":
			return engine.Value{Text: "0", Raw: int64(0)}, nil
		}
		return engine.Value{}, fmt.Errorf("%q is not a boolean", s)
	case types.Int:
		if nt.Unsigned || strings.Contains(strings.ToLower(c.Type), "unsigned") {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return engine.Value{}, fmt.Errorf("%q is not an unsigned integer", s)
			}
			return engine.Value{Text: s, Raw: n}, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return engine.Value{}, fmt.Errorf("%q is not a 64-bit integer", s)
		}
		return engine.Value{Text: s, Raw: n}, nil
	case types.Year:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 9999 {
			return engine.Value{}, fmt.Errorf("%q is not a year", s)
		}
		y := fmt.Sprintf("%04d", n) // '0' would load as 2000, '0000' is year 0
		return engine.Value{Text: y, Raw: y}, nil
	case types.Decimal:
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			return engine.Value{}, fmt.Errorf("%s has no MySQL decimal value", s)
		}
	case types.Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return engine.Value{}, fmt.Errorf("%s has no MySQL float value", s)
		}
		if nt.Bits == 32 {
			// The float's exact value: its shortest text can lie beyond FLOAT's range.
			f = float64(float32(f))
		}
		return engine.Value{Text: s, Raw: f}, nil
	case types.Date, types.Timestamp, types.TimestampTZ, types.Time:
		if strings.HasSuffix(s, " BC") || strings.HasSuffix(s, "infinity") {
			return engine.Value{}, fmt.Errorf("%s has no MySQL %s value", s, nt.Kind)
		}
	case types.Bytes:
		return engine.Value{Text: s, Raw: []byte(s)}, nil
	case types.Bit:
		if baseType(c) == "bit" {
			n, err := strconv.ParseUint(s, 2, 64)
			if err != nil {
				return engine.Value{}, fmt.Errorf("%q is not a bit string of at most 64 bits", s)
			}
			return engine.Value{Text: strconv.FormatUint(n, 10), Raw: n}, nil
		}
	case types.Spatial:
		return engine.Value{}, errors.New("spatial values are not carried between engines")
	}
	return engine.Value{Text: s, Raw: s}, nil
}

// DecodeRows implements engine.Dialect: LOAD DATA's text format as ReadChunk
// and ReadRange write it (tabs between fields, a newline after each row,
// backslash escapes, \N for NULL).
func (dialect) DecodeRows(r io.Reader, cols []schema.Column, fn func([]engine.Value) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	row := make([]engine.Value, len(cols))
	var long []byte
	var field []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		n := 0
		for start := 0; start <= len(line); {
			end := bytes.IndexByte(line[start:], '\t')
			if end < 0 {
				end = len(line)
			} else {
				end += start
			}
			if n == len(cols) {
				return fmt.Errorf("a copied row has more than the %d columns of the table", len(cols))
			}
			raw := line[start:end]
			if string(raw) == `\N` {
				row[n] = engine.Value{Null: true}
			} else {
				field = loadUnescape(field[:0], raw)
				row[n] = engine.Value{Text: string(field)}
			}
			n++
			start = end + 1
		}
		if n != len(cols) {
			return fmt.Errorf("a copied row has %d columns, the table %d", n, len(cols))
		}
		if err := fn(row); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// loadUnescape appends v with loadEscape's escapes undone.
func loadUnescape(buf, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			buf = append(buf, unescapeByte(v[i]))
			continue
		}
		buf = append(buf, v[i])
	}
	return buf
}

// NewEncoder implements engine.Dialect: rows in the format WriteChunk loads.
func (dialect) NewEncoder(w io.Writer, _ []schema.Column) engine.RowEncoder {
	return &encoder{w: bufio.NewWriterSize(w, 64<<10)}
}

type encoder struct {
	w   *bufio.Writer
	buf []byte
}

func (e *encoder) Encode(row []engine.Value) error {
	e.buf = e.buf[:0]
	for i, v := range row {
		if i > 0 {
			e.buf = append(e.buf, '\t')
		}
		if v.Null {
			e.buf = append(e.buf, '\\', 'N')
			continue
		}
		switch r := v.Raw.(type) {
		case nil:
			e.buf = loadEscape(e.buf, []byte(v.Text))
		case []byte:
			e.buf = loadEscape(e.buf, r)
		case string:
			e.buf = loadEscape(e.buf, []byte(r))
		case int64:
			e.buf = strconv.AppendInt(e.buf, r, 10)
		case uint64:
			e.buf = strconv.AppendUint(e.buf, r, 10)
		case float64:
			e.buf = strconv.AppendFloat(e.buf, r, 'g', -1, 64)
		default:
			e.buf = loadEscape(e.buf, []byte(fmt.Sprint(r)))
		}
	}
	e.buf = append(e.buf, '\n')
	_, err := e.w.Write(e.buf)
	return err
}

func (e *encoder) Close() error   { return e.w.Flush() }
func (e *encoder) Format() string { return Format }

// decoderFor is the decoder of a MySQL character set other than UTF-8, or nil.
func decoderFor(cs string) *textDecoder { return decoders[cs] }

// A textDecoder turns text in a MySQL character set into UTF-8 as the server
// itself converts it. golang.org/x/text implements the WHATWG tables, which
// differ from MySQL's in places (TestDecodersMatchServer compares every
// character with the server's conversion): MySQL maps the bytes ISO-8859 and
// cp1252 leave undefined to C1 controls, has other characters at a few
// positions of greek, hebrew, cp866, koi8u, gb2312, sjis and ujis (sjis
// 0x815F is a backslash, not U+FF3C), an older Big5 table, user-defined areas
// in its Japanese sets, and eucjpms has IBM's extensions.
type textDecoder struct {
	base  encoding.Encoding
	bytes *[256]rune // a single-byte set: the character of each byte
	ascii bool       // bytes maps 0x00-0x7F to themselves: ASCII text is already UTF-8
	// A multi-byte set: width is the length of the well-formed character s
	// starts with (1 for anything else); fix is MySQL's own character for a
	// sequence where base's differs.
	width func(s string) int
	fix   func(seq string) (rune, bool)
}

// String converts s, as the server does.
func (d *textDecoder) String(s string) (string, error) {
	if d.ascii && isASCII(s) {
		return s, nil
	}
	if d.bytes != nil {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); i++ {
			b.WriteRune(d.bytes[s[i]])
		}
		return b.String(), nil
	}
	if d.fix == nil {
		return d.base.NewDecoder().String(s)
	}
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		n := d.width(s[i:])
		if r, ok := d.fix(s[i : i+n]); ok {
			u, err := d.base.NewDecoder().String(s[done:i])
			if err != nil {
				return "", err
			}
			b.WriteString(u)
			b.WriteRune(r)
			done = i + n
		}
		i += n
	}
	if done == 0 {
		return d.base.NewDecoder().String(s)
	}
	u, err := d.base.NewDecoder().String(s[done:])
	b.WriteString(u)
	return b.String(), err
}

// byteDecoder is a single-byte set: base's characters, fixes where MySQL's
// differ, and the C1 control where base has no character in 0x80-0x9F.
func byteDecoder(base encoding.Encoding, fixes map[byte]rune) *textDecoder {
	var t [256]rune
	for i := range t {
		r, ok := fixes[byte(i)]
		if !ok {
			u, _ := base.NewDecoder().String(string([]byte{byte(i)}))
			r, _ = utf8.DecodeRuneInString(u)
			if r == utf8.RuneError && i >= 0x80 && i <= 0x9f {
				r = rune(i)
			}
		}
		t[i] = r
	}
	ascii := true
	for i := range 0x80 {
		ascii = ascii && t[i] == rune(i)
	}
	return &textDecoder{base: base, bytes: &t, ascii: ascii}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// sjisWidth: a lead byte 0x81-0x9F or 0xE0-0xFC, a trail byte 0x40-0xFC but 0x7F.
func sjisWidth(s string) int {
	if len(s) >= 2 && (s[0] >= 0x81 && s[0] <= 0x9f || s[0] >= 0xe0 && s[0] <= 0xfc) && s[1] >= 0x40 && s[1] <= 0xfc && s[1] != 0x7f {
		return 2
	}
	return 1
}

// eucWidth (EUC-JP): 0x8E or 0xA1-0xFE and a byte 0xA1-0xFE, or 0x8F and two.
func eucWidth(s string) int {
	euc := func(i int) bool { return i < len(s) && s[i] >= 0xa1 && s[i] <= 0xfe }
	switch {
	case len(s) > 0 && s[0] == 0x8f && euc(1) && euc(2):
		return 3
	case len(s) > 0 && (s[0] == 0x8e || euc(0)) && euc(1):
		return 2
	}
	return 1
}

// dbcsWidth (Big5, GB2312): a lead byte 0x81-0xFE, a trail byte 0x40-0xFE but 0x7F.
func dbcsWidth(s string) int {
	if len(s) >= 2 && s[0] >= 0x81 && s[0] <= 0xfe && s[1] >= 0x40 && s[1] <= 0xfe && s[1] != 0x7f {
		return 2
	}
	return 1
}

// fixes is a fix function of a table.
func fixes(m map[string]rune) func(string) (rune, bool) {
	return func(seq string) (rune, bool) { r, ok := m[seq]; return r, ok }
}

// JIS X 0208 positions where MySQL's sjis and ujis have other characters than
// the WHATWG tables (which follow Windows), in Shift JIS and in EUC-JP.
var (
	sjisFixes = map[string]rune{"\x81\x5f": '\\', "\x81\x60": '\u301c', "\x81\x61": '\u2016', "\x81\x7c": '\u2212',
		"\x81\x91": '\u00a2', "\x81\x92": '\u00a3', "\x81\xca": '\u00ac'}
	ujisFixes = map[string]rune{"\xa1\xc0": '\\', "\xa1\xc1": '\u301c', "\xa1\xc2": '\u2016', "\xa1\xdd": '\u2212',
		"\xa1\xf1": '\u00a2', "\xa1\xf2": '\u00a3', "\xa2\xcc": '\u00ac', "\x8f\xa2\xb7": '~'}
)

// cp932Fix: the user-defined area 0xF040-0xF9FC is U+E000-U+E757.
func cp932Fix(seq string) (rune, bool) {
	if len(seq) != 2 || seq[0] < 0xf0 || seq[0] > 0xf9 {
		return 0, false
	}
	t := int(seq[1]) - 0x40
	if seq[1] > 0x7f {
		t--
	}
	return rune(0xe000 + int(seq[0]-0xf0)*188 + t), true
}

// eucUserDefined: the user-defined areas of ujis and eucjpms, rows 0xF5-0xFE
// of JIS X 0208 (U+E000-U+E3AB) and of JIS X 0212 (U+E3AC-U+E757).
func eucUserDefined(seq string) (rune, bool) {
	base := rune(0xe000)
	if len(seq) == 3 {
		seq, base = seq[1:], 0xe3ac
	}
	if len(seq) != 2 || seq[0] < 0xf5 || seq[0] > 0xfe {
		return 0, false
	}
	return base + rune(int(seq[0]-0xf5)*94+int(seq[1]-0xa1)), true
}

// eucjpmsIBM are the IBM extensions eucjpms has at 0x8FF3F3-0x8FF4FE, in order.
var eucjpmsIBM = []rune("" +
	"\u2170\u2171\u2172\u2173\u2174\u2175\u2176\u2177\u2178\u2179\u2160\u2161\u2162\u2163\u2164\u2165" +
	"\u2166\u2167\u2168\u2169\uff07\uff02\u3231\u2116\u2121\u70bb\u4efc\u50f4\u51ec\u5307\u5324\ufa0e" +
	"\u548a\u5759\ufa0f\ufa10\u589e\u5bec\u5cf5\u5d53\ufa11\u5fb7\u6085\u6120\u654e\u663b\u6665\ufa12" +
	"\uf929\u6801\ufa13\ufa14\u6a6b\u6ae2\u6df8\u6df2\u7028\ufa15\ufa16\u7501\u7682\u769e\ufa17\u7930" +
	"\ufa18\ufa19\ufa1a\ufa1b\u7ae7\ufa1c\ufa1d\u7da0\u7dd6\ufa1e\u8362\ufa1f\u85b0\ufa20\ufa21\u8807" +
	"\ufa22\u8b7f\u8cf4\u8d76\ufa23\ufa24\ufa25\u90de\ufa26\u9115\ufa27\ufa28\u9592\uf9dc\ufa29\u973b" +
	"\u974d\u9751\ufa2a\ufa2b\ufa2c\u999e\u9ad9\u9b72\ufa2d\u9ed1")

func eucjpmsFix(seq string) (rune, bool) {
	if len(seq) == 3 && seq[0] == 0x8f && (seq[1] == 0xf3 && seq[2] >= 0xf3 || seq[1] == 0xf4) {
		return eucjpmsIBM[int(seq[1]-0xf3)*94+int(seq[2])-0xf3], true
	}
	if seq == "\x8f\xa2\xc3" {
		return '\uffe4', true
	}
	return eucUserDefined(seq)
}

// big5Runs are where MySQL's Big5 differs from WHATWG's: from code, n
// characters from r on (codes in order: trail bytes 0x40-0x7E, 0xA1-0xFE).
var big5Runs = []struct {
	code uint16
	r    rune
	n    int
}{
	{0xa145, 0x2022, 1}, {0xa14e, 0xff64, 1}, {0xa15a, 0xfffd, 1}, {0xa1c2, 0x203e, 1}, {0xa1c3, 0xfffd, 1},
	{0xa1c5, 0xfffd, 1}, {0xa1e3, 0x223c, 1}, {0xa1f2, 0x2641, 1}, {0xa1f3, 0x2609, 1}, {0xa1fe, 0xfffd, 1},
	{0xa240, 0xfffd, 1}, {0xa241, 0xff0f, 1}, {0xa242, 0xff3c, 1}, {0xa244, 0x00a5, 1}, {0xa246, 0x00a2, 2},
	{0xa2cc, 0xfffd, 1}, {0xa2ce, 0xfffd, 1}, {0xc6a1, 0x30fe, 1}, {0xc6a2, 0x309d, 2}, {0xc6a4, 0x3005, 1},
	{0xc6a5, 0x3041, 83}, {0xc6f8, 0x30a1, 86}, {0xc7b1, 0x0414, 2}, {0xc7b3, 0x0401, 1}, {0xc7b4, 0x0416, 7},
	{0xc7bb, 0x0423, 19}, {0xc7ce, 0x0451, 1}, {0xc7cf, 0x0436, 26}, {0xc7e9, 0x2460, 10}, {0xc7f3, 0x2474, 10},
}

// big5Index numbers the Big5 codes in order.
func big5Index(lead, trail byte) int {
	t := int(trail) - 0x40
	if trail >= 0xa1 {
		t = int(trail) - 0xa1 + 0x3f
	}
	return int(lead)*157 + t
}

func big5Fix(seq string) (rune, bool) {
	if len(seq) != 2 || (seq[0] != 0xa1 && seq[0] != 0xa2 && seq[0] != 0xc6 && seq[0] != 0xc7) {
		return 0, false
	}
	i := big5Index(seq[0], seq[1])
	for _, run := range big5Runs {
		if d := i - big5Index(byte(run.code>>8), byte(run.code)); d >= 0 && d < run.n {
			return run.r + rune(d), true
		}
	}
	return 0, false
}

// decoders are the character sets other than UTF-8 godwit converts.
var decoders = map[string]*textDecoder{
	"latin1":   byteDecoder(charmap.Windows1252, nil), // MySQL's latin1 is cp1252
	"latin2":   byteDecoder(charmap.ISO8859_2, nil),
	"latin5":   byteDecoder(charmap.ISO8859_9, nil),
	"latin7":   byteDecoder(charmap.ISO8859_13, nil),
	"greek":    byteDecoder(charmap.ISO8859_7, map[byte]rune{0xa1: '\u02bd', 0xa2: '\u02bc'}),
	"hebrew":   byteDecoder(charmap.ISO8859_8, map[byte]rune{0xaf: '\u203e'}),
	"cp1250":   byteDecoder(charmap.Windows1250, nil),
	"cp1251":   byteDecoder(charmap.Windows1251, nil),
	"cp1256":   byteDecoder(charmap.Windows1256, nil),
	"cp1257":   byteDecoder(charmap.Windows1257, nil),
	"cp850":    byteDecoder(charmap.CodePage850, nil),
	"cp852":    byteDecoder(charmap.CodePage852, nil),
	"cp866":    byteDecoder(charmap.CodePage866, map[byte]rune{0xfc: '\u207f', 0xfd: '\u00b2'}),
	"koi8r":    byteDecoder(charmap.KOI8R, nil),
	"koi8u":    byteDecoder(charmap.KOI8U, map[byte]rune{0x95: '\u2022', 0xae: '\u255d', 0xbe: '\u256c'}),
	"macroman": byteDecoder(charmap.Macintosh, nil),
	"gbk":      {base: simplifiedchinese.GBK},
	"gb2312":   {base: simplifiedchinese.GBK, width: dbcsWidth, fix: fixes(map[string]rune{"\xa1\xa4": '\u30fb', "\xa1\xaa": '\u2015'})},
	"gb18030":  {base: simplifiedchinese.GB18030},
	"big5":     {base: traditionalchinese.Big5, width: dbcsWidth, fix: big5Fix},
	"sjis":     {base: japanese.ShiftJIS, width: sjisWidth, fix: fixes(sjisFixes)},
	"cp932":    {base: japanese.ShiftJIS, width: sjisWidth, fix: cp932Fix},
	"ujis": {base: japanese.EUCJP, width: eucWidth, fix: func(seq string) (rune, bool) {
		if r, ok := ujisFixes[seq]; ok {
			return r, true
		}
		return eucUserDefined(seq)
	}},
	"eucjpms": {base: japanese.EUCJP, width: eucWidth, fix: eucjpmsFix},
	"euckr":   {base: korean.EUCKR},
	"ucs2":    {base: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)},
	"utf16":   {base: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)},
	"utf16le": {base: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)},
	"utf32":   {base: utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)},
}

// maxRowBytes is MySQL's limit on the declared size of a row's columns.
const maxRowBytes = 65535

// Names is what MySQL and MariaDB take as identifiers.
var Names = schema.NameRules{Engine: "MySQL", MaxLen: 64, NoTrailingSpace: true, BMPOnly: true, FoldColumns: strings.ToLower}

// FinishTable implements engine.Dialect: the CREATE TABLE statement (columns,
// the primary key, and an index for an AUTO_INCREMENT column that does not
// lead it) in the shape SHOW CREATE TABLE gives, and the definitions of the
// indexes and foreign keys the Target adds after the copy. Unique constraints
// become unique indexes, as MySQL keeps them.
func (dialect) FinishTable(t *schema.Table) error {
	if err := Names.CheckNames(t); err != nil {
		return err
	}
	fitKeys(t)
	indexed := t.IndexedColumns()
	fitRow(t, indexed)

	var lines []string
	auto := ""
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.AutoIncrement && auto != "" {
			c.AutoIncrement = false // MySQL has one counter per table
		}
		line := "  " + QuoteIdent(c.Name) + " " + c.Type
		if c.NotNull {
			line += " NOT NULL"
		}
		switch {
		case c.AutoIncrement:
			auto = c.Name
			line += " AUTO_INCREMENT"
		case c.Default == "" || (c.Default == "NULL" && c.NotNull):
		case c.Default != "NULL" && isLOB(c) && !strings.HasPrefix(c.Default, "("):
			line += " DEFAULT (" + c.Default + ")" // MySQL takes only expressions on these
		default:
			line += " DEFAULT " + c.Default
		}
		lines = append(lines, line)
	}
	if len(t.Key) > 0 {
		lines = append(lines, "  PRIMARY KEY ("+quoteList(t.Key, ",")+")")
	}
	if auto != "" && (len(t.Key) == 0 || t.Key[0] != auto) {
		lines = append(lines, "  KEY "+QuoteIdent(auto)+" ("+QuoteIdent(auto)+")") // a counter must lead an index
	}
	t.CreateSQL = "CREATE TABLE " + QuoteIdent(t.Name) + " (\n" + strings.Join(lines, ",\n") +
		"\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

	var indexes []schema.Index
	for i := range t.Constraints {
		c := &t.Constraints[i]
		switch c.Kind {
		case "p":
			c.Def = "PRIMARY KEY (" + quoteList(c.Columns, ",") + ")"
		case "u":
			c.Name = indexName(c.Name)
			c.Def = "UNIQUE KEY " + QuoteIdent(c.Name) + " (" + quoteList(c.Columns, ",") + ")"
			indexes = append(indexes, schema.Index{Name: c.Name, Def: c.Def, Columns: c.Columns, Unique: true})
		case "f":
			if len(c.Columns) == 0 || len(c.Columns) != len(c.RefColumns) {
				return fmt.Errorf("foreign key %s has %d columns referencing %d", c.Name, len(c.Columns), len(c.RefColumns))
			}
			c.Name = indexName(c.Name)
			sch, name := c.Ref()
			c.Def = "CONSTRAINT " + QuoteIdent(c.Name) + " FOREIGN KEY (" + quoteList(c.Columns, ", ") + ") REFERENCES " +
				QuoteIdent(sch) + "." + QuoteIdent(name) + " (" + quoteList(c.RefColumns, ", ") + ")"
			if c.OnDelete != "" {
				c.Def += " ON DELETE " + c.OnDelete
			}
			if c.OnUpdate != "" {
				c.Def += " ON UPDATE " + c.OnUpdate
			}
		default:
			return fmt.Errorf("constraint %s of kind %q cannot be created on MySQL", c.Name, c.Kind)
		}
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) == 0 {
			return fmt.Errorf("index %s has no columns", ix.Name)
		}
		ix.Name = indexName(ix.Name)
		if ix.Unique {
			ix.Def = "UNIQUE KEY " + QuoteIdent(ix.Name) + " (" + quoteList(ix.Columns, ",") + ")"
		} else {
			ix.Def = "KEY " + QuoteIdent(ix.Name) + " (" + indexParts(t, ix.Columns) + ")"
		}
		indexes = append(indexes, ix)
	}
	t.Indexes = indexes
	return nil
}

// fitKeys shortens the varchar(768) and varbinary(3072) ColumnType gives
// unbounded text and bytes in a key (each alone fills InnoDB's 3072-byte
// limit) so that the primary and unique keys they share with other columns
// fit: the key's other columns first, the rest shared among them. A longer
// value then fails the copy, as beyond 768 characters.
func fitKeys(t *schema.Table) {
	keys := [][]string{t.Key}
	for _, c := range t.Constraints {
		if c.Kind == "u" {
			keys = append(keys, c.Columns)
		}
	}
	for _, ix := range t.Indexes {
		if ix.Unique {
			keys = append(keys, ix.Columns)
		}
	}
	share := map[*schema.Column]int{} // bytes each shortened column may take
	for _, key := range keys {
		var long []*schema.Column
		rest, total := 0, 0
		for _, name := range key {
			c := t.Column(name)
			if c == nil {
				continue
			}
			if keyFallback(c) {
				long = append(long, c)
			} else {
				rest += keyBytes(c)
			}
			total += keyBytes(c)
		}
		if total <= maxKeyBytes || len(long) == 0 {
			continue
		}
		n := (maxKeyBytes - rest) / len(long)
		for _, c := range long {
			if s, ok := share[c]; !ok || n < s {
				share[c] = n
			}
		}
	}
	for c, n := range share {
		if baseType(c) == "varchar" {
			n /= 4 // utf8mb4
		}
		if n >= 1 {
			c.Type = fmt.Sprintf("%s(%d)", baseType(c), n)
		}
	}
}

// keyFallback reports a column ColumnType made varchar(768) or
// varbinary(3072) only because it is in a key.
func keyFallback(c *schema.Column) bool {
	if c.Neutral == nil || (c.Type != "varchar(768)" && c.Type != "varbinary(3072)") {
		return false
	}
	typ, _, _ := dialect{}.ColumnType(*c.Neutral, false)
	return typ == "longtext" || typ == "longblob"
}

// keyBytes is what a column counts towards InnoDB's key length limit (at most).
func keyBytes(c *schema.Column) int {
	_, args, _ := typeParts(c.Type)
	n, _ := intArgs(args)
	switch baseType(c) {
	case "varchar", "char":
		return 4 * n
	case "varbinary", "binary":
		return n
	}
	return declaredBytes(c)
}

// fitRow keeps a table under MySQL's row size limit, which counts every
// VARCHAR and VARBINARY at its full declared size (four bytes a character):
// the largest ones not indexed become TEXT or BLOB, which hold the same values.
func fitRow(t *schema.Table, indexed map[string]bool) {
	size := 0
	for i := range t.Columns {
		size += declaredBytes(&t.Columns[i])
	}
	for size > maxRowBytes {
		big := -1
		for i := range t.Columns {
			c := &t.Columns[i]
			if b := baseType(c); (b == "varchar" || b == "varbinary") && !indexed[c.Name] && (big < 0 || declaredBytes(c) > declaredBytes(&t.Columns[big])) {
				big = i
			}
		}
		if big < 0 {
			return // the server says what is too large
		}
		c := &t.Columns[big]
		size -= declaredBytes(c)
		c.Type = map[string]string{"varchar": "text", "varbinary": "blob"}[baseType(c)] // up to 65535 bytes: enough
		size += declaredBytes(c)
	}
}

// declaredBytes is what a column counts towards the row size limit.
func declaredBytes(c *schema.Column) int {
	_, args, _ := typeParts(c.Type)
	n, _ := intArgs(args)
	switch baseType(c) {
	case "varchar":
		n *= 4
	case "varbinary":
	case "char":
		return 4 * n
	case "binary":
		return n
	case "decimal":
		return 30
	default:
		if isLOB(c) {
			return 12
		}
		return 8
	}
	if n > 255 {
		return n + 2
	}
	return n + 1
}

// isLOB reports a TEXT, BLOB or JSON column.
func isLOB(c *schema.Column) bool {
	b := baseType(c)
	return strings.HasSuffix(b, "text") || strings.HasSuffix(b, "blob") || b == "json"
}

// maxKeyBytes is InnoDB's limit on an index entry.
const maxKeyBytes = 3072

// indexParts lists the columns of a plain index, with a prefix length on
// those too long to index whole (a plain index is only for finding rows).
func indexParts(t *schema.Table, cols []string) string {
	budget := maxKeyBytes / len(cols)
	parts := make([]string, len(cols))
	for i, name := range cols {
		parts[i] = QuoteIdent(name)
		c := t.Column(name)
		if c == nil {
			continue
		}
		b := baseType(c)
		perChar := 1
		if !strings.Contains(b, "binary") && !strings.Contains(b, "blob") {
			perChar = 4
		}
		_, args, _ := typeParts(c.Type)
		n, _ := intArgs(args)
		if isLOB(c) || n*perChar > budget {
			parts[i] += fmt.Sprintf("(%d)", budget/perChar)
		}
	}
	return strings.Join(parts, ",")
}

// indexName keeps an index or constraint name within MySQL's 64 characters.
func indexName(n string) string {
	r := []rune(n)
	if len(r) <= 64 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s_%08x", string(r[:55]), h.Sum32())
}

// FinishTable implements engine.Dialect: the CREATE TABLE statement (columns,
func quoteList(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteIdent(n)
	}
	return strings.Join(q, sep)
}
