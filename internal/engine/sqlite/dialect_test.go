package sqlite

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

func TestNeutral(t *testing.T) {
	cases := []struct {
		decl string
		want types.Type
	}{
		{"INTEGER", types.Type{Kind: types.Int, Bits: 64}},
		{"int", types.Type{Kind: types.Int, Bits: 64}},
		{"BIGINT UNSIGNED", types.Type{Kind: types.Int, Bits: 64}},
		{"UNSIGNED BIG INT", types.Type{Kind: types.Int, Bits: 64}},
		{"TINYINT", types.Type{Kind: types.Int, Bits: 64}},
		{"BOOLEAN", types.Type{Kind: types.Bool}},
		{"bool", types.Type{Kind: types.Bool}},
		{"DATETIME", types.Type{Kind: types.Timestamp, Precision: 6}},
		{"timestamp", types.Type{Kind: types.Timestamp, Precision: 6}},
		{"DATE", types.Type{Kind: types.Date}},
		{"TIME", types.Type{Kind: types.Time, Precision: 6}},
		{"JSON", types.Type{Kind: types.JSON}},
		{"UUID", types.Type{Kind: types.UUID}},
		{"TEXT", types.Type{Kind: types.Text}},
		{"VARCHAR(255)", types.Type{Kind: types.Text, Length: 255}},
		{"NVARCHAR(10)", types.Type{Kind: types.Text, Length: 10}},
		{"CHARACTER(20)", types.Type{Kind: types.Text, Length: 20}},
		{"varying character( 7 )", types.Type{Kind: types.Text, Length: 7}},
		{"CLOB", types.Type{Kind: types.Text}},
		{"BLOB", types.Type{Kind: types.Bytes}},
		{"REAL", types.Type{Kind: types.Float, Bits: 64}},
		{"DOUBLE PRECISION", types.Type{Kind: types.Float, Bits: 64}},
		{"FLOAT", types.Type{Kind: types.Float, Bits: 64}},
		{"NUMERIC", types.Type{Kind: types.Decimal}},
		{"DECIMAL(10,5)", types.Type{Kind: types.Decimal, Precision: 10, Scale: 5}},
		{"numeric(12)", types.Type{Kind: types.Decimal, Precision: 12}},
		{"", types.Type{Kind: types.Other}},
		{"STRING", types.Type{Kind: types.Other}},
	}
	for _, c := range cases {
		got, err := Dialect().Neutral(nil, &schema.Column{Name: "c", Type: c.decl})
		c.want.Native = c.decl
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Neutral(%q) = %+v, %v; want %+v", c.decl, got, err, c.want)
		}
	}
}

func TestColumnType(t *testing.T) {
	cases := []struct {
		nt   types.Type
		key  bool
		want string
		loss types.Loss
	}{
		{types.Type{Kind: types.Bool}, false, "BOOLEAN", ""},
		{types.Type{Kind: types.Int, Bits: 32}, false, "INTEGER", ""},
		{types.Type{Kind: types.Int, Bits: 32, Unsigned: true}, false, "INTEGER", ""},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, false, "TEXT", ""},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, true, "INTEGER", ""},
		{types.Type{Kind: types.Year}, false, "INTEGER", ""},
		{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, false, "NUMERIC(10,2)", ""},
		{types.Type{Kind: types.Decimal, Precision: 15, Scale: 0}, false, "NUMERIC(15,0)", ""},
		{types.Type{Kind: types.Decimal, Precision: 16, Scale: 2}, false, "TEXT", ""},
		{types.Type{Kind: types.Decimal}, false, "TEXT", ""},
		{types.Type{Kind: types.Float, Bits: 32}, false, "REAL", ""},
		{types.Type{Kind: types.Text}, false, "TEXT", ""},
		{types.Type{Kind: types.Text, Length: 40}, false, "VARCHAR(40)", ""},
		{types.Type{Kind: types.Text, Length: 3, Fixed: true}, false, "CHARACTER(3)", ""},
		{types.Type{Kind: types.Bytes, Length: 16, Fixed: true}, false, "BLOB", ""},
		{types.Type{Kind: types.Date}, false, "DATE", ""},
		{types.Type{Kind: types.Time, Precision: 6}, false, "TIME", ""},
		{types.Type{Kind: types.Timestamp}, false, "DATETIME", ""},
		{types.Type{Kind: types.TimestampTZ}, false, "DATETIME", ""},
		{types.Type{Kind: types.JSON}, false, "JSON", ""},
		{types.Type{Kind: types.UUID}, true, "TEXT", ""},
		{types.Type{Kind: types.Enum, Labels: []string{"a"}}, false, "TEXT", ""},
		{types.Type{Kind: types.Set, Labels: []string{"a"}}, false, "TEXT", ""},
		{types.Type{Kind: types.Bit, Length: 8}, false, "TEXT", ""},
		{types.Type{Kind: types.Array, Elem: &types.Type{Kind: types.Int, Bits: 32}}, false, "JSON", types.LossArrayAsJSON},
		{types.Type{Kind: types.Interval}, false, "TEXT", types.LossAsText},
		{types.Type{Kind: types.Inet}, false, "TEXT", types.LossAsText},
		{types.Type{Kind: types.TSVector}, false, "TEXT", types.LossAsText},
		{types.Type{Kind: types.Other}, false, "TEXT", types.LossAsText},
	}
	for _, c := range cases {
		got, loss, err := Dialect().ColumnType(c.nt, c.key)
		if err != nil || got != c.want || loss != c.loss {
			t.Errorf("ColumnType(%s, key %v) = %q, %q, %v; want %q, %q", c.nt, c.key, got, loss, err, c.want, c.loss)
		}
	}
	if _, _, err := Dialect().ColumnType(types.Type{Kind: types.Spatial, Native: "geometry"}, false); err == nil || !strings.Contains(err.Error(), "geometry") {
		t.Errorf("spatial: %v", err)
	}
}

// canonCases are canonical values of each neutral type, as another engine's
// ToCanon gives them.
var canonCases = []struct {
	nt    types.Type
	canon []string
}{
	{types.Type{Kind: types.Bool}, []string{"t", "f"}},
	{types.Type{Kind: types.Int, Bits: 64}, []string{"0", "-9223372036854775808", "9223372036854775807", "42"}},
	{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, []string{"18446744073709551615", "0", "9223372036854775808"}},
	{types.Type{Kind: types.Year}, []string{"2024"}},
	{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, []string{"1.98", "-0.25", "3", "12345678.9", "0", "NaN"}},
	{types.Type{Kind: types.Decimal, Precision: 15, Scale: 5}, []string{"1234567890.12345", "0.00001"}},
	{types.Type{Kind: types.Decimal}, []string{"123456789012345678901234567890.000000001", "-1.5", "Infinity", "NaN"}},
	{types.Type{Kind: types.Float, Bits: 64}, []string{"1.5", "0", "-1e-300", "1.7976931348623157e+308", "Infinity", "-Infinity", "NaN", "0.1"}},
	{types.Type{Kind: types.Float, Bits: 32}, []string{"1.1", "3.4028235e+38"}},
	{types.Type{Kind: types.Text}, []string{"", "héllo ✓", "tab\there", "line\nbreak\r\n", `back\slash`, "123", "1e5", "null", "i:5"}},
	{types.Type{Kind: types.Text, Length: 5, Fixed: true}, []string{"ab", ""}},
	{types.Type{Kind: types.Bytes}, []string{"", "\x00\x01\xff", "plain", "a\tb\nc\\"}},
	{types.Type{Kind: types.Date}, []string{"2024-02-29", "0001-01-01"}},
	{types.Type{Kind: types.Time, Precision: 6}, []string{"00:00:00", "23:59:59.5", "12:30:01.123456"}},
	{types.Type{Kind: types.Timestamp, Precision: 6}, []string{"2024-01-01 00:00:00", "1999-12-31 23:59:59.999999"}},
	{types.Type{Kind: types.TimestampTZ, Precision: 6}, []string{"2024-06-01 12:00:00.25"}},
	{types.Type{Kind: types.JSON}, []string{`{"a":[1,2.50,"x"],"b":null}`, `[]`, `"s"`, `true`}},
	{types.Type{Kind: types.UUID}, []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
	{types.Type{Kind: types.Enum, Labels: []string{"small", "large"}}, []string{"small", "large"}},
	{types.Type{Kind: types.Set, Labels: []string{"a", "b"}}, []string{"a,b", ""}},
	{types.Type{Kind: types.Bit, Length: 4}, []string{"0101", ""}},
	{types.Type{Kind: types.Array}, []string{`[1,2,3]`, `["a","b"]`}},
	{types.Type{Kind: types.Interval}, []string{"1 year 2 mons"}},
	{types.Type{Kind: types.Inet}, []string{"10.0.0.1/32"}},
	{types.Type{Kind: types.Other}, []string{"(1,2)", ""}},
}

// column builds a target column the way the bridge does.
func column(t *testing.T, name string, nt types.Type, key bool) schema.Column {
	t.Helper()
	typ, _, err := Dialect().ColumnType(nt, key)
	if err != nil {
		t.Fatal(err)
	}
	n := nt
	return schema.Column{Name: name, Type: typ, Neutral: &n}
}

func TestCanonRoundTrip(t *testing.T) {
	d := Dialect()
	for _, c := range canonCases {
		for _, key := range []bool{false, true} {
			col := column(t, "c", c.nt, key)
			for _, s := range c.canon {
				v, err := d.FromCanon(&col, engine.Value{Text: s})
				if _, perr := strconv.ParseInt(s, 10, 64); key && c.nt.Kind == types.Int && perr != nil {
					if err == nil {
						t.Errorf("%s key: FromCanon(%q) accepted a value beyond int64", c.nt, s)
					}
					continue // an unsigned key beyond int64 fails the copy
				}
				if err != nil {
					t.Errorf("%s: FromCanon(%q): %v", c.nt, s, err)
					continue
				}
				for _, in := range []engine.Value{v, {Text: v.Text}} { // typed, and as the checksummer's text
					back, err := d.ToCanon(&col, in)
					if err != nil || back.Text != s || back.Raw != nil || back.Null {
						t.Errorf("%s: ToCanon(FromCanon(%q) = %#v) = %#v, %v", c.nt, s, in, back, err)
					}
				}
			}
		}
	}
	col := column(t, "c", types.Type{Kind: types.Int, Bits: 64}, false)
	for _, v := range []engine.Value{{Null: true}, {Unchanged: true}} {
		if got, _ := d.FromCanon(&col, v); got != v {
			t.Errorf("FromCanon(%#v) = %#v", v, got)
		}
		if got, _ := d.ToCanon(&col, v); got != v {
			t.Errorf("ToCanon(%#v) = %#v", v, got)
		}
	}
}

func TestFromCanonStorageClass(t *testing.T) {
	cases := []struct {
		nt    types.Type
		canon string
		want  any
	}{
		{types.Type{Kind: types.Bool}, "t", int64(1)},
		{types.Type{Kind: types.Int, Bits: 64}, "-7", int64(-7)},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, "18446744073709551615", "18446744073709551615"},
		{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, "1.98", 1.98},
		{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, "3", int64(3)},
		{types.Type{Kind: types.Decimal, Precision: 30, Scale: 2}, "1.98", "1.98"},
		{types.Type{Kind: types.Float, Bits: 64}, "NaN", "NaN"},
		{types.Type{Kind: types.Float, Bits: 64}, "Infinity", math.Inf(1)},
		{types.Type{Kind: types.Bytes}, "", []byte{}},
		{types.Type{Kind: types.Date}, "2024-01-01", "2024-01-01"},
	}
	for _, c := range cases {
		col := column(t, "c", c.nt, false)
		v, err := Dialect().FromCanon(&col, engine.Value{Text: c.canon})
		if err != nil || !reflect.DeepEqual(v.Raw, c.want) || v.Text != canon(c.want) {
			t.Errorf("%s: FromCanon(%q) = %#v, %v; want %#v", c.nt, c.canon, v, err, c.want)
		}
	}
	// Values the column's affinity would change are refused.
	key := column(t, "id", types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, true)
	if _, err := Dialect().FromCanon(&key, engine.Value{Text: "18446744073709551615"}); err == nil {
		t.Error("an unsigned key beyond int64 was accepted in an INTEGER column")
	}
	dec := column(t, "d", types.Type{Kind: types.Decimal, Precision: 15, Scale: 0}, false)
	dec.Neutral.Precision = 20 // a column declared NUMERIC(15,0) holding more digits
	if _, err := Dialect().FromCanon(&dec, engine.Value{Text: "12345678901234567890"}); err == nil {
		t.Error("a decimal of 20 digits was accepted in a NUMERIC column")
	}
}

func TestToCanonSQLiteValues(t *testing.T) {
	cases := []struct {
		decl string
		raw  any
		want string // "" with err
		err  string
	}{
		{"INTEGER", int64(5), "5", ""},
		{"INTEGER", 3.0, "3", ""},
		{"INTEGER", 1.5, "", "real 1.5 in a column declared INTEGER is not an integer"},
		{"INTEGER", "abc", "", `text "abc" in a column declared INTEGER is not an integer`},
		{"INTEGER", []byte{1}, "", "blob of 1 bytes"},
		{"DECIMAL(10,2)", 1.98, "1.98", ""},
		{"DECIMAL(10,2)", 0.30000000000000004, "0.3", ""}, // 0.1 + 0.2 computed in SQLite
		{"DECIMAL(10,2)", math.Inf(-1), "-Infinity", ""},
		{"DECIMAL(10,2)", 1e-7, "0.0000001", ""},
		{"NUMERIC", int64(7), "7", ""},
		{"NUMERIC", 1e21, "1000000000000000000000", ""},
		{"NUMERIC", "12.50", "12.5", ""},
		{"NUMERIC", "x", "", "is not a decimal number"},
		{"BOOLEAN", int64(1), "t", ""},
		{"BOOLEAN", int64(0), "f", ""},
		{"BOOLEAN", "true", "t", ""},
		{"BOOLEAN", "f", "f", ""},
		{"BOOLEAN", int64(2), "", "is not a boolean"},
		{"REAL", int64(2), "2", ""},
		{"REAL", 0.1, "0.1", ""},
		{"DATETIME", "2009-01-01 00:00:00", "2009-01-01 00:00:00", ""},
		{"DATETIME", "2009-01-01T10:20:30.500", "2009-01-01 10:20:30.5", ""},
		{"DATETIME", "2009-01-01 10:20", "2009-01-01 10:20:00", ""},
		{"DATETIME", "2009-01-01", "2009-01-01 00:00:00", ""},
		{"DATETIME", "2009-01-01 10:00:00+02:00", "2009-01-01 08:00:00", ""},
		{"DATETIME", "2009-01-01T10:00:00Z", "2009-01-01 10:00:00", ""},
		{"DATETIME", int64(1700000000), "", "integer 1700000000 in a column declared DATETIME is not a timestamp"},
		{"DATETIME", "yesterday", "", "is not a timestamp"},
		{"DATE", "2024-01-31", "2024-01-31", ""},
		{"DATE", "2024-02-30", "", "is not a date"},
		{"TIME", "10:20", "10:20:00", ""},
		{"TIME", "10:20:30.000", "10:20:30", ""},
		{"JSON", `{"b": 1, "a": [true]}`, `{"a":[true],"b":1}`, ""},
		{"JSON", int64(3), "3", ""},
		{"JSON", "{", "", "is not JSON"},
		{"UUID", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""},
		{"UUID", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""},
		{"UUID", []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""},
		{"UUID", "nope", "", "is not a UUID"},
		{"TEXT", "x", "x", ""},
		{"TEXT", []byte("utf8 ✓"), "utf8 ✓", ""},
		{"TEXT", []byte{0xff}, "", "is not text"},
		{"BLOB", "text", "text", ""},
		{"BLOB", int64(1), "", "is not a blob"},
		{"", int64(5), "5", ""},
		{"", 2.5, "2.5", ""},
		{"", "any", "any", ""},
	}
	for _, c := range cases {
		col := schema.Column{Name: "c", Type: c.decl}
		got, err := Dialect().ToCanon(&col, engine.Value{Raw: c.raw, Text: canon(c.raw)})
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s %#v: got %q, %v; want error %q", c.decl, c.raw, got.Text, err, c.err)
		case c.err == "" && (err != nil || got.Text != c.want):
			t.Errorf("%s %#v = %q, %v; want %q", c.decl, c.raw, got.Text, err, c.want)
		}
	}
	col := schema.Column{Name: "d", Type: "DATE"}
	if _, err := Dialect().ToCanon(&col, engine.Value{Raw: "0000-00-00"}); !errors.Is(err, types.ErrZeroDate) {
		t.Errorf("zero date: %v", err)
	}
	if v, err := Dialect().ToCanon(&col, engine.Value{Text: "null"}); err != nil || !v.Null {
		t.Errorf("checksummer NULL: %#v, %v", v, err)
	}
}

func TestEncoderDecodeRows(t *testing.T) {
	cols := []schema.Column{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}
	rows := [][]engine.Value{
		{{Raw: int64(1)}, {Raw: "tab\tnew\nline\\back"}, {Raw: []byte{0, 1, 0xff}}, {Null: true}},
		{{Raw: int64(-2)}, {Raw: ""}, {Raw: []byte{}}, {Raw: 2.5}},
		{{Text: "i:3"}, {Text: "t:from text"}, {Text: "b:0a0d"}, {Text: "f:-0.5"}},
	}
	var buf bytes.Buffer
	enc := Dialect().NewEncoder(&buf, cols)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil || enc.Format() != Format {
		t.Fatal(err, enc.Format())
	}
	want := [][]any{
		{int64(1), "tab\tnew\nline\\back", []byte{0, 1, 0xff}, nil},
		{int64(-2), "", []byte{}, 2.5},
		{int64(3), "from text", []byte{10, 13}, -0.5},
	}
	i := 0
	err := Dialect().DecodeRows(&buf, cols, func(vals []engine.Value) error {
		for j, v := range vals {
			if !reflect.DeepEqual(v.Raw, want[i][j]) || v.Null != (want[i][j] == nil) || v.Text != canon(want[i][j]) {
				t.Errorf("row %d value %d = %#v; want %#v", i, j, v, want[i][j])
			}
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("decoded %d rows: %v", i, err)
	}
	if err := enc.Encode(rows[0][:2]); err == nil {
		t.Error("a short row was encoded")
	}
}

func TestDefaults(t *testing.T) {
	d := Dialect()
	cases := []struct {
		decl, def string
		want      types.Default
		ok        bool
	}{
		{"INTEGER", "0", types.Default{Value: "0"}, true},
		{"INTEGER", "-1", types.Default{Value: "-1"}, true},
		{"REAL", "1.50", types.Default{Value: "1.5"}, true},
		{"NUMERIC(5,2)", "'1.50'", types.Default{Value: "1.5"}, true},
		{"TEXT", "'it''s'", types.Default{Value: "it's"}, true},
		{"TEXT", "NULL", types.Default{Null: true}, true},
		{"BOOLEAN", "TRUE", types.Default{Value: "t"}, true},
		{"BOOLEAN", "0", types.Default{Value: "f"}, true},
		{"BLOB", "X'00ff'", types.Default{Value: "\x00\xff"}, true},
		{"DATETIME", "CURRENT_TIMESTAMP", types.Default{Now: true}, true},
		{"DATETIME", "datetime('now')", types.Default{Now: true}, true},
		{"DATETIME", "(datetime( 'now' ))", types.Default{Now: true}, true},
		{"DATE", "current_date", types.Default{Now: true}, true},
		{"DATETIME", "datetime('now', 'localtime')", types.Default{}, false},
		{"INTEGER", "'abc'", types.Default{}, false},
		{"INTEGER", "(1 + 2)", types.Default{}, false},
		{"TEXT", "", types.Default{}, false},
	}
	for _, c := range cases {
		got, ok := d.Default(&schema.Column{Name: "c", Type: c.decl, Default: c.def})
		if ok != c.ok || got != c.want {
			t.Errorf("Default(%s %q) = %+v, %v; want %+v, %v", c.decl, c.def, got, ok, c.want, c.ok)
		}
	}
	sqlCases := []struct {
		nt   types.Type
		def  types.Default
		want string
	}{
		{types.Type{Kind: types.Int, Bits: 32}, types.Default{Value: "-5"}, "-5"},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, types.Default{Value: "5"}, "'5'"},
		{types.Type{Kind: types.Float, Bits: 64}, types.Default{Value: "1e-05"}, "1e-05"},
		{types.Type{Kind: types.Float, Bits: 64}, types.Default{Value: "NaN"}, "'NaN'"},
		{types.Type{Kind: types.Decimal, Precision: 30}, types.Default{Value: "123456789012345678901234.5"}, "'123456789012345678901234.5'"},
		{types.Type{Kind: types.Bool}, types.Default{Value: "t"}, "1"},
		{types.Type{Kind: types.Text}, types.Default{Value: "it's"}, "'it''s'"},
		{types.Type{Kind: types.Bytes}, types.Default{Value: "\x00\xff"}, "X'00ff'"},
		{types.Type{Kind: types.Timestamp}, types.Default{Now: true}, "CURRENT_TIMESTAMP"},
		{types.Type{Kind: types.Date}, types.Default{Now: true}, "CURRENT_DATE"},
		{types.Type{Kind: types.Text}, types.Default{Null: true}, "NULL"},
	}
	for _, c := range sqlCases {
		if got := d.DefaultSQL(c.nt, c.def); got != c.want {
			t.Errorf("DefaultSQL(%s, %+v) = %q; want %q", c.nt, c.def, got, c.want)
		}
	}
}

// bridgeTables builds target tables the way the bridge does: names, column
// types, a primary key constraint, unique constraints, a foreign key, indexes.
func bridgeTables(t *testing.T) []*schema.Table {
	d := Dialect()
	intT := types.Type{Kind: types.Int, Bits: 64, Unsigned: true}
	parent := &schema.Table{Schema: "main", Name: "parent", Key: []string{"id"}}
	id := column(t, "id", intT, true)
	id.NotNull, id.AutoIncrement = true, true
	name := column(t, "name", types.Type{Kind: types.Text, Length: 20}, true)
	name.NotNull = true
	size := column(t, "size", types.Type{Kind: types.Enum, Labels: []string{"small", "it's big"}}, false)
	size.Default = d.DefaultSQL(*size.Neutral, types.Default{Value: "small"})
	made := column(t, "made", types.Type{Kind: types.Timestamp}, false)
	made.Default = d.DefaultSQL(*made.Neutral, types.Default{Now: true})
	parent.Columns = []schema.Column{id, name, size, made}
	parent.Constraints = []schema.Constraint{{Name: "parent_pkey", Kind: "p", Columns: []string{"id"}}, {Name: "parent_name_key", Kind: "u", Columns: []string{"name"}}}

	child := &schema.Table{Schema: "main", Name: "child", Key: []string{"pid", "n"}}
	pid := column(t, "pid", intT, true)
	pid.NotNull = true
	n := column(t, "n", types.Type{Kind: types.Int, Bits: 32}, true)
	n.NotNull = true
	price := column(t, "price", types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, true)
	child.Columns = []schema.Column{pid, n, price}
	child.Constraints = []schema.Constraint{{Name: "child_pkey", Kind: "p", Columns: []string{"pid", "n"}},
		{Name: "child_pid_fkey", Kind: "f", Columns: []string{"pid"}, RefTable: "main.parent", RefColumns: []string{"id"}, OnDelete: "CASCADE"}}
	child.Indexes = []schema.Index{{Name: "child_price", Columns: []string{"price"}}, {Name: "child_price_n", Columns: []string{"price", "n"}, Unique: true}}
	for _, tb := range []*schema.Table{parent, child} {
		if err := d.FinishTable(tb); err != nil {
			t.Fatal(err)
		}
	}
	return []*schema.Table{parent, child}
}

func TestFinishTable(t *testing.T) {
	tables := bridgeTables(t)
	want := `CREATE TABLE "parent" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" VARCHAR(20) NOT NULL,
  "size" TEXT DEFAULT 'small',
  "made" DATETIME DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "parent_name_key" UNIQUE ("name"),
  CONSTRAINT "parent_size_check" CHECK ("size" IN ('small', 'it''s big'))
)`
	if tables[0].CreateSQL != want {
		t.Errorf("parent:\n%s\nwant:\n%s", tables[0].CreateSQL, want)
	}
	want = `CREATE TABLE "child" (
  "pid" INTEGER NOT NULL,
  "n" INTEGER NOT NULL,
  "price" NUMERIC(10,2),
  CONSTRAINT "child_pkey" PRIMARY KEY ("pid", "n"),
  CONSTRAINT "child_pid_fkey" FOREIGN KEY ("pid") REFERENCES "parent" ("id") ON DELETE CASCADE
)`
	if tables[1].CreateSQL != want {
		t.Errorf("child:\n%s\nwant:\n%s", tables[1].CreateSQL, want)
	}
	if got := tables[1].Indexes[1].Def; got != `CREATE UNIQUE INDEX "child_price_n" ON "child" ("price", "n")` {
		t.Errorf("index def %q", got)
	}
}

// TestBridgePath runs what the bridge does against real files: create the
// tables FinishTable built, load FromCanon rows through the encoder, read them
// back through ReadRange on a Source opened on the target, decode, ToCanon;
// look rows up by FromCanon key text; carry a counter; read the catalog back.
func TestBridgePath(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "target.db")
	tgt, err := OpenTarget(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if _, err := tgt.Prepare(ctx, "m"); err != nil {
		t.Fatal(err)
	}

	// One table with a column of every neutral type (key: an unsigned id).
	d := Dialect()
	all := &schema.Table{Schema: "main", Name: "all types", Key: []string{"id"}}
	all.Columns = []schema.Column{column(t, "id", types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, true)}
	all.Columns[0].NotNull = true
	all.Constraints = []schema.Constraint{{Name: "all_pkey", Kind: "p", Columns: []string{"id"}}}
	width := 0
	for i, c := range canonCases {
		all.Columns = append(all.Columns, column(t, "c"+string(rune('a'+i)), c.nt, false))
		width = max(width, len(c.canon))
	}
	if err := d.FinishTable(all); err != nil {
		t.Fatal(err)
	}
	tables := append(bridgeTables(t), all)
	if err := tgt.CreateTables(ctx, "m", tables, nil, position.Seq(0), false); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if err := tgt.CreateKeyIndex(ctx, tb); err != nil {
			t.Fatal(err)
		}
		if err := tgt.CreateSecondary(ctx, tb); err != nil {
			t.Fatal(err)
		}
	}

	// Rows: row r holds the r-th canonical value of each type (NULL past the end).
	cols := all.CopyColumns()
	var want [][]engine.Value
	var buf bytes.Buffer
	enc := d.NewEncoder(&buf, cols)
	for r := 0; r < width; r++ {
		id := strconv.Itoa(1 + r*10)
		if r == 1 {
			id = "9223372036854775807"
		}
		canonRow := []engine.Value{{Text: id}}
		for _, c := range canonCases {
			if r < len(c.canon) {
				canonRow = append(canonRow, engine.Value{Text: c.canon[r]})
			} else {
				canonRow = append(canonRow, engine.Value{Null: true})
			}
		}
		row := make([]engine.Value, len(cols))
		for i := range cols {
			if row[i], err = d.FromCanon(&cols[i], canonRow[i]); err != nil {
				t.Fatalf("row %d column %s: %v", r, cols[i].Name, err)
			}
		}
		if err := enc.Encode(row); err != nil {
			t.Fatal(err)
		}
		want = append(want, canonRow)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.WriteChunk(ctx, "m", all, engine.Chunk{Table: all.QualifiedName()}, enc.Format(), &buf, func() (position.Position, error) { return position.Seq(0), nil }); err != nil {
		t.Fatal(err)
	}

	src, err := OpenSource(ctx, url, "m")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var rr engine.RangeReader = src
	buf.Reset()
	if err := rr.ReadRange(ctx, all, nil, nil, &buf); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	err = d.DecodeRows(&buf, cols, func(vals []engine.Value) error {
		var row []string
		for i, v := range vals {
			c, err := d.ToCanon(&cols[i], v)
			if err != nil {
				return err
			}
			row = append(row, shown(c))
		}
		got[row[0]] = row
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		g := got[w[0].Text]
		for i, v := range w {
			ws := shown(v)
			if g == nil || g[i] != ws {
				t.Errorf("key %s column %s (%s): read back %q, wrote %q", w[0].Text, cols[i].Name, cols[i].Type, g, ws)
				break
			}
		}
	}

	// A range by key text, and rows looked up by key text, as verification does.
	keyCol := all.Column("id")
	lo, _ := d.FromCanon(keyCol, engine.Value{Text: "1"})
	buf.Reset()
	if err := rr.ReadRange(ctx, all, []string{lo.Text}, nil, &buf); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := d.DecodeRows(&buf, cols, func([]engine.Value) error { n++; return nil }); err != nil || n != width-1 {
		t.Errorf("range after key 1: %d rows, %v", n, err)
	}
	k, _ := d.FromCanon(keyCol, engine.Value{Text: "9223372036854775807"})
	rows, err := tgt.Rows(ctx, all, [][]string{{k.Text}})
	if err != nil || rows[0] == nil {
		t.Fatalf("Rows: %v %v", rows, err)
	}
	for i, s := range rows[0] {
		if s == nil {
			continue
		}
		c, err := d.ToCanon(&cols[i], engine.Value{Text: *s})
		if err != nil || c.Text != want[1][i].Text {
			t.Errorf("Rows column %s = %q, %v; want %q", cols[i].Name, c.Text, err, want[1][i].Text)
		}
	}

	// The enum CHECK and the foreign key are in the table.
	if _, err := tgt.db.ExecContext(ctx, `INSERT INTO parent (name, size) VALUES ('x', 'huge')`); err == nil {
		t.Error("the enum check let 'huge' in")
	}
	// The counter: the next id handed out is the value set.
	if _, err := tgt.db.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (7, 'a')`); err != nil {
		t.Fatal(err)
	}
	if err := tgt.SetSequences(ctx, tables, []engine.SequenceValue{{Table: "main.parent", Column: "id", Value: 100}, {Table: "main.child", Column: "pid", Value: 5}}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := tgt.db.QueryRowContext(ctx, `INSERT INTO parent (name) VALUES ('b') RETURNING id`).Scan(&id); err != nil || id != 100 {
		t.Errorf("next id = %d, %v; want 100", id, err)
	}

	// The catalog reads back what FinishTable made.
	read, err := src.Tables(ctx, schema.Filter{Include: []string{"main.parent", "main.child"}})
	if err != nil || len(read) != 2 {
		t.Fatal(read, err)
	}
	child, par := read[0], read[1]
	if c := par.Column("id"); !c.AutoIncrement || par.Column("name").AutoIncrement {
		t.Errorf("parent auto-increment: %+v", par.Columns)
	}
	if child.Column("pid").AutoIncrement {
		t.Error("a composite key column is auto-increment")
	}
	wantCons := []schema.Constraint{
		{Name: "parent_pkey", Kind: "p", Def: `PRIMARY KEY ("id")`, Columns: []string{"id"}},
		{Name: "parent_name_key", Kind: "u", Def: `UNIQUE ("name")`, Columns: []string{"name"}},
	}
	if !reflect.DeepEqual(par.Constraints, wantCons) {
		t.Errorf("parent constraints %+v", par.Constraints)
	}
	wantCons = []schema.Constraint{
		{Name: "child_pkey", Kind: "p", Def: `PRIMARY KEY ("pid", "n")`, Columns: []string{"pid", "n"}},
		{Name: "child_pid_fkey", Kind: "f", Def: `FOREIGN KEY ("pid") REFERENCES "parent" ("id") ON DELETE CASCADE`, RefTable: "main.parent", RefSchema: "main", RefName: "parent",
			Columns: []string{"pid"}, RefColumns: []string{"id"}, OnDelete: "CASCADE"},
	}
	if !reflect.DeepEqual(child.Constraints, wantCons) {
		t.Errorf("child constraints %+v", child.Constraints)
	}
	if len(child.Indexes) != 2 || !reflect.DeepEqual(child.Indexes[0].Columns, []string{"price"}) || child.Indexes[0].Unique ||
		!reflect.DeepEqual(child.Indexes[1].Columns, []string{"price", "n"}) || !child.Indexes[1].Unique {
		t.Errorf("child indexes %+v", child.Indexes)
	}
	seqs, err := src.Sequences(ctx, read)
	if err != nil || !reflect.DeepEqual(seqs, []engine.SequenceValue{{Table: "main.parent", Column: "id", Value: 100, Called: true}}) {
		t.Errorf("Sequences = %+v, %v", seqs, err)
	}
}

func shown(v engine.Value) string {
	if v.Null {
		return "<null>"
	}
	return v.Text
}

func TestCatalogDetails(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "src.db")
	tgt, err := OpenTarget(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	for _, q := range []string{
		`CREATE TABLE p (a INTEGER NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b))`,
		`CREATE TABLE r (id integer PRIMARY KEY, x INT, y TEXT, pa INTEGER, pb TEXT, UNIQUE (x, y), FOREIGN KEY (pa, pb) REFERENCES p ON UPDATE SET NULL)`,
		`CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID`,
		`CREATE TABLE i (id INT PRIMARY KEY)`,
		`CREATE INDEX r_expr ON r (lower(y))`,
		`CREATE UNIQUE INDEX r_part ON r (y) WHERE y IS NOT NULL`,
		`INSERT INTO r (id) VALUES (41)`,
		`CREATE TRIGGER r_touch AFTER UPDATE ON r BEGIN SELECT 1; END`,
	} {
		if _, err := tgt.db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	src, err := OpenSource(ctx, url, "m")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx, schema.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*schema.Table{}
	for _, tb := range tables {
		byName[tb.Name] = tb
	}
	r := byName["r"]
	if strings.Join(r.Triggers, ",") != "r_touch" || byName["p"].Triggers != nil {
		t.Errorf("triggers: r %v, p %v", r.Triggers, byName["p"].Triggers)
	}
	if !r.Column("id").AutoIncrement || byName["w"].Column("id").AutoIncrement || byName["i"].Column("id").AutoIncrement {
		t.Error("AutoIncrement: only an INTEGER PRIMARY KEY of a rowid table is")
	}
	var fk, uq *schema.Constraint
	for i, c := range r.Constraints {
		switch c.Kind {
		case "f":
			fk = &r.Constraints[i]
		case "u":
			uq = &r.Constraints[i]
		}
	}
	if fk == nil || !reflect.DeepEqual(fk.RefColumns, []string{"a", "b"}) || fk.OnUpdate != "SET NULL" || fk.OnDelete != "" || fk.RefTable != "main.p" {
		t.Errorf("foreign key %+v", fk)
	}
	if uq == nil || !reflect.DeepEqual(uq.Columns, []string{"x", "y"}) {
		t.Errorf("unique %+v", uq)
	}
	for _, ix := range r.Indexes {
		if len(ix.Columns) != 0 {
			t.Errorf("index %s (expression or partial) has columns %v", ix.Name, ix.Columns)
		}
	}
	seqs, err := src.Sequences(ctx, []*schema.Table{r, byName["p"]})
	if err != nil || !reflect.DeepEqual(seqs, []engine.SequenceValue{{Table: "main.r", Column: "id", Value: 41, Called: true}}) {
		t.Errorf("Sequences = %+v, %v", seqs, err)
	}
}
