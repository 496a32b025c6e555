package types

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestCanon(t *testing.T) {
	cases := []struct {
		typ  Type
		in   string
		want string
	}{
		{Type{Kind: Bool}, "1", "t"},
		{Type{Kind: Bool}, "false", "f"},
		{Type{Kind: Int}, "-0042", "-42"},
		{Type{Kind: Int}, "0", "0"},
		{Type{Kind: Int}, "+7", "7"},
		{Type{Kind: Decimal}, "1.50", "1.5"},
		{Type{Kind: Decimal}, "-0.00", "0"},
		{Type{Kind: Decimal}, "100", "100"},
		{Type{Kind: Decimal}, "100.000", "100"},
		{Type{Kind: Decimal}, "1.5e3", "1500"},
		{Type{Kind: Decimal}, "1.5E-3", "0.0015"},
		{Type{Kind: Decimal}, ".5", "0.5"},
		{Type{Kind: Decimal}, "NaN", "NaN"},
		{Type{Kind: Float, Bits: 64}, "1.5e0", "1.5"},
		{Type{Kind: Float, Bits: 64}, "0.1", "0.1"},
		{Type{Kind: Float, Bits: 64}, "-0", "0"},
		{Type{Kind: Float, Bits: 64}, "inf", "Infinity"},
		{Type{Kind: Float, Bits: 32}, "0.1", "0.1"},
		{Type{Kind: Float, Bits: 32}, "0.10000000149011612", "0.1"}, // a float32 read as double
		{Type{Kind: Text, Fixed: true}, "ab  ", "ab"},
		{Type{Kind: Text}, "ab  ", "ab  "},
		{Type{Kind: Date}, "2024-02-29", "2024-02-29"},
		{Type{Kind: Time}, "10:11:12.500000", "10:11:12.5"},
		{Type{Kind: Time}, "838:59:59", "838:59:59"},
		{Type{Kind: Timestamp}, "2024-01-02T03:04:05.000000", "2024-01-02 03:04:05"},
		{Type{Kind: Timestamp}, "2024-01-02 03:04:05.120", "2024-01-02 03:04:05.12"},
		{Type{Kind: TimestampTZ}, "2024-01-02 03:04:05+00", "2024-01-02 03:04:05"},
		{Type{Kind: TimestampTZ}, "2024-01-02 03:04:05.5+05:30", "2024-01-01 21:34:05.5"},
		{Type{Kind: TimestampTZ}, "2024-01-02 03:04:05Z", "2024-01-02 03:04:05"},
		{Type{Kind: TimestampTZ}, "2024-01-01 23:00:00-02", "2024-01-02 01:00:00"},
		{Type{Kind: JSON}, `{"b": 1.0, "a": [1, "x<y"]}`, `{"a":[1,"x<y"],"b":1.0}`},
		{Type{Kind: UUID}, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{Type{Kind: Bit, Length: 4}, "0101", "0101"},
	}
	for _, c := range cases {
		got, err := Canon(c.typ, c.in)
		if err != nil || got != c.want {
			t.Errorf("Canon(%s, %q) = %q, %v; want %q", c.typ, c.in, got, err, c.want)
		}
	}
	for _, bad := range []struct {
		typ Type
		in  string
	}{
		{Type{Kind: Int}, "1.5"}, {Type{Kind: Int}, ""}, {Type{Kind: Int}, "abc"},
		{Type{Kind: Decimal}, "1.2.3"}, {Type{Kind: Bool}, "maybe"},
		{Type{Kind: Date}, "2024-13-01"}, {Type{Kind: Timestamp}, "2024-01-01 10:00:00+02"},
		{Type{Kind: JSON}, "{"}, {Type{Kind: Bit}, "012"},
	} {
		if got, err := Canon(bad.typ, bad.in); err == nil {
			t.Errorf("Canon(%s, %q) = %q, want an error", bad.typ, bad.in, got)
		}
	}
	if _, err := Canon(Type{Kind: Timestamp}, "0000-00-00 00:00:00"); !errors.Is(err, ErrZeroDate) {
		t.Errorf("zero date: %v, want ErrZeroDate", err)
	}
}

// Every float reads back from its canonical text, and canonical text is a
// fixed point, whatever notation produced it.
func TestCanonFloatRoundTrip(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := 0; i < 20000; i++ {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		for _, form := range []string{strconv.FormatFloat(f, 'e', 17, 64), strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'f', -1, 64)} {
			c, err := CanonFloat(form, 64)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := strconv.ParseFloat(c, 64)
			if back != f && !(f == 0 && back == 0) {
				t.Fatalf("%v: canonical %q reads back as %v", f, c, back)
			}
			if again, _ := CanonFloat(c, 64); again != c {
				t.Fatalf("canonical %q is not a fixed point: %q", c, again)
			}
		}
		f32 := float64(math.Float32frombits(uint32(r.Uint64())))
		if math.IsNaN(f32) || math.IsInf(f32, 0) {
			continue
		}
		c, _ := CanonFloat(strconv.FormatFloat(f32, 'g', -1, 64), 32)
		if back, _ := strconv.ParseFloat(c, 32); back != f32 {
			t.Fatalf("float32 %v: canonical %q reads back as %v", f32, c, back)
		}
	}
}

// Decimals: equal values in any notation give one text, and it is the value.
func TestCanonDecimalProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < 20000; i++ {
		intPart := strconv.FormatUint(r.Uint64()%1000000, 10)
		frac := strconv.FormatUint(r.Uint64()%1000, 10)
		s := intPart + "." + frac + "000"[:r.IntN(3)]
		if r.IntN(2) == 0 {
			s = "-" + s
		}
		a, err := CanonDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := CanonDecimal(a)
		if a != b {
			t.Fatalf("%q -> %q -> %q", s, a, b)
		}
		fa, _ := strconv.ParseFloat(a, 64)
		fs, _ := strconv.ParseFloat(s, 64)
		if fa != fs {
			t.Fatalf("%q -> %q changed the value", s, a)
		}
	}
}

func TestParseLosses(t *testing.T) {
	got, err := ParseLosses([]string{"as-text,zero-dates"})
	if err != nil || !got[LossAsText] || !got[LossZeroDates] || got[LossArrayAsJSON] {
		t.Fatalf("got %v, %v", got, err)
	}
	all, _ := ParseLosses([]string{"all"})
	if len(all) != len(Losses) {
		t.Fatalf("all = %v", all)
	}
	if _, err := ParseLosses([]string{"everything"}); err == nil {
		t.Fatal("unknown loss accepted")
	}
}

// TestPlainNumber: JSON numbers in canonical JSON are written as jsonb prints
// them (checked against PostgreSQL 15 on these and 3000 random numbers), so
// that a JSON value from MySQL or SQLite and its jsonb copy compare equal.
func TestPlainNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "-0.0": "0.0", "0e5": "0", "0.00e1": "0.0", "1E+2": "100", "1e2": "100", "1.5e2": "150",
		"1.50e1": "15.0", "2.50e-1": "0.250", "-2.5e-3": "-0.0025", "1e-20": "0.00000000000000000001", "1.2345e2": "123.45",
		"123.456e-5": "0.00123456", "-1.0E0": "-1.0", "12345678901234567890123": "12345678901234567890123", "1.50": "1.50",
		"1e999999": "1e999999", // beyond numeric: kept
	} {
		if got := PlainNumber(in); got != want {
			t.Errorf("PlainNumber(%s) = %s, want %s", in, got, want)
		}
	}
	got, err := CanonJSON(`{"b": [1E+2, -0, 2.50e-1], "a": {"x": 1e-3}}`)
	if want := `{"a":{"x":0.001},"b":[100,0,0.250]}`; err != nil || got != want {
		t.Errorf("CanonJSON = %s, %v; want %s", got, err, want)
	}
}
