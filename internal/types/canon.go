package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Canon normalizes the text of a value of type t into its canonical form (see
// the package comment). Engines first turn their own spelling into one Canon
// understands (the canonical form itself, or close to it: trailing zeros,
// exponents, 'T' separators, offsets on timestamptz, upper-case uuids), then
// call it. A text that is not a value of t is an error naming what is wrong.
func Canon(t Type, s string) (string, error) {
	switch t.Kind {
	case Bool:
		switch strings.ToLower(s) {
		case "t", "true", "1", "y", "yes", "on":
			return "t", nil
		case "f", "false", "0", "n", "no", "off":
			return "f", nil
		}
		return "", fmt.Errorf("%q is not a boolean", s)
	case Int, Year:
		return canonInt(s)
	case Decimal:
		return CanonDecimal(s)
	case Float:
		return CanonFloat(s, t.Bits)
	case Text:
		if t.Fixed {
			return strings.TrimRight(s, " "), nil
		}
		return s, nil
	case Date:
		return canonTime(s, "2006-01-02", false)
	case Time:
		return canonClock(s)
	case Timestamp:
		return canonTime(s, "2006-01-02 15:04:05", false)
	case TimestampTZ:
		return canonTime(s, "2006-01-02 15:04:05", true)
	case JSON:
		return CanonJSON(s)
	case UUID:
		return strings.ToLower(s), nil
	case Bit:
		for _, r := range s {
			if r != '0' && r != '1' {
				return "", fmt.Errorf("%q is not a bit string", s)
			}
		}
		return s, nil
	}
	return s, nil
}

func canonInt(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	d := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"), "0")
	if d == "" {
		if strings.Trim(s, "+-0") != "" || !strings.ContainsRune(s, '0') {
			return "", fmt.Errorf("%q is not an integer", s)
		}
		return "0", nil
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%q is not an integer", s)
		}
	}
	if neg {
		return "-" + d, nil
	}
	return d, nil
}

// CanonDecimal writes an exact decimal without exponent or trailing fraction zeros.
func CanonDecimal(s string) (string, error) {
	switch s {
	case "NaN", "Infinity", "-Infinity":
		return s, nil
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return "", fmt.Errorf("%q is not a decimal", s)
		}
		exp, s = e, s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	if digits == "" {
		return "", fmt.Errorf("%q is not a decimal", s)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%q is not a decimal", s)
		}
	}
	point := len(intPart) + exp // digits before the decimal point
	for point <= 0 {
		digits, point = "0"+digits, point+1
	}
	for point > len(digits) {
		digits += "0"
	}
	ip := strings.TrimLeft(digits[:point], "0")
	fp := strings.TrimRight(digits[point:], "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, nil
}

// CanonFloat writes the shortest text that reads back as the same float.
func CanonFloat(s string, bits int) (string, error) {
	if bits != 32 {
		bits = 64
	}
	switch strings.ToLower(s) {
	case "nan":
		return "NaN", nil
	case "inf", "+inf", "infinity", "+infinity":
		return "Infinity", nil
	case "-inf", "-infinity":
		return "-Infinity", nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return "", fmt.Errorf("%q is not a float", s)
	}
	return FormatFloat(f, bits), nil
}

// FormatFloat is the canonical text of a float of the given width.
func FormatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // -0 and 0 are one value to SQL
	}
	if bits != 32 {
		bits = 64
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// year5 is a date after year 9999, as PostgreSQL writes it.
var year5 = regexp.MustCompile(`^[0-9]{5,}-[0-9]{2}-[0-9]{2}`)

// canonTime normalizes a date or timestamp: 'T' becomes ' ', the fraction
// loses trailing zeros, and with utc an offset (+00, +05:30, Z) is applied.
func canonTime(s, layout string, utc bool) (string, error) {
	if strings.HasPrefix(s, "0000-00-00") {
		return "", fmt.Errorf("%q: %w", s, ErrZeroDate)
	}
	if strings.HasSuffix(s, " BC") || strings.HasPrefix(s, "infinity") || strings.HasPrefix(s, "-infinity") || year5.MatchString(s) {
		// Kept as is: only PostgreSQL has them and compares its own text;
		// a target that stores dates as text (SQLite) keeps that text.
		return s, nil
	}
	s = strings.Replace(s, "T", " ", 1)
	if layout == "2006-01-02" {
		if _, err := time.Parse(layout, s); err != nil {
			return "", fmt.Errorf("%q is not a date", s)
		}
		return s, nil
	}
	body, off := s, ""
	if len(s) > 19 {
		if i := strings.IndexAny(s[19:], "+-Z"); i >= 0 {
			body, off = s[:19+i], s[19+i:]
		}
	}
	if off != "" && !utc {
		return "", fmt.Errorf("%q has a time zone offset but the type has none", s)
	}
	if off != "" && off != "Z" && off != "+00" && off != "+00:00" {
		sec, err := offsetSeconds(off)
		if err != nil {
			return "", fmt.Errorf("%q: %v", s, err)
		}
		t, err := time.Parse("2006-01-02 15:04:05.999999999", body)
		if err != nil {
			return "", fmt.Errorf("%q is not a timestamp", s)
		}
		body = t.Add(-time.Duration(sec) * time.Second).Format("2006-01-02 15:04:05.999999999")
	}
	if len(body) < 19 {
		return "", fmt.Errorf("%q is not a timestamp", s)
	}
	if _, err := time.Parse("2006-01-02 15:04:05", body[:19]); err != nil {
		return "", fmt.Errorf("%q is not a timestamp", s)
	}
	return trimFraction(body), nil
}

// offsetSeconds reads +HH, +HH:MM or +HH:MM:SS.
func offsetSeconds(off string) (int, error) {
	sign := 1
	switch off[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, fmt.Errorf("bad offset %q", off)
	}
	parts := strings.Split(off[1:], ":")
	mult := []int{3600, 60, 1}
	total := 0
	for i, p := range parts {
		if i > 2 {
			return 0, fmt.Errorf("bad offset %q", off)
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("bad offset %q", off)
		}
		total += n * mult[i]
	}
	return sign * total, nil
}

func canonClock(s string) (string, error) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		// MySQL TIME may be negative or above 24h: keep it, trimmed.
		if strings.Count(s, ":") == 2 {
			return trimFraction(s), nil
		}
		return "", fmt.Errorf("%q is not a time", s)
	}
	return trimFraction(s), nil
}

func trimFraction(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 && i > strings.LastIndexByte(s, ':') {
		f := strings.TrimRight(s[i+1:], "0")
		if f == "" {
			return s[:i]
		}
		return s[:i+1] + f
	}
	return s
}

// CanonJSON re-encodes a JSON document compactly with sorted keys, and
// numbers in plain notation (see PlainNumber).
func CanonJSON(s string) (string, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid JSON: %v", err)
	}
	v = plainNumbers(v)
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return json.Number(PlainNumber(string(x)))
	case []any:
		for i := range x {
			x[i] = plainNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plainNumbers(x[k])
		}
	}
	return v
}

// maxExponent bounds the exponents PlainNumber expands: PostgreSQL's numeric
// holds at most 131072 digits before the point and 16383 after it.
const maxExponent = 1 << 17

// PlainNumber writes a JSON number without exponent, with as many fraction
// digits as it has without one, as PostgreSQL's jsonb prints numbers: "1E+2"
// -> "100", "2.50e-1" -> "0.250", "1.50" stays, "-0" -> "0". MySQL, MariaDB
// and SQLite keep a JSON text's numbers as written.
func PlainNumber(n string) string {
	mant, exp := n, 0
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
		if err != nil || e > maxExponent || e < -maxExponent {
			return n
		}
		mant, exp = n[:i], e
	}
	neg := strings.HasPrefix(mant, "-")
	ip, fp, _ := strings.Cut(strings.TrimPrefix(mant, "-"), ".")
	digits, point, scale := ip+fp, len(ip)+exp, max(len(fp)-exp, 0)
	if point <= 0 {
		digits, point = strings.Repeat("0", 1-point)+digits, 1
	}
	if len(digits) < point+scale {
		digits += strings.Repeat("0", point+scale-len(digits))
	}
	out := strings.TrimLeft(digits[:point], "0")
	if out == "" {
		out = "0"
	}
	if scale > 0 {
		out += "." + digits[point:]
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// ErrZeroDate is what ToCanon returns (wrapped) for a MySQL zero date
// ('0000-00-00', or a date with a zero month or day): no other engine has one.
// With the zero-dates loss allowed the bridge writes NULL instead.
var ErrZeroDate = errors.New("zero date")
