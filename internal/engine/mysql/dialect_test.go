package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

func TestNeutral(t *testing.T) {
	tb := &schema.Table{CreateSQL: "CREATE TABLE `t` (\n  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`))\n)"}
	cases := []struct {
		typ  string
		name string
		want types.Type
	}{
		{"tinyint(1)", "", types.Type{Kind: types.Int, Bits: 8}},
		{"tinyint(3) unsigned", "", types.Type{Kind: types.Int, Bits: 8, Unsigned: true}},
		{"smallint(6)", "", types.Type{Kind: types.Int, Bits: 16}},
		{"mediumint(8) unsigned", "", types.Type{Kind: types.Int, Bits: 24, Unsigned: true}},
		{"int(11)", "", types.Type{Kind: types.Int, Bits: 32}},
		{"int(10) unsigned zerofill", "", types.Type{Kind: types.Int, Bits: 32, Unsigned: true}},
		{"bigint", "", types.Type{Kind: types.Int, Bits: 64}},
		{"decimal(10,2)", "", types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}},
		{"decimal(65,30) unsigned", "", types.Type{Kind: types.Decimal, Precision: 65, Scale: 30}},
		{"float", "", types.Type{Kind: types.Float, Bits: 32}},
		{"float(7,3)", "", types.Type{Kind: types.Float, Bits: 32}},
		{"double", "", types.Type{Kind: types.Float, Bits: 64}},
		{"char(10)", "", types.Type{Kind: types.Text, Length: 10, Fixed: true}},
		{"varchar(255)", "", types.Type{Kind: types.Text, Length: 255}},
		{"tinytext", "", types.Type{Kind: types.Text}},
		{"text", "", types.Type{Kind: types.Text}},
		{"mediumtext", "", types.Type{Kind: types.Text}},
		{"longtext", "", types.Type{Kind: types.Text}},
		{"longtext", "j", types.Type{Kind: types.JSON}},
		{"json", "", types.Type{Kind: types.JSON}},
		{"binary(16)", "", types.Type{Kind: types.Bytes, Length: 16, Fixed: true}},
		{"varbinary(300)", "", types.Type{Kind: types.Bytes, Length: 300}},
		{"blob", "", types.Type{Kind: types.Bytes}},
		{"longblob", "", types.Type{Kind: types.Bytes}},
		{"date", "", types.Type{Kind: types.Date}},
		{"time", "", types.Type{Kind: types.Time}},
		{"time(3)", "", types.Type{Kind: types.Time, Precision: 3}},
		{"datetime(6)", "", types.Type{Kind: types.Timestamp, Precision: 6}},
		{"timestamp", "", types.Type{Kind: types.TimestampTZ}},
		{"timestamp(2)", "", types.Type{Kind: types.TimestampTZ, Precision: 2}},
		{"year(4)", "", types.Type{Kind: types.Year}},
		{`enum('a','it''s','b\\c','x,y','Ü')`, "", types.Type{Kind: types.Enum, Labels: []string{"a", "it's", `b\c`, "x,y", "Ü"}}},
		{"set('p','q')", "", types.Type{Kind: types.Set, Labels: []string{"p", "q"}}},
		{"bit(5)", "", types.Type{Kind: types.Bit, Length: 5}},
		{"point", "", types.Type{Kind: types.Spatial}},
		{"geometrycollection", "", types.Type{Kind: types.Spatial}},
		{"uuid", "", types.Type{Kind: types.Other}},
	}
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = "x"
		}
		got, err := Dialect().Neutral(tb, &schema.Column{Name: name, Type: c.typ})
		c.want.Native = c.typ
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Neutral(%s) = %+v, %v; want %+v", c.typ, got, err, c.want)
		}
	}
	if _, err := Dialect().Neutral(tb, &schema.Column{Name: "x", Type: "varchar(5)", Collation: "armscii8_general_ci"}); err == nil || !strings.Contains(err.Error(), "armscii8") {
		t.Errorf("unconvertible character set: %v", err)
	}
	if _, err := Dialect().Neutral(tb, &schema.Column{Name: "x", Type: "varchar(5)", Collation: "latin1_swedish_ci"}); err != nil {
		t.Errorf("latin1: %v", err)
	}
}

func TestColumnType(t *testing.T) {
	cases := []struct {
		nt   types.Type
		key  bool
		want string
		loss types.Loss
	}{
		{types.Type{Kind: types.Bool}, false, "tinyint(1)", ""},
		{types.Type{Kind: types.Int, Bits: 8}, false, "tinyint", ""},
		{types.Type{Kind: types.Int, Bits: 16, Unsigned: true}, false, "smallint unsigned", ""},
		{types.Type{Kind: types.Int, Bits: 24}, false, "mediumint", ""},
		{types.Type{Kind: types.Int, Bits: 32}, false, "int", ""},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, false, "bigint unsigned", ""},
		{types.Type{Kind: types.Decimal, Precision: 12, Scale: 2}, false, "decimal(12,2)", ""},
		{types.Type{Kind: types.Decimal, Precision: 65, Scale: 30}, false, "decimal(65,30)", ""},
		{types.Type{Kind: types.Decimal, Precision: 70, Scale: 2}, false, "decimal(65,30)", types.LossNumericPrecision},
		{types.Type{Kind: types.Decimal, Precision: 40, Scale: 31}, false, "decimal(65,30)", types.LossNumericPrecision},
		{types.Type{Kind: types.Decimal}, false, "decimal(65,30)", types.LossNumericPrecision},
		{types.Type{Kind: types.Float, Bits: 32}, false, "float", ""},
		{types.Type{Kind: types.Float, Bits: 64}, false, "double", ""},
		{types.Type{Kind: types.Text, Length: 10, Fixed: true}, false, "char(10)", ""},
		{types.Type{Kind: types.Text, Length: 300, Fixed: true}, false, "varchar(300)", ""},
		{types.Type{Kind: types.Text, Length: 16383}, false, "varchar(16383)", ""},
		{types.Type{Kind: types.Text, Length: 16384}, false, "longtext", ""},
		{types.Type{Kind: types.Text}, false, "longtext", ""},
		{types.Type{Kind: types.Text}, true, "varchar(768)", ""},
		{types.Type{Kind: types.Bytes, Length: 16, Fixed: true}, false, "binary(16)", ""},
		{types.Type{Kind: types.Bytes, Length: 65535}, false, "varbinary(65535)", ""},
		{types.Type{Kind: types.Bytes}, false, "longblob", ""},
		{types.Type{Kind: types.Bytes}, true, "varbinary(3072)", ""},
		{types.Type{Kind: types.Date}, false, "date", ""},
		{types.Type{Kind: types.Time, Precision: 6}, false, "time(6)", ""},
		{types.Type{Kind: types.Time}, false, "time", ""},
		{types.Type{Kind: types.Timestamp, Precision: 3}, false, "datetime(3)", ""},
		{types.Type{Kind: types.TimestampTZ, Precision: 6}, false, "datetime(6)", ""},
		{types.Type{Kind: types.Year}, false, "year", ""},
		{types.Type{Kind: types.JSON}, false, "json", ""},
		{types.Type{Kind: types.UUID}, true, "char(36)", ""},
		{types.Type{Kind: types.Enum, Labels: []string{"a", "it's"}}, false, `enum('a','it\'s')`, ""},
		{types.Type{Kind: types.Set, Labels: []string{"p", "q"}}, false, "set('p','q')", ""},
		{types.Type{Kind: types.Bit, Length: 64}, false, "bit(64)", ""},
		{types.Type{Kind: types.Bit, Length: 65}, false, "varchar(65)", types.LossAsText},
		{types.Type{Kind: types.Bit, Length: 8, Varying: true}, false, "varchar(8)", types.LossAsText},
		{types.Type{Kind: types.Bit, Varying: true}, false, "longtext", types.LossAsText},
		{types.Type{Kind: types.Array, Elem: &types.Type{Kind: types.Int, Bits: 32}}, false, "json", types.LossArrayAsJSON},
		{types.Type{Kind: types.Interval}, false, "varchar(64)", types.LossAsText},
		{types.Type{Kind: types.Inet}, false, "varchar(43)", types.LossAsText},
		{types.Type{Kind: types.TSVector}, false, "longtext", types.LossAsText},
		{types.Type{Kind: types.Other}, false, "longtext", types.LossAsText},
	}
	for _, c := range cases {
		got, loss, err := Dialect().ColumnType(c.nt, c.key)
		if err != nil || got != c.want || loss != c.loss {
			t.Errorf("ColumnType(%s, key %v) = %q %q %v; want %q %q", c.nt, c.key, got, loss, err, c.want, c.loss)
		}
	}
	for _, nt := range []types.Type{{Kind: types.Spatial}, {Kind: types.Enum}, {Kind: types.Set, Labels: make([]string, 65)}} {
		if _, _, err := Dialect().ColumnType(nt, false); err == nil {
			t.Errorf("ColumnType(%s) succeeded", nt)
		}
	}
}

// roundTrip is a column type and canonical values of it.
type roundTrip struct {
	typ   string
	nt    types.Type
	canon []string
}

var roundTrips = []roundTrip{
	{"tinyint(1)", types.Type{Kind: types.Bool}, []string{"t", "f"}},
	{"tinyint", types.Type{Kind: types.Int, Bits: 8}, []string{"-128", "0", "127"}},
	{"bigint unsigned", types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, []string{"0", "18446744073709551615"}},
	{"bigint", types.Type{Kind: types.Int, Bits: 64}, []string{"-9223372036854775808", "9223372036854775807"}},
	{"decimal(12,4)", types.Type{Kind: types.Decimal, Precision: 12, Scale: 4}, []string{"0", "-1.5", "12345678.1234"}},
	{"float", types.Type{Kind: types.Float, Bits: 32}, []string{"1.1", "-3.4028235e+38", "0"}},
	{"double", types.Type{Kind: types.Float, Bits: 64}, []string{"0.1", "1e+300", "-2.5"}},
	{"char(5)", types.Type{Kind: types.Text, Length: 5, Fixed: true}, []string{"", "ab", " x"}},
	{"varchar(40)", types.Type{Kind: types.Text, Length: 40}, []string{"", "tab\there", "line\nbreak\r\n", `back\slash`, `\N`, "ü日本🙂", "a  "}},
	{"longtext", types.Type{Kind: types.Text}, []string{strings.Repeat("x", 100000)}},
	{"varbinary(10)", types.Type{Kind: types.Bytes, Length: 10}, []string{"", "\x00\xff\t\n\\", "\x80\x81"}},
	{"binary(4)", types.Type{Kind: types.Bytes, Length: 4, Fixed: true}, []string{"ab\x00\x00", "\x00\x00\x00\x00"}},
	{"date", types.Type{Kind: types.Date}, []string{"2024-02-29", "0001-01-01", "9999-12-31"}},
	{"time(6)", types.Type{Kind: types.Time, Precision: 6}, []string{"00:00:00", "23:59:59.5", "-838:59:59", "24:00:00"}},
	{"datetime(6)", types.Type{Kind: types.Timestamp, Precision: 6}, []string{"2024-01-02 03:04:05", "2024-01-02 03:04:05.123456"}},
	{"datetime(3)", types.Type{Kind: types.TimestampTZ, Precision: 3}, []string{"1970-01-01 00:00:00", "2100-06-01 12:00:00.25"}},
	{"year", types.Type{Kind: types.Year}, []string{"0", "1901", "2155"}},
	{"json", types.Type{Kind: types.JSON}, []string{`{"a":[1,2.50,null],"b":"x\ty"}`, `[]`, `"s"`}},
	{"char(36)", types.Type{Kind: types.UUID}, []string{"123e4567-e89b-12d3-a456-426614174000"}},
	{"enum('a','it''s','')", types.Type{Kind: types.Enum, Labels: []string{"a", "it's", ""}}, []string{"a", "it's", ""}},
	{"set('p','q','r')", types.Type{Kind: types.Set, Labels: []string{"p", "q", "r"}}, []string{"", "p", "p,r", "p,q,r"}},
	{"bit(5)", types.Type{Kind: types.Bit, Length: 5}, []string{"00000", "10101", "11111"}},
	{"bit(64)", types.Type{Kind: types.Bit, Length: 64}, []string{strings.Repeat("1", 64)}},
	{"varchar(70)", types.Type{Kind: types.Bit, Length: 70}, []string{strings.Repeat("10", 35)}},
	{"json", types.Type{Kind: types.Array, Elem: &types.Type{Kind: types.Text}}, []string{`["a","b\"c",null]`, `[]`}},
	{"varchar(64)", types.Type{Kind: types.Interval}, []string{"1 year 2 mons 3 days 04:05:06"}},
	{"varchar(43)", types.Type{Kind: types.Inet}, []string{"192.168.0.1/24", "::1"}},
	{"longtext", types.Type{Kind: types.Other}, []string{"(1,2)"}},
}

func TestCanonRoundTrip(t *testing.T) {
	d := Dialect()
	for _, rt := range roundTrips {
		nt := rt.nt
		c := &schema.Column{Name: "c", Type: rt.typ, Neutral: &nt}
		for _, canon := range rt.canon {
			v, err := d.FromCanon(c, engine.Value{Text: canon})
			if err != nil {
				t.Errorf("%s FromCanon(%q): %v", rt.typ, canon, err)
				continue
			}
			back, err := d.ToCanon(c, v)
			if err != nil || back.Text != canon || back.Raw != nil {
				t.Errorf("%s ToCanon(FromCanon(%q) = %#v) = %#v, %v", rt.typ, canon, v, back, err)
			}
			// Through the copy format too, as text.
			var buf bytes.Buffer
			enc := d.NewEncoder(&buf, []schema.Column{*c})
			if err := enc.Encode([]engine.Value{v}); err != nil || enc.Close() != nil {
				t.Fatal(err)
			}
			if baseType(c) == "bit" {
				continue // the server reads it back as a number (selectExpr)
			}
			err = d.DecodeRows(&buf, []schema.Column{*c}, func(row []engine.Value) error {
				back, err := d.ToCanon(c, row[0])
				if err != nil || back.Text != canon {
					t.Errorf("%s through the copy format: %q -> %q, %v", rt.typ, canon, back.Text, err)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}
	}
	for _, pass := range []engine.Value{{Null: true}, {Unchanged: true}} {
		c := &schema.Column{Name: "c", Type: "int", Neutral: &types.Type{Kind: types.Int, Bits: 32}}
		if v, err := d.FromCanon(c, pass); err != nil || v != pass {
			t.Errorf("FromCanon(%+v) = %+v", pass, v)
		}
		if v, err := d.ToCanon(c, pass); err != nil || v != pass {
			t.Errorf("ToCanon(%+v) = %+v", pass, v)
		}
	}
}

func TestFromCanonForms(t *testing.T) {
	cases := []struct {
		typ   string
		nt    types.Type
		canon string
		raw   any
		text  string
	}{
		{"tinyint(1)", types.Type{Kind: types.Bool}, "t", int64(1), "1"},
		{"int unsigned", types.Type{Kind: types.Int, Bits: 32, Unsigned: true}, "7", uint64(7), "7"},
		{"int", types.Type{Kind: types.Int, Bits: 32}, "-7", int64(-7), "-7"},
		{"year", types.Type{Kind: types.Year}, "0", "0000", "0000"},
		{"bit(5)", types.Type{Kind: types.Bit, Length: 5}, "00101", uint64(5), "5"},
		{"varbinary(4)", types.Type{Kind: types.Bytes, Length: 4}, "\x00a", []byte("\x00a"), "\x00a"},
		{"decimal(5,2)", types.Type{Kind: types.Decimal, Precision: 5, Scale: 2}, "1.5", "1.5", "1.5"},
		{"datetime(6)", types.Type{Kind: types.TimestampTZ, Precision: 6}, "2024-01-01 00:00:00.5", "2024-01-01 00:00:00.5", "2024-01-01 00:00:00.5"},
	}
	for _, c := range cases {
		nt := c.nt
		v, err := Dialect().FromCanon(&schema.Column{Name: "c", Type: c.typ, Neutral: &nt}, engine.Value{Text: c.canon})
		if err != nil || !reflect.DeepEqual(v.Raw, c.raw) || v.Text != c.text {
			t.Errorf("FromCanon(%s, %q) = %#v, %v; want %#v %q", c.typ, c.canon, v, err, c.raw, c.text)
		}
	}
	for _, c := range []struct {
		nt    types.Type
		canon string
	}{
		{types.Type{Kind: types.Decimal, Precision: 10}, "NaN"},
		{types.Type{Kind: types.Float, Bits: 64}, "-Infinity"},
		{types.Type{Kind: types.Timestamp}, "infinity"},
		{types.Type{Kind: types.Date}, "2000-01-01 BC"},
		{types.Type{Kind: types.Int, Bits: 32}, "x"},
		{types.Type{Kind: types.Bool}, "maybe"},
	} {
		nt := c.nt
		if _, err := Dialect().FromCanon(&schema.Column{Name: "c", Type: "x", Neutral: &nt}, engine.Value{Text: c.canon}); err == nil {
			t.Errorf("FromCanon(%s, %q) succeeded", c.nt, c.canon)
		}
	}
}

// TestToCanonForms covers the forms the source produces besides FromCanon's:
// binary log values (typed, ENUM and SET as numbers), and text as SELECT reads it.
func TestToCanonForms(t *testing.T) {
	cases := []struct {
		c    schema.Column
		in   engine.Value
		want string
	}{
		{col("e", "enum('a','b')", "utf8mb4_general_ci"), engine.Value{Raw: int64(2)}, "b"},
		{col("e", "enum('signed','unsigned')", "utf8mb4_general_ci"), engine.Value{Raw: uint64(1)}, "signed"},
		{col("e", "enum('a','b')", "utf8mb4_general_ci"), engine.Value{Raw: int64(0)}, ""},
		{col("s", "set('p','q','r')", "utf8mb4_general_ci"), engine.Value{Raw: int64(5)}, "p,r"},
		{col("s", "set('p','q','r')", "utf8mb4_general_ci"), engine.Value{Raw: int64(0)}, ""},
		{col("s", "set('p','q','r')", "utf8mb4_general_ci"), engine.Value{Text: "p,q"}, "p,q"},
		{col("b", "bit(5)", ""), engine.Value{Raw: uint64(5)}, "00101"},
		{col("b", "bit(5)", ""), engine.Value{Text: "31"}, "11111"},
		{col("f", "float", ""), engine.Value{Raw: float64(float32(1.1))}, "1.1"},
		{col("f", "float", ""), engine.Value{Text: "1.100000023841858"}, "1.1"},
		{col("f", "double", ""), engine.Value{Text: "1e300"}, "1e+300"},
		{col("d", "decimal(10,2)", ""), engine.Value{Raw: "12.50"}, "12.5"},
		{col("d", "decimal(10,2)", ""), engine.Value{Text: "-0.00"}, "0"},
		{col("i", "int(10) unsigned zerofill", ""), engine.Value{Text: "0000000042"}, "42"},
		{col("i", "int(10) unsigned", ""), engine.Value{Raw: uint64(4294967295)}, "4294967295"},
		{col("y", "year(4)", ""), engine.Value{Raw: int64(2024)}, "2024"},
		{col("y", "year(4)", ""), engine.Value{Text: "0000"}, "0"},
		{col("t", "datetime(6)", ""), engine.Value{Raw: "2024-01-02 03:04:05.120000"}, "2024-01-02 03:04:05.12"},
		{col("t", "timestamp(3)", ""), engine.Value{Text: "2024-01-02 03:04:05.000"}, "2024-01-02 03:04:05"},
		{col("t", "time", ""), engine.Value{Text: "-12:00:00"}, "-12:00:00"},
		{col("c", "char(5)", "utf8mb4_general_ci"), engine.Value{Raw: "ab   "}, "ab"},
		{col("l", "varchar(10)", "latin1_swedish_ci"), engine.Value{Raw: []byte("caf\xe9 \x80")}, "café €"},
		{col("l", "varchar(10)", "latin1_swedish_ci"), engine.Value{Text: "caf\xe9"}, "café"},
		{col("l", "varchar(10)", "cp1251_general_ci"), engine.Value{Text: "\xcf\xf0\xe8"}, "При"},
		{col("l", "enum('é','b')", "latin1_swedish_ci"), engine.Value{Text: "\xe9"}, "é"},
		{col("l", "enum('é','b')", "latin1_swedish_ci"), engine.Value{Raw: int64(1)}, "é"},
		{col("b", "binary(4)", ""), engine.Value{Raw: []byte("ab")}, "ab\x00\x00"},
		{col("b", "blob", ""), engine.Value{Raw: []byte{0, 1}}, "\x00\x01"},
		{col("j", "json", ""), engine.Value{Raw: `{"b": 1, "a": [true, 2.50]}`}, `{"a":[true,2.50],"b":1}`},
		{col("u", "varchar(5)", "utf8mb4_bin"), engine.Value{Text: "x", Raw: "x"}, "x"},
	}
	for _, c := range cases {
		got, err := Dialect().ToCanon(&c.c, c.in)
		if err != nil || got.Text != c.want || got.Raw != nil {
			t.Errorf("ToCanon(%s, %#v) = %#v, %v; want %q", c.c.Type, c.in, got, err, c.want)
		}
	}
	for _, s := range []string{"0000-00-00", "0000-00-00 00:00:00", "2024-00-10 00:00:00", "2024-05-00"} {
		typ := "datetime"
		if len(s) == 10 {
			typ = "date"
		}
		c := col("d", typ, "")
		if _, err := Dialect().ToCanon(&c, engine.Value{Text: s}); !errors.Is(err, types.ErrZeroDate) {
			t.Errorf("ToCanon(%s %q) = %v, want a zero date", typ, s, err)
		}
	}
	for _, c := range []struct {
		c  schema.Column
		in engine.Value
	}{
		{col("e", "enum('a')", "utf8mb4_general_ci"), engine.Value{Raw: int64(2)}},
		{col("s", "set('a')", "utf8mb4_general_ci"), engine.Value{Raw: int64(2)}},
		{col("i", "int", ""), engine.Value{Text: "1.5"}},
		{col("d", "date", ""), engine.Value{Text: "2024-02-31"}},
	} {
		if _, err := Dialect().ToCanon(&c.c, c.in); err == nil {
			t.Errorf("ToCanon(%s, %#v) succeeded", c.c.Type, c.in)
		}
	}
	// tinyint(1) mapped to boolean.
	b := schema.Column{Name: "b", Type: "tinyint(1)", Neutral: &types.Type{Kind: types.Bool}}
	for in, want := range map[engine.Value]string{{Text: "1"}: "t", {Text: "0"}: "f", {Raw: int64(1)}: "t"} {
		if got, err := Dialect().ToCanon(&b, in); err != nil || got.Text != want {
			t.Errorf("bool ToCanon(%#v) = %q, %v", in, got.Text, err)
		}
	}
	if _, err := Dialect().ToCanon(&b, engine.Value{Text: "2"}); err == nil {
		t.Error("tinyint(1) value 2 became a boolean")
	}
}

func TestCodec(t *testing.T) {
	cols := []schema.Column{{Name: "a", Type: "varchar(10)"}, {Name: "b", Type: "varbinary(10)"}, {Name: "c", Type: "int"}}
	rows := [][]engine.Value{
		{{Text: "tab\there", Raw: "tab\there"}, {Raw: []byte("\x00\\\n\r\xff")}, {Raw: int64(-1)}},
		{{Null: true}, {Raw: []byte{}}, {Raw: uint64(18446744073709551615)}},
		{{Text: `\N`}, {Raw: []byte(`\N`)}, {Null: true}},
		{{Text: ""}, {Null: true}, {Raw: float64(1.5)}},
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
	want := "tab\\there\t\\0\\\\\\n\\r\xff\t-1\n\\N\t\t18446744073709551615\n\\\\N\t\\\\N\t\\N\n\t\\N\t1.5\n"
	if buf.String() != want {
		t.Fatalf("encoded %q\nwant    %q", buf.String(), want)
	}
	var got [][]engine.Value
	err := Dialect().DecodeRows(strings.NewReader(buf.String()), cols, func(row []engine.Value) error {
		got = append(got, append([]engine.Value(nil), row...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]engine.Value{
		{{Text: "tab\there"}, {Text: "\x00\\\n\r\xff"}, {Text: "-1"}},
		{{Null: true}, {Text: ""}, {Text: "18446744073709551615"}},
		{{Text: `\N`}, {Text: `\N`}, {Null: true}},
		{{Text: ""}, {Null: true}, {Text: "1.5"}},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("decoded %+v\nwant    %+v", got, wantRows)
	}
	// A last row without its newline, long rows, and wrong column counts.
	long := strings.Repeat("y", 200000)
	got = nil
	err = Dialect().DecodeRows(strings.NewReader("a\tb\tc\n"+long+"\t\t1"), cols, func(row []engine.Value) error {
		got = append(got, append([]engine.Value(nil), row...))
		return nil
	})
	if err != nil || len(got) != 2 || got[1][0].Text != long || got[1][2].Text != "1" {
		t.Errorf("long rows: %v %d", err, len(got))
	}
	for _, bad := range []string{"a\tb\n", "a\tb\tc\td\n"} {
		if err := Dialect().DecodeRows(strings.NewReader(bad), cols, func([]engine.Value) error { return nil }); err == nil {
			t.Errorf("DecodeRows(%q) succeeded", bad)
		}
	}
}

func TestDefault(t *testing.T) {
	cases := []struct {
		typ, def string
		want     types.Default
		ok       bool
	}{
		{"int(11)", "", types.Default{}, false},
		{"int(11)", "NULL", types.Default{Null: true}, true},
		{"int(11)", "42", types.Default{Value: "42"}, true},
		{"decimal(5,2)", "1.50", types.Default{Value: "1.5"}, true},
		{"float", "-1e3", types.Default{Value: "-1000"}, true},
		{"varchar(10)", `'a''b\\c'`, types.Default{Value: `a'b\c`}, true},
		{"varchar(10)", "''", types.Default{Value: ""}, true},
		{"char(3)", "'x  '", types.Default{Value: "x"}, true},
		{"enum('a','it''s')", "'it''s'", types.Default{Value: "it's"}, true},
		{"set('p','q')", "'p,q'", types.Default{Value: "p,q"}, true},
		{"bit(5)", "b'101'", types.Default{Value: "00101"}, true},
		{"binary(4)", `'ab\0\0'`, types.Default{Value: "ab\x00\x00"}, true},
		{"blob", "0x6162", types.Default{Value: "ab"}, true},
		{"varbinary(4)", `'\0?'`, types.Default{}, false},
		{"datetime(3)", "current_timestamp(3)", types.Default{Now: true}, true},
		{"timestamp", "CURRENT_TIMESTAMP", types.Default{Now: true}, true},
		{"datetime", "now()", types.Default{Now: true}, true},
		{"date", "curdate()", types.Default{Now: true}, true},
		{"datetime", "curdate()", types.Default{}, false},
		{"date", "'2020-01-02'", types.Default{Value: "2020-01-02"}, true},
		{"datetime", "'0000-00-00 00:00:00'", types.Default{}, false},
		{"int(11)", "(1 + 1)", types.Default{}, false},
		{"varchar(36)", "uuid()", types.Default{}, false},
		{"longtext", "'{}'", types.Default{Value: "{}"}, true},
	}
	for _, c := range cases {
		got, ok := Dialect().Default(&schema.Column{Name: "c", Type: c.typ, Default: c.def})
		if ok != c.ok || got != c.want {
			t.Errorf("Default(%s DEFAULT %s) = %+v %v; want %+v %v", c.typ, c.def, got, ok, c.want, c.ok)
		}
	}
	b := schema.Column{Name: "b", Type: "tinyint(1)", Default: "1", Neutral: &types.Type{Kind: types.Bool}}
	if got, ok := Dialect().Default(&b); !ok || got.Value != "t" {
		t.Errorf("boolean default: %+v %v", got, ok)
	}
}

func TestDefaultSQL(t *testing.T) {
	cases := []struct {
		nt   types.Type
		d    types.Default
		want string
	}{
		{types.Type{Kind: types.Int, Bits: 32}, types.Default{Null: true}, "NULL"},
		{types.Type{Kind: types.Int, Bits: 32}, types.Default{Value: "-3"}, "-3"},
		{types.Type{Kind: types.Bool}, types.Default{Value: "t"}, "1"},
		{types.Type{Kind: types.Float, Bits: 64}, types.Default{Value: "NaN"}, ""},
		{types.Type{Kind: types.Text}, types.Default{Value: "it's\n"}, `'it\'s\n'`},
		{types.Type{Kind: types.Bytes}, types.Default{Value: "\x00a"}, "0x0061"},
		{types.Type{Kind: types.Bytes}, types.Default{Value: ""}, "''"},
		{types.Type{Kind: types.Bit, Length: 3}, types.Default{Value: "101"}, "b'101'"},
		{types.Type{Kind: types.Bit, Length: 100}, types.Default{Value: "101"}, "'101'"},
		{types.Type{Kind: types.Timestamp, Precision: 3}, types.Default{Now: true}, "CURRENT_TIMESTAMP(3)"},
		{types.Type{Kind: types.TimestampTZ}, types.Default{Now: true}, "CURRENT_TIMESTAMP"},
		{types.Type{Kind: types.Date}, types.Default{Now: true}, "(CURRENT_DATE)"},
		{types.Type{Kind: types.Text}, types.Default{Now: true}, ""},
		{types.Type{Kind: types.Timestamp}, types.Default{Value: "2020-01-01 00:00:00"}, "'2020-01-01 00:00:00'"},
	}
	for _, c := range cases {
		if got := Dialect().DefaultSQL(c.nt, c.d); got != c.want {
			t.Errorf("DefaultSQL(%s, %+v) = %q, want %q", c.nt, c.d, got, c.want)
		}
	}
}

func TestFinishTable(t *testing.T) {
	long := strings.Repeat("n", 70)
	tb := &schema.Table{Schema: "shop", Name: "orders", Key: []string{"region", "id"},
		Columns: []schema.Column{
			{Name: "region", Type: "varchar(10)", NotNull: true},
			{Name: "id", Type: "bigint", NotNull: true, AutoIncrement: true},
			{Name: "note", Type: "longtext", Default: "'none'"},
			{Name: "owner", Type: "int"},
			{Name: "created", Type: "datetime(3)", NotNull: true, Default: "CURRENT_TIMESTAMP(3)"},
			{Name: "gone", Type: "int", NotNull: true, Default: "NULL"},
			{Name: "x", Type: "int", AutoIncrement: true},
		},
		Constraints: []schema.Constraint{
			{Name: "orders_pkey", Kind: "p", Columns: []string{"region", "id"}},
			{Name: "orders_owner_key", Kind: "u", Columns: []string{"owner", "region"}},
			{Name: "fk_owner", Kind: "f", Columns: []string{"owner"}, RefTable: "shop.people", RefColumns: []string{"id"}, OnDelete: "CASCADE"},
		},
		Indexes: []schema.Index{{Name: "by_note", Columns: []string{"note", "region"}}, {Name: long, Columns: []string{"owner"}, Unique: true}},
	}
	if err := Dialect().FinishTable(tb); err != nil {
		t.Fatal(err)
	}
	want := "CREATE TABLE `orders` (\n" +
		"  `region` varchar(10) NOT NULL,\n" +
		"  `id` bigint NOT NULL AUTO_INCREMENT,\n" +
		"  `note` longtext DEFAULT ('none'),\n" +
		"  `owner` int,\n" +
		"  `created` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),\n" +
		"  `gone` int NOT NULL,\n" +
		"  `x` int,\n" +
		"  PRIMARY KEY (`region`,`id`),\n" +
		"  KEY `id` (`id`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	if tb.CreateSQL != want {
		t.Errorf("CreateSQL:\n%s\nwant:\n%s", tb.CreateSQL, want)
	}
	if tb.Columns[6].AutoIncrement {
		t.Error("a second AUTO_INCREMENT column kept")
	}
	var defs []string
	for _, ix := range tb.Indexes {
		defs = append(defs, ix.Def)
	}
	wantDefs := []string{
		"UNIQUE KEY `orders_owner_key` (`owner`,`region`)",
		"KEY `by_note` (`note`(384),`region`)",
		"UNIQUE KEY `" + long[:55] + "_" + indexName(long)[56:] + "` (`owner`)",
	}
	if !reflect.DeepEqual(defs, wantDefs) || len([]rune(tb.Indexes[2].Name)) != 64 {
		t.Errorf("indexes %q\nwant    %q", defs, wantDefs)
	}
	fk := tb.Constraints[2].Def
	if fk != "CONSTRAINT `fk_owner` FOREIGN KEY (`owner`) REFERENCES `shop`.`people` (`id`) ON DELETE CASCADE" {
		t.Errorf("foreign key %s", fk)
	}
	if m := fkCols.FindStringSubmatch(fk); m == nil || m[1] != "`owner`" || m[2] != "`shop`.`people`" || m[3] != "`id`" {
		t.Errorf("ValidateForeignKeys cannot read %s: %q", fk, m)
	}
	if onlyKeyUnique(tb) {
		t.Error("apply would upsert over a unique constraint")
	}
	if createSQL(tb)[:len("CREATE TABLE `shop`.`orders` (")] != "CREATE TABLE `shop`.`orders` (" {
		t.Errorf("createSQL cannot qualify %s", tb.CreateSQL)
	}
}

// TestFitKeys: unbounded text and bytes in a key of several columns (a
// PostgreSQL text and an integer) are shortened so that the key fits InnoDB's
// 3072 bytes; a varchar(768) that was one on the source is kept.
func TestFitKeys(t *testing.T) {
	text, bytes := types.Type{Kind: types.Text}, types.Type{Kind: types.Bytes}
	v768 := types.Type{Kind: types.Text, Length: 768}
	tb := &schema.Table{Schema: "s", Name: "k", Key: []string{"t", "n"},
		Columns: []schema.Column{
			{Name: "t", Type: "varchar(768)", Neutral: &text},
			{Name: "n", Type: "bigint"},
			{Name: "b", Type: "varbinary(3072)", Neutral: &bytes},
			{Name: "u", Type: "varchar(768)", Neutral: &text},
			{Name: "alone", Type: "varchar(768)", Neutral: &text},
			{Name: "real", Type: "varchar(768)", Neutral: &v768},
		},
		Constraints: []schema.Constraint{{Name: "bu", Kind: "u", Columns: []string{"b", "u"}}, {Name: "a", Kind: "u", Columns: []string{"alone"}}},
		Indexes:     []schema.Index{{Name: "tb", Columns: []string{"t", "b"}, Unique: true}, {Name: "r", Columns: []string{"real", "n"}}},
	}
	if err := Dialect().FinishTable(tb); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range tb.Columns {
		got = append(got, c.Name+" "+c.Type)
	}
	// t: 3064 bytes beside n, 1536 beside b; b: 1536 beside u and t; u: 1536 beside b.
	want := "t varchar(384), n bigint, b varbinary(1536), u varchar(384), alone varchar(768), real varchar(768)"
	if strings.Join(got, ", ") != want {
		t.Errorf("columns %s\nwant    %s", strings.Join(got, ", "), want)
	}
	for _, key := range [][]string{{"t", "n"}, {"b", "u"}, {"t", "b"}} {
		n := 0
		for _, c := range key {
			n += keyBytes(tb.Column(c))
		}
		if n > maxKeyBytes {
			t.Errorf("key %v takes %d bytes", key, n)
		}
	}
}

func TestFitRow(t *testing.T) {
	tb := &schema.Table{Schema: "s", Name: "wide", Key: []string{"k"}}
	tb.Columns = append(tb.Columns, schema.Column{Name: "k", Type: "varchar(700)"})
	for i := range 70 {
		tb.Columns = append(tb.Columns, schema.Column{Name: "c" + itoa(i), Type: "varchar(255)"})
	}
	tb.Columns = append(tb.Columns, schema.Column{Name: "big", Type: "varbinary(60000)"})
	if err := Dialect().FinishTable(tb); err != nil {
		t.Fatal(err)
	}
	size, changed := 0, 0
	for _, c := range tb.Columns {
		size += declaredBytes(&c)
		if c.Type == "text" {
			changed++
		}
	}
	if size > maxRowBytes || tb.Columns[0].Type != "varchar(700)" || tb.Columns[71].Type != "blob" || changed != 9 {
		t.Errorf("row of %d bytes, %d columns made text: %+v", size, changed, tb.Columns)
	}
}

func TestMySQLDefault(t *testing.T) {
	cases := []struct {
		typ, extra string
		notNull    bool
		def        *string
		want       string
	}{
		{"varchar(10)", "", false, nil, "NULL"},
		{"varchar(10)", "", true, nil, ""},
		{"int", "auto_increment", false, nil, ""},
		{"varchar(10)", "", false, ptr("it's"), `'it\'s'`},
		{"int", "", false, ptr("4"), "4"},
		{"bit(3)", "", false, ptr("b'1'"), "b'1'"},
		{"varbinary(3)", "", false, ptr("0x6162"), "0x6162"},
		{"datetime", "DEFAULT_GENERATED", false, ptr("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP"},
		{"varchar(36)", "DEFAULT_GENERATED", false, ptr("uuid()"), "uuid()"},
	}
	for _, c := range cases {
		col := schema.Column{Name: "c", Type: c.typ, NotNull: c.notNull}
		def := nullString(c.def)
		if got := mysqlDefault(&col, def, c.extra); got != c.want {
			t.Errorf("mysqlDefault(%s %v %s) = %q, want %q", c.typ, c.def, c.extra, got, c.want)
		}
	}
}

func TestParseLabels(t *testing.T) {
	got := parseLabels(`'a','',' b ','x''y','p\'q','(,)'`)
	want := []string{"a", "", " b ", "x'y", "p'q", "(,)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseLabels = %q", got)
	}
}

func ptr(s string) *string { return &s }

func nullString(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

// serverURL returns the test server URL in envvar with database db, or skips.
func serverURL(t *testing.T, envvar, db string) string {
	t.Helper()
	u := os.Getenv(envvar)
	if u == "" {
		t.Skipf("%s is not set: start the test servers with scripts/testdb.sh up", envvar)
	}
	return strings.TrimSuffix(u, "/") + "/" + db
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestDialectTarget builds tables through FinishTable on a real server,
// loads canonical values with the encoder and replay, and reads them back
// through ReadRange, DecodeRows and ToCanon.
func TestDialectTarget(t *testing.T) {
	dbName := fmt.Sprintf("gw_mydialect_%d", os.Getpid())
	url := serverURL(t, "GODWIT_TEST_MY_TARGET", "")
	ctx := context.Background()
	tgt, err := OpenTarget(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	migration := dbName
	cleanup := func() {
		execAll(t, tgt.db, "DROP DATABASE IF EXISTS "+dbName)
		_, _ = tgt.db.Exec("DELETE FROM "+metaDB+".chunks WHERE migration = ?", migration)
		_, _ = tgt.db.Exec("DELETE FROM "+metaDB+".migrations WHERE name = ?", migration)
	}
	cleanup()
	defer cleanup()
	d := Dialect()

	parent := &schema.Table{Schema: dbName, Name: "parent", Key: []string{"id"},
		Columns:     []schema.Column{{Name: "id", Type: "bigint", NotNull: true, Neutral: &types.Type{Kind: types.Int, Bits: 64}}},
		Constraints: []schema.Constraint{{Name: "parent_pkey", Kind: "p", Columns: []string{"id"}}}}
	child := &schema.Table{Schema: dbName, Name: "child", Key: []string{"id"},
		Constraints: []schema.Constraint{
			{Name: "child_pkey", Kind: "p", Columns: []string{"id"}},
			{Name: "child_fk", Kind: "f", Columns: []string{"parent"}, RefTable: dbName + ".parent", RefColumns: []string{"id"}, OnDelete: "CASCADE"},
			{Name: "child_c8_key", Kind: "u", Columns: []string{"c8", "id"}},
		},
		Indexes: []schema.Index{{Name: "child_c9", Columns: []string{"c9", "c1"}}}}
	idType := types.Type{Kind: types.Int, Bits: 64}
	child.Columns = append(child.Columns,
		schema.Column{Name: "id", Type: "bigint", NotNull: true, AutoIncrement: true, Neutral: &idType},
		schema.Column{Name: "parent", Type: "bigint", Neutral: &idType})
	rows := 0
	for i, rt := range roundTrips {
		nt := rt.nt
		typ, _, err := d.ColumnType(nt, i == 8)
		if err != nil {
			t.Fatal(err)
		}
		c := schema.Column{Name: "c" + itoa(i), Type: typ, Neutral: &nt}
		if i == 7 {
			c.Default = d.DefaultSQL(nt, types.Default{Value: "dflt"})
		}
		child.Columns = append(child.Columns, c)
		rows = max(rows, len(rt.canon))
	}
	tsType := types.Type{Kind: types.Timestamp, Precision: 3}
	child.Columns = append(child.Columns, schema.Column{Name: "created", Type: "datetime(3)", NotNull: true, Neutral: &tsType,
		Default: d.DefaultSQL(tsType, types.Default{Now: true})})
	for _, tb := range []*schema.Table{parent, child} {
		if err := d.FinishTable(tb); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tgt.Prepare(ctx, migration); err != nil {
		t.Fatal(err)
	}
	chunks := []engine.Chunk{{Table: parent.QualifiedName()}, {Table: child.QualifiedName()}}
	if err := tgt.CreateTables(ctx, migration, []*schema.Table{parent, child}, chunks, nil, false); err != nil {
		t.Fatalf("%v\n%s", err, child.CreateSQL)
	}

	// canonical rows: row j holds value j (cycling) of each column.
	cols := child.CopyColumns()
	canonRow := func(j int) []engine.Value {
		row := []engine.Value{{Text: itoa(j + 1)}, {Text: "1"}}
		for _, rt := range roundTrips {
			row = append(row, engine.Value{Text: rt.canon[j%len(rt.canon)]})
		}
		return append(row, engine.Value{Text: "2024-01-01 00:00:00.5"})
	}
	fromCanon := func(row []engine.Value) []engine.Value {
		out := make([]engine.Value, len(row))
		for i, v := range row {
			var err error
			if out[i], err = d.FromCanon(&cols[i], v); err != nil {
				t.Fatalf("FromCanon %s %q: %v", cols[i].Name, v.Text, err)
			}
		}
		return out
	}
	load := func(tb *schema.Table, c engine.Chunk, data [][]engine.Value) {
		var buf bytes.Buffer
		enc := d.NewEncoder(&buf, tb.CopyColumns())
		for _, r := range data {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		n, err := tgt.WriteChunk(ctx, migration, tb, c, enc.Format(), &buf, func() (position.Position, error) { return nil, nil })
		if err != nil || n != int64(len(data)) {
			t.Fatalf("WriteChunk %s: %d rows, %v", tb.Name, n, err)
		}
	}
	load(parent, chunks[0], [][]engine.Value{{{Text: "1", Raw: int64(1)}}})
	var data [][]engine.Value
	for j := range rows {
		data = append(data, fromCanon(canonRow(j)))
	}
	load(child, chunks[1], data)

	// Replay: a new row and a rewritten one.
	newRow := fromCanon(canonRow(rows))
	upd := canonRow(0)
	upd[6] = engine.Value{Text: "-3.25"} // c4, the decimal
	updRow := fromCanon(upd)
	tx, err := tgt.BeginApply(ctx, migration)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx, engine.Segment{Ops: []*engine.TableOps{{Table: child, Upserts: [][]engine.Value{newRow, updRow}}}}); err != nil {
		tx.Rollback(ctx)
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string][]engine.Value{}
	for j := 0; j <= rows; j++ {
		want[itoa(j+1)] = canonRow(j)
	}
	want["1"] = upd

	reader, err := OpenSource(ctx, url, migration, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	check := func(lo, hi []string, n int) {
		t.Helper()
		var buf bytes.Buffer
		if err := reader.ReadRange(ctx, child, lo, hi, &buf); err != nil {
			t.Fatal(err)
		}
		got := 0
		err := d.DecodeRows(&buf, cols, func(row []engine.Value) error {
			got++
			key := row[0].Text
			for i, v := range row {
				c, err := d.ToCanon(&cols[i], v)
				if err != nil {
					return fmt.Errorf("row %s column %s (%s) %q: %w", key, cols[i].Name, cols[i].Type, v.Text, err)
				}
				if w := want[key][i]; c.Text != w.Text {
					t.Errorf("row %s column %s (%s): read back %q, wrote %q", key, cols[i].Name, cols[i].Type, c.Text, w.Text)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("ReadRange(%v, %v) read %d rows, want %d", lo, hi, got, n)
		}
	}
	check(nil, nil, rows+1)
	check([]string{"1"}, []string{"3"}, 2)

	// Rows, by key texts from FromCanon, gives the same values.
	k, _ := d.FromCanon(&cols[0], engine.Value{Text: "2"})
	texts, err := tgt.Rows(ctx, child, [][]string{{k.Text}, {"999"}})
	if err != nil || texts[1] != nil || texts[0] == nil {
		t.Fatalf("Rows: %v %v", texts, err)
	}
	for i, s := range texts[0] {
		c, err := d.ToCanon(&cols[i], engine.Value{Text: *s})
		if err != nil || c.Text != want["2"][i].Text {
			t.Errorf("Rows column %s: %q %v, want %q", cols[i].Name, c.Text, err, want["2"][i].Text)
		}
	}

	// The Target's own steps on a table FinishTable built.
	for _, step := range []func(*schema.Table) error{
		func(tb *schema.Table) error { return tgt.CreateKeyIndex(ctx, tb) },
		func(tb *schema.Table) error { return tgt.CreateSecondary(ctx, tb) },
		func(tb *schema.Table) error {
			return tgt.CreateForeignKeys(ctx, tb, map[string]bool{parent.QualifiedName(): true})
		},
		func(tb *schema.Table) error { return tgt.ValidateForeignKeys(ctx, tb) },
	} {
		for _, tb := range []*schema.Table{parent, child} {
			if err := step(tb); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tgt.SetSequences(ctx, []*schema.Table{child}, []engine.SequenceValue{{Table: child.QualifiedName(), Column: "id", Value: 1000}}); err != nil {
		t.Fatal(err)
	}

	// The catalog reads the table back: types, keys, defaults, counter.
	read, err := reader.Tables(ctx, schema.Filter{Include: []string{dbName + ".child"}})
	if err != nil || len(read) != 1 {
		t.Fatalf("Tables: %v %v", read, err)
	}
	rt := read[0]
	seqs, err := reader.Sequences(ctx, read)
	if err != nil || len(seqs) != 1 || seqs[0].Value != 999 || !seqs[0].Called || seqs[0].Column != "id" {
		t.Errorf("Sequences after SetSequences(next 1000): %+v %v", seqs, err)
	}
	if !rt.Column("id").AutoIncrement || !reflect.DeepEqual(rt.Key, []string{"id"}) {
		t.Errorf("key %v, id %+v", rt.Key, rt.Column("id"))
	}
	for i, c := range rt.Columns {
		nt, err := d.Neutral(rt, &c)
		if err != nil {
			t.Fatal(err)
		}
		w := *cols[i].Neutral
		switch w.Kind {
		case types.Bool:
			w = types.Type{Kind: types.Int, Bits: 8}
		case types.UUID:
			w = types.Type{Kind: types.Text, Length: 36, Fixed: true}
		case types.Interval, types.Inet, types.Other:
			w = types.Type{Kind: types.Text, Length: w.Length}
		case types.Array:
			w = types.Type{Kind: types.JSON}
		case types.TimestampTZ:
			w.Kind = types.Timestamp
		case types.Bit:
			if w.Length > 64 {
				w = types.Type{Kind: types.Text, Length: w.Length}
			}
		}
		if w.Kind == types.Text && w.Length == 0 {
			_, args, _ := typeParts(c.Type)
			w.Length, _ = intArgs(args)
		}
		w.Elem, w.Native, nt.Native = nil, "", ""
		if !reflect.DeepEqual(nt, w) {
			t.Errorf("column %s %s reads back as %+v, want %+v", c.Name, c.Type, nt, w)
		}
	}
	if def, ok := d.Default(rt.Column("c7")); !ok || def.Value != "dflt" {
		t.Errorf("default of c7 (%q): %+v %v", rt.Column("c7").Default, def, ok)
	}
	if def, ok := d.Default(rt.Column("created")); !ok || !def.Now {
		t.Errorf("default of created (%q): %+v %v", rt.Column("created").Default, def, ok)
	}
	var idx []string
	for _, ix := range rt.Indexes {
		idx = append(idx, fmt.Sprintf("%s%v%v", ix.Name, ix.Columns, ix.Unique))
	}
	if strings.Join(idx, " ") != "child_c8_key[c8 id]true child_c9[c9 c1]false child_fk[parent]false" {
		t.Errorf("indexes %v", idx)
	}
	var fks, pks []string
	for _, c := range rt.Constraints {
		switch c.Kind {
		case "f":
			fks = append(fks, fmt.Sprintf("%s%v->%s%v/%s/%s", c.Name, c.Columns, c.RefTable, c.RefColumns, c.OnDelete, c.OnUpdate))
		case "p":
			pks = append(pks, fmt.Sprintf("%s%v", c.Name, c.Columns))
		}
	}
	if strings.Join(fks, " ") != "child_fk[parent]->"+dbName+".parent[id]/CASCADE/RESTRICT" || strings.Join(pks, " ") != "PRIMARY[id]" {
		t.Errorf("constraints: %v %v", fks, pks)
	}
}

// TestDialectSource reads native MySQL values through every path the bridge
// uses on a source (ReadRange, Rows, the binary log) and checks that ToCanon
// gives the same canonical values from each.
func TestDialectSource(t *testing.T) {
	dbName := fmt.Sprintf("gw_mydialect_src_%d", os.Getpid())
	url := serverURL(t, "GODWIT_TEST_MY_SOURCE", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := OpenSource(ctx, url, dbName, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	execAll(t, src.db, "DROP DATABASE IF EXISTS "+dbName, "CREATE DATABASE "+dbName)
	defer execAll(t, src.db, "DROP DATABASE IF EXISTS "+dbName)
	execAll(t, src.db, "CREATE TABLE "+dbName+".native (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, e enum('a','b') DEFAULT 'b', s set('p','q','r'), "+
		"b bit(5) DEFAULT b'11', f float, bn binary(4), l varchar(10) CHARACTER SET latin1, j json, dz date, ts timestamp(3) NULL, y year, "+
		"ch char(4), dt datetime(6), u bigint unsigned, d decimal(10,2) DEFAULT 1.50, tb tinyint(1), tx text DEFAULT 'it''s', "+
		"KEY by_e (e, s), UNIQUE KEY by_u (u)) AUTO_INCREMENT=10")
	execAll(t, src.db, "CREATE TRIGGER "+dbName+".native_touch BEFORE UPDATE ON "+dbName+".native FOR EACH ROW SET NEW.tx = 'touched'")
	tables, err := src.Tables(ctx, schema.Filter{Include: []string{dbName + ".*"}})
	if err != nil || len(tables) != 1 {
		t.Fatalf("Tables: %v %v", tables, err)
	}
	tb := tables[0]
	if strings.Join(tb.Triggers, ",") != "native_touch" {
		t.Errorf("triggers: %v", tb.Triggers)
	}
	d := Dialect()
	var kinds []string
	for i := range tb.Columns {
		c := &tb.Columns[i]
		nt, err := d.Neutral(tb, c)
		if err != nil {
			t.Fatal(err)
		}
		c.Neutral = &nt
		kinds = append(kinds, nt.String())
	}
	wantKinds := "int32 enum(a,b) set(p,q,r) bit(5) float32 fixed bytes(4) text(10) json date timestamptz(3) year fixed text(4) timestamp(6) int64 unsigned decimal(10,2) int8 text"
	if strings.Join(kinds, " ") != wantKinds {
		t.Errorf("neutral types:\n%s\nwant\n%s", strings.Join(kinds, " "), wantKinds)
	}
	for name, want := range map[string]types.Default{"e": {Value: "b"}, "b": {Value: "00011"}, "d": {Value: "1.5"}, "tx": {Value: "it's"}, "f": {Null: true}} {
		if got, ok := d.Default(tb.Column(name)); !ok || got != want {
			t.Errorf("default of %s (%q) = %+v %v, want %+v", name, tb.Column(name).Default, got, ok, want)
		}
	}
	var idx []string
	for _, ix := range tb.Indexes {
		idx = append(idx, fmt.Sprintf("%s%v%v", ix.Name, ix.Columns, ix.Unique))
	}
	if !tb.Column("id").AutoIncrement || strings.Join(idx, " ") != "by_u[u]true by_e[e s]false" {
		t.Errorf("catalog: %+v %+v", tb.Column("id"), tb.Indexes)
	}

	start, err := src.StartCapture(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	execAll(t, src.db, "INSERT INTO "+dbName+".native (e, s, b, f, bn, l, j, dz, ts, y, ch, dt, u, d, tb, tx) VALUES "+
		"('a', 'r,p', b'101', 1.1, 'ab', CONVERT(X'636166E9' USING latin1), '{\"b\": 1, \"a\": [1, 2.50]}', '2024-02-29', '2024-01-01 10:00:00.5', "+
		"2024, 'ab ', '2024-01-02 03:04:05.000001', 18446744073709551615, 12.50, 1, 'x\ty\\\\z\n')")
	execAll(t, src.db, "INSERT INTO "+dbName+".native (dz) VALUES ('0000-00-00')")
	want := []string{"10", "a", "p,r", "00101", "1.1", "ab\x00\x00", "café", `{"a":[1,2.50],"b":1}`, "2024-02-29", "2024-01-01 10:00:00.5",
		"2024", "ab", "2024-01-02 03:04:05.000001", "18446744073709551615", "12.5", "1", "x\ty\\z\n"}
	cols := tb.CopyColumns()
	compare := func(path string, row []engine.Value) {
		t.Helper()
		if row[8].Text == "0000-00-00" || row[8].Raw == "0000-00-00" {
			if _, err := d.ToCanon(&cols[8], row[8]); !errors.Is(err, types.ErrZeroDate) {
				t.Errorf("%s: zero date: %v", path, err)
			}
			return
		}
		for i, v := range row {
			c, err := d.ToCanon(&cols[i], v)
			if err != nil || c.Text != want[i] {
				t.Errorf("%s: column %s (%s) %#v -> %q %v, want %q", path, cols[i].Name, cols[i].Type, v, c.Text, err, want[i])
			}
		}
	}
	var buf bytes.Buffer
	if err := src.ReadRange(ctx, tb, nil, nil, &buf); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := d.DecodeRows(&buf, cols, func(row []engine.Value) error { n++; compare("ReadRange", row); return nil }); err != nil || n != 2 {
		t.Fatalf("DecodeRows: %d rows, %v", n, err)
	}
	texts, err := src.Rows(ctx, tb, [][]string{{"10"}})
	if err != nil || texts[0] == nil {
		t.Fatalf("Rows: %v", err)
	}
	row := make([]engine.Value, len(texts[0]))
	for i, s := range texts[0] {
		row[i] = engine.Value{Text: *s}
	}
	compare("Rows", row)

	out := make(chan engine.Txn, 16)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, start, tables, out, func() position.Position { return start }, nil) }()
	got := 0
	for got < 2 {
		select {
		case txn := <-out:
			for _, ch := range txn.Changes {
				compare("Stream", ch.New)
				got++
			}
		case err := <-done:
			t.Fatalf("Stream ended: %v", err)
		case <-ctx.Done():
			t.Fatal("no changes from the binary log")
		}
	}
	stop()
	<-done

	seqs, err := src.Sequences(ctx, tables)
	if err != nil || len(seqs) != 1 || seqs[0].Value != 11 || !seqs[0].Called {
		t.Errorf("Sequences: %+v %v", seqs, err)
	}
}

// TestDecoders: text in other character sets converts as MySQL converts it,
// where golang.org/x/text's tables differ from MySQL's too.
func TestDecoders(t *testing.T) {
	cases := []struct{ cs, in, want string }{
		{"latin1", "caf\xe9 \x80 \x81\x8d\x8f\x90\x9d", "café € \u0081\u008d\u008f\u0090\u009d"},
		{"latin1", "plain ASCII\t\\", "plain ASCII\t\\"},
		{"utf16", "\x00a\x00b", "ab"}, // ASCII bytes that are not ASCII text
		{"latin2", "\x80\x9f\xb1", "\u0080\u009fą"},
		{"greek", "\xa1\xa2\xe1", "\u02bd\u02bcα"},
		{"hebrew", "\xaf\xe0", "\u203eא"},
		{"cp866", "\xfc\xfd\x80", "\u207f²А"},
		{"koi8u", "\x95\xae\xbe\xc1", "•╝╬а"},
		{"cp1251", "\xcf\xf0\xe8", "При"},
		{"sjis", "a\\\x81\x5f\x95\x5c\x83\x5c\x81\x60", "a\\\\表ソ\u301c"}, // 0x5C trail bytes are no backslashes
		{"sjis", "\x81\x5f", "\\"},
		{"cp932", "\x81\x5f\xf0\x40\xf9\xfc\x87\x40", "＼\ue000\ue757①"},
		{"ujis", "\xa1\xc0\x8f\xa2\xb7\xf5\xa1\x8f\xfe\xfe\xc6\xfc\x8e\xb1", "\\~\ue000\ue757日ｱ"},
		{"eucjpms", "\x8f\xf3\xf3\x8f\xf4\xfe\x8f\xa2\xc3\xf5\xa1x", "ⅰ\u9ed1\uffe4\ue000x"},
		{"gb2312", "\xa1\xa4\xa1\xaa\xd6\xd0", "\u30fb\u2015中"},
		{"gbk", "\xdf\x5c\xd5\x5c\\", "運誠\\"},
		{"big5", "\xa5\x5c\xc6\xa5\xc6\xf8\xc7\xf3\xc7\xfc\xa1\x45", "功ぁァ⑴⑽•"},
		{"utf16", "\xd8\x3e\xdd\x86\x00a", "🦆a"},
		{"utf32", "\x00\x01\xf9\x86", "🦆"},
	}
	for _, c := range cases {
		got, err := decoderFor(c.cs).String(c.in)
		if err != nil || got != c.want {
			t.Errorf("%s %x = %q (%U), %v; want %q (%U)", c.cs, c.in, got, []rune(got), err, c.want, []rune(c.want))
		}
	}
	if !decoderFor("latin1").ascii || decoderFor("utf16").ascii || decoderFor("sjis").ascii {
		t.Error("the ASCII fast path is on the wrong character sets")
	}
	if decoderFor("armscii8") != nil {
		t.Error("armscii8 has a decoder")
	}
}

// TestDecodersMatchServer compares every character of every character set
// godwit converts with the server's own conversion to utf8mb4: each byte,
// each two-byte sequence of the multi-byte sets, and the three-byte ones of
// EUC-JP. Sequences the server does not convert to one character are skipped.
func TestDecodersMatchServer(t *testing.T) {
	ctx := context.Background()
	conn, err := ParseURL("source", serverURL(t, "GODWIT_TEST_MY_SOURCE", ""))
	if err != nil {
		t.Fatal(err)
	}
	db, err := conn.open(ctx, "source", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for cs := range decoders {
		var seqs []string
		switch cs {
		case "ucs2", "utf16", "utf16le", "utf32", "gb18030": // Unicode itself; MariaDB has no gb18030
			continue
		}
		for b := 0; b < 256; b++ {
			seqs = append(seqs, string([]byte{byte(b)}))
		}
		if decoders[cs].bytes == nil {
			for a := 0x81; a < 0xff; a++ {
				for b := 0x40; b < 0xff; b++ {
					seqs = append(seqs, string([]byte{byte(a), byte(b)}))
				}
			}
		}
		if cs == "ujis" || cs == "eucjpms" {
			for a := 0xa1; a < 0xff; a++ {
				for b := 0xa1; b < 0xff; b++ {
					seqs = append(seqs, string([]byte{0x8f, byte(a), byte(b)}))
				}
			}
		}
		diffs := 0
		for start := 0; start < len(seqs); start += 2000 {
			var q []string
			for _, s := range seqs[start:min(start+2000, len(seqs))] {
				q = append(q, fmt.Sprintf("SELECT X'%x', CONVERT(CONVERT(X'%[1]x' USING %s) USING utf8mb4)", s, cs))
			}
			rows, err := db.QueryContext(ctx, strings.Join(q, " UNION ALL "))
			if err != nil {
				t.Fatalf("%s: %v", cs, err)
			}
			for rows.Next() {
				var in, want []byte
				if err := rows.Scan(&in, &want); err != nil {
					t.Fatal(err)
				}
				if utf8.RuneCount(want) != 1 || (string(want) == "?" && string(in) != "?") {
					continue // not one character to the server
				}
				if got, err := decoderFor(cs).String(string(in)); err != nil || got != string(want) {
					if diffs++; diffs <= 10 {
						t.Errorf("%s %x: godwit %q (%U, %v), the server %q (%U)", cs, in, got, []rune(got), err, want, []rune(string(want)))
					}
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if diffs > 10 {
			t.Errorf("%s: %d characters differ", cs, diffs)
		}
	}
}
