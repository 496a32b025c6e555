package sqlite

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"reflect"
	"testing"
)

func TestRowCodecRoundTrip(t *testing.T) {
	rows := [][]any{
		{int64(1), "héllo ✓", 3.5, []byte{0, 1, 2}, nil},
		{int64(math.MinInt64), "", math.Inf(-1), []byte{}, int64(math.MaxInt64)},
		{int64(0), "x", 5e-324, nil, "line\nbreak"},
	}
	var b []byte
	for _, r := range rows {
		for _, v := range r {
			var err error
			if b, err = appendValue(b, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	rd := bufio.NewReader(bytes.NewReader(b))
	for i, want := range rows {
		got, err := readRow(rd, len(want))
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("row %d = %#v, want %#v", i, got, want)
		}
	}
	if _, err := readRow(rd, 5); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
	if _, err := readRow(bufio.NewReader(bytes.NewReader(b[:5])), 5); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated stream: %v", err)
	}
	nan, _ := appendValue(nil, math.NaN())
	v, _ := readValue(bufio.NewReader(bytes.NewReader(nan)))
	if f, ok := v.(float64); !ok || !math.IsNaN(f) {
		t.Fatalf("NaN round trip: %v", v)
	}
}

func TestCanonDistinguishesTypes(t *testing.T) {
	seen := map[string]any{}
	for _, v := range []any{nil, int64(1), 1.0, "1", []byte("1"), "", []byte{}, "null"} {
		c := canon(v)
		if prev, dup := seen[c]; dup {
			t.Fatalf("canon(%#v) = canon(%#v) = %q", v, prev, c)
		}
		seen[c] = v
	}
}

func FuzzReadRow(f *testing.F) {
	b, _ := appendValue(nil, "seed")
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := bufio.NewReader(bytes.NewReader(data))
		for {
			if _, err := readRow(rd, 3); err != nil {
				return
			}
		}
	})
}

func TestPath(t *testing.T) {
	cases := map[string]string{"sqlite:///tmp/a.db": "/tmp/a.db", "sqlite:rel/b.db": "rel/b.db", "sqlite:/abs/c.db": "/abs/c.db", "sqlite:x.db?mode=ro": "x.db"}
	for in, want := range cases {
		if got, err := Path(in); err != nil || got != want {
			t.Errorf("Path(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite://host/x.db", "postgres://x"} {
		if _, err := Path(bad); err == nil {
			t.Errorf("Path(%q) accepted", bad)
		}
	}
}

func TestEmptyBlobStaysABlob(t *testing.T) {
	v := value([]byte(nil)) // how the driver reads x''
	if b, ok := v.Raw.([]byte); !ok || b == nil || v.Null {
		t.Fatalf("an empty blob became %#v (null %v): it would be written as NULL", v.Raw, v.Null)
	}
	if value(nil).Raw != nil || !value(nil).Null {
		t.Fatal("NULL changed")
	}
}
