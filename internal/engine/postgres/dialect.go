package postgres

// The PostgreSQL dialect: PostgreSQL's column types in the neutral model, its
// value texts in canonical form, and the tables a migration from another
// engine creates here. Values cross as PostgreSQL's text forms under godwit's
// session settings (DateStyle ISO, TimeZone UTC, bytea_output hex,
// extra_float_digits 3): COPY text rows, pgoutput text, ::text.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

type dialect struct{}

// Dialect is the PostgreSQL engine's half of migrations between engines.
func Dialect() engine.Dialect { return dialect{} }

var _ engine.Dialect = dialect{}

func (dialect) Engine() string     { return "postgres" }
func (dialect) ReadFormat() string { return formatText }

// Neutral implements engine.Dialect. The catalog sets the neutral type of
// enum and domain columns itself (it needs the labels and the base type).
func (dialect) Neutral(_ *schema.Table, c *schema.Column) (types.Type, error) {
	return neutralOf(c), nil
}

// neutralOf is the column's neutral type: the one set on it, else the one its
// type text names.
func neutralOf(c *schema.Column) types.Type {
	if c.Neutral != nil {
		return *c.Neutral
	}
	return parseType(c.Type, nil)
}

// typeArgs splits a type text as format_type writes it into its name without
// the parenthesized modifiers and the numbers in them:
// "time(3) without time zone" -> "time without time zone", [3].
var typeArgs = regexp.MustCompile(`\(([0-9, ]*)\)`)

// parseType maps a type text (format_type) to the neutral model; labels are
// those of an enum type, or of an array's enum element type.
func parseType(text string, labels []string) types.Type {
	if elemText, ok := strings.CutSuffix(text, "[]"); ok {
		elem := parseType(elemText, labels)
		return types.Type{Kind: types.Array, Elem: &elem, Native: text}
	}
	if labels != nil {
		return types.Type{Kind: types.Enum, Labels: labels, Native: text}
	}
	var args []int
	name := text
	if m := typeArgs.FindStringSubmatch(text); m != nil {
		for _, a := range strings.Split(m[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(a))
			if err != nil {
				return types.Type{Kind: types.Other, Native: text}
			}
			args = append(args, n)
		}
		name = strings.Join(strings.Fields(typeArgs.ReplaceAllString(text, "")), " ")
	}
	arg := func(i, def int) int {
		if i < len(args) {
			return args[i]
		}
		return def
	}
	nt := types.Type{Native: text}
	switch name {
	case "smallint":
		nt.Kind, nt.Bits = types.Int, 16
	case "integer":
		nt.Kind, nt.Bits = types.Int, 32
	case "bigint":
		nt.Kind, nt.Bits = types.Int, 64
	case "numeric":
		nt.Kind, nt.Precision, nt.Scale = types.Decimal, arg(0, 0), arg(1, 0)
	case "real":
		nt.Kind, nt.Bits = types.Float, 32
	case "double precision":
		nt.Kind, nt.Bits = types.Float, 64
	case "boolean":
		nt.Kind = types.Bool
	case "character":
		nt.Kind, nt.Fixed, nt.Length = types.Text, true, arg(0, 1)
	case "character varying":
		nt.Kind, nt.Length = types.Text, arg(0, 0)
	case "text", "xml", "bpchar":
		nt.Kind = types.Text
	case "bytea":
		nt.Kind = types.Bytes
	case "date":
		nt.Kind = types.Date
	case "time without time zone":
		nt.Kind, nt.Precision = types.Time, arg(0, 6)
	case "timestamp without time zone":
		nt.Kind, nt.Precision = types.Timestamp, arg(0, 6)
	case "timestamp with time zone":
		nt.Kind, nt.Precision = types.TimestampTZ, arg(0, 6)
	case "json", "jsonb":
		nt.Kind = types.JSON
	case "uuid":
		nt.Kind = types.UUID
	case "bit":
		nt.Kind, nt.Length = types.Bit, arg(0, 0)
	case "bit varying":
		nt.Kind, nt.Varying, nt.Length = types.Bit, true, arg(0, 0)
	case "inet", "cidr", "macaddr", "macaddr8":
		nt.Kind = types.Inet
	case "tsvector":
		nt.Kind = types.TSVector
	default:
		if name == "interval" || strings.HasPrefix(name, "interval ") {
			nt.Kind = types.Interval
		} else {
			nt.Kind = types.Other // money, time with time zone, ranges, geometry, composites...
		}
	}
	return nt
}

// ColumnType implements engine.Dialect.
func (d dialect) ColumnType(nt types.Type, key bool) (string, types.Loss, error) {
	switch nt.Kind {
	case types.Bool:
		return "boolean", "", nil
	case types.Int:
		bits := nt.Bits
		if bits == 0 {
			bits = 64
		}
		switch {
		case bits <= 8, bits <= 16 && !nt.Unsigned:
			return "smallint", "", nil
		case bits <= 24, bits <= 32 && !nt.Unsigned:
			return "integer", "", nil
		case bits <= 32, !nt.Unsigned:
			return "bigint", "", nil
		}
		return "numeric(20,0)", "", nil
	case types.Decimal:
		if nt.Precision == 0 {
			return "numeric", "", nil
		}
		return fmt.Sprintf("numeric(%d,%d)", nt.Precision, nt.Scale), "", nil
	case types.Float:
		if nt.Bits == 32 {
			return "real", "", nil
		}
		return "double precision", "", nil
	case types.Text:
		const maxLength = 10485760 // PostgreSQL's limit for char(n) and varchar(n)
		switch {
		case nt.Length <= 0 || nt.Length > maxLength:
			return "text", "", nil
		case nt.Fixed:
			return fmt.Sprintf("char(%d)", nt.Length), "", nil
		}
		return fmt.Sprintf("varchar(%d)", nt.Length), "", nil
	case types.Bytes:
		return "bytea", "", nil
	case types.Date:
		return "date", "", nil
	case types.Time:
		// A MySQL TIME beyond 24:00:00 (a duration) fails the copy with
		// PostgreSQL's error: not a loss, the value never crosses changed.
		return fmt.Sprintf("time(%d)", precision(nt)), "", nil
	case types.Timestamp:
		return fmt.Sprintf("timestamp(%d)", precision(nt)), "", nil
	case types.TimestampTZ:
		return fmt.Sprintf("timestamptz(%d)", precision(nt)), "", nil
	case types.Year:
		return "smallint", "", nil
	case types.JSON:
		return "jsonb", "", nil
	case types.UUID:
		return "uuid", "", nil
	case types.Enum:
		return "text", "", nil // FinishTable adds a check on the labels
	case types.Set:
		return "text[]", "", nil // FinishTable adds a check on the labels
	case types.Bit:
		typ := "bit"
		if nt.Varying {
			typ = "varbit"
		}
		if nt.Length > 0 {
			typ += fmt.Sprintf("(%d)", nt.Length)
		}
		return typ, "", nil
	case types.Array:
		if nt.Elem == nil || nt.Elem.Kind == types.Array || nt.Elem.Kind == types.Set {
			return "text[]", "", nil
		}
		elem, loss, err := d.ColumnType(*nt.Elem, key)
		if err != nil {
			return "", "", err
		}
		return elem + "[]", loss, nil
	case types.Interval:
		return "interval", "", nil
	case types.Inet:
		switch nt.Native {
		case "cidr", "macaddr", "macaddr8":
			return nt.Native, "", nil
		}
		return "inet", "", nil
	case types.TSVector:
		return "tsvector", "", nil
	case types.Spatial:
		return "", "", fmt.Errorf("column type %s (spatial) cannot be migrated to PostgreSQL yet: exclude the table (--exclude)", nt.Native)
	case types.Other:
		return "text", types.LossAsText, nil
	}
	return "", "", fmt.Errorf("column type %s (%s) has no PostgreSQL type: exclude the table (--exclude)", nt.Native, nt.Kind)
}

// precision is a time type's fractional digits, at most PostgreSQL's 6.
func precision(nt types.Type) int {
	if nt.Precision < 0 || nt.Precision > 6 {
		return 6
	}
	return nt.Precision
}

var (
	// 'text'::type, with '' for a quote and any casts after it.
	quotedDefault = regexp.MustCompile(`^'((?:[^']|'')*)'((?:::[\w\s."\[\](),]+)*)$`)
	numberDefault = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?(::[\w\s()]+)?$`)
	nowDefault    = regexp.MustCompile(`^(now\(\)|(current_timestamp|localtimestamp|current_time|localtime)(\([0-9]\))?|current_date|transaction_timestamp\(\)|statement_timestamp\(\)|clock_timestamp\(\)|\('now'::text\))(::[\w\s()]+)?$`)
)

// Default implements engine.Dialect: a constant (as pg_get_expr writes it:
// 42, 1.5, true, 'abc'::character varying), NULL or the current time. A
// column without default, a nextval (AutoIncrement carries it) or any other
// expression is not ok.
func (dialect) Default(c *schema.Column) (types.Default, bool) {
	e := strings.TrimSpace(c.Default)
	low := strings.ToLower(e)
	var lit string
	switch {
	case e == "" || c.Generated != "" || c.Identity != "":
		return types.Default{}, false
	case low == "null" || strings.HasPrefix(low, "null::"):
		return types.Default{Null: true}, true
	case nowDefault.MatchString(low):
		return types.Default{Now: true}, true
	case low == "true" || low == "false":
		lit = low
	case numberDefault.MatchString(e):
		lit, _, _ = strings.Cut(e, "::")
	default:
		m := quotedDefault.FindStringSubmatch(e)
		if m == nil {
			return types.Default{}, false
		}
		lit = strings.ReplaceAll(m[1], "''", "'")
	}
	v, err := toCanon(neutralOf(c), lit)
	if err != nil {
		return types.Default{}, false
	}
	return types.Default{Value: v}, true
}

var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// DefaultSQL implements engine.Dialect.
func (dialect) DefaultSQL(nt types.Type, d types.Default) string {
	switch {
	case d.Null:
		return "NULL"
	case d.Now:
		switch nt.Kind {
		case types.Date:
			return "CURRENT_DATE"
		case types.Time:
			return "LOCALTIME"
		}
		return "CURRENT_TIMESTAMP"
	}
	v, err := fromCanon(nt, d.Value)
	if err != nil {
		v = d.Value
	}
	switch nt.Kind {
	case types.Bool:
		if v == "t" {
			return "true"
		}
		if v == "f" {
			return "false"
		}
	case types.Int, types.Year, types.Decimal, types.Float:
		if plainNumber.MatchString(v) {
			return v
		}
	}
	return QuoteLiteral(v)
}

// Names is what PostgreSQL takes as identifiers (longer ones it shortens
// without a word: NAMEDATALEN is 64).
var Names = schema.NameRules{Engine: "PostgreSQL", MaxLen: 63, LenInBytes: true}

// FinishTable implements engine.Dialect: counters become identity columns
// (a sequence default where the type cannot be an identity), enum and set
// columns get a check on their labels, and keys, foreign keys and indexes
// get their definitions.
func (dialect) FinishTable(t *schema.Table) error {
	if err := Names.CheckNames(t); err != nil {
		return err
	}
	has := map[string]bool{}
	for _, c := range t.Constraints {
		has[c.Name] = true
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.AutoIncrement && c.Generated == "" {
			if isIntType(c.Type) {
				c.Identity, c.Default = "BY DEFAULT", ""
			} else { // numeric(20,0), a bigint unsigned: serial-like, with a sequence it owns
				seq := QuoteIdent(t.Schema) + "." + QuoteIdent(t.Name+"_"+c.Name+"_seq")
				c.Identity, c.Default = "", "nextval("+QuoteLiteral(seq)+"::regclass)"
			}
		}
		if c.Neutral == nil || len(c.Neutral.Labels) == 0 {
			continue
		}
		if c.Neutral.Kind == types.Enum && c.Type == "enum" { // the bridge's EnumType
			c.Type, c.CreateEnum = QuoteIdent(t.Schema)+"."+QuoteIdent(types.EnumTypeName(t.Name, c.Name)), true
			continue
		}
		labels := make([]string, len(c.Neutral.Labels))
		for j, l := range c.Neutral.Labels {
			labels[j] = QuoteLiteral(l)
		}
		var def string
		switch {
		case c.Neutral.Kind == types.Enum && c.Type == "text":
			def = "CHECK (" + QuoteIdent(c.Name) + " IN (" + strings.Join(labels, ", ") + "))"
		case c.Neutral.Kind == types.Set && c.Type == "text[]":
			def = "CHECK (" + QuoteIdent(c.Name) + " <@ ARRAY[" + strings.Join(labels, ", ") + "]::text[])"
		default:
			continue
		}
		name := t.Name + "_" + c.Name + "_check"
		if !has[name] {
			has[name] = true
			t.Constraints = append(t.Constraints, schema.Constraint{Name: name, Kind: "c", Def: def})
		}
	}
	for i := range t.Constraints {
		c := &t.Constraints[i]
		if c.Kind != "p" && c.Kind != "u" && c.Kind != "f" {
			continue
		}
		if len(c.Columns) == 0 {
			return fmt.Errorf("constraint %s of %s has no columns", c.Name, t.QualifiedName())
		}
		if c.Name == "" {
			c.Name = t.Name + "_" + strings.Join(c.Columns, "_") + map[string]string{"p": "_pkey", "u": "_key", "f": "_fkey"}[c.Kind]
		}
		switch c.Kind {
		case "p":
			c.Def = "PRIMARY KEY (" + quoteList(c.Columns) + ")"
		case "u":
			c.Def = "UNIQUE (" + quoteList(c.Columns) + ")"
		case "f":
			def, err := foreignKeyDef(c)
			if err != nil {
				return fmt.Errorf("foreign key %s of %s: %w", c.Name, t.QualifiedName(), err)
			}
			c.Def = def
		}
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if len(ix.Columns) == 0 {
			return fmt.Errorf("index %s of %s has no columns", ix.Name, t.QualifiedName())
		}
		if ix.Name == "" {
			ix.Name = t.Name + "_" + strings.Join(ix.Columns, "_") + "_idx"
		}
		unique := ""
		if ix.Unique {
			unique = "UNIQUE "
		}
		ix.Def = "CREATE " + unique + "INDEX " + QuoteIdent(ix.Name) + " ON " + QualName(t) + " (" + quoteList(ix.Columns) + ")"
	}
	t.CreateSQL = CreateTableSQL(t)
	return nil
}

// CreateEnumSQL creates a column's enum type (CreateEnum). It runs with the
// table's CREATE TABLE, in one transaction: a type of that name already there
// is someone else's, and an error.
func CreateEnumSQL(c *schema.Column) string {
	labels := make([]string, len(c.Neutral.Labels))
	for i, l := range c.Neutral.Labels {
		labels[i] = QuoteLiteral(l)
	}
	return "CREATE TYPE " + c.Type + " AS ENUM (" + strings.Join(labels, ", ") + ")"
}

// foreignKeyDef renders a foreign key.
func foreignKeyDef(c *schema.Constraint) (string, error) {
	refSchema, refTable := c.Ref()
	if refSchema == "" || refTable == "" {
		return "", fmt.Errorf("referenced table %q is not schema-qualified", c.RefTable)
	}
	def := "FOREIGN KEY (" + quoteList(c.Columns) + ") REFERENCES " + QuoteIdent(refSchema) + "." + QuoteIdent(refTable)
	if len(c.RefColumns) > 0 {
		def += " (" + quoteList(c.RefColumns) + ")"
	}
	for _, a := range []struct{ on, action string }{{"DELETE", c.OnDelete}, {"UPDATE", c.OnUpdate}} {
		switch a.action {
		case "", "NO ACTION":
		case "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT":
			def += " ON " + a.on + " " + a.action
		default:
			return "", fmt.Errorf("unknown ON %s action %q", a.on, a.action)
		}
	}
	return def, nil
}

// DecodeRows implements engine.Dialect: COPY text rows, as Value{Text}.
func (dialect) DecodeRows(r io.Reader, cols []schema.Column, fn func([]engine.Value) error) error {
	return decodeText(r, cols, fn)
}

// NewEncoder implements engine.Dialect: COPY text rows for WriteChunk.
func (dialect) NewEncoder(w io.Writer, _ []schema.Column) engine.RowEncoder {
	return &textEncoder{w: w}
}

// ToCanon implements engine.Dialect.
func (dialect) ToCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	out, err := toCanon(neutralOf(c), v.Text)
	if err != nil {
		return v, err
	}
	return engine.Value{Text: out}, nil
}

// FromCanon implements engine.Dialect.
func (dialect) FromCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	out, err := fromCanon(neutralOf(c), v.Text)
	if err != nil {
		return v, err
	}
	return engine.Value{Text: out}, nil
}

// toCanon turns PostgreSQL's text of a value of type nt into canonical form.
func toCanon(nt types.Type, s string) (string, error) {
	switch nt.Kind {
	case types.Bytes:
		return decodeBytea(s)
	case types.Array:
		elems, err := parseArray(s, arrayDelim(nt))
		if err != nil {
			return "", err
		}
		elem := types.Type{Kind: types.Text}
		if nt.Elem != nil {
			elem = *nt.Elem
		}
		return arrayJSON(elems, elem)
	case types.Set:
		return setCanon(nt, s)
	case types.Inet:
		// inet's output omits a host's full mask, its ::text writes it; a
		// cidr always shows its mask (10.1.2.3/32 is what it holds).
		if strings.HasPrefix(nt.Native, "cidr") {
			return s, nil
		}
		if strings.Contains(s, ":") {
			return strings.TrimSuffix(s, "/128"), nil
		}
		return strings.TrimSuffix(s, "/32"), nil
	}
	return types.Canon(nt, s)
}

// fromCanon turns a canonical value of type nt into PostgreSQL's input text.
func fromCanon(nt types.Type, s string) (string, error) {
	switch nt.Kind {
	case types.Bytes:
		return `\x` + hex.EncodeToString([]byte(s)), nil
	case types.Array:
		return arrayLiteral(nt, s)
	case types.Set:
		if s == "" {
			return "{}", nil
		}
		var b strings.Builder
		b.WriteByte('{')
		for i, l := range strings.Split(s, ",") {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quoteArrayElem(l))
		}
		b.WriteByte('}')
		return checkNUL(b.String())
	case types.TimestampTZ:
		if len(s) >= 19 && !strings.HasSuffix(s, " BC") { // not infinity, nor a BC text kept as is
			return s + "+00", nil
		}
	case types.Bit:
		if !nt.Varying && len(s) < nt.Length {
			return strings.Repeat("0", nt.Length-len(s)) + s, nil
		}
	}
	return checkNUL(s)
}

func checkNUL(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("the value contains a NUL character (0x00), which PostgreSQL cannot store in text: remove it on the source, or exclude the table (--exclude)")
	}
	return s, nil
}

// decodeBytea reads bytea output: hex (\x0a0b) or the escape format.
func decodeBytea(s string) (string, error) {
	if h, ok := strings.CutPrefix(s, `\x`); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return "", fmt.Errorf("%q is not a bytea hex value", s)
		}
		return string(b), nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] != '\\':
			b.WriteByte(s[i])
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+3 < len(s):
			n, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err != nil {
				return "", fmt.Errorf("%q is not a bytea value", s)
			}
			b.WriteByte(byte(n))
			i += 3
		default:
			return "", fmt.Errorf("%q is not a bytea value", s)
		}
	}
	return b.String(), nil
}

// arrayDelim is the element delimiter of an array type's text: a comma, but a
// semicolon for box.
func arrayDelim(nt types.Type) byte {
	if nt.Elem != nil && nt.Elem.Native == "box" {
		return ';'
	}
	return ','
}

// parseArray reads an array's text ({a,"b c",NULL}, nested for more
// dimensions, with an optional [lo:hi]= prefix) into elements: a string, nil
// for NULL, or []any for a sub-array.
func parseArray(s string, delim byte) ([]any, error) {
	p := &arrayParser{s: s, delim: delim}
	if strings.HasPrefix(s, "[") { // explicit bounds: [0:1]={...}
		i := strings.Index(s, "=")
		if i < 0 {
			return nil, fmt.Errorf("%q is not an array", s)
		}
		p.i = i + 1
	}
	p.space()
	out, err := p.array()
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(s) {
		return nil, fmt.Errorf("%q is not an array", s)
	}
	return out, nil
}

type arrayParser struct {
	s     string
	i     int
	delim byte
}

func (p *arrayParser) bad() error { return fmt.Errorf("%q is not an array", p.s) }

func (p *arrayParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *arrayParser) array() ([]any, error) {
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, p.bad()
	}
	p.i++
	out := []any{}
	if p.space(); p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, p.bad()
		}
		switch p.s[p.i] {
		case '{':
			sub, err := p.array()
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		case '"':
			var b strings.Builder
			for p.i++; ; p.i++ {
				if p.i >= len(p.s) {
					return nil, p.bad()
				}
				c := p.s[p.i]
				if c == '"' {
					p.i++
					break
				}
				if c == '\\' && p.i+1 < len(p.s) {
					p.i++
					c = p.s[p.i]
				}
				b.WriteByte(c)
			}
			out = append(out, b.String())
		default:
			var b strings.Builder
			escaped := false
			for ; p.i < len(p.s) && p.s[p.i] != p.delim && p.s[p.i] != '}'; p.i++ {
				c := p.s[p.i]
				if c == '\\' && p.i+1 < len(p.s) {
					p.i++
					c, escaped = p.s[p.i], true
				}
				b.WriteByte(c)
			}
			tok := strings.TrimRight(b.String(), " \t\n\r")
			if !escaped && strings.EqualFold(tok, "NULL") {
				out = append(out, nil)
			} else {
				out = append(out, tok)
			}
		}
		p.space()
		if p.i >= len(p.s) {
			return nil, p.bad()
		}
		c := p.s[p.i]
		p.i++
		switch c {
		case p.delim:
		case '}':
			return out, nil
		default:
			return nil, p.bad()
		}
	}
}

// arrayJSON writes array elements as the canonical JSON array of their
// canonical forms: numbers and booleans as JSON numbers and booleans, JSON
// elements as themselves, others as strings; bytea elements keep their hex
// text (\x0a0b) so that any bytes survive JSON.
func arrayJSON(elems []any, elem types.Type) (string, error) {
	var b bytes.Buffer
	if err := writeArrayJSON(&b, elems, elem); err != nil {
		return "", err
	}
	return types.CanonJSON(b.String())
}

func writeArrayJSON(b *bytes.Buffer, elems []any, elem types.Type) error {
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		switch e := e.(type) {
		case nil:
			b.WriteString("null")
		case []any:
			if err := writeArrayJSON(b, e, elem); err != nil {
				return err
			}
		case string:
			if elem.Kind == types.Bytes {
				b.WriteString(jsonString(e))
				continue
			}
			v, err := toCanon(elem, e)
			if err != nil {
				return err
			}
			switch elem.Kind {
			case types.Int, types.Year, types.Decimal, types.Float:
				if strings.ContainsAny(v, "NI") { // NaN, Infinity
					v = jsonString(v)
				}
			case types.Bool:
				v = map[string]string{"t": "true", "f": "false"}[v]
			case types.JSON:
			default:
				v = jsonString(v)
			}
			b.WriteString(v)
		}
	}
	b.WriteByte(']')
	return nil
}

func jsonString(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// arrayLiteral writes a canonical JSON array as an array literal.
func arrayLiteral(nt types.Type, s string) (string, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("%q is not a JSON array", s)
	}
	elems, ok := v.([]any)
	if !ok {
		return "", fmt.Errorf("%q is not a JSON array", s)
	}
	elem := types.Type{Kind: types.Text}
	if nt.Elem != nil {
		elem = *nt.Elem
	}
	var b strings.Builder
	if err := writeArrayLiteral(&b, elems, elem, arrayDelim(nt)); err != nil {
		return "", err
	}
	return checkNUL(b.String())
}

func writeArrayLiteral(b *strings.Builder, elems []any, elem types.Type, delim byte) error {
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(delim)
		}
		if e == nil {
			b.WriteString("NULL")
			continue
		}
		if sub, ok := e.([]any); ok {
			if err := writeArrayLiteral(b, sub, elem, delim); err != nil {
				return err
			}
			continue
		}
		var text string
		switch {
		case elem.Kind == types.JSON:
			j, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if text, err = types.CanonJSON(string(j)); err != nil {
				return err
			}
		default:
			switch e := e.(type) {
			case string:
				text = e
				if elem.Kind != types.Bytes { // bytea elements are kept as their hex text
					t, err := fromCanon(elem, e)
					if err != nil {
						return err
					}
					text = t
				}
			case json.Number:
				text = string(e)
			case bool:
				text = map[bool]string{true: "t", false: "f"}[e]
			default:
				return fmt.Errorf("array element %v is not a value of %s", e, elem)
			}
		}
		b.WriteString(quoteArrayElem(text))
	}
	b.WriteByte('}')
	return nil
}

// quoteArrayElem double-quotes an array element, escaping \ and ".
func quoteArrayElem(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// FinishTable implements engine.Dialect: counters become identity columns
// setCanon turns a text[] holding a set's labels into the canonical set: the
// labels comma-separated in definition order.
func setCanon(nt types.Type, s string) (string, error) {
	elems, err := parseArray(s, ',')
	if err != nil {
		return "", err
	}
	order := map[string]int{}
	for i, l := range nt.Labels {
		order[l] = i
	}
	labels := make([]string, 0, len(elems))
	for _, e := range elems {
		l, ok := e.(string)
		if !ok {
			return "", fmt.Errorf("%q is not a set of labels", s)
		}
		labels = append(labels, l)
	}
	rank := func(l string) int {
		if r, ok := order[l]; ok {
			return r
		}
		return len(order) // unknown labels last, in their order
	}
	slices.SortStableFunc(labels, func(a, b string) int { return rank(a) - rank(b) })
	return strings.Join(labels, ","), nil
}
