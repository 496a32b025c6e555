package sqlite

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// dialect is SQLite's half of a migration between engines (engine.Dialect).
//
// SQLite types are declared, not enforced: a column has an affinity (from its
// declared type) and every value has its own storage class. The neutral type
// comes from the declared type; ToCanon then checks each value against it and
// refuses, in one line, a value that does not fit (text 'abc' in an INTEGER
// column). Engine values are the typed values the driver reads and writes
// (int64, float64, string, []byte); their text is the checksummer's key form
// (canon: "i:5", "t:abc").
type dialect struct{}

// Dialect returns SQLite's engine.Dialect.
func Dialect() engine.Dialect { return dialect{} }

var _ engine.Dialect = dialect{}

func (dialect) Engine() string { return "sqlite" }

// Neutral implements engine.Dialect.
func (dialect) Neutral(_ *schema.Table, c *schema.Column) (types.Type, error) {
	return neutralType(c.Type), nil
}

// neutralType reads a declared type by SQLite's affinity rules
// (https://www.sqlite.org/datatype3.html §3.1), refined by the common names
// applications declare: BOOLEAN, DATETIME, DATE, TIME, JSON, UUID, DECIMAL(p,s).
func neutralType(decl string) types.Type {
	nt := types.Type{Native: decl}
	u := strings.ToUpper(strings.TrimSpace(decl))
	base, args := u, []int(nil)
	if i := strings.IndexByte(u, '('); i >= 0 {
		base, args = u[:i], typeArgs(u[i:])
	}
	base = strings.Join(strings.Fields(base), " ")
	switch {
	case base == "":
		nt.Kind = types.Other // no declared type: values of any class, carried as text
	case base == "BOOL" || base == "BOOLEAN":
		nt.Kind = types.Bool
	case base == "DATETIME" || base == "TIMESTAMP":
		nt.Kind, nt.Precision = types.Timestamp, 6
	case base == "DATE":
		nt.Kind = types.Date
	case base == "TIME":
		nt.Kind, nt.Precision = types.Time, 6
	case base == "JSON" || base == "JSONB":
		nt.Kind = types.JSON
	case base == "UUID":
		nt.Kind = types.UUID
	case strings.Contains(base, "INT"):
		nt.Kind, nt.Bits = types.Int, 64 // SQLite integers are 64-bit signed, whatever the name says
	case strings.Contains(base, "CHAR") || strings.Contains(base, "CLOB") || strings.Contains(base, "TEXT"):
		nt.Kind = types.Text // never Fixed: SQLite does not pad
		if len(args) == 1 {
			nt.Length = args[0]
		}
	case strings.Contains(base, "BLOB"):
		nt.Kind = types.Bytes
	case strings.Contains(base, "REAL") || strings.Contains(base, "FLOA") || strings.Contains(base, "DOUB"):
		nt.Kind, nt.Bits = types.Float, 64
	case base == "NUMERIC" || base == "DECIMAL" || base == "NUMBER":
		nt.Kind = types.Decimal
		if len(args) > 0 {
			nt.Precision = args[0]
		}
		if len(args) > 1 {
			nt.Scale = args[1]
		}
	default:
		nt.Kind = types.Other // a name of the application's own: carried as text
	}
	return nt
}

// typeArgs reads "(10, 2)"; nil when the arguments are not numbers.
func typeArgs(s string) []int {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return nil
	}
	var out []int
	for _, p := range strings.Split(s[1:len(s)-1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// Column affinities (datatype3.html §3.1).
const (
	affInteger = 'i'
	affText    = 't'
	affBlob    = 'b'
	affReal    = 'r'
	affNumeric = 'n'
)

func affinity(decl string) byte {
	u := strings.ToUpper(decl)
	switch {
	case strings.Contains(u, "INT"):
		return affInteger
	case strings.Contains(u, "CHAR") || strings.Contains(u, "CLOB") || strings.Contains(u, "TEXT"):
		return affText
	case strings.TrimSpace(u) == "" || strings.Contains(u, "BLOB"):
		return affBlob
	case strings.Contains(u, "REAL") || strings.Contains(u, "FLOA") || strings.Contains(u, "DOUB"):
		return affReal
	}
	return affNumeric
}

// ColumnType implements engine.Dialect. Every type keeps the affinity that
// stores its values exactly: numbers that do not fit a 64-bit integer or a
// double go in TEXT columns, and NUMERIC-affinity types (BOOLEAN, DATE, TIME,
// DATETIME, NUMERIC, JSON) only receive values whose text is not a number or
// that a number holds exactly.
func (dialect) ColumnType(nt types.Type, key bool) (string, types.Loss, error) {
	switch nt.Kind {
	case types.Bool:
		return "BOOLEAN", "", nil
	case types.Int:
		if nt.Bits == 64 && nt.Unsigned && !key {
			return "TEXT", "", nil // values beyond 2^63-1 would become REAL in an INTEGER column
		}
		return "INTEGER", "", nil // a key must sort as numbers: values beyond 2^63-1 fail the copy
	case types.Year:
		return "INTEGER", "", nil
	case types.Decimal:
		if nt.Precision >= 1 && nt.Precision <= 15 {
			return fmt.Sprintf("NUMERIC(%d,%d)", nt.Precision, nt.Scale), "", nil
		}
		return "TEXT", "", nil // more digits than a double holds: kept exactly as text
	case types.Float:
		return "REAL", "", nil
	case types.Text:
		switch {
		case nt.Length > 0 && nt.Fixed:
			return fmt.Sprintf("CHARACTER(%d)", nt.Length), "", nil
		case nt.Length > 0:
			return fmt.Sprintf("VARCHAR(%d)", nt.Length), "", nil
		}
		return "TEXT", "", nil
	case types.Bytes:
		return "BLOB", "", nil
	case types.Date:
		return "DATE", "", nil
	case types.Time:
		return "TIME", "", nil
	case types.Timestamp, types.TimestampTZ:
		return "DATETIME", "", nil // timestamptz as UTC text
	case types.JSON:
		return "JSON", "", nil
	case types.UUID, types.Enum, types.Set, types.Bit:
		return "TEXT", "", nil
	case types.Array:
		return "JSON", types.LossArrayAsJSON, nil
	case types.Interval, types.Inet, types.TSVector, types.Other:
		return "TEXT", types.LossAsText, nil
	case types.Spatial:
		return "", "", fmt.Errorf("spatial type %s has no SQLite equivalent: exclude the table", nativeOr(nt))
	}
	return "", "", fmt.Errorf("type %s has no SQLite equivalent: exclude the table", nativeOr(nt))
}

func nativeOr(nt types.Type) string {
	if nt.Native != "" {
		return nt.Native
	}
	return nt.String()
}

// Default implements engine.Dialect: NULL, the current time (CURRENT_TIMESTAMP,
// CURRENT_DATE, CURRENT_TIME, datetime('now'), date('now'), time('now')) and
// literals (numbers, 'text', X'blob', TRUE, FALSE).
func (dialect) Default(c *schema.Column) (types.Default, bool) {
	s := strings.TrimSpace(c.Default)
	for len(s) > 1 && s[0] == '(' && s[len(s)-1] == ')' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return types.Default{}, false
	}
	switch strings.ToUpper(strings.Join(strings.Fields(s), "")) {
	case "NULL":
		return types.Default{Null: true}, true
	case "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "DATETIME('NOW')", "DATE('NOW')", "TIME('NOW')":
		return types.Default{Now: true}, true
	case "TRUE":
		s = "1"
	case "FALSE":
		s = "0"
	}
	lit, ok := literal(s)
	if !ok {
		return types.Default{}, false
	}
	v, err := toCanon(neutralOf(c), lit)
	if err != nil {
		return types.Default{}, false
	}
	return types.Default{Value: v}, true
}

// literal reads an SQL literal: a number, 'text' or X'hex'.
func literal(s string) (any, bool) {
	switch {
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		body := s[1 : len(s)-1]
		if strings.Count(body, "'") != 2*strings.Count(body, "''") {
			return nil, false
		}
		return strings.ReplaceAll(body, "''", "'"), true
	case len(s) >= 3 && (s[0] == 'x' || s[0] == 'X') && s[1] == '\'' && s[len(s)-1] == '\'':
		b, err := hex.DecodeString(s[2 : len(s)-1])
		return b, err == nil
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return n, true
	}
	if strings.ContainsAny(s, "0123456789") && !strings.ContainsAny(s, "xXnN") { // no hex, Inf or NaN
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}

// DefaultSQL implements engine.Dialect.
func (dialect) DefaultSQL(nt types.Type, d types.Default) string {
	switch {
	case d.Null:
		return "NULL"
	case d.Now && nt.Kind == types.Date:
		return "CURRENT_DATE"
	case d.Now && nt.Kind == types.Time:
		return "CURRENT_TIME"
	case d.Now:
		return "CURRENT_TIMESTAMP" // 'YYYY-MM-DD HH:MM:SS' in UTC
	}
	switch nt.Kind {
	case types.Bool:
		if b, err := types.Canon(nt, d.Value); err == nil {
			if b == "t" {
				return "1"
			}
			return "0"
		}
	case types.Int, types.Year, types.Float:
		if _, err := strconv.ParseFloat(d.Value, 64); err == nil && !strings.ContainsAny(d.Value, "nN") && !(nt.Kind == types.Int && nt.Unsigned && nt.Bits == 64) {
			return d.Value
		}
	case types.Bytes:
		return "X'" + hex.EncodeToString([]byte(d.Value)) + "'"
	}
	// A quoted literal takes the column's affinity: '5' is stored as the
	// integer 5 in an INTEGER column, and stays text in a TEXT one.
	return quoteLiteral(d.Value)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ReadFormat implements engine.Dialect.
func (dialect) ReadFormat() string { return Format }

// DecodeRows implements engine.Dialect.
func (dialect) DecodeRows(r io.Reader, cols []schema.Column, fn func([]engine.Value) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	vals := make([]engine.Value, len(cols))
	for {
		row, err := readRow(br, len(cols))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading SQLite rows: %w", err)
		}
		for i, v := range row {
			vals[i] = value(v)
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
}

// NewEncoder implements engine.Dialect.
func (dialect) NewEncoder(w io.Writer, cols []schema.Column) engine.RowEncoder {
	return &encoder{w: bufio.NewWriterSize(w, 64<<10), ncols: len(cols)}
}

// encoder writes rows in the sqlite-rows format from FromCanon values.
type encoder struct {
	w     *bufio.Writer
	ncols int
	buf   []byte
}

func (e *encoder) Encode(row []engine.Value) error {
	if len(row) != e.ncols {
		return fmt.Errorf("row of %d values for %d columns", len(row), e.ncols)
	}
	e.buf = e.buf[:0]
	for _, v := range row {
		var x any
		switch {
		case v.Null:
		case v.Unchanged:
			return fmt.Errorf("a copied row lacks a value")
		case v.Raw != nil:
			x = v.Raw
		default:
			var err error
			if x, err = uncanon(v.Text); err != nil {
				return err
			}
		}
		var err error
		if e.buf, err = appendValue(e.buf, x); err != nil {
			return err
		}
	}
	_, err := e.w.Write(e.buf)
	return err
}

func (e *encoder) Close() error   { return e.w.Flush() }
func (e *encoder) Format() string { return Format }

func neutralOf(c *schema.Column) types.Type {
	if c.Neutral != nil {
		return *c.Neutral
	}
	return neutralType(c.Type)
}

// ToCanon implements engine.Dialect. It takes typed values (DecodeRows, Stream)
// and, when Raw is unset, the checksummer's text ("i:5", "t:abc").
func (dialect) ToCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	raw := v.Raw
	if raw == nil {
		x, err := uncanon(v.Text)
		if err != nil {
			return engine.Value{}, err
		}
		if x == nil {
			return engine.Value{Null: true}, nil
		}
		raw = x
	}
	s, err := toCanon(neutralOf(c), raw)
	if err != nil {
		return engine.Value{}, err
	}
	return engine.Value{Text: s}, nil
}

// toCanon checks a stored value against the column's neutral type and writes
// its canonical text.
func toCanon(nt types.Type, raw any) (string, error) {
	bad := func(what string) error {
		return fmt.Errorf("%s in a column declared %s is not %s: fix the row or exclude the table", describeValue(raw), nativeOr(nt), what)
	}
	switch nt.Kind {
	case types.Bool:
		switch x := raw.(type) {
		case int64:
			if x == 0 || x == 1 {
				return types.Canon(nt, strconv.FormatInt(x, 10))
			}
		case float64:
			if x == 0 || x == 1 {
				return types.Canon(nt, strconv.FormatFloat(x, 'f', 0, 64))
			}
		case string:
			if s, err := types.Canon(nt, x); err == nil {
				return s, nil
			}
		}
		return "", bad("a boolean (0, 1, 'true', 'false', 't' or 'f')")
	case types.Int, types.Year:
		switch x := raw.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			if x == math.Trunc(x) && !math.IsInf(x, 0) {
				return strconv.FormatFloat(x, 'f', 0, 64), nil
			}
		case string:
			if s, err := types.Canon(nt, x); err == nil {
				return s, nil
			}
		}
		return "", bad("an integer")
	case types.Decimal:
		switch x := raw.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			// With a declared precision, as SQLite prints a REAL: 15
			// significant digits, so 1.98 stays 1.98 and 0.1+0.2 reads 0.3.
			// Without one, the shortest decimal that reads back as the stored
			// REAL, so a value SQLite made a REAL (an integer beyond 2^63)
			// keeps every digit that tells it apart.
			if math.IsInf(x, 0) {
				return types.FormatFloat(x, 64), nil
			}
			if nt.Precision > 0 {
				return types.CanonDecimal(strconv.FormatFloat(x, 'g', 15, 64))
			}
			return types.CanonDecimal(strconv.FormatFloat(x, 'g', -1, 64))
		case string:
			if s, err := types.CanonDecimal(x); err == nil {
				return s, nil
			}
		}
		return "", bad("a decimal number")
	case types.Float:
		switch x := raw.(type) {
		case int64:
			return types.FormatFloat(float64(x), nt.Bits), nil
		case float64:
			return types.FormatFloat(x, nt.Bits), nil
		case string:
			if s, err := types.CanonFloat(x, nt.Bits); err == nil {
				return s, nil
			}
		}
		return "", bad("a number")
	case types.Bytes:
		switch x := raw.(type) {
		case []byte:
			return string(x), nil
		case string:
			return x, nil // text in a BLOB column: its bytes
		}
		return "", bad("a blob")
	case types.Date, types.Time, types.Timestamp, types.TimestampTZ:
		x, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("%s in a column declared %s is not a %s: SQLite keeps these as numbers (unix time or Julian days) that cannot be told apart; convert them to text first (e.g. datetime(col, 'unixepoch')) or exclude the table",
				describeValue(raw), nativeOr(nt), timeWord(nt.Kind))
		}
		s, err := canonTime(nt.Kind, x)
		if err != nil {
			if errors.Is(err, types.ErrZeroDate) {
				return "", err
			}
			return "", bad("a " + timeWord(nt.Kind))
		}
		return s, nil
	case types.JSON:
		var s string
		switch x := raw.(type) {
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = types.FormatFloat(x, 64)
		case string:
			s = x
		case []byte:
			if !utf8.Valid(x) {
				return "", bad("JSON text (SQLite's binary JSONB is not read: store json(col) instead)")
			}
			s = string(x)
		}
		out, err := types.CanonJSON(s)
		if err != nil {
			return "", bad("JSON")
		}
		return out, nil
	case types.UUID:
		switch x := raw.(type) {
		case []byte:
			if len(x) == 16 {
				h := hex.EncodeToString(x)
				return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
			}
		case string:
			if s, ok := canonUUID(x); ok {
				return s, nil
			}
		}
		return "", bad("a UUID")
	case types.Bit:
		if x, ok := raw.(string); ok {
			if s, err := types.Canon(nt, x); err == nil {
				return s, nil
			}
		}
		return "", bad("a bit string")
	}
	// Text, and what is carried as text (enum, set, array, other...).
	switch x := raw.(type) {
	case string:
		return types.Canon(nt, x)
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return types.FormatFloat(x, 64), nil
	case []byte:
		if utf8.Valid(x) {
			return types.Canon(nt, string(x))
		}
	}
	return "", bad("text")
}

func timeWord(k types.Kind) string {
	switch k {
	case types.Date:
		return "date"
	case types.Time:
		return "time"
	}
	return "timestamp"
}

// canonTime reads SQLite's time texts (datetime.html: 'YYYY-MM-DD HH:MM[:SS[.f]]',
// with 'T' or an offset). An offset converts to UTC, as SQLite's own date
// functions do, for timestamps with or without time zone.
func canonTime(k types.Kind, s string) (string, error) {
	switch k {
	case types.Date:
		return types.Canon(types.Type{Kind: types.Date}, s)
	case types.Time:
		if len(s) == 5 && s[2] == ':' {
			s += ":00"
		}
		if len(s) < 8 || s[2] != ':' || s[5] != ':' {
			return "", fmt.Errorf("%q is not a time", s)
		}
		return types.Canon(types.Type{Kind: types.Time}, s)
	}
	switch {
	case len(s) == 10:
		s += " 00:00:00"
	case len(s) == 16 && s[13] == ':':
		s += ":00"
	}
	return types.Canon(types.Type{Kind: types.TimestampTZ}, s)
}

// canonUUID accepts 8-4-4-4-12 or 32 hex digits, in either case.
func canonUUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"))
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || (len(s) != 32 && len(s) != 36) {
		return "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	if len(s) == 36 && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
		return "", false
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// describeValue names a stored value for a message: its storage class and
// its beginning.
func describeValue(raw any) string {
	switch x := raw.(type) {
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "real " + strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "text " + strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("a blob of %d bytes", len(x))
	}
	return fmt.Sprintf("%v", raw)
}

// FromCanon implements engine.Dialect: the typed value the Target writes, in
// the storage class that keeps it exact in the column's affinity, with the
// checksummer's key text.
func (dialect) FromCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	raw, err := fromCanon(neutralOf(c), affinity(c.Type), v.Text)
	if err != nil {
		return engine.Value{}, err
	}
	return engine.Value{Raw: raw, Text: canon(raw)}, nil
}

func fromCanon(nt types.Type, aff byte, s string) (any, error) {
	numeric := aff != affText && aff != affBlob
	switch nt.Kind {
	case types.Bool:
		b, err := types.Canon(nt, s)
		if err != nil {
			return nil, err
		}
		if b == "t" {
			return int64(1), nil
		}
		return int64(0), nil
	case types.Int, types.Year:
		if _, err := types.Canon(nt, s); err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case !numeric:
			return s, nil
		case err != nil:
			return nil, fmt.Errorf("%s does not fit SQLite's 64-bit integers: exclude the table", s)
		}
		return n, nil
	case types.Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a float", s)
		}
		if math.IsNaN(f) {
			return "NaN", nil // SQLite stores a NaN real as NULL; the text stays text
		}
		return f, nil
	case types.Decimal:
		if !numeric || s == "NaN" {
			return s, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil // what NUMERIC affinity stores for an integral value
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a decimal", s)
		}
		if d, _ := types.CanonDecimal(types.FormatFloat(f, 64)); d != s && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("decimal %s has more digits than a SQLite NUMERIC column keeps (15): exclude the table", s)
		}
		return f, nil
	case types.Bytes:
		return append([]byte{}, s...), nil
	}
	return s, nil
}

// Names is what SQLite takes as identifiers.
var Names = schema.NameRules{Engine: "SQLite", FoldColumns: schema.FoldASCII}

// FinishTable implements engine.Dialect: SQLite cannot add constraints to a
// table, so CreateSQL holds them all — the primary key (an auto-increment key
// as INTEGER PRIMARY KEY AUTOINCREMENT, so sqlite_sequence carries its
// counter), unique constraints, foreign keys, and a CHECK for each enum
// column. Indexes get their CREATE INDEX.
func (dialect) FinishTable(t *schema.Table) error {
	if err := Names.CheckNames(t); err != nil {
		return err
	}
	pk, named := t.Key, false
	for _, c := range t.Constraints {
		if c.Kind == "p" {
			pk, named = c.Columns, true
		}
	}
	rowid := ""
	if len(pk) == 1 {
		if c := t.Column(pk[0]); c != nil && c.AutoIncrement && affinity(c.Type) == affInteger {
			rowid = c.Name
		}
	}
	var lines []string
	for _, c := range t.Columns {
		if c.Generated != "" {
			continue
		}
		if c.Name == rowid {
			lines = append(lines, QuoteIdent(c.Name)+" INTEGER PRIMARY KEY AUTOINCREMENT")
			continue
		}
		if c.Type == "" {
			return fmt.Errorf("column %s has no SQLite type", c.Name)
		}
		l := QuoteIdent(c.Name) + " " + c.Type
		if c.NotNull {
			l += " NOT NULL"
		}
		if c.Default != "" {
			l += " DEFAULT " + defaultClause(c.Default)
		}
		lines = append(lines, l)
	}
	for i := range t.Constraints {
		c := &t.Constraints[i]
		switch c.Kind {
		case "p":
			c.Def = "PRIMARY KEY (" + quoteList(c.Columns) + ")"
			if rowid != "" {
				continue // declared with its column
			}
		case "u":
			c.Def = "UNIQUE (" + quoteList(c.Columns) + ")"
		case "f":
			_, ref := c.Ref() // SQLite references a table of its own schema
			c.Def = "FOREIGN KEY (" + quoteList(c.Columns) + ") REFERENCES " + QuoteIdent(ref) + " (" + quoteList(c.RefColumns) + ")"
			if c.OnDelete != "" {
				c.Def += " ON DELETE " + c.OnDelete
			}
			if c.OnUpdate != "" {
				c.Def += " ON UPDATE " + c.OnUpdate
			}
		case "c":
			if c.Def == "" {
				continue
			}
			if !strings.HasPrefix(strings.ToUpper(c.Def), "CHECK") {
				c.Def = "CHECK (" + c.Def + ")"
			}
		default:
			return fmt.Errorf("constraint %s of kind %q cannot be created on SQLite", c.Name, c.Kind)
		}
		lines = append(lines, "CONSTRAINT "+QuoteIdent(c.Name)+" "+c.Def)
	}
	if !named && len(pk) > 0 && rowid == "" {
		lines = append(lines, "PRIMARY KEY ("+quoteList(pk)+")")
	}
	for _, c := range t.Columns {
		if c.Neutral == nil || c.Neutral.Kind != types.Enum || len(c.Neutral.Labels) == 0 || c.Generated != "" {
			continue
		}
		labels := make([]string, len(c.Neutral.Labels))
		for i, l := range c.Neutral.Labels {
			labels[i] = quoteLiteral(l)
		}
		lines = append(lines, "CONSTRAINT "+QuoteIdent(t.Name+"_"+c.Name+"_check")+" CHECK ("+QuoteIdent(c.Name)+" IN ("+strings.Join(labels, ", ")+"))")
	}
	t.CreateSQL = "CREATE TABLE " + QuoteIdent(t.Name) + " (\n  " + strings.Join(lines, ",\n  ") + "\n)"
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if len(ix.Columns) == 0 {
			if ix.Def == "" {
				return fmt.Errorf("index %s has no columns", ix.Name)
			}
			continue
		}
		kind := "INDEX"
		if ix.Unique {
			kind = "UNIQUE INDEX"
		}
		ix.Def = "CREATE " + kind + " " + QuoteIdent(ix.Name) + " ON " + QuoteIdent(t.Name) + " (" + quoteList(ix.Columns) + ")"
	}
	return nil
}

// FinishTable implements engine.Dialect: SQLite cannot add constraints to a
// defaultClause parenthesizes a default that is an expression (SQLite takes
// literals and CURRENT_* bare, everything else in parentheses).
func defaultClause(d string) string {
	if _, ok := literal(d); ok || strings.HasPrefix(d, "(") {
		return d
	}
	switch strings.ToUpper(d) {
	case "NULL", "TRUE", "FALSE", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME":
		return d
	}
	return "(" + d + ")"
}
