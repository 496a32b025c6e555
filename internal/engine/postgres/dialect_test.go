package postgres

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/testutil"
	"github.com/godwit-db/godwit/internal/types"
)

func ptr(t types.Type) *types.Type { return &t }

func TestNeutral(t *testing.T) {
	cases := []struct {
		typ  string
		want types.Type
	}{
		{"smallint", types.Type{Kind: types.Int, Bits: 16}},
		{"integer", types.Type{Kind: types.Int, Bits: 32}},
		{"bigint", types.Type{Kind: types.Int, Bits: 64}},
		{"numeric(12,2)", types.Type{Kind: types.Decimal, Precision: 12, Scale: 2}},
		{"numeric", types.Type{Kind: types.Decimal}},
		{"real", types.Type{Kind: types.Float, Bits: 32}},
		{"double precision", types.Type{Kind: types.Float, Bits: 64}},
		{"boolean", types.Type{Kind: types.Bool}},
		{"character(3)", types.Type{Kind: types.Text, Fixed: true, Length: 3}},
		{"character varying(40)", types.Type{Kind: types.Text, Length: 40}},
		{"character varying", types.Type{Kind: types.Text}},
		{"text", types.Type{Kind: types.Text}},
		{"xml", types.Type{Kind: types.Text}},
		{"bytea", types.Type{Kind: types.Bytes}},
		{"date", types.Type{Kind: types.Date}},
		{"time without time zone", types.Type{Kind: types.Time, Precision: 6}},
		{"time(3) without time zone", types.Type{Kind: types.Time, Precision: 3}},
		{"timestamp(0) without time zone", types.Type{Kind: types.Timestamp}},
		{"timestamp without time zone", types.Type{Kind: types.Timestamp, Precision: 6}},
		{"timestamp with time zone", types.Type{Kind: types.TimestampTZ, Precision: 6}},
		{"timestamp(3) with time zone", types.Type{Kind: types.TimestampTZ, Precision: 3}},
		{"interval", types.Type{Kind: types.Interval}},
		{"interval day to second(3)", types.Type{Kind: types.Interval}},
		{"json", types.Type{Kind: types.JSON}},
		{"jsonb", types.Type{Kind: types.JSON}},
		{"uuid", types.Type{Kind: types.UUID}},
		{"bit(8)", types.Type{Kind: types.Bit, Length: 8}},
		{"bit varying(5)", types.Type{Kind: types.Bit, Varying: true, Length: 5}},
		{"bit varying", types.Type{Kind: types.Bit, Varying: true}},
		{"inet", types.Type{Kind: types.Inet}},
		{"cidr", types.Type{Kind: types.Inet}},
		{"macaddr", types.Type{Kind: types.Inet}},
		{"tsvector", types.Type{Kind: types.TSVector}},
		{"money", types.Type{Kind: types.Other}},
		{"time with time zone", types.Type{Kind: types.Other}},
		{"int4range", types.Type{Kind: types.Other}},
		{"point", types.Type{Kind: types.Other}},
		{"mood", types.Type{Kind: types.Other}}, // an enum the catalog did not describe
		{"integer[]", types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Int, Bits: 32, Native: "integer"})}},
		{"character varying(20)[]", types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Text, Length: 20, Native: "character varying(20)"})}},
	}
	d := Dialect()
	for _, c := range cases {
		col := &schema.Column{Name: "c", Type: c.typ}
		got, err := d.Neutral(&schema.Table{}, col)
		c.want.Native = c.typ
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Neutral(%s) = %+v, %v; want %+v", c.typ, got, err, c.want)
		}
	}
	// Enums and domains: the catalog sets Neutral, which Neutral returns.
	enum := types.Type{Kind: types.Enum, Labels: []string{"sad", "ok"}, Native: "mood"}
	if got, _ := d.Neutral(nil, &schema.Column{Type: "mood", Neutral: &enum}); !reflect.DeepEqual(got, enum) {
		t.Errorf("Neutral(enum) = %+v", got)
	}
	if got := parseType("mood[]", []string{"a", "b"}); got.Kind != types.Array || got.Elem.Kind != types.Enum || len(got.Elem.Labels) != 2 {
		t.Errorf("parseType(mood[]) = %+v", got)
	}
}

func TestColumnType(t *testing.T) {
	cases := []struct {
		nt   types.Type
		want string
		loss types.Loss
	}{
		{types.Type{Kind: types.Bool}, "boolean", ""},
		{types.Type{Kind: types.Int, Bits: 8}, "smallint", ""},
		{types.Type{Kind: types.Int, Bits: 8, Unsigned: true}, "smallint", ""},
		{types.Type{Kind: types.Int, Bits: 16}, "smallint", ""},
		{types.Type{Kind: types.Int, Bits: 16, Unsigned: true}, "integer", ""},
		{types.Type{Kind: types.Int, Bits: 24}, "integer", ""},
		{types.Type{Kind: types.Int, Bits: 24, Unsigned: true}, "integer", ""},
		{types.Type{Kind: types.Int, Bits: 32}, "integer", ""},
		{types.Type{Kind: types.Int, Bits: 32, Unsigned: true}, "bigint", ""},
		{types.Type{Kind: types.Int, Bits: 64}, "bigint", ""},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, "numeric(20,0)", ""},
		{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, "numeric(10,2)", ""},
		{types.Type{Kind: types.Decimal}, "numeric", ""},
		{types.Type{Kind: types.Float, Bits: 32}, "real", ""},
		{types.Type{Kind: types.Float, Bits: 64}, "double precision", ""},
		{types.Type{Kind: types.Text, Fixed: true, Length: 2}, "char(2)", ""},
		{types.Type{Kind: types.Text, Length: 255}, "varchar(255)", ""},
		{types.Type{Kind: types.Text}, "text", ""},
		{types.Type{Kind: types.Text, Length: 1 << 30}, "text", ""},
		{types.Type{Kind: types.Bytes, Length: 16, Fixed: true}, "bytea", ""},
		{types.Type{Kind: types.Date}, "date", ""},
		{types.Type{Kind: types.Time, Precision: 3, Native: "time(3)"}, "time(3)", ""},
		{types.Type{Kind: types.Time, Precision: 6, Native: "time without time zone"}, "time(6)", ""},
		{types.Type{Kind: types.Timestamp}, "timestamp(0)", ""},
		{types.Type{Kind: types.TimestampTZ, Precision: 6}, "timestamptz(6)", ""},
		{types.Type{Kind: types.Year}, "smallint", ""},
		{types.Type{Kind: types.JSON}, "jsonb", ""},
		{types.Type{Kind: types.UUID}, "uuid", ""},
		{types.Type{Kind: types.Enum, Labels: []string{"a"}}, "text", ""},
		{types.Type{Kind: types.Set, Labels: []string{"a"}}, "text[]", ""},
		{types.Type{Kind: types.Bit, Length: 8}, "bit(8)", ""},
		{types.Type{Kind: types.Bit, Varying: true, Length: 8}, "varbit(8)", ""},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Int, Bits: 32})}, "integer[]", ""},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Other})}, "text[]", types.LossAsText},
		{types.Type{Kind: types.Interval}, "interval", ""},
		{types.Type{Kind: types.Inet}, "inet", ""},
		{types.Type{Kind: types.Inet, Native: "cidr"}, "cidr", ""},
		{types.Type{Kind: types.TSVector}, "tsvector", ""},
		{types.Type{Kind: types.Other, Native: "money"}, "text", types.LossAsText},
	}
	d := Dialect()
	for _, c := range cases {
		got, loss, err := d.ColumnType(c.nt, false)
		if err != nil || got != c.want || loss != c.loss {
			t.Errorf("ColumnType(%s) = %q, %q, %v; want %q, %q", c.nt, got, loss, err, c.want, c.loss)
		}
	}
	_, _, err := d.ColumnType(types.Type{Kind: types.Spatial, Native: "geometry"}, false)
	if err == nil || !strings.Contains(err.Error(), "geometry (spatial) cannot be migrated to PostgreSQL") || !strings.Contains(err.Error(), "--exclude") {
		t.Errorf("ColumnType(spatial) error = %v", err)
	}
}

func col(nt types.Type) *schema.Column { return &schema.Column{Name: "c", Neutral: &nt} }

// TestCanonRoundTrip: every canonical value comes back from FromCanon and
// ToCanon unchanged.
func TestCanonRoundTrip(t *testing.T) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	intArr := types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Int, Bits: 32})}
	cases := []struct {
		nt     types.Type
		values []string
	}{
		{types.Type{Kind: types.Bool}, []string{"t", "f"}},
		{types.Type{Kind: types.Int, Bits: 64}, []string{"0", "-9223372036854775808", "9223372036854775807"}},
		{types.Type{Kind: types.Int, Bits: 64, Unsigned: true}, []string{"18446744073709551615"}},
		{types.Type{Kind: types.Decimal, Precision: 10, Scale: 2}, []string{"1.5", "-0.25", "3", "NaN"}},
		{types.Type{Kind: types.Float, Bits: 32}, []string{"1.1", "3.4028235e+38", "NaN", "Infinity", "-Infinity", "0"}},
		{types.Type{Kind: types.Float, Bits: 64}, []string{"0.1", "1e+300", "-2.5e-10"}},
		{types.Type{Kind: types.Text}, []string{"", "a\tb\nc\\d", "ünï", " x ", "NULL", `{"a"}`}},
		{types.Type{Kind: types.Text, Fixed: true, Length: 5}, []string{"ab", ""}},
		{types.Type{Kind: types.Bytes}, []string{"", "\x00\x01\\x", string(allBytes)}},
		{types.Type{Kind: types.Date}, []string{"2024-02-29", "infinity", "0044-03-15 BC"}},
		{types.Type{Kind: types.Time, Precision: 6}, []string{"00:00:00", "23:59:59.5", "24:00:00"}},
		{types.Type{Kind: types.Timestamp, Precision: 6}, []string{"2024-01-01 10:00:00", "2024-01-01 10:00:00.123456", "-infinity"}},
		{types.Type{Kind: types.TimestampTZ, Precision: 6}, []string{"2024-01-01 10:00:00", "1999-12-31 23:59:59.5", "infinity"}},
		{types.Type{Kind: types.Year}, []string{"2024", "0"}},
		{types.Type{Kind: types.JSON}, []string{`{"a":[1,2.50,null],"b":"x\ty"}`, `"s"`, `[]`}},
		{types.Type{Kind: types.UUID}, []string{"123e4567-e89b-12d3-a456-426614174000"}},
		{types.Type{Kind: types.Enum, Labels: []string{"a b", "c'd"}}, []string{"a b", "c'd"}},
		{types.Type{Kind: types.Set, Labels: []string{"x", "y z", `q"\`}}, []string{"", "x", "x,y z", `y z,q"\`}},
		{types.Type{Kind: types.Bit, Length: 4}, []string{"0101"}},
		{types.Type{Kind: types.Bit, Varying: true, Length: 8}, []string{"", "1"}},
		{intArr, []string{"[]", "[1,2,null]", "[[1,2],[3,4]]"}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Text})}, []string{`["a","b c",null,"NULL","","q\"\\",","]`}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Bool})}, []string{`[true,false,null]`}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Float, Bits: 64})}, []string{`[1.5,"NaN",-2]`}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.JSON})}, []string{`[{"a":1},"s",[1]]`}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Bytes})}, []string{`["\\x0aff"]`}},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.TimestampTZ})}, []string{`["2024-01-01 10:00:00"]`}},
		{types.Type{Kind: types.Interval}, []string{"1 day 02:00:00", "-00:00:01"}},
		{types.Type{Kind: types.Inet}, []string{"192.168.0.1/24", "::1"}},
		{types.Type{Kind: types.TSVector}, []string{"'a' 'b':1"}},
		{types.Type{Kind: types.Other}, []string{"$1.00", "[1,3)"}},
	}
	d := Dialect()
	for _, c := range cases {
		for _, v := range c.values {
			pg, err := d.FromCanon(col(c.nt), engine.Value{Text: v})
			if err != nil {
				t.Errorf("FromCanon(%s, %q): %v", c.nt, v, err)
				continue
			}
			if pg.Raw != nil {
				t.Errorf("FromCanon(%s, %q) sets Raw", c.nt, v)
			}
			back, err := d.ToCanon(col(c.nt), pg)
			if err != nil || back.Text != v {
				t.Errorf("%s: %q -> %q -> %q, %v", c.nt, v, pg.Text, back.Text, err)
			}
		}
	}
	for _, v := range []engine.Value{{Null: true}, {Unchanged: true}} {
		if got, err := d.FromCanon(col(intArr), v); err != nil || got != v {
			t.Errorf("FromCanon(%+v) = %+v, %v", v, got, err)
		}
		if got, err := d.ToCanon(col(intArr), v); err != nil || got != v {
			t.Errorf("ToCanon(%+v) = %+v, %v", v, got, err)
		}
	}
}

// TestToCanon: PostgreSQL's own texts (COPY, pgoutput, ::text) become canonical.
func TestToCanon(t *testing.T) {
	cases := []struct {
		typ        string
		nt         *types.Type
		in, want   string
		wantErrSub string
	}{
		{typ: "bytea", in: `\x0a0bff`, want: "\x0a\x0b\xff"},
		{typ: "bytea", in: `a\\b\000`, want: "a\\b\x00"},
		{typ: "bytea", in: `\xzz`, wantErrSub: "not a bytea"},
		{typ: "timestamp with time zone", in: "2024-01-01 10:00:00+00", want: "2024-01-01 10:00:00"},
		{typ: "timestamp with time zone", in: "2024-01-01 10:00:00.250+05:30", want: "2024-01-01 04:30:00.25"},
		{typ: "timestamp(3) without time zone", in: "2024-01-01 10:00:00.100", want: "2024-01-01 10:00:00.1"},
		{typ: "numeric(10,2)", in: "1.50", want: "1.5"},
		{typ: "real", in: "1.10000002", want: "1.1"},
		{typ: "double precision", in: "100000000000000000000", want: "1e+20"},
		{typ: "boolean", in: "t", want: "t"},
		{typ: "character(5)", in: "ab   ", want: "ab"},
		{typ: "uuid", in: "123E4567-E89B-12D3-A456-426614174000", want: "123e4567-e89b-12d3-a456-426614174000"},
		{typ: "jsonb", in: `{"b": 1, "a": [1, 2]}`, want: `{"a":[1,2],"b":1}`},
		{typ: "integer[]", in: "{1,2,NULL}", want: "[1,2,null]"},
		{typ: "integer[]", in: "[0:1]={1,2}", want: "[1,2]"},
		{typ: "integer[]", in: "{{1,2},{3,4}}", want: "[[1,2],[3,4]]"},
		{typ: "text[]", in: `{a,"b c",NULL,"NULL","q\"\\",""}`, want: `["a","b c",null,"NULL","q\"\\",""]`},
		{typ: "text[]", in: `{ a , b }`, want: `["a","b"]`},
		{typ: "text[]", in: `{}`, want: `[]`},
		{typ: "boolean[]", in: `{t,f}`, want: `[true,false]`},
		{typ: "numeric[]", in: `{1.50,NaN}`, want: `[1.5,"NaN"]`},
		{typ: "jsonb[]", in: `{"{\"b\": 1, \"a\": 2}"}`, want: `[{"a":2,"b":1}]`},
		{typ: "timestamp with time zone[]", in: `{"2024-01-01 10:00:00+00"}`, want: `["2024-01-01 10:00:00"]`},
		{typ: "bytea[]", in: `{"\\x0a"}`, want: `["\\x0a"]`},
		{typ: "box[]", in: `{(1,1),(0,0);(2,2),(1,1)}`, want: `["(1,1),(0,0)","(2,2),(1,1)"]`},
		{typ: "integer[]", in: `{1,2`, wantErrSub: "not an array"},
		{typ: "integer[]", in: `{1}x`, wantErrSub: "not an array"},
		{typ: "text[]", nt: &types.Type{Kind: types.Set, Labels: []string{"a", "b", "c"}}, in: `{c,a}`, want: "a,c"},
		{typ: "text[]", nt: &types.Type{Kind: types.Set, Labels: []string{"a", "b"}}, in: `{}`, want: ""},
		{typ: "text", nt: &types.Type{Kind: types.Enum, Labels: []string{"a"}}, in: "a", want: "a"},
		{typ: "smallint", nt: &types.Type{Kind: types.Year}, in: "2024", want: "2024"},
		{typ: "integer", in: "x", wantErrSub: "not an integer"},
		{typ: "inet", in: "::1/128", want: "::1"},
		{typ: "inet", in: "10.0.0.1/32", want: "10.0.0.1"},
		{typ: "cidr", in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{typ: "macaddr", in: "08:00:2b:01:02:03", want: "08:00:2b:01:02:03"},
	}
	d := Dialect()
	for _, c := range cases {
		cl := &schema.Column{Name: "c", Type: c.typ, Neutral: c.nt}
		got, err := d.ToCanon(cl, engine.Value{Text: c.in})
		switch {
		case c.wantErrSub != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
				t.Errorf("ToCanon(%s, %q) error = %v, want %q", c.typ, c.in, err, c.wantErrSub)
			}
		case err != nil || got.Text != c.want:
			t.Errorf("ToCanon(%s, %q) = %q, %v; want %q", c.typ, c.in, got.Text, err, c.want)
		}
	}
}

func TestFromCanon(t *testing.T) {
	cases := []struct {
		nt       types.Type
		in, want string
	}{
		{types.Type{Kind: types.Bytes}, "\x0a\xff", `\x0aff`},
		{types.Type{Kind: types.TimestampTZ}, "2024-01-01 10:00:00", "2024-01-01 10:00:00+00"},
		{types.Type{Kind: types.Set, Labels: []string{"a", "b"}}, "a,b", `{"a","b"}`},
		{types.Type{Kind: types.Set}, "", `{}`},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Text})}, `["a",null,"\"\\"]`, `{"a",NULL,"\"\\"}`},
		{types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Int, Bits: 32})}, `[[1],[2]]`, `{{"1"},{"2"}}`},
		{types.Type{Kind: types.Bit, Length: 4}, "1", "0001"},
		{types.Type{Kind: types.Decimal}, "1.5", "1.5"},
	}
	d := Dialect()
	for _, c := range cases {
		got, err := d.FromCanon(col(c.nt), engine.Value{Text: c.in})
		if err != nil || got.Text != c.want {
			t.Errorf("FromCanon(%s, %q) = %q, %v; want %q", c.nt, c.in, got.Text, err, c.want)
		}
	}
	_, err := d.FromCanon(col(types.Type{Kind: types.Text}), engine.Value{Text: "a\x00b"})
	if err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("FromCanon(NUL) error = %v", err)
	}
	if _, err := d.FromCanon(col(types.Type{Kind: types.Array, Elem: ptr(types.Type{Kind: types.Int})}), engine.Value{Text: "{1}"}); err == nil {
		t.Error("FromCanon(array, not JSON) gave no error")
	}
}

func TestDefault(t *testing.T) {
	cases := []struct {
		typ, def string
		want     types.Default
		ok       bool
	}{
		{"character varying(10)", `'x''y'::character varying`, types.Default{Value: "x'y"}, true},
		{"text", `''::text`, types.Default{Value: ""}, true},
		{"integer", `42`, types.Default{Value: "42"}, true},
		{"integer", `'-1'::integer`, types.Default{Value: "-1"}, true},
		{"numeric(10,2)", `'-1.50'::numeric`, types.Default{Value: "-1.5"}, true},
		{"double precision", `1.5`, types.Default{Value: "1.5"}, true},
		{"boolean", `true`, types.Default{Value: "t"}, true},
		{"boolean", `false`, types.Default{Value: "f"}, true},
		{"bytea", `'\x0102'::bytea`, types.Default{Value: "\x01\x02"}, true},
		{"integer[]", `'{1,2}'::integer[]`, types.Default{Value: "[1,2]"}, true},
		{"timestamp with time zone", `'2024-01-01 10:00:00+02'::timestamp with time zone`, types.Default{Value: "2024-01-01 08:00:00"}, true},
		{"text", `NULL::text`, types.Default{Null: true}, true},
		{"text", `NULL`, types.Default{Null: true}, true},
		{"timestamp with time zone", `now()`, types.Default{Now: true}, true},
		{"timestamp with time zone", `CURRENT_TIMESTAMP`, types.Default{Now: true}, true},
		{"timestamp(3) without time zone", `LOCALTIMESTAMP(3)`, types.Default{Now: true}, true},
		{"timestamp with time zone", `transaction_timestamp()`, types.Default{Now: true}, true},
		{"date", `CURRENT_DATE`, types.Default{Now: true}, true},
		{"date", `('now'::text)::date`, types.Default{Now: true}, true},
		{"integer", `nextval('t_id_seq'::regclass)`, types.Default{}, false},
		{"text", `upper('a'::text)`, types.Default{}, false},
		{"text", `'a'::text || 'b'::text`, types.Default{}, false},
		{"date", `'2024-01-01'::date + 1`, types.Default{}, false},
		{"integer", `'x'::integer`, types.Default{}, false},
		{"text", ``, types.Default{}, false},
	}
	d := Dialect()
	for _, c := range cases {
		got, ok := d.Default(&schema.Column{Name: "c", Type: c.typ, Default: c.def})
		if ok != c.ok || got != c.want {
			t.Errorf("Default(%s, %s) = %+v, %v; want %+v, %v", c.typ, c.def, got, ok, c.want, c.ok)
		}
	}
	enum := types.Type{Kind: types.Enum, Labels: []string{"ok"}}
	if got, ok := d.Default(&schema.Column{Type: "mood", Default: `'ok'::mood`, Neutral: &enum}); !ok || got.Value != "ok" {
		t.Errorf("Default(enum) = %+v, %v", got, ok)
	}
}

func TestDefaultSQL(t *testing.T) {
	cases := []struct {
		nt   types.Type
		d    types.Default
		want string
	}{
		{types.Type{Kind: types.Text}, types.Default{Value: "it's"}, `'it''s'`},
		{types.Type{Kind: types.Text}, types.Default{Value: ""}, `''`},
		{types.Type{Kind: types.Int, Bits: 32}, types.Default{Value: "-42"}, `-42`},
		{types.Type{Kind: types.Decimal}, types.Default{Value: "1.5"}, `1.5`},
		{types.Type{Kind: types.Float, Bits: 64}, types.Default{Value: "1e+300"}, `'1e+300'`},
		{types.Type{Kind: types.Float, Bits: 64}, types.Default{Value: "NaN"}, `'NaN'`},
		{types.Type{Kind: types.Bool}, types.Default{Value: "t"}, `true`},
		{types.Type{Kind: types.Bytes}, types.Default{Value: "\x01"}, `'\x01'`},
		{types.Type{Kind: types.Set, Labels: []string{"a", "b"}}, types.Default{Value: "a,b"}, `'{"a","b"}'`},
		{types.Type{Kind: types.TimestampTZ}, types.Default{Now: true}, `CURRENT_TIMESTAMP`},
		{types.Type{Kind: types.Timestamp}, types.Default{Now: true}, `CURRENT_TIMESTAMP`},
		{types.Type{Kind: types.Date}, types.Default{Now: true}, `CURRENT_DATE`},
		{types.Type{Kind: types.Time}, types.Default{Now: true}, `LOCALTIME`},
		{types.Type{Kind: types.Text}, types.Default{Null: true}, `NULL`},
	}
	d := Dialect()
	for _, c := range cases {
		if got := d.DefaultSQL(c.nt, c.d); got != c.want {
			t.Errorf("DefaultSQL(%s, %+v) = %s, want %s", c.nt, c.d, got, c.want)
		}
	}
}

func TestFinishTable(t *testing.T) {
	enum := types.Type{Kind: types.Enum, Labels: []string{"new", "it's"}}
	set := types.Type{Kind: types.Set, Labels: []string{"a", "b"}}
	tb := &schema.Table{Schema: "shop", Name: "Order", Key: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: "bigint", NotNull: true, AutoIncrement: true},
			{Name: "big", Type: "numeric(20,0)", AutoIncrement: true},
			{Name: "state", Type: "text", NotNull: true, Default: "'new'", Neutral: &enum},
			{Name: "tags", Type: "text[]", Neutral: &set},
			{Name: "customer", Type: "integer"},
		},
		Constraints: []schema.Constraint{
			{Name: "Order_pkey", Kind: "p", Columns: []string{"id"}},
			{Name: "Order_customer_state_key", Kind: "u", Columns: []string{"customer", "state"}},
			{Name: "fk_customer", Kind: "f", Columns: []string{"customer"}, RefTable: "shop.Customer", RefColumns: []string{"Id"}, OnDelete: "CASCADE", OnUpdate: "SET NULL"},
			{Name: "fk_plain", Kind: "f", Columns: []string{"customer"}, RefTable: "other.c"},
		},
		Indexes: []schema.Index{
			{Name: "Order_state_idx", Columns: []string{"state", "id"}},
			{Name: "Order_big_key", Columns: []string{"big"}, Unique: true},
		},
	}
	if err := Dialect().FinishTable(tb); err != nil {
		t.Fatal(err)
	}
	want := `CREATE TABLE "shop"."Order" (
  "id" bigint GENERATED BY DEFAULT AS IDENTITY,
  "big" numeric(20,0) DEFAULT nextval('"shop"."Order_big_seq"'::regclass),
  "state" text DEFAULT 'new' NOT NULL,
  "tags" text[],
  "customer" integer,
  CONSTRAINT "Order_state_check" CHECK ("state" IN ('new', 'it''s')),
  CONSTRAINT "Order_tags_check" CHECK ("tags" <@ ARRAY['a', 'b']::text[])
)`
	if tb.CreateSQL != want || CreateTableSQL(tb) != want {
		t.Errorf("CreateSQL =\n%s\nwant\n%s", tb.CreateSQL, want)
	}
	defs := map[string]string{}
	for _, c := range tb.Constraints {
		defs[c.Name] = c.Def
	}
	wantDefs := map[string]string{
		"Order_pkey":               `PRIMARY KEY ("id")`,
		"Order_customer_state_key": `UNIQUE ("customer", "state")`,
		"fk_customer":              `FOREIGN KEY ("customer") REFERENCES "shop"."Customer" ("Id") ON DELETE CASCADE ON UPDATE SET NULL`,
		"fk_plain":                 `FOREIGN KEY ("customer") REFERENCES "other"."c"`,
		"Order_state_check":        `CHECK ("state" IN ('new', 'it''s'))`,
		"Order_tags_check":         `CHECK ("tags" <@ ARRAY['a', 'b']::text[])`,
	}
	if !reflect.DeepEqual(defs, wantDefs) {
		t.Errorf("constraint defs =\n%v\nwant\n%v", defs, wantDefs)
	}
	if got, want := tb.Indexes[0].Def, `CREATE INDEX "Order_state_idx" ON "shop"."Order" ("state", "id")`; got != want {
		t.Errorf("index def = %s, want %s", got, want)
	}
	if got, want := tb.Indexes[1].Def, `CREATE UNIQUE INDEX "Order_big_key" ON "shop"."Order" ("big")`; got != want {
		t.Errorf("index def = %s, want %s", got, want)
	}
	if names, cols := SequencesUsed(tb); len(names) != 1 || names[0] != `"shop"."Order_big_seq"` || cols[0] != "big" {
		t.Errorf("SequencesUsed = %v %v", names, cols)
	}
	// Finishing again changes nothing.
	n := len(tb.Constraints)
	if err := Dialect().FinishTable(tb); err != nil || len(tb.Constraints) != n || tb.CreateSQL != want {
		t.Errorf("FinishTable twice: %v, %d constraints", err, len(tb.Constraints))
	}

	bad := &schema.Table{Schema: "s", Name: "t", Constraints: []schema.Constraint{{Name: "f", Kind: "f", Columns: []string{"a"}, RefTable: "t"}}}
	if err := Dialect().FinishTable(bad); err == nil {
		t.Error("FinishTable accepted an unqualified referenced table")
	}
}

// decodeCanon reads COPY text rows of t's copied columns as canonical values.
func decodeCanon(t *testing.T, data []byte, cols []schema.Column) [][]engine.Value {
	t.Helper()
	d := Dialect()
	var out [][]engine.Value
	err := d.DecodeRows(bytes.NewReader(data), cols, func(row []engine.Value) error {
		canon := make([]engine.Value, len(row))
		for i, v := range row {
			c, err := d.ToCanon(&cols[i], v)
			if err != nil {
				return fmt.Errorf("%s: %w", cols[i].Name, err)
			}
			canon[i] = c
		}
		out = append(out, canon)
		return nil
	})
	if err != nil {
		t.Fatalf("decoding rows: %v", err)
	}
	return out
}

// encodeCanon writes canonical rows as the target's COPY text.
func encodeCanon(t *testing.T, rows [][]engine.Value, cols []schema.Column) *bytes.Buffer {
	t.Helper()
	d := Dialect()
	var buf bytes.Buffer
	enc := d.NewEncoder(&buf, cols)
	for _, r := range rows {
		out := make([]engine.Value, len(r))
		for i, v := range r {
			pg, err := d.FromCanon(&cols[i], v)
			if err != nil {
				t.Fatalf("FromCanon %s %q: %v", cols[i].Name, v.Text, err)
			}
			out[i] = pg
		}
		if err := enc.Encode(out); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// mapTable builds a target table from a source table the way the bridge does.
func mapTable(t *testing.T, src *schema.Table, schemaName string) *schema.Table {
	t.Helper()
	d := Dialect()
	tt := &schema.Table{Schema: schemaName, Name: src.Name, Key: src.Key}
	for i := range src.Columns {
		c := &src.Columns[i]
		if c.Generated != "" {
			continue
		}
		nt, err := d.Neutral(src, c)
		if err != nil {
			t.Fatal(err)
		}
		c.Neutral = &nt
		typ, _, err := d.ColumnType(nt, false)
		if err != nil {
			t.Fatal(err)
		}
		tc := schema.Column{Name: c.Name, Type: typ, NotNull: c.NotNull, AutoIncrement: c.AutoIncrement, Neutral: &nt}
		if def, ok := d.Default(c); ok {
			tc.Default = d.DefaultSQL(nt, def)
		}
		tt.Columns = append(tt.Columns, tc)
	}
	tt.Constraints = append(tt.Constraints, schema.Constraint{Name: src.Name + "_pkey", Kind: "p", Columns: src.Key})
	for _, ix := range src.Indexes {
		if len(ix.Columns) > 0 {
			tt.Indexes = append(tt.Indexes, schema.Index{Name: ix.Name, Columns: ix.Columns, Unique: ix.Unique})
		}
	}
	if err := d.FinishTable(tt); err != nil {
		t.Fatal(err)
	}
	return tt
}

func noPosition() (position.Position, error) { return nil, nil }

// writeTable creates tt on the target and loads rows into it.
func writeTable(t *testing.T, ctx context.Context, tgt *Target, tt *schema.Table, rows [][]engine.Value) {
	t.Helper()
	const mig = "dialect-test"
	if _, err := tgt.Prepare(ctx, mig); err != nil {
		t.Fatal(err)
	}
	chunk := engine.Chunk{Table: tt.QualifiedName()}
	if err := tgt.CreateTables(ctx, mig, []*schema.Table{tt}, []engine.Chunk{chunk}, nil, false); err != nil {
		t.Fatal(err)
	}
	n, err := tgt.WriteChunk(ctx, mig, tt, chunk, Dialect().NewEncoder(nil, nil).Format(), encodeCanon(t, rows, tt.CopyColumns()), noPosition)
	if err != nil || n != int64(len(rows)) {
		t.Fatalf("WriteChunk = %d, %v; want %d rows", n, err, len(rows))
	}
	if err := tgt.CreateKeyIndex(ctx, tt); err != nil {
		t.Fatal(err)
	}
	if err := tgt.CreateSecondary(ctx, tt); err != nil {
		t.Fatal(err)
	}
}

// readCanon reads every row of t through ReadRange as canonical values.
func readCanon(t *testing.T, ctx context.Context, r engine.RangeReader, tb *schema.Table) [][]engine.Value {
	t.Helper()
	var buf bytes.Buffer
	if err := r.ReadRange(ctx, tb, nil, nil, &buf); err != nil {
		t.Fatal(err)
	}
	rows := decodeCanon(t, buf.Bytes(), tb.CopyColumns())
	sort.Slice(rows, func(i, j int) bool { return rows[i][0].Text < rows[j][0].Text })
	return rows
}

func sameRows(t *testing.T, what string, cols []schema.Column, got, want [][]engine.Value) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("%s: row %d column %s = %+v, want %+v", what, i, cols[j].Name, got[i][j], want[i][j])
			}
		}
	}
}

func TestDialectIntegration(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	tgtURL := testutil.NewPGDatabase(t, "target")
	ctx := context.Background()
	setup := testutil.Connect(t, srcURL)
	_, err := setup.Exec(ctx, `
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN app.code AS varchar(6);
CREATE TABLE app.parent (id serial PRIMARY KEY, name text UNIQUE);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER parent_touch BEFORE UPDATE ON app.parent FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE SEQUENCE app.loose_seq;
CREATE TABLE app.loose (id int PRIMARY KEY DEFAULT nextval('app.loose_seq'), n bigint DEFAULT nextval('app.loose_seq'));
CREATE TABLE app.items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  parent int REFERENCES app.parent (id) ON DELETE SET NULL,
  b boolean, i2 smallint, n numeric(12,3) DEFAULT 0, nu numeric, r real, d double precision,
  ch char(4), vc varchar(10) DEFAULT 'x''y', tx text, bin bytea, dt date, tm time(3), ts timestamp, tz timestamptz DEFAULT now(),
  iv interval, js jsonb, j json, u uuid, m app.mood DEFAULT 'ok', ms app.mood[], p app.posint, code app.code, bits bit(4), vb varbit(8),
  ia int[], ta text[], addr inet, tsv tsvector, cash money,
  twice bigint GENERATED ALWAYS AS (id * 2) STORED,
  UNIQUE (i2, b)
);
CREATE INDEX items_tx_dt ON app.items (tx, dt);
CREATE INDEX items_lower ON app.items (lower(tx));
CREATE INDEX items_part ON app.items (dt) WHERE b;
INSERT INTO app.parent (name) VALUES ('one'), ('two');
INSERT INTO app.items (parent, b, i2, n, nu, r, d, ch, vc, tx, bin, dt, tm, ts, tz, iv, js, j, u, m, ms, p, code, bits, vb, ia, ta, addr, tsv, cash)
VALUES (1, true, -3, 1.5, 123456789.000123456789, 1.1, 0.1, 'ab', 'v', E'tab\there\nnew line \\ back "q" ''s', (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex') FROM generate_series(0, 255) g),
        '2024-02-29', '10:11:12.345', '2024-01-01 10:00:00.5', '2024-01-01 10:00:00+02', '1 day 02:00:00', '{"b": 1, "a": [1, 2.50]}', '{"z": null, "a": "x"}',
        'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'happy', '{sad,NULL,ok}', 7, 'code1', B'1010', B'101', '{{1,2},{3,NULL}}', '{a,"b c",NULL,"NULL","",","}', '10.0.0.1/8', 'a fat:2 cat', 1.5),
       (2, false, 0, -0.001, 'NaN', 'Infinity', -1e300, '', '', '', '', 'infinity', '24:00:00', '-infinity', '1999-12-31 23:59:59.999999+00', '-00:00:01', '[]', '"s"',
        NULL, 'sad', '{}', 1, '', B'0000', B'', '{}', '{}', '::1', '', 0),
       (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`)
	if err != nil {
		t.Fatal(err)
	}

	src, err := OpenSource(ctx, srcURL, "dialect-test", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx, schema.Filter{Include: []string{"app.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 3 || tables[0].Name != "items" || tables[1].Name != "loose" {
		t.Fatalf("tables = %v", tables)
	}
	items, parent := tables[0], tables[2]
	// A key on a sequence it does not own (no OWNED BY) is a counter; another column on it is not.
	if loose := tables[1]; !loose.Column("id").AutoIncrement || loose.Column("n").AutoIncrement {
		t.Errorf("loose: id and n auto-increment = %v, %v; want true, false", loose.Column("id").AutoIncrement, loose.Column("n").AutoIncrement)
	}
	tables = []*schema.Table{items, parent}

	// Catalog: counters, enum and domain types, constraint and index columns.
	if c := parent.Column("id"); !c.AutoIncrement {
		t.Errorf("serial parent.id: AutoIncrement not set")
	}
	if strings.Join(parent.Triggers, ",") != "parent_touch" || len(items.Triggers) != 0 {
		t.Errorf("triggers: parent %v, items %v", parent.Triggers, items.Triggers)
	}
	if c := items.Column("id"); !c.AutoIncrement {
		t.Errorf("identity items.id: AutoIncrement not set")
	}
	if c := items.Column("parent"); c.AutoIncrement || c.Neutral != nil {
		t.Errorf("items.parent = %+v", c)
	}
	if c := items.Column("m"); c.Neutral == nil || c.Neutral.Kind != types.Enum || strings.Join(c.Neutral.Labels, ",") != "sad,ok,happy" || c.Neutral.Native != "app.mood" {
		t.Errorf("enum column neutral = %+v", c.Neutral)
	}
	if c := items.Column("ms"); c.Neutral == nil || c.Neutral.Kind != types.Array || c.Neutral.Elem.Kind != types.Enum {
		t.Errorf("enum array column neutral = %+v", c.Neutral)
	}
	if c := items.Column("p"); c.Neutral == nil || c.Neutral.Kind != types.Int || c.Neutral.Bits != 32 || c.Neutral.Native != "app.posint" {
		t.Errorf("domain column neutral = %+v", c.Neutral)
	}
	if c := items.Column("code"); c.Neutral == nil || c.Neutral.Kind != types.Text || c.Neutral.Length != 6 {
		t.Errorf("domain column neutral = %+v", c.Neutral)
	}
	cons := map[string]schema.Constraint{}
	for _, c := range items.Constraints {
		cons[c.Kind+" "+strings.Join(c.Columns, ",")] = c
	}
	if fk, ok := cons["f parent"]; !ok || fk.RefTable != "app.parent" || strings.Join(fk.RefColumns, ",") != "id" || fk.OnDelete != "SET NULL" || fk.OnUpdate != "" {
		t.Errorf("foreign key = %+v (constraints %v)", fk, items.Constraints)
	}
	if _, ok := cons["p id"]; !ok {
		t.Errorf("no primary key constraint with columns: %v", items.Constraints)
	}
	if u, ok := cons["u i2,b"]; !ok || u.RefColumns != nil || u.OnDelete != "" {
		t.Errorf("unique constraint = %+v", u)
	}
	ixs := map[string]schema.Index{}
	for _, ix := range items.Indexes {
		ixs[ix.Name] = ix
	}
	if ix := ixs["items_tx_dt"]; strings.Join(ix.Columns, ",") != "tx,dt" || ix.Unique {
		t.Errorf("index items_tx_dt = %+v", ix)
	}
	if ix := ixs["items_lower"]; len(ix.Columns) != 0 {
		t.Errorf("expression index columns = %v", ix.Columns)
	}
	if ix := ixs["items_part"]; len(ix.Columns) != 0 {
		t.Errorf("partial index columns = %v", ix.Columns)
	}

	// The source reads its rows in pgtext; ReadChunk, ReadRange and Rows agree.
	if err := src.SetCopyFormat("pgtext"); err != nil || src.CopyFormat() != "pgtext" {
		t.Fatalf("SetCopyFormat: %v, %s", err, src.CopyFormat())
	}
	if err := src.SetCopyFormat("csv"); err == nil {
		t.Error("SetCopyFormat(csv) accepted")
	}
	cols := items.CopyColumns()
	var chunk bytes.Buffer
	if _, err := src.ReadChunk(ctx, items, engine.Chunk{Table: items.QualifiedName()}, &chunk); err != nil {
		t.Fatal(err)
	}
	want := decodeCanon(t, chunk.Bytes(), cols)
	sort.Slice(want, func(i, j int) bool { return want[i][0].Text < want[j][0].Text })
	sameRows(t, "ReadRange", cols, readCanon(t, ctx, src, items), want)
	if got := want[0][colIndexOf(cols, "tx")].Text; got != "tab\there\nnew line \\ back \"q\" 's" {
		t.Errorf("tx = %q", got)
	}
	if got := want[0][colIndexOf(cols, "bin")].Text; len(got) != 256 || got[255] != 0xff {
		t.Errorf("bin = %q", got)
	}
	if got := want[0][colIndexOf(cols, "tz")].Text; got != "2024-01-01 08:00:00" {
		t.Errorf("tz = %q", got)
	}
	if got := want[0][colIndexOf(cols, "ta")].Text; got != `["a","b c",null,"NULL","",","]` {
		t.Errorf("ta = %q", got)
	}
	texts, err := src.Rows(ctx, items, [][]string{{"1"}, {"2"}, {"3"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range texts {
		for j, s := range r {
			v := engine.Value{Null: s == nil}
			if s != nil {
				v.Text = *s
			}
			c, err := Dialect().ToCanon(&cols[j], v)
			if err != nil || c != want[i][j] {
				t.Errorf("Rows: row %d column %s = %+v, %v; want %+v", i, cols[j].Name, c, err, want[i][j])
			}
		}
	}

	// The target: tables built through the neutral model, loaded in pgtext.
	tgt, err := OpenTarget(ctx, tgtURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	tp, ti := mapTable(t, parent, "moved"), mapTable(t, items, "moved")
	ti.Constraints = append(ti.Constraints, schema.Constraint{Name: "items_parent_fkey", Kind: "f", Columns: []string{"parent"}, RefTable: "moved.parent", RefColumns: []string{"id"}, OnDelete: "SET NULL"})
	if err := Dialect().FinishTable(ti); err != nil {
		t.Fatal(err)
	}
	var parentBuf bytes.Buffer
	if err := src.ReadRange(ctx, parent, nil, nil, &parentBuf); err != nil {
		t.Fatal(err)
	}
	writeTable(t, ctx, tgt, tp, decodeCanon(t, parentBuf.Bytes(), parent.CopyColumns()))
	writeTable(t, ctx, tgt, ti, want)
	if err := tgt.CreateForeignKeys(ctx, ti, map[string]bool{"moved.parent": true}); err != nil {
		t.Fatal(err)
	}
	if err := tgt.ValidateForeignKeys(ctx, ti); err != nil {
		t.Fatal(err)
	}
	reader, err := OpenSource(ctx, tgtURL, "dialect-test-reader", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tcols := ti.CopyColumns()
	sameRows(t, "target", tcols, readCanon(t, ctx, reader, ti), want)
	check := testutil.Connect(t, tgtURL)
	if _, err := check.Exec(ctx, `INSERT INTO moved.items (m) VALUES ('angry')`); err == nil || !strings.Contains(err.Error(), "items_m_check") {
		t.Errorf("enum check: insert of a bad label gave %v", err)
	}

	// Replay: an upsert and a delete in FromCanon form, keys by text.
	changed := append([]engine.Value(nil), want[1]...)
	changed[colIndexOf(cols, "tx")] = engine.Value{Text: "changed\twith tab"}
	changed[colIndexOf(cols, "ta")] = engine.Value{Text: `["x\"y"]`}
	img := make([]engine.Value, len(changed))
	for i, v := range changed {
		if img[i], err = Dialect().FromCanon(&tcols[i], v); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := Dialect().FromCanon(ti.Column("id"), engine.Value{Text: "3"})
	tx, err := tgt.BeginApply(ctx, "dialect-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx, engine.Segment{Ops: []*engine.TableOps{{Table: ti, Upserts: [][]engine.Value{img}, Deletes: [][]engine.Value{{key}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "after replay", tcols, readCanon(t, ctx, reader, ti), [][]engine.Value{want[0], changed})

	// Sequences: the source's state, then the next value on the target.
	seqs, err := src.Sequences(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	gotSeqs := map[string]engine.SequenceValue{}
	for _, s := range seqs {
		gotSeqs[s.Table+"."+s.Column] = s
	}
	if s := gotSeqs["app.items.id"]; s.Value != 3 || !s.Called {
		t.Errorf("items.id sequence = %+v", s)
	}
	if s := gotSeqs["app.parent.id"]; s.Value != 2 || !s.Called {
		t.Errorf("parent.id sequence = %+v", s)
	}
	if err := tgt.SetSequences(ctx, []*schema.Table{ti}, []engine.SequenceValue{{Table: ti.QualifiedName(), Column: "id", Value: 4}}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := check.QueryRow(ctx, `INSERT INTO moved.items DEFAULT VALUES RETURNING id`).Scan(&id); err != nil || id != 4 {
		t.Errorf("next id on the target = %d, %v; want 4", id, err)
	}
}

func colIndexOf(cols []schema.Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	panic("no column " + name)
}

// TestDialectTargetFromNeutral loads values of another engine's types (as the
// MySQL dialect describes them) into tables FinishTable built.
func TestDialectTargetFromNeutral(t *testing.T) {
	tgtURL := testutil.NewPGDatabase(t, "target")
	ctx := context.Background()
	d := Dialect()
	neutral := []struct {
		name string
		nt   types.Type
	}{
		{"id", types.Type{Kind: types.Int, Bits: 64, Unsigned: true, Native: "bigint unsigned"}},
		{"tiny", types.Type{Kind: types.Int, Bits: 8, Unsigned: true, Native: "tinyint unsigned"}},
		{"flag", types.Type{Kind: types.Bool, Native: "tinyint(1)"}},
		{"yr", types.Type{Kind: types.Year, Native: "year"}},
		{"st", types.Type{Kind: types.Enum, Labels: []string{"new", "done"}, Native: "enum('new','done')"}},
		{"tags", types.Type{Kind: types.Set, Labels: []string{"a", "b", "c"}, Native: "set('a','b','c')"}},
		{"bits", types.Type{Kind: types.Bit, Length: 4, Native: "bit(4)"}},
		{"dur", types.Type{Kind: types.Time, Precision: 0, Native: "time"}},
		{"at", types.Type{Kind: types.Timestamp, Precision: 0, Native: "datetime"}},
		{"tz", types.Type{Kind: types.TimestampTZ, Precision: 3, Native: "timestamp(3)"}},
		{"doc", types.Type{Kind: types.JSON, Native: "json"}},
		{"code", types.Type{Kind: types.Text, Fixed: true, Length: 3, Native: "char(3)"}},
		{"name", types.Type{Kind: types.Text, Length: 20, Native: "varchar(20)"}},
		{"blob", types.Type{Kind: types.Bytes, Native: "blob"}},
		{"price", types.Type{Kind: types.Decimal, Precision: 10, Scale: 2, Native: "decimal(10,2)"}},
		{"f", types.Type{Kind: types.Float, Bits: 32, Native: "float"}},
		{"geo", types.Type{Kind: types.Other, Native: "whatever"}},
	}
	tt := &schema.Table{Schema: "from_my", Name: "things", Key: []string{"id"},
		Constraints: []schema.Constraint{{Name: "things_pkey", Kind: "p", Columns: []string{"id"}}},
		Indexes:     []schema.Index{{Name: "things_name_key", Columns: []string{"name"}, Unique: true}}}
	for _, n := range neutral {
		typ, _, err := d.ColumnType(n.nt, n.name == "id" || n.name == "name")
		if err != nil {
			t.Fatal(err)
		}
		nt := n.nt
		c := schema.Column{Name: n.name, Type: typ, Neutral: &nt, AutoIncrement: n.name == "id", NotNull: n.name == "id"}
		if n.name == "st" {
			c.Default = d.DefaultSQL(nt, types.Default{Value: "new"})
		}
		if n.name == "at" {
			c.Default = d.DefaultSQL(nt, types.Default{Now: true})
		}
		tt.Columns = append(tt.Columns, c)
	}
	if err := d.FinishTable(tt); err != nil {
		t.Fatal(err)
	}
	v := func(s string) engine.Value { return engine.Value{Text: s} }
	null := engine.Value{Null: true}
	rows := [][]engine.Value{
		{v("1"), v("255"), v("t"), v("2024"), v("done"), v("a,c"), v("1010"), v("23:59:59"), v("2024-01-01 10:00:00"), v("2024-01-01 10:00:00.123"),
			v(`{"a":[1,2],"b":"x"}`), v("ab"), v("tab\tnl\n"), v("\x00\x01\xff"), v("12.5"), v("1.1"), v("POINT(1 2)")},
		{v("18446744073709551615"), v("0"), v("f"), v("1901"), v("new"), v(""), v("0000"), v("00:00:00"), v("1000-01-01 00:00:00"), v("1970-01-01 00:00:01"),
			v(`[]`), v(""), v(""), v(""), v("-0.01"), v("-3.4028235e+38"), v("")},
		{v("2"), null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null},
	}
	tgt, err := OpenTarget(ctx, tgtURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	writeTable(t, ctx, tgt, tt, rows)
	reader, err := OpenSource(ctx, tgtURL, "dialect-test-reader", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	got := readCanon(t, ctx, reader, tt)
	sort.Slice(rows, func(i, j int) bool { return rows[i][0].Text < rows[j][0].Text })
	sameRows(t, "target", tt.CopyColumns(), got, rows)

	// The numeric counter gets a sequence it owns; SetSequences moves it.
	if err := tgt.SetSequences(ctx, []*schema.Table{tt}, []engine.SequenceValue{{Table: tt.QualifiedName(), Column: "id", Value: 100}}); err != nil {
		t.Fatal(err)
	}
	check := testutil.Connect(t, tgtURL)
	var id, st string
	if err := check.QueryRow(ctx, `INSERT INTO from_my.things (name) VALUES ('x') RETURNING id::text, st`).Scan(&id, &st); err != nil || id != "100" || st != "new" {
		t.Errorf("insert with defaults = %s, %s, %v; want 100, new", id, st, err)
	}
	if _, err := check.Exec(ctx, `INSERT INTO from_my.things (tags) VALUES ('{a,z}')`); err == nil || !strings.Contains(err.Error(), "things_tags_check") {
		t.Errorf("set check: insert of a bad label gave %v", err)
	}
}

// TestJSONCanonMatchesJSONB: a JSON text as MySQL and SQLite keep it and the
// jsonb PostgreSQL makes of it have one canonical form (verify between engines
// compares them): jsonb respells numbers (1E+2 -> 100), drops whitespace and
// duplicate keys, and reorders keys. Seeded; the seed is printed.
func TestJSONCanonMatchesJSONB(t *testing.T) {
	conn := testutil.Connect(t, testutil.PGAdmin(t, "source"))
	seed := testutil.Seed(t)
	r := rand.New(rand.NewPCG(uint64(seed), 3))
	number := func() string {
		s := []string{"", "-"}[r.IntN(2)] + strconv.Itoa(r.IntN(1000))
		if r.IntN(2) == 0 {
			s += fmt.Sprintf(".%0*d", 1+r.IntN(4), r.IntN(100))
		}
		if r.IntN(2) == 0 {
			s += []string{"e", "E", "e+", "e-", "E-"}[r.IntN(5)] + strconv.Itoa(r.IntN(40))
		}
		return s
	}
	docs := []string{`1E+2`, `-0`, `-0.0`, `2.50e-1`, `1e400`, `{"b": 1, "a": [1, 2.50], "b": 2}`, `"\u00e9\ud83e\udd86\/\b\f\u001f"`, `{"": {}, " ": []}`}
	for i := 0; i < 500; i++ {
		docs = append(docs, fmt.Sprintf(`{"n%d": %s, "a": [%s, {"x": %s}]}`, r.IntN(3), number(), number(), number()))
	}
	for _, doc := range docs {
		var jsonb string
		if err := conn.QueryRow(context.Background(), "SELECT $1::jsonb::text", doc).Scan(&jsonb); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		want, err := types.CanonJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Dialect().ToCanon(&schema.Column{Type: "jsonb"}, engine.Value{Text: jsonb}); err != nil || got.Text != want {
			t.Errorf("seed %d: %s: jsonb %s has canonical form %s (%v), the text %s", seed, doc, jsonb, got.Text, err, want)
		}
	}
}

// The bridge's "enum" type becomes an enum type named table_column, created
// (if missing) before the table.
func TestDialectEnumType(t *testing.T) {
	long := strings.Repeat("ä", 31) // 62 bytes, a column name PostgreSQL takes; films_ + it is cut to 63 bytes on a rune boundary
	tb := &schema.Table{Schema: "shop", Name: "films", Columns: []schema.Column{
		{Name: "rating", Type: "enum", Neutral: &types.Type{Kind: types.Enum, Labels: []string{"PG", "it's"}}},
		{Name: long, Type: "enum", Neutral: &types.Type{Kind: types.Enum, Labels: []string{"x"}}},
	}}
	if err := Dialect().FinishTable(tb); err != nil {
		t.Fatal(err)
	}
	c := tb.Columns[0]
	if c.Type != `"shop"."films_rating"` || !c.CreateEnum || len(tb.Constraints) != 0 {
		t.Errorf("column %+v, constraints %+v", c, tb.Constraints)
	}
	want := `CREATE TYPE "shop"."films_rating" AS ENUM ('PG', 'it''s')`
	if got := CreateEnumSQL(&c); got != want {
		t.Errorf("CreateEnumSQL:\n%s\nwant\n%s", got, want)
	}
	if n := types.EnumTypeName("films", long); len(n) > 63 || !utf8.ValidString(n) || !strings.HasPrefix(n, "films_ä") {
		t.Errorf("long name %q (%d bytes)", n, len(n))
	}
}
