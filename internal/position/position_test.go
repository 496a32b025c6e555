package position

import "testing"

func TestParseLSN(t *testing.T) {
	cases := []struct {
		in   string
		want LSN
		bad  bool
	}{
		{"0/0", 0, false},
		{"0/16B3748", 0x16B3748, false},
		{"16/B374D848", 0x16_B374D848, false},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0), false},
		{"", 0, true},
		{"16", 0, true},
		{"/1", 0, true},
		{"1/", 0, true},
		{"G/1", 0, true},
		{"100000000/0", 0, true},
	}
	for _, c := range cases {
		got, err := ParseLSN(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseLSN(%q) = %v, want error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseLSN(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if got.String() != c.in && c.in != "0/0" {
			t.Errorf("round trip %q -> %q", c.in, got.String())
		}
	}
}

func TestEncodeParse(t *testing.T) {
	for _, l := range []LSN{0, 1, 0x16_B374D848, ^LSN(0)} {
		p, err := Parse(l.Encode())
		if err != nil || p != Position(l) {
			t.Fatalf("Parse(Encode(%v)) = %v, %v", l, p, err)
		}
	}
	if _, err := Parse(""); err != ErrEmpty {
		t.Fatalf("Parse empty: %v", err)
	}
	for _, q := range []Seq{0, 1, 1 << 40} {
		p, err := Parse(q.Encode())
		if err != nil || p != Position(q) {
			t.Fatalf("Parse(Encode(%v)) = %v, %v", q, p, err)
		}
	}
	if Seq(5).Covers(LSN(1)) || !Seq(5).Covers(Seq(5)) || Seq(4).Covers(Seq(5)) {
		t.Fatal("Seq.Covers wrong")
	}
	for _, bad := range []string{"0/1", "zz9:0/1", "pg1:nope", "sq1:-1", "sq1:x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestCoversAndMax(t *testing.T) {
	a, b := LSN(10), LSN(20)
	if a.Covers(b) || !b.Covers(a) || !a.Covers(a) {
		t.Fatal("Covers order wrong")
	}
	if Max(a, b) != Position(b) || Max(nil, a) != Position(a) || Max(b, nil) != Position(b) {
		t.Fatal("Max wrong")
	}
}

func FuzzParseLSN(f *testing.F) {
	f.Add("16/B374D848")
	f.Add("0/0")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLSN(s)
		if err != nil {
			return
		}
		back, err := ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("%q -> %v -> %v, %v", s, l, back, err)
		}
	})
}

func TestBytes(t *testing.T) {
	if Bytes(LSN(300), LSN(100)) != 200 || Bytes(LSN(100), LSN(300)) != 0 || Bytes(nil, LSN(1)) != 0 {
		t.Fatal("Bytes wrong")
	}
}

func TestBinlog(t *testing.T) {
	a := Binlog{File: "binlog.000009", Pos: 900}
	b := Binlog{File: "binlog.000010", Pos: 4}
	if !b.Covers(a) || a.Covers(b) || !a.Covers(a) {
		t.Fatal("binlog order wrong across files")
	}
	if (Binlog{File: "binlog.000010", Pos: 5}).Covers(Binlog{File: "binlog.000010", Pos: 6}) {
		t.Fatal("binlog order wrong within a file")
	}
	p, err := Parse(b.Encode())
	if err != nil || p != Position(b) {
		t.Fatalf("round trip: %v %v", p, err)
	}
	if _, err := Parse("my1:binlog.000001"); err == nil {
		t.Fatal("missing offset accepted")
	}
	if Bytes(Binlog{"f.1", 100}, Binlog{"f.1", 40}) != 60 || Bytes(b, a) != 0 {
		t.Fatal("Bytes wrong")
	}
	if a.Covers(LSN(1)) || LSN(1).Covers(a) {
		t.Fatal("positions of different engines compared")
	}
}

func TestRecordBoundary(t *testing.T) {
	const seg = 16 << 20
	cases := []struct{ in, want LSN }{
		{0x6018, 0x6000},      // just past a short page header
		{0x6028, 0x6028},      // offset 40 inside a normal page: a real record end
		{seg*3 + 40, seg * 3}, // just past the long header of a segment's first page
		{0x5018, 0x5018},      // mid-page
		{0x6019, 0x6019},
	}
	for _, c := range cases {
		if got := c.in.RecordBoundary(seg); got != c.want {
			t.Errorf("RecordBoundary(%X) = %X, want %X", uint64(c.in), uint64(got), uint64(c.want))
		}
	}
}
