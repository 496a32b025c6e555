package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// NameRules are what an engine accepts as identifiers. A name it would
// refuse, shorten or confuse with another must be found before anything is
// created, with the way out (a spec file renaming it).
type NameRules struct {
	Engine string
	// MaxLen is the longest name: characters, or bytes with LenInBytes.
	MaxLen     int
	LenInBytes bool
	// NoTrailingSpace: names may not end with a space (MySQL).
	NoTrailingSpace bool
	// BMPOnly: names may hold only characters of the Basic Multilingual Plane (MySQL).
	BMPOnly bool
	// FoldColumns gives the form under which two column names are the same
	// column (MySQL and SQLite ignore case); nil: names are compared as written.
	FoldColumns func(string) string
}

// CheckNames checks the names a target table would be created with: its
// schema, its own, its columns'.
func (r NameRules) CheckNames(t *Table) error {
	if err := r.checkName("schema", t.Schema); err != nil {
		return err
	}
	if err := r.checkName("table", t.Name); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, c := range t.Columns {
		if err := r.checkName("column", c.Name); err != nil {
			return err
		}
		k := c.Name
		if r.FoldColumns != nil {
			k = r.FoldColumns(k)
		}
		if prev, ok := seen[k]; ok {
			how := "have the same name"
			if prev != c.Name {
				how = fmt.Sprintf("would be one column on %s (its column names ignore case)", r.Engine)
			}
			return fmt.Errorf("columns %q and %q %s: rename one with a spec file (tables: {TABLE: {columns: {%s: {name: NEW}}}}, docs/spec.md)", prev, c.Name, how, c.Name)
		}
		seen[k] = c.Name
	}
	return nil
}

func (r NameRules) checkName(what, name string) error {
	fix := "rename it with a spec file (docs/spec.md)"
	if what == "schema" {
		fix = "choose another with --target-schema or a spec file (docs/spec.md)"
	}
	n, unit := utf8.RuneCountInString(name), "characters"
	if r.LenInBytes {
		n, unit = len(name), "bytes"
	}
	switch {
	case name == "":
		return fmt.Errorf("the %s name is empty: %s", what, fix)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%s name %q holds a NUL character, which %s names cannot: %s", what, name, r.Engine, fix)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s name %q is not valid UTF-8: %s", what, name, fix)
	case r.MaxLen > 0 && n > r.MaxLen:
		return fmt.Errorf("%s name %q is %d %s long, and %s takes at most %d: %s", what, name, n, unit, r.Engine, r.MaxLen, fix)
	case r.NoTrailingSpace && strings.HasSuffix(name, " "):
		return fmt.Errorf("%s name %q ends with a space, which %s names cannot: %s", what, name, r.Engine, fix)
	case r.BMPOnly && strings.IndexFunc(name, func(c rune) bool { return c > 0xFFFF }) >= 0:
		return fmt.Errorf("%s name %q holds a character beyond U+FFFF (an emoji?), which %s names cannot: %s", what, name, r.Engine, fix)
	}
	return nil
}

// FoldASCII is SQLite's folding of names: ASCII letters only.
func FoldASCII(s string) string {
	return strings.Map(func(c rune) rune {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}, s)
}
