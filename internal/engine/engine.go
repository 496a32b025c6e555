// Package engine declares what every database engine implements for godwit: reading
// a catalog, capturing changes, reading and writing chunks, applying changes with
// their checkpoint. The workflow drives these interfaces and never speaks SQL.
package engine

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Chunk is one key range of a table, copied in one short read transaction and
// recorded as done in the target in the same transaction as its rows.
// Lo and Hi are key values in the engine's text form; nil means unbounded.
// The range is Lo < key <= Hi.
type Chunk struct {
	Table string   `json:"table"` // qualified name
	Seq   int      `json:"seq"`
	Lo    []string `json:"lo,omitempty"`
	Hi    []string `json:"hi,omitempty"`
	Done  bool     `json:"done"`
	Rows  int64    `json:"rows"`
	// End is the source position read after the chunk's read transaction ended
	// (encoded); every commit the chunk saw lies before it.
	End string `json:"end,omitempty"`
	// Snapshot asks for the whole table read at one exact position of the change
	// stream, returned as End: the copy holds exactly the transactions committed
	// before it. Set each run (never stored) for a table without a key whose
	// changes are replayed (schema.Table.RowIdentity); only PostgreSQL has those.
	Snapshot bool `json:"-"`
}

// Op is the kind of a row change.
type Op byte

const (
	Insert Op = 'I'
	Update Op = 'U'
	Delete Op = 'D'
	// Truncate empties the tables listed in Change.Truncated.
	Truncate Op = 'T'
)

// Value is one column value of a row image. Text is the engine's text form
// (for engines that replay text, and the identity of key values); Raw, when an
// engine sets it, is the typed value it writes back (int64, float64, string,
// []byte or nil).
type Value struct {
	Text string
	Raw  any
	Null bool
	// Unchanged marks a value the source did not send (PostgreSQL's unchanged
	// TOAST): the change carries no new value for this column.
	Unchanged bool
}

// Change is one row change, a row image.
type Change struct {
	Table *schema.Table
	Op    Op
	// Key holds the old key values (in Table.Key order) for a delete, and for an
	// update that changed the key; nil for an update that kept its key.
	Key []Value
	// New is the new row image for insert and update, in Table.CopyColumns order.
	New []Value
	// Truncated lists the tables a Truncate empties.
	Truncated []*schema.Table
	// Old is the whole old row of an update or delete of a table identified by
	// its values (Table.RowIdentity), in CopyColumns order.
	Old []Value
}

// Txn is one source transaction, or, when Changes is empty, a heartbeat: the
// source has sent every transaction committed before End. A large transaction
// arrives in parts: every part but the last has More set and no End, and the
// parts must be applied in one target transaction.
type Txn struct {
	Changes    []Change
	More       bool
	End        position.Position
	CommitTime time.Time
	// Final, on every part, is the position of the commit record when the source
	// knows it from the transaction's start (PostgreSQL's final LSN); nil otherwise.
	Final position.Position
}

// TableOps is the net effect of a run of changes on one table: rows to delete
// by key, full images to upsert, and partial images to update by key. Keys in
// the three sets are disjoint; deletes are applied first.
type TableOps struct {
	Table    *schema.Table
	Deletes  [][]Value // key values in Table.Key order
	Upserts  [][]Value // full images in Table.CopyColumns order
	Partials []Partial
}

// Partial sets some columns of the row with Key.
type Partial struct {
	Key  []Value
	Cols []string
	Vals []Value
}

// Segment is a unit of replay: either the compacted effect of consecutive
// changes (Ops, in no particular table order) or one change that must be applied
// on its own, in order (Barrier: truncates, key moves without a full image).
type Segment struct {
	Ops     []*TableOps
	Barrier *Change
}

// ApplyTx is one open target transaction of replay.
type ApplyTx interface {
	Apply(ctx context.Context, seg Segment) error
	// Commit records applied as the migration's applied position and commits.
	Commit(ctx context.Context, applied position.Position) error
	Rollback(ctx context.Context)
}

// ServerInfo is what `godwit check` reports of a database: its engine and
// version, and the settings migrations depend on.
type ServerInfo struct {
	Engine   string            `json:"engine"`
	Version  string            `json:"version"`
	Settings map[string]string `json:"settings,omitempty"`
}

// Source is a database godwit migrates from.
type Source interface {
	Checksummer
	// Describe reports the server's version and the settings capture needs.
	Describe(ctx context.Context) (ServerInfo, error)
	// Tables returns the user tables that f selects, with columns, keys and estimates.
	Tables(ctx context.Context, f schema.Filter) ([]*schema.Table, error)
	// CheckCapture reports, before anything is created, what would stop change
	// capture (settings, privileges, free slots), as one actionable error.
	CheckCapture(ctx context.Context, tables []*schema.Table) error
	// StartCapture creates the change stream for the tables if it does not exist
	// and returns its start position P0. Calling it again is harmless.
	StartCapture(ctx context.Context, tables []*schema.Table) (position.Position, error)
	// DropCapture removes every capture object and restores what StartCapture
	// changed on the tables. It returns a description of each thing it removed.
	DropCapture(ctx context.Context, tables []*schema.Table) ([]string, error)
	// PlanChunks splits a table into key ranges of about rows rows each.
	PlanChunks(ctx context.Context, t *schema.Table, rows int64) ([]Chunk, error)
	// CopyFormat names the byte format ReadChunk writes.
	CopyFormat() string
	// ReadChunk writes the chunk's rows to w in CopyFormat, in its own short read
	// transaction, and returns the source position read after it ended.
	ReadChunk(ctx context.Context, t *schema.Table, c Chunk, w io.Writer) (position.Position, error)
	// CurrentPosition is the source's current end of changes.
	CurrentPosition(ctx context.Context) (position.Position, error)
	// Stream sends transactions committed after from, in commit order, to out until
	// ctx ends or an error occurs. acked returns the position committed on the
	// target; only that is acknowledged to the source. A receive on poke asks the
	// source to report its position now (a heartbeat), for a fast drain.
	Stream(ctx context.Context, from position.Position, tables []*schema.Table, out chan<- Txn, acked func() position.Position, poke <-chan struct{}) error
	// Fence makes writes to the tables fail with an error naming the migration,
	// atomically over the tables, after waiting up to timeout for writers in
	// flight. It returns when writes stopped (the start of the write freeze)
	// and the final position: no write to the tables lies after it.
	Fence(ctx context.Context, migration string, tables []*schema.Table, timeout time.Duration) (time.Time, position.Position, error)
	// Unfence removes the fence; harmless when there is none. It returns what it removed.
	Unfence(ctx context.Context, migration string, tables []*schema.Table) ([]string, error)
	// Sequences reads the values of the sequences behind the tables' columns.
	Sequences(ctx context.Context, tables []*schema.Table) ([]SequenceValue, error)
	Close()
}

// Target is a database godwit migrates to. Every write that records progress
// does so in the same transaction as the rows it covers.
type Target interface {
	Checksummer
	// Describe reports the server's version and relevant settings.
	Describe(ctx context.Context) (ServerInfo, error)
	// NonEmpty returns the tables that already exist on the target and hold
	// rows, without changing anything.
	NonEmpty(ctx context.Context, tables []*schema.Table) ([]string, error)
	// Prepare creates godwit's bookkeeping on the target and returns what a
	// previous run of this migration recorded there (Stage "" when new).
	Prepare(ctx context.Context, migration string) (*Checkpoint, error)
	// CreateTables creates the tables (without secondary indexes or foreign keys),
	// records the chunk plan and the start position, in one transaction. An
	// existing non-empty table is an error unless truncate is set.
	CreateTables(ctx context.Context, migration string, tables []*schema.Table, chunks []Chunk, start position.Position, truncate bool) error
	// WriteChunk loads one chunk read in format from r and marks it done with its
	// row count and end position in the same transaction. end blocks until the
	// source's read has finished.
	WriteChunk(ctx context.Context, migration string, t *schema.Table, c Chunk, format string, r io.Reader, end func() (position.Position, error)) (rows int64, err error)
	// CreateKeyIndex builds what replay needs to find rows: the primary key or the key index.
	CreateKeyIndex(ctx context.Context, t *schema.Table) error
	// CreateSecondary builds the other constraints and indexes.
	CreateSecondary(ctx context.Context, t *schema.Table) error
	// CreateForeignKeys adds foreign keys whose referenced table is also migrated,
	// without checking existing rows (ValidateForeignKeys does, without blocking writes).
	CreateForeignKeys(ctx context.Context, t *schema.Table, migrated map[string]bool) error
	// SetStage records how far the migration got; consistency may be nil.
	SetStage(ctx context.Context, migration string, stage Stage, consistency position.Position) error
	// Applied is the source position up to which the target holds every change:
	// the last one replay committed, or the start position before any.
	Applied(ctx context.Context, migration string) (position.Position, error)
	// BeginApply opens a replay transaction.
	BeginApply(ctx context.Context, migration string) (ApplyTx, error)
	// SetSequences moves the target's sequences to the source's values.
	SetSequences(ctx context.Context, tables []*schema.Table, values []SequenceValue) error
	// ValidateForeignKeys validates foreign keys added without validation.
	ValidateForeignKeys(ctx context.Context, t *schema.Table) error
	// DropTables drops the migrated tables (cancel --drop-target).
	DropTables(ctx context.Context, tables []*schema.Table) error
	// DropMeta removes godwit's bookkeeping of the migration from the target.
	DropMeta(ctx context.Context, migration string) error
	Close()
}

// Stage is how far a migration has gone, as recorded on the target.
type Stage string

const (
	StageCopying    Stage = "copying"    // tables created, chunks being copied
	StageCopied     Stage = "copied"     // every chunk done, key indexes built
	StageConsistent Stage = "consistent" // replay passed the consistency point; secondary indexes built
	StageFinished   Stage = "finished"   // one-time copy done, or cut over
)

// SequenceValue is the state of the sequence behind a table's column.
type SequenceValue struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	// Sequence names a sequence the column's default uses without owning it.
	Sequence string `json:"sequence,omitempty"`
	Value    int64  `json:"value"`
	Called   bool   `json:"called"`
}

// Checkpoint is what the target knows of a migration.
type Checkpoint struct {
	Stage       Stage
	Start       position.Position // P0, where replay begins
	Applied     position.Position // last position committed on the target
	Consistency position.Position // max chunk end position, once every chunk is done
	Chunks      []Chunk
}

// CollisionError reports that applying changes hit a unique key other than the
// row key. In a compacted batch this can be an artefact of reordering; applied
// one change at a time after the consistency point it is a real divergence.
type CollisionError struct {
	Table string
	Err   error
}

func (e *CollisionError) Error() string {
	return "unique key collision on " + e.Table + ": " + e.Err.Error()
}

func (e *CollisionError) Unwrap() error { return e.Err }

// MissingRowError reports a change that could not be applied because its row
// is on neither key on the target (a key move carrying only some columns).
// Before the consistency point the row is fetched from the source instead.
type MissingRowError struct {
	Table *schema.Table
	Key   []Value // the row's new key
}

func (e *MissingRowError) Error() string {
	return "row of " + e.Table.QualifiedName() + " missing on the target for a key change that carries only some columns"
}

// PermanentError marks an error that retrying cannot fix (a schema change on
// the source, a definition the target refuses): the migration fails.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// RowHash is one row's key and a hash of its canonical value text.
type RowHash struct {
	Key  []string
	Hash string
}

// Checksummer reads what verification compares. The source and the target of
// every engine implement it; equal rows must give equal hashes on both sides.
type Checksummer interface {
	// NextBound returns the key of the rows-th row after lo (nil lo: from the
	// start of the table), or nil when no more than rows rows remain.
	NextBound(ctx context.Context, t *schema.Table, lo []string, rows int64) ([]string, error)
	// ChunkHash returns the number of rows with lo < key <= hi and an
	// order-independent hash of them.
	ChunkHash(ctx context.Context, t *schema.Table, lo, hi []string) (count int64, hash string, err error)
	// RowHashes returns the key and hash of each row with lo < key <= hi, in key order.
	RowHashes(ctx context.Context, t *schema.Table, lo, hi []string) ([]RowHash, error)
	// Rows returns the rows with the given keys as text values in CopyColumns
	// order (nil for a NULL value), and nil for a key with no row.
	Rows(ctx context.Context, t *schema.Table, keys [][]string) ([][]*string, error)
}

// IsPartial reports whether a row image lacks some values (Unchanged).
func IsPartial(img []Value) bool {
	for _, v := range img {
		if v.Unchanged {
			return true
		}
	}
	return false
}

// OpsOf turns one change into table operations of its own, for engines
// applying a barrier change that needs no special statement.
func OpsOf(ch *Change) *TableOps {
	o := &TableOps{Table: ch.Table}
	switch {
	case ch.Op == Delete:
		o.Deletes = append(o.Deletes, ch.Key)
	case !IsPartial(ch.New):
		if ch.Key != nil {
			o.Deletes = append(o.Deletes, ch.Key)
		}
		o.Upserts = append(o.Upserts, ch.New)
	default:
		p := Partial{}
		cols := ch.Table.CopyColumns()
		for _, k := range ch.Table.Key { // in the key's order, which need not be the columns'
			if i := slices.IndexFunc(cols, func(c schema.Column) bool { return c.Name == k }); i >= 0 {
				p.Key = append(p.Key, ch.New[i])
			}
		}
		for i, v := range ch.New {
			if !v.Unchanged && !slices.Contains(ch.Table.Key, cols[i].Name) {
				p.Cols, p.Vals = append(p.Cols, cols[i].Name), append(p.Vals, v)
			}
		}
		if len(p.Cols) > 0 && len(p.Key) == len(ch.Table.Key) {
			o.Partials = append(o.Partials, p)
		}
	}
	return o
}

// SetPositions decodes a checkpoint's positions as a target stored them
// (Encode forms; "" for none).
func (cp *Checkpoint) SetPositions(start, applied, consistency string) error {
	for _, f := range []struct {
		text string
		dst  *position.Position
	}{{start, &cp.Start}, {applied, &cp.Applied}, {consistency, &cp.Consistency}} {
		if f.text == "" {
			continue
		}
		p, err := position.Parse(f.text)
		if err != nil {
			return err
		}
		*f.dst = p
	}
	return nil
}
