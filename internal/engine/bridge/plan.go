// Package bridge joins a source and a target of different engines. It maps the
// source's tables to target tables through the neutral type model (Map), and
// wraps the two engines so that the workflow drives a migration between
// engines exactly as one within an engine: every value crosses as its
// canonical text (source ToCanon, target FromCanon), and verification compares
// canonical forms on both sides.
package bridge

import (
	"cmp"
	"fmt"
	"slices"
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
	// EnumTypes makes enum columns PostgreSQL enum types rather than text
	// with a check of the labels.
	EnumTypes bool `json:"enum_types,omitempty"`
	// Tables are choices for single tables, by source table (schema.table).
	Tables map[string]TableOptions `json:"tables,omitempty"`
}

// TableOptions rename one table on the target and choose for its columns.
type TableOptions struct {
	Name    string                   `json:"name,omitempty" yaml:"name"`     // target table name, as written
	Schema  string                   `json:"schema,omitempty" yaml:"schema"` // target schema (MySQL: database)
	Columns map[string]ColumnOptions `json:"columns,omitempty" yaml:"columns"`
}

// ColumnOptions rename one column, give it a target type, or leave it out.
type ColumnOptions struct {
	Name    string `json:"name,omitempty" yaml:"name"`       // target column name, as written
	Type    string `json:"type,omitempty" yaml:"type"`       // target column type, in the target's SQL
	Exclude bool   `json:"exclude,omitempty" yaml:"exclude"` // not created on the target, its values not read
}

// EnumType, as a column's target type, asks for a PostgreSQL enum type of the
// column's labels, named after the table and column.
const EnumType = "enum"

// Set reports whether any option is set: a migration within one engine with
// options goes through the bridge too.
func (o Options) Set() bool {
	return o.Names != "" || o.TargetSchema != "" || len(o.AllowLossy) > 0 || o.TinyIntBool || o.EnumTypes || len(o.Tables) > 0
}

// column is the user's choice for column c of source table t.
func (o Options) column(t *schema.Table, c string) ColumnOptions {
	return o.Tables[t.QualifiedName()].Columns[c]
}

// KeptColumns are the copied columns of source table t that the migration
// moves (not excluded), with the index of each in t.CopyColumns().
func (o Options) KeptColumns(t *schema.Table) ([]schema.Column, []int) {
	all := t.CopyColumns()
	cols, idx := make([]schema.Column, 0, len(all)), make([]int, 0, len(all))
	for i, c := range all {
		if !o.column(t, c.Name).Exclude {
			cols, idx = append(cols, c), append(idx, i)
		}
	}
	return cols, idx
}

// checkTables reports table and column options that name nothing migrated,
// and excluded key columns.
func (o Options) checkTables(tables []*schema.Table) error {
	byName := map[string]*schema.Table{}
	for _, t := range tables {
		byName[t.QualifiedName()] = t
	}
	names := make([]string, 0, len(o.Tables))
	for n := range o.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := byName[n]
		if t == nil {
			return fmt.Errorf("the spec has options for table %s, which is not among the migrated tables: write it as the source's schema.table, and check --include/--exclude", n)
		}
		for c, co := range o.Tables[n].Columns {
			col := t.Column(c)
			switch {
			case col == nil:
				return fmt.Errorf("the spec has options for column %s.%s, which table %s does not have", n, c, n)
			case co.Exclude && slices.Contains(t.Key, c):
				return fmt.Errorf("the spec excludes column %s.%s, which is part of the table's key: a key column must be migrated", n, c)
			}
		}
	}
	return nil
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
	if err := opts.checkTables(tables); err != nil {
		return nil, err
	}
	out := &Mapped{Lossy: map[types.Loss][]string{}}
	names := map[string]qname{} // source qualified -> target schema and name
	taken := map[qname]string{}
	schemaOf := func(t *schema.Table) string {
		switch {
		case opts.Tables[t.QualifiedName()].Schema != "":
			return opts.Tables[t.QualifiedName()].Schema
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
		q := qname{schemaOf(t), cmp.Or(opts.Tables[t.QualifiedName()].Name, Rename(opts.Names, t.Name))}
		if prev, ok := taken[q]; ok {
			return nil, fmt.Errorf("tables %s and %s would both become %s on the target: exclude one, or choose other names (--names, --target-schema)", prev, t.QualifiedName(), q)
		}
		taken[q], names[t.QualifiedName()] = t.QualifiedName(), q
	}
	indexNames := map[string]bool{} // target schema + index name: PostgreSQL index names are per schema
	enumTypes := map[qname]string{}
	for _, t := range tables {
		tt, err := mapTable(src, tgt, t, opts, names, indexNames, enumTypes, out)
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

// qname is a table's (or type's) schema and name: names may hold dots, so
// they are kept apart, never joined and split again.
type qname struct{ schema, name string }

func (q qname) String() string { return q.schema + "." + q.name }

// columnError is a column that cannot be mapped, with the other way out: a
// spec file that leaves the column out.
func columnError(t *schema.Table, col string, err error) error {
	return fmt.Errorf("column %s.%s: %w; or leave the column out with a spec file (--spec, docs/spec.md): tables: {%s: {columns: {%s: {exclude: true}}}}",
		t.QualifiedName(), col, err, t.QualifiedName(), col)
}

func sortedLosses(m map[types.Loss][]string) []types.Loss {
	var out []types.Loss
	for l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// mapTable maps one table. names maps every source table to its target's
// qualified name; indexNames and enumTypes are the index and enum type names
// taken so far (by target schema), with the column that took each enum type.
func mapTable(src, tgt engine.Dialect, t *schema.Table, opts Options, names map[string]qname, indexNames map[string]bool, enumTypes map[qname]string, out *Mapped) (*schema.Table, error) {
	targets := map[qname]bool{}
	for _, q := range names {
		targets[q] = true
	}
	q := names[t.QualifiedName()]
	tt := &schema.Table{Schema: q.schema, Name: q.name, Rows: t.Rows, Bytes: t.Bytes}
	rn := func(s string) string { return Rename(opts.Names, s) }
	colName := map[string]string{} // source column -> target column, for the kept ones
	renameAll := func(cols []string) ([]string, bool) {
		r := make([]string, len(cols))
		for i, c := range cols {
			if r[i] = colName[c]; r[i] == "" {
				return nil, false // an excluded column
			}
		}
		return r, true
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
		co := opts.column(t, c.Name)
		if co.Exclude {
			out.Notes = append(out.Notes, fmt.Sprintf("column %s is excluded by the spec: not created on the target", where))
			continue
		}
		nt, err := src.Neutral(t, c)
		if err != nil {
			return nil, columnError(t, c.Name, err)
		}
		if opts.TinyIntBool && nt.Kind == types.Int && nt.Bits == 8 && strings.HasPrefix(strings.ToLower(nt.Native), "tinyint(1)") {
			nt.Kind, nt.Bits, nt.Unsigned = types.Bool, 0, false
		}
		c.Neutral = &nt
		tc := schema.Column{Name: cmp.Or(co.Name, rn(c.Name)), NotNull: c.NotNull, AutoIncrement: c.AutoIncrement}
		tnt := nt
		switch {
		case strings.EqualFold(co.Type, EnumType) || (co.Type == "" && opts.EnumTypes && nt.Kind == types.Enum && tgt.Engine() == "postgres"):
			if nt.Kind != types.Enum {
				return nil, fmt.Errorf("column %s: the spec's type %s needs an enum column, and %s is %s", where, EnumType, nt.Native, nt.Kind)
			}
			if tgt.Engine() != "postgres" {
				return nil, fmt.Errorf("column %s: the spec's type %s makes a PostgreSQL enum type, and the target is %s", where, EnumType, tgt.Engine())
			}
			for _, l := range nt.Labels {
				if l == "" || len(l) > 63 {
					return nil, fmt.Errorf("column %s: label %q cannot be a PostgreSQL enum label (empty, or over 63 bytes): leave the column out of --enum-types (as text with a CHECK it keeps the label)", where, l)
				}
			}
			// A table has a row type of its name: a type name must be neither
			// another enum's nor a table's.
			typ := qname{tt.Schema, types.EnumTypeName(tt.Name, tc.Name)}
			if by := enumTypes[typ]; by != "" {
				return nil, fmt.Errorf("columns %s and %s would both get the PostgreSQL enum type %s: rename one in a spec file, or leave out --enum-types", by, where, typ)
			}
			if targets[typ] {
				return nil, fmt.Errorf("column %s would get the PostgreSQL enum type %s, the name of a migrated table: rename the column or the table in a spec file, or leave out --enum-types", where, typ)
			}
			enumTypes[typ] = where
			tc.Type = EnumType // FinishTable names the type
		case co.Type != "":
			// The user's type: values cross as the canonical text of the source
			// type, which the target type must accept.
			if tnt, err = tgt.Neutral(tt, &schema.Column{Name: tc.Name, Type: co.Type}); err != nil {
				return nil, fmt.Errorf("column %s: type %q from the spec: %w", where, co.Type, err)
			}
			if slices.Contains(t.Key, c.Name) && tnt.Kind != nt.Kind {
				return nil, fmt.Errorf("column %s is part of the key: the spec's type %q must be of the same kind as %s (%s), so both sides sort and compare keys alike", where, co.Type, nt.Native, nt.Kind)
			}
			tc.Type = co.Type
		default:
			typ, loss, err := tgt.ColumnType(nt, indexed[c.Name])
			if err != nil {
				return nil, columnError(t, c.Name, err)
			}
			if loss != "" {
				out.Lossy[loss] = append(out.Lossy[loss], fmt.Sprintf("%s %s -> %s", where, nt.Native, typ))
			}
			tc.Type = typ
		}
		tc.Neutral = &tnt
		if prev, ok := seen[tc.Name]; ok {
			return nil, fmt.Errorf("columns %s and %s of %s would both be named %s on the target: rename one in the spec, or choose another --names style", prev, c.Name, t.QualifiedName(), tc.Name)
		}
		seen[tc.Name] = c.Name
		colName[c.Name] = tc.Name
		if d, ok := src.Default(c); ok {
			tc.Default = tgt.DefaultSQL(tnt, d)
		} else if c.Default != "" && !c.AutoIncrement {
			out.Notes = append(out.Notes, fmt.Sprintf("the default of %s (%s) is an expression of %s's own: not carried to the target", where, c.Default, src.Engine()))
		}
		tt.Columns = append(tt.Columns, tc)
	}
	if t.Partitioning != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("%s is partitioned (%s, %d partitions): it becomes one plain table on the target", t.QualifiedName(), t.Partitioning.Key, len(t.Partitioning.Partitions)))
	}
	tt.Key, _ = renameAll(t.Key) // key columns are never excluded (checkTables)
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
				cols, ok := renameAll(c.Columns)
				if !ok {
					out.Notes = append(out.Notes, where+" is on a column the spec excludes: not created on the target")
					continue
				}
				tt.Constraints = append(tt.Constraints, schema.Constraint{Name: uniqueName(c.Name), Kind: "u", Columns: cols})
			}
		case "f":
			ref, ok := names[c.RefTable]
			if !ok || len(c.Columns) == 0 {
				out.Notes = append(out.Notes, fmt.Sprintf("%s references %s, which is not migrated: not created on the target", where, c.RefTable))
				continue
			}
			cols, ok := renameAll(c.Columns)
			refCols, refOK := make([]string, len(c.RefColumns)), true
			for i, rc := range c.RefColumns {
				co := opts.Tables[c.RefTable].Columns[rc]
				refCols[i], refOK = cmp.Or(co.Name, rn(rc)), refOK && !co.Exclude
			}
			if !ok || !refOK {
				out.Notes = append(out.Notes, where+" is on a column the spec excludes: not created on the target")
				continue
			}
			fk := schema.Constraint{Name: uniqueName(c.Name), Kind: "f", Columns: cols, RefColumns: refCols, OnDelete: c.OnDelete, OnUpdate: c.OnUpdate}
			fk.SetRef(ref.schema, ref.name)
			tt.Constraints = append(tt.Constraints, fk)
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
			cols, ok := renameAll(ix.Columns)
			if !ok {
				out.Notes = append(out.Notes, fmt.Sprintf("index %s on %s is on a column the spec excludes: not created on the target", ix.Name, t.QualifiedName()))
				continue
			}
			tt.Indexes = append(tt.Indexes, schema.Index{Name: uniqueName(ix.Name), Columns: cols, Unique: ix.Unique})
		}
	}
	return tt, nil
}
