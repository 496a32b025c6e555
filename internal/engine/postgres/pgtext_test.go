package postgres

import (
	"bytes"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

func textCols(n int) []schema.Column {
	cols := make([]schema.Column, n)
	for i := range cols {
		cols[i] = schema.Column{Name: string(rune('a' + i)), Type: "text"}
	}
	return cols
}

func decodeAll(t *testing.T, data string, ncols int) [][]engine.Value {
	t.Helper()
	var out [][]engine.Value
	err := decodeText(strings.NewReader(data), textCols(ncols), func(row []engine.Value) error {
		out = append(out, append([]engine.Value(nil), row...))
		return nil
	})
	if err != nil {
		t.Fatalf("decodeText(%q): %v", data, err)
	}
	return out
}

func TestTextCodecRoundTrip(t *testing.T) {
	binary := make([]byte, 0, 255)
	for b := 1; b < 256; b++ {
		binary = append(binary, byte(b))
	}
	rows := [][]engine.Value{
		{{Text: "plain"}, {Text: ""}, {Null: true}},
		{{Text: "tab\there"}, {Text: "new\nline\r\n"}, {Text: `back\slash \N \\N`}},
		{{Text: `\N`}, {Text: "\\."}, {Text: string(binary)}},
		{{Text: "ünïcödé ✓"}, {Null: true}, {Text: " spaces "}},
		{{Text: ""}, {Text: ""}, {Text: ""}},
		{{Null: true}, {Null: true}, {Null: true}},
		{{Text: strings.Repeat("long\t", 30000)}, {Text: "x"}, {Text: "y"}},
	}
	var buf bytes.Buffer
	enc := &textEncoder{w: &buf}
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil || enc.Format() != "pgtext" {
		t.Fatalf("Close = %v, Format = %q", err, enc.Format())
	}
	got := decodeAll(t, buf.String(), 3)
	if len(got) != len(rows) {
		t.Fatalf("decoded %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		for j := range rows[i] {
			if got[i][j] != rows[i][j] {
				t.Errorf("row %d value %d = %+v, want %+v", i, j, got[i][j], rows[i][j])
			}
		}
	}
}

func TestTextEncode(t *testing.T) {
	var buf bytes.Buffer
	enc := &textEncoder{w: &buf}
	if err := enc.Encode([]engine.Value{{Text: "a\tb"}, {Null: true}, {Text: ""}, {Text: "c\\d\ne\r"}}); err != nil {
		t.Fatal(err)
	}
	if want := "a\\tb\t\\N\t\tc\\\\d\\ne\\r\n"; buf.String() != want {
		t.Errorf("Encode = %q, want %q", buf.String(), want)
	}
}

func TestTextDecodeEscapes(t *testing.T) {
	cases := map[string]string{
		`\b\f\n\r\t\v`: "\b\f\n\r\t\v",
		`\\`:           `\`,
		`\101\0612`:    "A12",
		`\x41\x4a\x4`:  "AJ\x04",
		`\xZ`:          "xZ",
		`\q\"`:         `q"`,
		`end\`:         `end\`,
		`\N5`:          "N5",
	}
	for in, want := range cases {
		rows := decodeAll(t, in+"\n", 1)
		if len(rows) != 1 || rows[0][0].Null || rows[0][0].Text != want {
			t.Errorf("decode %q = %+v, want %q", in, rows, want)
		}
	}
	// No final newline, an end marker, a single empty value.
	rows := decodeAll(t, "a\tb\n\\N\t\nc\td", 2)
	if len(rows) != 3 || !rows[1][0].Null || rows[1][1].Text != "" || rows[2][1].Text != "d" {
		t.Errorf("decode = %+v", rows)
	}
	if rows := decodeAll(t, "a\n\\.\nb\n", 1); len(rows) != 1 {
		t.Errorf("end marker: %d rows", len(rows))
	}
	if rows := decodeAll(t, "\n", 1); len(rows) != 1 || rows[0][0].Text != "" || rows[0][0].Null {
		t.Errorf("empty value row: %+v", rows)
	}
	if rows := decodeAll(t, "", 1); len(rows) != 0 {
		t.Errorf("no data: %+v", rows)
	}
}

func TestTextDecodeWrongWidth(t *testing.T) {
	for _, in := range []string{"a\tb\tc\n", "a\n"} {
		err := decodeText(strings.NewReader(in), textCols(2), func([]engine.Value) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "row 1") {
			t.Errorf("decode %q: err = %v, want a row 1 error", in, err)
		}
	}
}

func TestCopyTextSQL(t *testing.T) {
	if got, want := copyOutTextSQL(singleKeyTable, []string{"1"}, nil), `COPY (SELECT "id", "owner" FROM ONLY "public"."accounts" WHERE "id" > '1'::bigint) TO STDOUT (FORMAT text)`; got != want {
		t.Errorf("copyOutTextSQL =\n %s\nwant\n %s", got, want)
	}
	if got, want := copyInTextSQL(composite), `COPY "Sales"."Order Lines" ("region", "sku", "qty") FROM STDIN (FORMAT text)`; got != want {
		t.Errorf("copyInTextSQL = %s", got)
	}
}
