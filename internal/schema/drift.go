package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Drift lists, one line each, how the source's tables now differ in definition
// from those recorded when the migration started: a table gone, a column added,
// dropped, retyped or moved, nullability or the key changed. now holds the
// source's tables as read now; tables not recorded are not looked at.
func Drift(recorded, now []*Table) []string {
	byName := map[string]*Table{}
	for _, t := range now {
		byName[t.QualifiedName()] = t
	}
	var out []string
	for _, r := range recorded {
		name := r.QualifiedName()
		n := byName[name]
		if n == nil {
			out = append(out, name+": no longer on the source (dropped or renamed)")
			continue
		}
		before := len(out)
		for _, c := range r.Columns {
			nc := n.Column(c.Name)
			switch {
			case nc == nil:
				out = append(out, fmt.Sprintf("%s: column %s dropped or renamed", name, c.Name))
			case nc.Type != c.Type:
				out = append(out, fmt.Sprintf("%s: column %s changed type from %s to %s", name, c.Name, c.Type, nc.Type))
			case nc.NotNull && !c.NotNull:
				out = append(out, fmt.Sprintf("%s: column %s is now NOT NULL", name, c.Name))
			case !nc.NotNull && c.NotNull:
				out = append(out, fmt.Sprintf("%s: column %s is now nullable", name, c.Name))
			case nc.Generated != c.Generated:
				out = append(out, fmt.Sprintf("%s: column %s changed its generation expression", name, c.Name))
			}
		}
		for _, c := range n.Columns {
			if r.Column(c.Name) == nil {
				out = append(out, fmt.Sprintf("%s: column %s added (%s)", name, c.Name, c.Type))
			}
		}
		if was, is := order(r), order(n); len(out) == before && was != is {
			out = append(out, fmt.Sprintf("%s: columns reordered (%s, was %s)", name, is, was))
		}
		if !slices.Equal(r.Key, n.Key) {
			out = append(out, fmt.Sprintf("%s: key changed from (%s) to (%s)", name, strings.Join(r.Key, ", "), strings.Join(n.Key, ", ")))
		}
	}
	return out
}

func order(t *Table) string {
	var names []string
	for _, c := range t.Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}
