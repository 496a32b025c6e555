// Package types is the neutral type model between engines: what a column holds,
// independent of how PostgreSQL, MySQL or SQLite spell it, and the canonical
// text form of every value. Engines map their types to and from the model
// (their Dialect) and convert their values to and from the canonical form;
// verification compares canonical forms, so equal values compare equal across
// engines whatever each engine's own text looks like.
//
// Canonical value forms (see Canon):
//
//	bool         t | f
//	int, year    decimal digits with an optional '-'
//	decimal      plain notation, no exponent, no trailing fraction zeros ("1.5", "-0.25", "3")
//	float        shortest text that reads back as the same float of its width; NaN, Infinity, -Infinity
//	text         the characters; fixed-width text without its trailing spaces
//	bytes        the bytes themselves
//	date         YYYY-MM-DD
//	time         HH:MM:SS[.ffffff] without trailing fraction zeros
//	timestamp    YYYY-MM-DD HH:MM:SS[.ffffff]
//	timestamptz  the same, in UTC, with no offset
//	json         compact, object keys sorted, numbers without exponent (PlainNumber)
//	uuid         lower-case 8-4-4-4-12
//	enum         the label
//	set          the labels, comma-separated, in definition order
//	bit          the bits as 0 and 1
//	array        a JSON array of the elements' canonical forms (strings quoted)
//	other        the source engine's text, as is
package types

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Kind is a family of values.
type Kind string

const (
	Bool        Kind = "bool"
	Int         Kind = "int"     // Bits 8, 16, 24, 32 or 64; Unsigned
	Decimal     Kind = "decimal" // Precision and Scale; 0 precision: unbounded
	Float       Kind = "float"   // Bits 32 or 64
	Text        Kind = "text"    // Length in characters (0: unbounded); Fixed for char(n)
	Bytes       Kind = "bytes"   // Length in bytes (0: unbounded); Fixed for binary(n)
	Date        Kind = "date"
	Time        Kind = "time"        // Precision: fractional digits
	Timestamp   Kind = "timestamp"   // without time zone; Precision
	TimestampTZ Kind = "timestamptz" // an instant; Precision
	Year        Kind = "year"
	JSON        Kind = "json"
	UUID        Kind = "uuid"
	Enum        Kind = "enum" // Labels
	Set         Kind = "set"  // Labels
	Bit         Kind = "bit"  // Length; Varying for bit varying
	Array       Kind = "array"
	// Interval, Inet, TSVector, Spatial and Other are carried as text where the
	// target has no equivalent; the mapping names the loss.
	Interval Kind = "interval"
	Inet     Kind = "inet"
	TSVector Kind = "tsvector"
	Spatial  Kind = "spatial"
	Other    Kind = "other"
)

// Type is a neutral column type.
type Type struct {
	Kind      Kind     `json:"kind"`
	Bits      int      `json:"bits,omitempty"`
	Unsigned  bool     `json:"unsigned,omitempty"`
	Precision int      `json:"precision,omitempty"`
	Scale     int      `json:"scale,omitempty"`
	Length    int      `json:"length,omitempty"`
	Fixed     bool     `json:"fixed,omitempty"`
	Varying   bool     `json:"varying,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	// Elem is an array's element type.
	Elem *Type `json:"elem,omitempty"`
	// Native is the source engine's own type text ("tinyint(1)", "character varying(40)").
	Native string `json:"native,omitempty"`
}

// String is a short description for messages and docs: "int64 unsigned", "decimal(10,2)".
func (t Type) String() string {
	switch t.Kind {
	case Int:
		s := fmt.Sprintf("int%d", t.Bits)
		if t.Unsigned {
			s += " unsigned"
		}
		return s
	case Float:
		return fmt.Sprintf("float%d", t.Bits)
	case Decimal:
		if t.Precision == 0 {
			return "decimal"
		}
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case Text, Bytes, Bit:
		s := string(t.Kind)
		if t.Length > 0 {
			s = fmt.Sprintf("%s(%d)", s, t.Length)
		}
		if t.Fixed {
			s = "fixed " + s
		}
		if t.Varying {
			s = "varying " + s
		}
		return s
	case Time, Timestamp, TimestampTZ:
		return fmt.Sprintf("%s(%d)", t.Kind, t.Precision)
	case Enum, Set:
		return fmt.Sprintf("%s(%s)", t.Kind, strings.Join(t.Labels, ","))
	case Array:
		if t.Elem != nil {
			return t.Elem.String() + "[]"
		}
	}
	return string(t.Kind)
}

// A Loss names a mapping that cannot hold every value of the source type
// exactly. Such mappings are refused unless the user allows them by name
// (--allow-lossy NAME).
type Loss string

const (
	// LossNumericPrecision: an unbounded PostgreSQL numeric stored as a
	// bounded decimal; digits beyond its scale are rounded.
	LossNumericPrecision Loss = "numeric-precision"
	// LossZeroDates: MySQL zero dates ('0000-00-00') become NULL.
	LossZeroDates Loss = "zero-dates"
	// LossAsText: a value the target has no type for (interval, tsvector,
	// range, geometry as text...) is stored as its text: the values survive but
	// the target cannot compute with them as the source could.
	LossAsText Loss = "as-text"
	// LossArrayAsJSON: an array is stored as a JSON array.
	LossArrayAsJSON Loss = "array-as-json"
)

// Losses is every loss a mapping can name, for help texts and validation.
var Losses = []Loss{LossNumericPrecision, LossZeroDates, LossAsText, LossArrayAsJSON}

// ParseLosses reads --allow-lossy names; "all" allows every loss.
func ParseLosses(names []string) (map[Loss]bool, error) {
	out := map[Loss]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if part == "all" {
				for _, l := range Losses {
					out[l] = true
				}
				continue
			}
			ok := false
			for _, l := range Losses {
				if string(l) == part {
					out[l], ok = true, true
				}
			}
			if !ok {
				var all []string
				for _, l := range Losses {
					all = append(all, string(l))
				}
				sort.Strings(all)
				return nil, fmt.Errorf("--allow-lossy %q: unknown loss; known: %s, all", part, strings.Join(all, ", "))
			}
		}
	}
	return out, nil
}

// Default is a column default in neutral terms: a literal in canonical form,
// the current time, or NULL. Other default expressions are not carried between
// engines (the bridge reports them).
type Default struct {
	Now   bool   `json:"now,omitempty"`   // CURRENT_TIMESTAMP, now(), datetime('now')...
	Null  bool   `json:"null,omitempty"`  // DEFAULT NULL
	Value string `json:"value,omitempty"` // canonical literal when neither Now nor Null
}

// EnumTypeName names the PostgreSQL enum type made for an enum column
// (--enum-types): table_column, cut to PostgreSQL's 63 bytes on a character
// boundary.
func EnumTypeName(table, column string) string {
	n := table + "_" + column
	for len(n) > 63 {
		_, size := utf8.DecodeLastRuneInString(n)
		n = n[:len(n)-size]
	}
	return n
}
