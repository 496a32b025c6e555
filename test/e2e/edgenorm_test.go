package e2e

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// edgeEqual compares a value as the source engine wrote it with the value
// as the target engine wrote it, for a column of kind, by rules written here
// and nowhere in godwit (so that a conversion godwit gets wrong on both
// sides alike still shows): numbers by value, dates by their fields, JSON by
// its documents, bytes and text byte for byte (char(n) without its padding),
// network addresses and labels exactly.
func edgeEqual(kind string, a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, y := *a, *b
	switch kind {
	case "int":
		ix, okx := new(big.Int).SetString(strings.TrimPrefix(x, "+"), 10)
		iy, oky := new(big.Int).SetString(strings.TrimPrefix(y, "+"), 10)
		return okx && oky && ix.Cmp(iy) == 0
	case "set": // MySQL's "a,b", or a PostgreSQL array of the labels
		return strings.Trim(x, "{}") == strings.Trim(y, "{}")
	case "float", "float32":
		fx, okx := parseEdgeFloat(x, kind)
		fy, oky := parseEdgeFloat(y, kind)
		return okx && oky && (fx == fy || math.IsNaN(fx) && math.IsNaN(fy))
	case "dec":
		if special(x) || special(y) {
			return normSpecial(x) == normSpecial(y)
		}
		rx, okx := new(big.Rat).SetString(x)
		ry, oky := new(big.Rat).SetString(y)
		return okx && oky && rx.Cmp(ry) == 0
	case "date", "ts", "time":
		return normTime(x) == normTime(y)
	case "char":
		return strings.TrimRight(x, " ") == strings.TrimRight(y, " ")
	case "bytes":
		return strings.EqualFold(x, y)
	case "bit":
		return bitsOf(x) == bitsOf(y)
	case "json":
		return sameJSON(x, y)
	case "bool":
		return truth(x) == truth(y)
	case "uuid":
		return strings.EqualFold(x, y)
	}
	return x == y // text, exact
}

func parseEdgeFloat(s, kind string) (float64, bool) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), true
	case "infinity", "inf":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	bits := 64
	if kind == "float32" {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if f == 0 {
		f = 0 // -0 is 0 to SQL
	}
	return f, err == nil
}

func special(s string) bool {
	switch strings.ToLower(s) {
	case "nan", "infinity", "-infinity", "inf", "-inf":
		return true
	}
	return false
}

func normSpecial(s string) string {
	return strings.TrimSuffix(strings.ToLower(s), "inity")
}

// normTime: 'T' as ' ', no trailing fraction zeros, a UTC offset dropped.
func normTime(s string) string {
	s = strings.Replace(s, "T", " ", 1)
	for _, off := range []string{"+00:00", "+00", "Z"} {
		if strings.HasSuffix(s, off) {
			s = strings.TrimSuffix(s, off)
			break
		}
	}
	if strings.HasSuffix(s, "+00 BC") {
		s = strings.TrimSuffix(s, "+00 BC") + " BC"
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 && strings.Count(s[i:], ":") == 0 {
		frac := strings.TrimRight(s[i+1:], "0")
		rest := ""
		if j := strings.IndexByte(frac, ' '); j >= 0 {
			frac, rest = frac[:j], frac[j:]
		}
		if frac == "" {
			s = s[:i] + rest
		} else {
			s = s[:i+1] + frac + rest
		}
	}
	return s
}

func bitsOf(s string) string {
	if strings.Trim(s, "01") == "" {
		return strings.TrimLeft(s, "0")
	}
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		return "?" + s
	}
	return strings.TrimLeft(n.Text(2), "0")
}

func truth(s string) string {
	switch strings.ToLower(s) {
	case "t", "true", "1":
		return "t"
	case "f", "false", "0":
		return "f"
	}
	return "?" + s
}

func sameJSON(x, y string) bool {
	dec := func(s string) (any, bool) {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		return normNumbers(v, d.Decode(&v) == nil)
	}
	vx, okx := dec(x)
	vy, oky := dec(y)
	return okx && oky && reflect.DeepEqual(vx, vy)
}

// normNumbers makes JSON numbers comparable by value (1E+2 = 100).
func normNumbers(v any, ok bool) (any, bool) {
	switch t := v.(type) {
	case json.Number:
		r, good := new(big.Rat).SetString(t.String())
		if !good {
			return nil, false
		}
		return r.RatString(), ok
	case []any:
		for i := range t {
			t[i], _ = normNumbers(t[i], true)
		}
	case map[string]any:
		for k := range t {
			t[k], _ = normNumbers(t[k], true)
		}
	}
	return v, ok
}

func showText(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(clip(*s, 80))
}

// The comparison must tell values apart that godwit could confuse.
func TestEdgeEqual(t *testing.T) {
	p := func(s string) *string { return &s }
	for _, c := range []struct {
		kind string
		a, b *string
		want bool
	}{
		{"float", p("NaN"), p("nan"), true},
		{"float", p("-0"), p("0"), true},
		{"float", p("1.7976931348623157e+308"), p("1.7976931348623157e308"), true},
		{"float", p("0.1"), p("0.10000000000000001"), true},
		{"float", p("0.1"), p("0.1000001"), false},
		{"float32", p("3.4028235e+38"), p("3.40282e+38"), false},
		{"dec", p("-0.000"), p("0"), true},
		{"dec", p("1e-30"), p("0.000000000000000000000000000001"), true},
		{"dec", p("1.5"), p("1.50001"), false},
		{"date", p("2000-02-29"), p("2000-02-29"), true},
		{"ts", p("2000-02-29 23:59:59.999999"), p("2000-02-29T23:59:59.999999"), true},
		{"ts", p("2000-01-01 06:30:00.5+00"), p("2000-01-01 06:30:00.500000"), true},
		{"ts", p("2000-01-01 06:30:00"), p("2000-01-01 06:30:01"), false},
		{"time", p("23:59:59.500000"), p("23:59:59.5"), true},
		{"char", p("ab   "), p("ab"), true},
		{"text", p("a  "), p("a"), false},
		{"bytes", p("00FF"), p("00ff"), true},
		{"bytes", p("00ff"), p("00fe"), false},
		{"bit", p("AA"), p("10101010"), true},
		{"json", p(`{"b":1E+2,"a":[]}`), p(`{"a": [], "b": 100}`), true},
		{"json", p(`{"a":"\u0000"}`), p(`{"a":""}`), false},
		{"bool", p("t"), p("1"), true},
		{"exact", p("10.1.2.3/32"), p("10.1.2.3"), false},
		{"int", p("1"), nil, false},
	} {
		if got := edgeEqual(c.kind, c.a, c.b); got != c.want {
			t.Errorf("edgeEqual(%s, %s, %s) = %v", c.kind, showText(c.a), showText(c.b), got)
		}
	}
}
