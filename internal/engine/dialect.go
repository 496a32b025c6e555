package engine

import (
	"context"
	"io"

	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// Dialect is an engine's half of a migration between two engines: its column
// types in the neutral model and its values in the canonical text form (package
// types). The bridge (package bridge) joins a source's dialect to a target's:
// source value -> ToCanon -> canonical -> FromCanon -> target value.
//
// Value forms: an engine's values are what its own Source produces (copy rows
// through DecodeRows, Stream changes, Checksummer.Rows text) and what its own
// Target consumes (RowEncoder rows, ApplyTx values, Checksummer key text).
type Dialect interface {
	// Engine names the engine: "postgres", "mysql" or "sqlite".
	Engine() string
	// Neutral maps a column, as this engine's catalog read it (Source.Tables),
	// to the neutral model. An error names a column that cannot be moved to
	// another engine and what to do (exclude the table).
	Neutral(t *schema.Table, c *schema.Column) (types.Type, error)
	// ColumnType renders a neutral type as this engine's column type. key is set
	// for a column of the row key, a unique constraint or an index (engines that
	// bound indexed lengths need it). A mapping that cannot hold every value of
	// the type returns the loss it implies; one that cannot be made, an error.
	ColumnType(nt types.Type, key bool) (string, types.Loss, error)
	// Default reads a column's default as this engine's catalog gave it; ok is
	// false for an expression that is not a literal, NULL or the current time.
	Default(c *schema.Column) (d types.Default, ok bool)
	// DefaultSQL renders a neutral default for a column of type nt on this engine.
	DefaultSQL(nt types.Type, d types.Default) string
	// FinishTable completes a table the bridge built in this engine's terms —
	// names, column types from ColumnType, defaults from DefaultSQL,
	// AutoIncrement, Key, Constraints of kind p/u/f with Columns (and RefTable,
	// RefColumns, OnDelete, OnUpdate), Indexes with Columns — so that this
	// engine's Target creates it: it fills CreateSQL and every Def.
	FinishTable(t *schema.Table) error
	// ReadFormat is the copy format the bridge asks this engine's Source to read
	// chunks in (through SetCopyFormat when it is not its CopyFormat).
	ReadFormat() string
	// DecodeRows reads chunk rows in ReadFormat and calls fn with each row's
	// values (in CopyColumns order; the slice is reused between calls).
	DecodeRows(r io.Reader, cols []schema.Column, fn func([]Value) error) error
	// NewEncoder writes rows in a format this engine's Target loads (WriteChunk
	// with RowEncoder.Format).
	NewEncoder(w io.Writer, cols []schema.Column) RowEncoder
	// ToCanon turns a value of column c in this engine's form into the
	// canonical form of c.Neutral (Text set, Raw nil). Null and Unchanged pass through.
	ToCanon(c *schema.Column, v Value) (Value, error)
	// FromCanon turns a canonical value (Text) into this engine's form for
	// column c (whose Neutral is set): what its RowEncoder and ApplyTx take, with
	// Text in the form its Checksummer takes keys in. Null and Unchanged pass through.
	FromCanon(c *schema.Column, v Value) (Value, error)
	// Probes are the special value classes a source column of this engine can
	// hold (c as its catalog read it, Neutral set), each with the predicate in
	// this engine's SQL that is true for a row holding one.
	Probes(c *schema.Column) []Probe
	// Holds reports whether a target column this dialect built (Type from
	// ColumnType, Neutral set) stores values of class s exactly as their
	// canonical form says.
	Holds(c *schema.Column, s types.Special) bool
}

// Probe finds the values of one special class in a source column.
type Probe struct {
	Special types.Special
	Where   string
}

// RowCounter is implemented by every engine's Source: for each predicate,
// the number of the table's rows it is true for, in one pass over the table.
type RowCounter interface {
	CountWhere(ctx context.Context, t *schema.Table, preds []string) ([]int64, error)
}

// RowEncoder writes rows of one chunk in an engine's copy format.
type RowEncoder interface {
	// Encode writes one row (values in CopyColumns order, in FromCanon form).
	Encode(row []Value) error
	// Close writes whatever the format needs at its end (not closing w).
	Close() error
	// Format names the format for WriteChunk.
	Format() string
}

// CopyFormatSetter is implemented by sources that can read chunks in more
// than one format.
type CopyFormatSetter interface {
	SetCopyFormat(format string) error
}

// RangeReader is implemented by every engine's Source: it reads the rows with
// lo < key <= hi (nil: unbounded) in the dialect's ReadFormat, in one read,
// without reading a position. Cross-engine verification reads both databases
// through it (a Source opened on the target database included).
type RangeReader interface {
	ReadRange(ctx context.Context, t *schema.Table, lo, hi []string, w io.Writer) error
}
