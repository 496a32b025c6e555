package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/sqlmeta"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Target is a SQLite database file godwit migrates to; its bookkeeping lives in
// tables _godwit_migrations and _godwit_chunks in the same file, written in the
// same transactions as the rows.
type Target struct {
	checksummer
	db   *sql.DB
	path string
}

var _ engine.Target = (*Target)(nil)

// OpenTarget opens (creating if needed) the target file.
func OpenTarget(ctx context.Context, raw string) (*Target, error) {
	db, path, err := open(ctx, "target", raw, false, true)
	if err != nil {
		return nil, err
	}
	// One writer at a time is all SQLite has: parallel chunk writers would only
	// wait on the file lock (and time out); they queue for the connection instead.
	db.SetMaxOpenConns(1)
	return &Target{checksummer: checksummer{db}, db: db, path: path}, nil
}

func (t *Target) Close() { t.db.Close() }

const metaDDL = `
CREATE TABLE IF NOT EXISTS _godwit_migrations (name TEXT PRIMARY KEY, stage TEXT NOT NULL, start_pos TEXT, applied_pos TEXT, consistency_pos TEXT);
CREATE TABLE IF NOT EXISTS _godwit_chunks (migration TEXT NOT NULL, table_name TEXT NOT NULL, seq INTEGER NOT NULL, lo TEXT, hi TEXT,
  done INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0, end_pos TEXT, PRIMARY KEY (migration, table_name, seq));`

// Prepare implements engine.Target.
func (t *Target) Prepare(ctx context.Context, migration string) (*engine.Checkpoint, error) {
	if _, err := t.db.ExecContext(ctx, metaDDL); err != nil {
		return nil, fmt.Errorf("creating godwit's bookkeeping in %s: %w", t.path, err)
	}
	return sqlmeta.ReadCheckpoint(ctx, t.db, "_godwit_migrations", "_godwit_chunks", migration)
}

// CreateTables implements engine.Target. SQLite cannot add a primary key later,
// so tables are created whole, from the source's own definition.
func (t *Target) CreateTables(ctx context.Context, migration string, tables []*schema.Table, chunks []engine.Chunk, start position.Position, truncate bool) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, tb := range tables {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", tb.Name).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			var nonEmpty int
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+QuoteIdent(tb.Name)+")").Scan(&nonEmpty); err != nil {
				return err
			}
			switch {
			case nonEmpty != 0 && !truncate:
				return fmt.Errorf("target table %s already exists and is not empty: drop it, or pass --truncate-target to empty it first", tb.QualifiedName())
			case nonEmpty != 0:
				if _, err := tx.ExecContext(ctx, "DELETE FROM "+QuoteIdent(tb.Name)); err != nil {
					return err
				}
			}
			continue
		}
		if tb.CreateSQL == "" {
			return fmt.Errorf("table %s has no SQLite definition to create it from", tb.QualifiedName())
		}
		if _, err := tx.ExecContext(ctx, tb.CreateSQL); err != nil {
			return fmt.Errorf("creating table %s in %s: %w", tb.QualifiedName(), t.path, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM _godwit_chunks WHERE migration = ?", migration); err != nil {
		return err
	}
	for _, c := range chunks {
		if _, err := tx.ExecContext(ctx, "INSERT INTO _godwit_chunks (migration, table_name, seq, lo, hi) VALUES (?, ?, ?, ?, ?)",
			migration, c.Table, c.Seq, sqlmeta.JSONBound(c.Lo), sqlmeta.JSONBound(c.Hi)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO _godwit_migrations (name, stage, start_pos) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET stage = excluded.stage, start_pos = excluded.start_pos, applied_pos = NULL, consistency_pos = NULL`,
		migration, string(engine.StageCopying), sqlmeta.EncodePos(start)); err != nil {
		return err
	}
	return tx.Commit()
}

func insertSQL(tb *schema.Table) string {
	cols := copyColumnNames(tb)
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", QuoteIdent(tb.Name), quoteList(cols), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
}

// WriteChunk implements engine.Target.
func (t *Target) WriteChunk(ctx context.Context, migration string, tb *schema.Table, c engine.Chunk, format string, r io.Reader, end func() (position.Position, error)) (int64, error) {
	if format != Format {
		return 0, fmt.Errorf("SQLite target cannot load chunks in format %q", format)
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertSQL(tb))
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	ncols := len(tb.CopyColumns())
	br := bufio.NewReaderSize(r, 256<<10)
	var rows int64
	for {
		row, err := readRow(br, ncols)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading %s chunk %d: %w", tb.QualifiedName(), c.Seq, err)
		}
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return 0, fmt.Errorf("writing %s chunk %d: %w", tb.QualifiedName(), c.Seq, err)
		}
		rows++
	}
	pos, err := end()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE _godwit_chunks SET done = 1, rows = ?, end_pos = ? WHERE migration = ? AND table_name = ? AND seq = ?",
		rows, sqlmeta.EncodePos(pos), migration, c.Table, c.Seq); err != nil {
		return 0, err
	}
	return rows, tx.Commit()
}

func (t *Target) indexExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&n)
	return n > 0, err
}

func (t *Target) createIndex(ctx context.Context, tb *schema.Table, ix schema.Index) error {
	ok, err := t.indexExists(ctx, ix.Name)
	if err != nil || ok {
		return err
	}
	if _, err := t.db.ExecContext(ctx, ix.Def); err != nil {
		return fmt.Errorf("creating index %s on %s: %w", ix.Name, tb.QualifiedName(), err)
	}
	return nil
}

// CreateKeyIndex implements engine.Target: the primary key came with the table;
// a unique index used as the key is built now.
func (t *Target) CreateKeyIndex(ctx context.Context, tb *schema.Table) error {
	for _, ix := range tb.Indexes {
		if ix.Name == tb.KeyIndex {
			return t.createIndex(ctx, tb, ix)
		}
	}
	return nil
}

// CreateSecondary implements engine.Target.
func (t *Target) CreateSecondary(ctx context.Context, tb *schema.Table) error {
	for _, ix := range tb.Indexes {
		if ix.Name != tb.KeyIndex {
			if err := t.createIndex(ctx, tb, ix); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateForeignKeys implements engine.Target: SQLite foreign keys are part of
// the table definition and godwit's sessions do not enforce them.
func (t *Target) CreateForeignKeys(context.Context, *schema.Table, map[string]bool) error { return nil }

// ValidateForeignKeys implements engine.Target.
func (t *Target) ValidateForeignKeys(context.Context, *schema.Table) error { return nil }

// SetStage implements engine.Target.
func (t *Target) SetStage(ctx context.Context, migration string, stage engine.Stage, consistency position.Position) error {
	_, err := t.db.ExecContext(ctx, "UPDATE _godwit_migrations SET stage = ?, consistency_pos = coalesce(?, consistency_pos) WHERE name = ?",
		string(stage), sqlmeta.EncodePos(consistency), migration)
	return err
}

// Applied implements engine.Target.
func (t *Target) Applied(ctx context.Context, migration string) (position.Position, error) {
	return sqlmeta.Applied(ctx, t.db, "_godwit_migrations", migration)
}

// SetSequences implements engine.Target: AUTOINCREMENT counters. A value is
// the last one handed out (Called, as a SQLite source reads it) or the next
// one to hand out (not Called); sqlite_sequence keeps the last. A table
// without AUTOINCREMENT needs nothing: it hands out its largest key plus one.
func (t *Target) SetSequences(ctx context.Context, tables []*schema.Table, values []engine.SequenceValue) error {
	for _, v := range values {
		name := strings.TrimPrefix(v.Table, schemaName+".")
		for _, tb := range tables {
			if tb.QualifiedName() == v.Table {
				name = tb.Name
			}
		}
		var def string
		err := t.db.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&def)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if !autoincrement.MatchString(def) {
			continue
		}
		last := v.Value
		if !v.Called {
			last--
		}
		res, err := t.db.ExecContext(ctx, "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", last, name)
		if err != nil {
			return fmt.Errorf("setting the AUTOINCREMENT counter of %s: %w", v.Table, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := t.db.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", name, last); err != nil {
				return fmt.Errorf("setting the AUTOINCREMENT counter of %s: %w", v.Table, err)
			}
		}
	}
	return nil
}

var autoincrement = regexp.MustCompile(`(?i)\bAUTOINCREMENT\b`)

// DropTables implements engine.Target.
func (t *Target) DropTables(ctx context.Context, tables []*schema.Table) error {
	for _, tb := range tables {
		if _, err := t.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+QuoteIdent(tb.Name)); err != nil {
			return err
		}
	}
	return nil
}

// DropMeta implements engine.Target.
func (t *Target) DropMeta(ctx context.Context, migration string) error {
	var n int
	if err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = '_godwit_migrations'").Scan(&n); err != nil || n == 0 {
		return err
	}
	for _, q := range []string{"DELETE FROM _godwit_chunks WHERE migration = ?", "DELETE FROM _godwit_migrations WHERE name = ?"} {
		if _, err := t.db.ExecContext(ctx, q, migration); err != nil {
			return err
		}
	}
	if err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM _godwit_migrations").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		for _, q := range []string{"DROP TABLE _godwit_chunks", "DROP TABLE _godwit_migrations"} {
			if _, err := t.db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	return nil
}

// BeginApply implements engine.Target.
func (t *Target) BeginApply(ctx context.Context, migration string) (engine.ApplyTx, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &applyTx{tx: tx, migration: migration, stmts: map[string]*sql.Stmt{}}, nil
}

type applyTx struct {
	tx        *sql.Tx
	migration string
	stmts     map[string]*sql.Stmt
}

func (a *applyTx) exec(ctx context.Context, tb *schema.Table, q string, args ...any) error {
	st := a.stmts[q]
	if st == nil {
		var err error
		if st, err = a.tx.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("applying changes to %s: %w", tb.QualifiedName(), err)
		}
		a.stmts[q] = st
	}
	if _, err := st.ExecContext(ctx, args...); err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return &engine.CollisionError{Table: tb.QualifiedName(), Err: err}
		}
		return fmt.Errorf("applying changes to %s: %w", tb.QualifiedName(), err)
	}
	return nil
}

func raws(vals []engine.Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v.Raw
	}
	return out
}

func keyWhere(tb *schema.Table) string {
	w := make([]string, len(tb.Key))
	for i, k := range tb.Key {
		w[i] = QuoteIdent(k) + " = ?"
	}
	return strings.Join(w, " AND ")
}

func upsertSQL(tb *schema.Table) string {
	var set []string
	for _, c := range copyColumnNames(tb) {
		isKey := false
		for _, k := range tb.Key {
			isKey = isKey || k == c
		}
		if !isKey {
			set = append(set, QuoteIdent(c)+" = excluded."+QuoteIdent(c))
		}
	}
	action := "DO NOTHING"
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	return insertSQL(tb) + " ON CONFLICT (" + quoteList(tb.Key) + ") " + action
}

// Apply implements engine.ApplyTx. SQLite is local: one prepared statement per
// row is fast, and order within the segment is deletes, partial updates, upserts.
func (a *applyTx) Apply(ctx context.Context, seg engine.Segment) error {
	ops := seg.Ops
	if seg.Barrier != nil {
		if seg.Barrier.Op == engine.Truncate {
			for _, tb := range seg.Barrier.Truncated {
				if err := a.exec(ctx, tb, "DELETE FROM "+QuoteIdent(tb.Name)); err != nil {
					return err
				}
			}
			return nil
		}
		ops = []*engine.TableOps{engine.OpsOf(seg.Barrier)}
	}
	for _, o := range ops {
		del := "DELETE FROM " + QuoteIdent(o.Table.Name) + " WHERE " + keyWhere(o.Table)
		for _, k := range o.Deletes {
			if err := a.exec(ctx, o.Table, del, raws(k)...); err != nil {
				return err
			}
		}
		for _, p := range o.Partials {
			set := make([]string, len(p.Cols))
			for i, c := range p.Cols {
				set[i] = QuoteIdent(c) + " = ?"
			}
			q := "UPDATE " + QuoteIdent(o.Table.Name) + " SET " + strings.Join(set, ", ") + " WHERE " + keyWhere(o.Table)
			if err := a.exec(ctx, o.Table, q, append(raws(p.Vals), raws(p.Key)...)...); err != nil {
				return err
			}
		}
		up := upsertSQL(o.Table)
		for _, img := range o.Upserts {
			if err := a.exec(ctx, o.Table, up, raws(img)...); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *applyTx) Commit(ctx context.Context, applied position.Position) error {
	if _, err := a.tx.ExecContext(ctx, "UPDATE _godwit_migrations SET applied_pos = ? WHERE name = ?", sqlmeta.EncodePos(applied), a.migration); err != nil {
		_ = a.tx.Rollback()
		return err
	}
	return a.tx.Commit()
}

func (a *applyTx) Rollback(context.Context) { _ = a.tx.Rollback() }

// TryCreate creates the tables and their indexes in one transaction that it
// rolls back, so that a definition SQLite refuses is found before anything
// is created. Tables that exist are left out.
func (t *Target) TryCreate(ctx context.Context, tables []*schema.Table) error {
	return tryCreate(ctx, t.db, tables)
}

// TryCreateInMemory is TryCreate for a target file that does not exist yet:
// in an empty in-memory database.
func TryCreateInMemory(ctx context.Context, tables []*schema.Table) error {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return tryCreate(ctx, db, tables)
}

func tryCreate(ctx context.Context, db *sql.DB, tables []*schema.Table) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, tb := range tables {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", tb.Name).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			continue
		}
		if tb.CreateSQL == "" {
			return fmt.Errorf("table %s has no SQLite definition to create it from", tb.QualifiedName())
		}
		if _, err := tx.ExecContext(ctx, tb.CreateSQL); err != nil {
			return fmt.Errorf("creating table %s on the target: %w", tb.QualifiedName(), err)
		}
		for _, ix := range tb.Indexes {
			if _, err := tx.ExecContext(ctx, ix.Def); err != nil {
				return fmt.Errorf("creating index %s on %s on the target: %w", ix.Name, tb.QualifiedName(), err)
			}
		}
	}
	return nil
}
