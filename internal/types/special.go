package types

// A Special is a class of values that some engines' columns hold and other
// engines' cannot, or that the canonical form cannot carry. `check` and
// `start` count them on the source (each source dialect says which classes
// a column can hold and how to find them) and refuse a migration whose
// target cannot hold a class that is there, before anything is created.
type Special string

const (
	// NaN: a float or decimal NaN (PostgreSQL).
	NaN Special = "NaN"
	// Infinity: a float or decimal ±Infinity (PostgreSQL; SQLite reals).
	Infinity Special = "infinity"
	// DateInfinity: a date or timestamp ±infinity (PostgreSQL).
	DateInfinity Special = "infinite date"
	// DateBC: a date or timestamp before year 1 (PostgreSQL's BC dates).
	DateBC Special = "BC date"
	// DateYear5: a date or timestamp after year 9999 (PostgreSQL).
	DateYear5 Special = "date after year 9999"
	// Year0: a date or timestamp in year 0 (MySQL; PostgreSQL has no year 0).
	Year0 Special = "date in year 0"
	// ZeroDate: MySQL's '0000-00-00' (NULL on other engines with the
	// zero-dates loss allowed).
	ZeroDate Special = "zero date"
	// InvalidDate: a MySQL date with a zero month or day but not all zero, or
	// a day the month does not have ('2020-02-31'), which only MySQL keeps.
	InvalidDate Special = "invalid date"
	// TimeOutsideDay: a MySQL TIME below 00:00:00 or above 24:00:00 (MySQL
	// TIME is a duration up to ±838:59:59).
	TimeOutsideDay Special = "time outside 00:00-24:00"
	// NotBool: a number other than 0 and 1 in a column read as boolean
	// (MySQL tinyint(1) with --tinyint1-as-boolean, SQLite BOOLEAN).
	NotBool Special = "number other than 0 and 1 in a boolean"
	// UInt64High: an unsigned 64-bit integer above 2^63-1 (MySQL BIGINT
	// UNSIGNED), beyond a signed 64-bit integer column (SQLite).
	UInt64High Special = "integer above 2^63-1"
	// NULText: text holding a NUL character (MySQL, SQLite).
	NULText Special = "NUL character in text"
	// NULJSON: JSON holding the escape \u0000 (MySQL).
	NULJSON Special = "\\u0000 in JSON"
)

// Specials is every class, in the order check reports them.
var Specials = []Special{NaN, Infinity, DateInfinity, DateBC, DateYear5, Year0, ZeroDate, InvalidDate, TimeOutsideDay, NotBool, UInt64High, NULText, NULJSON}

// Crosses reports whether the canonical form carries values of class s to
// another engine at all (given the losses allowed); a target's dialect then
// says whether its column holds them.
func (s Special) Crosses(allowed map[Loss]bool) bool {
	switch s {
	case ZeroDate:
		return allowed[LossZeroDates] // as NULL
	case InvalidDate, NotBool:
		return false
	}
	return true
}
