package bridge

import (
	"fmt"
	"strings"
	"unicode"
)

// Name styles for --names: how source identifiers become target identifiers.
const (
	NamesKeep   = "keep"   // as they are (quoted where the target needs it)
	NamesLower  = "lower"  // lower-cased: AlbumId -> albumid
	NamesSnake  = "snake"  // snake_case: InvoiceLine -> invoice_line, AlbumId -> album_id
	NamesPascal = "pascal" // PascalCase: invoice_line -> InvoiceLine, album_id -> AlbumId
)

// CheckNames validates a --names value.
func CheckNames(style string) error {
	switch style {
	case "", NamesKeep, NamesLower, NamesSnake, NamesPascal:
		return nil
	}
	return fmt.Errorf("--names %q: use keep, lower, snake or pascal", style)
}

// Rename applies a name style to one identifier.
func Rename(style, name string) string {
	switch style {
	case NamesLower:
		return strings.ToLower(name)
	case NamesSnake:
		return snake(name)
	case NamesPascal:
		return pascal(name)
	}
	return name
}

// snake splits words at lower->upper changes and before the last upper of a
// run followed by a lower (HTMLPage -> html_page), and at spaces and dashes.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch {
		case c == ' ' || c == '-':
			b.WriteByte('_')
			continue
		case unicode.IsUpper(c):
			if i > 0 && r[i-1] != '_' && r[i-1] != ' ' && r[i-1] != '-' &&
				(unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, c := range s {
		if c == '_' || c == ' ' || c == '-' {
			up = true
			continue
		}
		if up {
			b.WriteRune(unicode.ToUpper(c))
			up = false
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}
