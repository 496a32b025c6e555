// Package bridge joins a source and a target of different engines. It maps the
// source's tables to target tables through the neutral type model (Map), and
// wraps the two engines so that the workflow drives a migration between
// engines exactly as one within an engine: every value crosses as its
// canonical text (source ToCanon, target FromCanon), and verification compares
// canonical forms on both sides.
package bridge

import (
	"fmt"
	"sort"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Options are the user's choices for a migration between engines.
type Options struct {
	// Names is the identifier style of the target (NamesKeep...).
	Names string `json:"names,omitempty"`
	// TargetSchema puts every table in this target schema (MySQL: database).
	TargetSchema string `json:"target_schema,omitempty"`
	// AllowLossy names the lossy mappings the user accepts (types.Loss names).
	AllowLossy []string `json:"allow_lossy,omitempty"`
	// TinyIntBool maps MySQL tinyint(1) to boolean.
	TinyIntBool bool `json:"tinyint1_as_boolean,omitempty"`
}

// Mapped is the result of Map: the target tables, index-aligned with the
// source tables, and what did not cross as it was.
type Mapped struct {
	Targets []*schema.Table
	// Notes say what was left behind (check constraints, expression indexes,
	// default expressions, generated columns) or changed.
	Notes []string
	// Lossy lists, by loss, the columns whose mapping cannot hold every value.
	Lossy map[types.Loss][]string
}

// Map builds the target tables for the source tables: names in the chosen
// style, column types through the neutral model, keys, unique constraints,
// indexes and foreign keys. It sets Neutral on the source columns too.
// defaultSchema is where tables go when the source's schema does not carry
// over (a SQLite source, or a target URL that names a database).
// A mapping that is lossy and not allowed is an error naming the columns, the
// loss, and the option that allows it.
func Map(src, tgt engine.Dialect, tables []*schema.Table, opts Options, defaultSchema string) (*Mapped, error) {
	allowed, err := types.ParseLosses(opts.AllowLossy)
	if err != nil {
		return nil, err
	}
	if err := CheckNames(opts.Names); err != nil {
		return nil, err
	}
	out := &Mapped{Lossy: map[types.Loss][]string{}}
	names := map[string]string{} // source qualified -> target qualified
	taken := map[string]string{}
	schemaOf := func(t *schema.Table) string {
		switch {
		case opts.TargetSchema != "":
			return opts.TargetSchema
		case defaultSchema != "" && (src.Engine() == "sqlite" || tgt.Engine() != "postgres"):
			return defaultSchema
		case src.Engine() == "sqlite":
			return "public"
		}
		return Rename(opts.Names, t.Schema)
	}
	for _, t := range tables {
		q := schemaOf(t) + "." + Rename(opts.Names, t.Name)
		if prev, ok := taken[q]; ok {
			return nil, fmt.Errorf("tables %s and %s would both become %s on the target: exclude one, or choose other names (--names, --target-schema)", prev, t.QualifiedName(), q)
		}
		taken[q], names[t.QualifiedName()] = t.QualifiedName(), q
	}
	indexNames := map[string]bool{} // target schema + index name: PostgreSQL index names are per schema
	for _, t := range tables {
		tt, err := mapTable(src, tgt, t, opts, names, indexNames, out)
		if err != nil {
			return nil, err
		}
		if err := tgt.FinishTable(tt); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.QualifiedName(), err)
		}
		out.Targets = append(out.Targets, tt)
	}
	var refused, ls []string
	for _, l := range sortedLosses(out.Lossy) {
		if !allowed[l] {
			refused = append(refused, fmt.Sprintf("%s (%s)", strings.Join(out.Lossy[l], ", "), l))
			ls = append(ls, string(l))
		}
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("lossy type mappings from %s to %s: %s; docs/types.md says what each loses: allow them with --allow-lossy %s, or exclude the tables",
			src.Engine(), tgt.Engine(), strings.Join(refused, "; "), strings.Join(ls, ","))
	}
	return out, nil
}

func sortedLosses(m map[types.Loss][]string) []types.Loss {
	var out []types.Loss
	for l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func mapTable(src, tgt engine.Dialect, t *schema.Table, opts Options, names map[string]string, indexNames map[string]bool, out *Mapped) (*schema.Table, error) {
	schemaName, name, _ := strings.Cut(names[t.QualifiedName()], ".")
	tt := &schema.Table{Schema: schemaName, Name: name, Rows: t.Rows, Bytes: t.Bytes}
	rn := func(s string) string { return Rename(opts.Names, s) }
	renameAll := func(cols []string) []string {
		r := make([]string, len(cols))
		for i, c := range cols {
			r[i] = rn(c)
		}
		return r
	}
	indexed := t.IndexedColumns()
	seen := map[string]string{}
	for i := range t.Columns {
		c := &t.Columns[i]
		where := t.QualifiedName() + "." + c.Name
		if c.Generated != "" {
			out.Notes = append(out.Notes, fmt.Sprintf("generated column %s is not created on the target (its expression is %s's own)", where, src.Engine()))
			continue
		}
		nt, err := src.Neutral(t, c)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", where, err)
		}
		if opts.TinyIntBool && nt.Kind == types.Int && nt.Bits == 8 && strings.HasPrefix(strings.ToLower(nt.Native), "tinyint(1)") {
			nt.Kind, nt.Bits, nt.Unsigned = types.Bool, 0, false
		}
		c.Neutral = &nt
		typ, loss, err := tgt.ColumnType(nt, indexed[c.Name])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", where, err)
		}
		if loss != "" {
			out.Lossy[loss] = append(out.Lossy[loss], fmt.Sprintf("%s %s -> %s", where, nt.Native, typ))
		}
		tc := schema.Column{Name: rn(c.Name), Type: typ, NotNull: c.NotNull, AutoIncrement: c.AutoIncrement}
		ntc := nt
		tc.Neutral = &ntc
		if prev, ok := seen[tc.Name]; ok {
			return nil, fmt.Errorf("columns %s and %s of %s would both be named %s on the target: choose another --names style", prev, c.Name, t.QualifiedName(), tc.Name)
		}
		seen[tc.Name] = c.Name
		if d, ok := src.Default(c); ok {
			tc.Default = tgt.DefaultSQL(nt, d)
		} else if c.Default != "" && !c.AutoIncrement {
			out.Notes = append(out.Notes, fmt.Sprintf("the default of %s (%s) is an expression of %s's own: not carried to the target", where, c.Default, src.Engine()))
		}
		tt.Columns = append(tt.Columns, tc)
	}
	tt.Key = renameAll(t.Key)
	if t.HasKey() {
		pk := tt.Name + "_pkey"
		for _, c := range t.Constraints {
			if c.Kind == "p" && c.Name != "PRIMARY" && c.Name != "" { // MySQL names every primary key PRIMARY
				pk = rn(c.Name)
			}
		}
		tt.Constraints = append(tt.Constraints, schema.Constraint{Name: pk, Kind: "p", Columns: tt.Key})
		if t.KeyIndex != "" {
			out.Notes = append(out.Notes, fmt.Sprintf("%s has no primary key: its key %s becomes the target's primary key", t.QualifiedName(), t.KeyIndex))
		}
	}
	sameAsKey := func(cols []string) bool { return strings.Join(cols, "\x00") == strings.Join(t.Key, "\x00") }
	uniqueName := func(n string) string {
		n = rn(n)
		if n == "" || indexNames[tt.Schema+"."+n] {
			n = tt.Name + "_" + n
		}
		for i := 2; indexNames[tt.Schema+"."+n]; i++ {
			n = fmt.Sprintf("%s_%d", strings.TrimRight(n, "0123456789_"), i)
		}
		indexNames[tt.Schema+"."+n] = true
		return n
	}
	for _, c := range tt.Constraints {
		indexNames[tt.Schema+"."+c.Name] = true
	}
	for _, c := range t.Constraints {
		where := t.QualifiedName() + " constraint " + c.Name
		switch c.Kind {
		case "p":
		case "u":
			switch {
			case len(c.Columns) == 0:
				out.Notes = append(out.Notes, where+" is not on plain columns: not created on the target")
			case c.Name == t.KeyIndex || sameAsKey(c.Columns): // the target's primary key
			default:
				tt.Constraints = append(tt.Constraints, schema.Constraint{Name: uniqueName(c.Name), Kind: "u", Columns: renameAll(c.Columns)})
			}
		case "f":
			ref, ok := names[c.RefTable]
			if !ok || len(c.Columns) == 0 {
				out.Notes = append(out.Notes, fmt.Sprintf("%s references %s, which is not migrated: not created on the target", where, c.RefTable))
				continue
			}
			tt.Constraints = append(tt.Constraints, schema.Constraint{Name: uniqueName(c.Name), Kind: "f", Columns: renameAll(c.Columns),
				RefTable: ref, RefColumns: renameAll(c.RefColumns), OnDelete: c.OnDelete, OnUpdate: c.OnUpdate})
		default:
			out.Notes = append(out.Notes, fmt.Sprintf("%s (%s) is %s's own SQL: not created on the target", where, c.Def, src.Engine()))
		}
	}
	for _, ix := range t.Indexes {
		switch {
		case len(ix.Columns) == 0:
			out.Notes = append(out.Notes, fmt.Sprintf("index %s on %s is not on plain columns (%s): not created on the target", ix.Name, t.QualifiedName(), ix.Def))
		case ix.Name == t.KeyIndex || (ix.Unique && sameAsKey(ix.Columns)):
		default:
			tt.Indexes = append(tt.Indexes, schema.Index{Name: uniqueName(ix.Name), Columns: renameAll(ix.Columns), Unique: ix.Unique})
		}
	}
	return tt, nil
}
