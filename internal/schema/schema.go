// Package schema is the neutral model of the tables godwit moves: columns, keys,
// indexes and constraints, plus table selection by glob patterns.
//
// Definitions that only the same engine can replay (an index definition, a CHECK
// expression) are kept as that engine's text in Def fields; cross-engine mapping
// translates them or refuses them by name.
package schema

import (
	"fmt"
	"path"
	"strings"

	"github.com/godwit-db/godwit/internal/types"
)

// Column is one column of a table.
type Column struct {
	Name      string `json:"name"`
	Type      string `json:"type"` // the engine's own type text, e.g. "numeric(12,2)"
	NotNull   bool   `json:"not_null,omitempty"`
	Default   string `json:"default,omitempty"`   // default expression, engine text
	Identity  string `json:"identity,omitempty"`  // "ALWAYS", "BY DEFAULT" or ""
	Generated string `json:"generated,omitempty"` // stored generation expression; such columns are never copied
	Collation string `json:"collation,omitempty"`
	// AutoIncrement marks a column whose values come from a counter: MySQL's
	// AUTO_INCREMENT, a PostgreSQL identity or serial, SQLite's INTEGER PRIMARY KEY.
	AutoIncrement bool `json:"auto_increment,omitempty"`
	// CreateEnum says the target creates the column's Type as an enum type of
	// Neutral.Labels before the table (and drops it with the table).
	CreateEnum bool `json:"create_enum,omitempty"`
	// Neutral is the column's type in the neutral model, set for migrations
	// between engines (the dialects map both ends through it).
	Neutral *types.Type `json:"neutral,omitempty"`
}

// Constraint is a table constraint kept as engine text.
type Constraint struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // "p" primary, "u" unique, "c" check, "f" foreign, "x" exclusion
	Def  string `json:"def"`
	// RefTable is the qualified referenced table of a foreign key, as a name
	// to show and to look tables up by; RefSchema and RefName are its parts
	// (names may hold dots, so RefTable is never split: see Ref).
	RefTable  string `json:"ref_table,omitempty"`
	RefSchema string `json:"ref_schema,omitempty"`
	RefName   string `json:"ref_name,omitempty"`
	// Columns are the constrained columns (primary, unique, foreign keys), for
	// rebuilding the constraint on another engine; empty when not plain columns.
	Columns []string `json:"columns,omitempty"`
	// RefColumns, OnDelete and OnUpdate complete a foreign key ("CASCADE",
	// "SET NULL", "SET DEFAULT", "RESTRICT"; "" for NO ACTION).
	RefColumns []string `json:"ref_columns,omitempty"`
	OnDelete   string   `json:"on_delete,omitempty"`
	OnUpdate   string   `json:"on_update,omitempty"`
}

// SetRef sets the table a foreign key references.
func (c *Constraint) SetRef(schemaName, name string) {
	c.RefSchema, c.RefName, c.RefTable = schemaName, name, schemaName+"."+name
}

// Ref returns the schema and name of the table a foreign key references.
// Specs recorded before RefSchema existed have only RefTable: split at its
// first dot, as they were.
func (c *Constraint) Ref() (schemaName, name string) {
	if c.RefName != "" {
		return c.RefSchema, c.RefName
	}
	schemaName, name, _ = strings.Cut(c.RefTable, ".")
	return schemaName, name
}

// Index is a secondary index that does not back a constraint.
type Index struct {
	Name string `json:"name"`
	Def  string `json:"def"`
	// Columns are the indexed columns in order, empty for an index on
	// expressions (which cannot be rebuilt on another engine); Unique marks a
	// unique index.
	Columns []string `json:"columns,omitempty"`
	Unique  bool     `json:"unique,omitempty"`
}

// Table is one table selected for migration.
type Table struct {
	Schema      string       `json:"schema"`
	Name        string       `json:"name"`
	Columns     []Column     `json:"columns"`
	Key         []string     `json:"key"`                 // columns rows are identified by (primary key, else a non-null unique key)
	KeyIndex    string       `json:"key_index,omitempty"` // the unique index used as key when there is no primary key
	Constraints []Constraint `json:"constraints,omitempty"`
	Indexes     []Index      `json:"indexes,omitempty"`
	Sequences   []string     `json:"sequences,omitempty"` // qualified sequences owned by columns of this table
	// Triggers names the user's triggers on the table (not godwit's own):
	// godwit does not create them on the target.
	Triggers []string `json:"triggers,omitempty"`
	// CreateSQL is the engine's own definition of the table, for engines that
	// recreate it verbatim (SQLite).
	CreateSQL string `json:"create_sql,omitempty"`
	Rows      int64  `json:"rows_estimate"`
	Bytes     int64  `json:"bytes_estimate"`
	// ReplicaIdentity is the source's setting ("d" default, "i" index, "f" full, "n" nothing).
	ReplicaIdentity string `json:"replica_identity,omitempty"`
	// ReplicaIdentityIndex is the index named by REPLICA IDENTITY USING INDEX.
	ReplicaIdentityIndex string `json:"replica_identity_index,omitempty"`
	// TextCopy: a column's type has no binary form (PostgreSQL types without
	// send/receive functions, such as contrib isn's isbn), so the engine
	// copies the table's rows in its text format.
	TextCopy bool `json:"text_copy,omitempty"`
	// Partitioning is set when the table is partitioned (PostgreSQL): it holds
	// no rows itself, its partitions do, and they are migrated with it.
	Partitioning *Partitioning `json:"partitioning,omitempty"`
}

// Partitioning describes how a partitioned table splits its rows.
type Partitioning struct {
	// Key is the partition key in the engine's text, e.g. "RANGE (payment_date)".
	Key string `json:"key"`
	// Partitions are every partition below the table, each after its parent.
	Partitions []Partition `json:"partitions"`
}

// Partition is one partition of a partitioned table.
type Partition struct {
	Schema       string `json:"schema"`
	Name         string `json:"name"`
	ParentSchema string `json:"parent_schema"`
	ParentName   string `json:"parent_name"`
	// Bound is the engine's text of the rows it takes, e.g.
	// "FOR VALUES FROM ('2022-01-01') TO ('2022-02-01')" or "DEFAULT".
	Bound string `json:"bound"`
	// Key is set when the partition is itself partitioned.
	Key string `json:"key,omitempty"`
	// Constraints and Indexes are the partition's own, not those it has
	// through its parent.
	Constraints []Constraint `json:"constraints,omitempty"`
	Indexes     []Index      `json:"indexes,omitempty"`
	// KeyIndex is its index that is part of the table's key index.
	KeyIndex             string `json:"key_index,omitempty"`
	ReplicaIdentity      string `json:"replica_identity,omitempty"`
	ReplicaIdentityIndex string `json:"replica_identity_index,omitempty"`
}

// QualifiedName is "schema.name".
func (p *Partition) QualifiedName() string { return p.Schema + "." + p.Name }

// QualifiedName is "schema.name", the form include/exclude patterns match.
func (t *Table) QualifiedName() string { return t.Schema + "." + t.Name }

// CopyColumns are the columns whose values are copied and replayed (not generated ones).
func (t *Table) CopyColumns() []Column {
	out := make([]Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if c.Generated == "" {
			out = append(out, c)
		}
	}
	return out
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// IndexedColumns are the columns of the key, of constraints and of indexes:
// the ones engines that bound indexed lengths must keep short.
func (t *Table) IndexedColumns() map[string]bool {
	out := map[string]bool{}
	for _, k := range t.Key {
		out[k] = true
	}
	for _, c := range t.Constraints {
		for _, col := range c.Columns {
			out[col] = true
		}
	}
	for _, ix := range t.Indexes {
		for _, col := range ix.Columns {
			out[col] = true
		}
	}
	return out
}

// HasKey reports whether rows can be identified by a key.
func (t *Table) HasKey() bool { return len(t.Key) > 0 }

// RowIdentity reports whether a table without a key is identified by all its
// values instead: PostgreSQL's REPLICA IDENTITY FULL, whose changes carry the
// whole old row. Its changes are replayed in order, each matching one row on
// every column, as native logical replication does.
func (t *Table) RowIdentity() bool {
	return !t.HasKey() && t.ReplicaIdentity == "f" && t.Partitioning == nil
}

// Replayed reports whether the table's changes can be replayed: it has a key,
// or its rows are identified by all their values.
func (t *Table) Replayed() bool { return t.HasKey() || t.RowIdentity() }

// Filter selects tables by glob patterns over qualified names.
type Filter struct {
	Include []string
	Exclude []string
}

// Validate reports a malformed pattern.
func (f Filter) Validate() error {
	for _, p := range append(append([]string{}, f.Include...), f.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("invalid table pattern %q: %v (use globs like 'public.*')", p, err)
		}
		if !strings.Contains(p, ".") {
			return fmt.Errorf("invalid table pattern %q: patterns match schema.table (use %q)", p, "*."+p)
		}
	}
	return nil
}

// Match reports whether the qualified name is selected: it matches an include
// pattern (or there are none) and no exclude pattern.
func (f Filter) Match(qualified string) bool {
	in := len(f.Include) == 0
	for _, p := range f.Include {
		if ok, _ := path.Match(p, qualified); ok {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, p := range f.Exclude {
		if ok, _ := path.Match(p, qualified); ok {
			return false
		}
	}
	return true
}
