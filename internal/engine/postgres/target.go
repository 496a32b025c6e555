package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Target is a PostgreSQL database godwit migrates to. godwit's bookkeeping lives
// in the schema _godwit, written in the same transactions as the rows.
type Target struct {
	checksummer
	pool *pgxpool.Pool
	prober
}

var _ engine.Target = (*Target)(nil)

// OpenTarget connects to the target database.
func OpenTarget(ctx context.Context, rawURL string, conns int) (*Target, error) {
	pool, cfg, err := openPool(ctx, "target", rawURL, conns+1)
	if err != nil {
		return nil, err
	}
	return &Target{checksummer: checksummer{pool}, pool: pool, prober: prober{cfg: cfg}}, nil
}

func (t *Target) Close() {
	t.prober.close()
	t.pool.Close()
}

const metaDDL = `
SELECT pg_advisory_xact_lock(hashtext('godwit meta'));
CREATE SCHEMA IF NOT EXISTS _godwit;
CREATE TABLE IF NOT EXISTS _godwit.migrations (
  name text PRIMARY KEY,
  stage text NOT NULL,
  start_pos text,
  applied_pos text,
  consistency_pos text,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS _godwit.chunks (
  migration text NOT NULL,
  table_name text NOT NULL,
  seq int NOT NULL,
  lo text[],
  hi text[],
  done boolean NOT NULL DEFAULT false,
  rows bigint NOT NULL DEFAULT 0,
  end_pos text,
  PRIMARY KEY (migration, table_name, seq));`

func parsePos(s *string) (position.Position, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	return position.Parse(*s)
}

func encodePos(p position.Position) *string {
	if p == nil {
		return nil
	}
	s := p.Encode()
	return &s
}

// Prepare implements engine.Target.
func (t *Target) Prepare(ctx context.Context, migration string) (*engine.Checkpoint, error) {
	if err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, metaDDL)
		return err
	}); err != nil {
		return nil, fmt.Errorf("creating godwit's bookkeeping schema _godwit on the target: %w", err)
	}
	cp := &engine.Checkpoint{}
	var stage string
	var start, applied, cons *string
	err := t.pool.QueryRow(ctx, "SELECT stage, start_pos, applied_pos, consistency_pos FROM _godwit.migrations WHERE name = $1", migration).
		Scan(&stage, &start, &applied, &cons)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, nil
	}
	if err != nil {
		return nil, err
	}
	cp.Stage = engine.Stage(stage)
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	if err := cp.SetPositions(deref(start), deref(applied), deref(cons)); err != nil {
		return nil, err
	}
	rows, err := t.pool.Query(ctx, "SELECT table_name, seq, lo, hi, done, rows, coalesce(end_pos, '') FROM _godwit.chunks WHERE migration = $1 ORDER BY table_name, seq", migration)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c engine.Chunk
		if err := rows.Scan(&c.Table, &c.Seq, &c.Lo, &c.Hi, &c.Done, &c.Rows, &c.End); err != nil {
			return nil, err
		}
		if c.Lo, err = engine.DecodeBound(c.Lo); err == nil {
			c.Hi, err = engine.DecodeBound(c.Hi)
		}
		if err != nil {
			return nil, fmt.Errorf("chunk %d of %s: %w", c.Seq, c.Table, err)
		}
		cp.Chunks = append(cp.Chunks, c)
	}
	return cp, rows.Err()
}

// CreateTables implements engine.Target.
func (t *Target) CreateTables(ctx context.Context, migration string, tables []*schema.Table, chunks []engine.Chunk, start position.Position, truncate bool) error {
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		for _, tb := range tables {
			if err := createTable(ctx, tx, tb, truncate); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM _godwit.chunks WHERE migration = $1", migration); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, c := range chunks {
			batch.Queue("INSERT INTO _godwit.chunks (migration, table_name, seq, lo, hi) VALUES ($1, $2, $3, $4, $5)", migration, c.Table, c.Seq, engine.EncodeBound(c.Lo), engine.EncodeBound(c.Hi))
		}
		batch.Queue(`INSERT INTO _godwit.migrations (name, stage, start_pos) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET stage = EXCLUDED.stage, start_pos = EXCLUDED.start_pos, applied_pos = NULL, consistency_pos = NULL, updated_at = now()`,
			migration, string(engine.StageCopying), encodePos(start))
		return tx.SendBatch(ctx, batch).Close()
	})
}

func createTable(ctx context.Context, tx pgx.Tx, tb *schema.Table, truncate bool) error {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", QualName(tb)).Scan(&exists); err != nil {
		return err
	}
	if exists {
		var nonEmpty bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+QualName(tb)+")").Scan(&nonEmpty); err != nil {
			return fmt.Errorf("checking target table %s: %w", tb.QualifiedName(), err)
		}
		switch {
		case nonEmpty && !truncate:
			return fmt.Errorf("target table %s already exists and is not empty: drop it, or pass --truncate-target to empty it first", tb.QualifiedName())
		case nonEmpty:
			if _, err := tx.Exec(ctx, "TRUNCATE "+QualName(tb)); err != nil {
				return fmt.Errorf("emptying target table %s: %w", tb.QualifiedName(), err)
			}
		}
		return nil
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+QuoteIdent(tb.Schema)); err != nil {
		return fmt.Errorf("creating schema %s on the target: %w", tb.Schema, err)
	}
	for i := range tb.Columns {
		if c := &tb.Columns[i]; c.CreateEnum {
			if _, err := tx.Exec(ctx, CreateEnumSQL(c)); err != nil {
				return fmt.Errorf("creating enum type %s on the target: %w", c.Type, err)
			}
		}
	}
	seqs, cols := SequencesUsed(tb)
	for _, s := range seqs {
		if _, err := tx.Exec(ctx, "CREATE SEQUENCE IF NOT EXISTS "+s); err != nil {
			return fmt.Errorf("creating sequence %s on the target: %w", s, err)
		}
	}
	if _, err := tx.Exec(ctx, CreateTableSQL(tb)); err != nil {
		return fmt.Errorf("creating table %s on the target: %w", tb.QualifiedName(), err)
	}
	for _, p := range partitions(tb) {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+QuoteIdent(p.Schema)); err != nil {
			return fmt.Errorf("creating schema %s on the target: %w", p.Schema, err)
		}
		if _, err := tx.Exec(ctx, CreatePartitionSQL(p)); err != nil {
			return fmt.Errorf("creating partition %s of %s on the target: %w", p.QualifiedName(), tb.QualifiedName(), err)
		}
	}
	for i, s := range seqs {
		if _, err := tx.Exec(ctx, "ALTER SEQUENCE "+s+" OWNED BY "+QualName(tb)+"."+QuoteIdent(cols[i])); err != nil {
			return fmt.Errorf("attaching sequence %s to %s: %w", s, tb.QualifiedName(), err)
		}
	}
	return nil
}

// WriteChunk implements engine.Target.
func (t *Target) WriteChunk(ctx context.Context, migration string, tb *schema.Table, c engine.Chunk, format string, r io.Reader, end func() (position.Position, error)) (int64, error) {
	copyIn := CopyInSQL(tb)
	switch {
	case format == formatBinary && !tb.TextCopy:
	case format == formatText || format == formatBinary: // a binary migration sends such a table as text
		copyIn = copyInTextSQL(tb)
	default:
		return 0, fmt.Errorf("PostgreSQL target cannot load chunks in format %q: use %s or %s", format, formatBinary, formatText)
	}
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var rows int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Losing this commit in a crash loses its checkpoint with it: the chunk is copied again.
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		tag, err := conn.Conn().PgConn().CopyFrom(ctx, r, copyIn)
		if err != nil {
			return err
		}
		rows = tag.RowsAffected()
		pos, err := end()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE _godwit.chunks SET done = true, rows = $4, end_pos = $5 WHERE migration = $1 AND table_name = $2 AND seq = $3",
			migration, c.Table, c.Seq, rows, encodePos(pos))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("writing %s chunk %d: %w", tb.QualifiedName(), c.Seq, err)
	}
	return rows, nil
}

// querier runs statements: the pool, or one transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// builder runs the DDL that builds keys, indexes and constraints: each
// statement in a transaction of its own with room to sort (tx nil), or every
// one in tx, which TryCreate rolls back.
type builder struct {
	pool *pgxpool.Pool
	tx   pgx.Tx
}

func (t *Target) build() builder { return builder{pool: t.pool} }

func (b builder) q() querier {
	if b.tx != nil {
		return b.tx
	}
	return b.pool
}

func (b builder) hasConstraint(ctx context.Context, tb *schema.Table, name string) (bool, error) {
	var ok bool
	err := b.q().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2)", QualName(tb), name).Scan(&ok)
	return ok, err
}

func (b builder) hasIndex(ctx context.Context, tb *schema.Table, name string) (bool, error) {
	var ok bool
	err := b.q().QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", QuoteIdent(tb.Schema)+"."+QuoteIdent(name)).Scan(&ok)
	return ok, err
}

// ddl runs an index or constraint build.
func (b builder) ddl(ctx context.Context, sql string) error {
	if b.tx != nil {
		_, err := b.tx.Exec(ctx, sql)
		return err
	}
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '512MB'"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sql)
		return err
	})
}

func (b builder) addConstraint(ctx context.Context, tb *schema.Table, c schema.Constraint) error {
	has, err := b.hasConstraint(ctx, tb, c.Name)
	if err != nil || has {
		return err
	}
	if err := b.ddl(ctx, "ALTER TABLE "+QualName(tb)+" ADD CONSTRAINT "+QuoteIdent(c.Name)+" "+c.Def); err != nil {
		return fmt.Errorf("adding constraint %s to %s on the target: %w", c.Name, tb.QualifiedName(), err)
	}
	return nil
}

func (b builder) addIndex(ctx context.Context, tb *schema.Table, ix schema.Index) error {
	has, err := b.hasIndex(ctx, tb, ix.Name)
	if err != nil || has {
		return err
	}
	if err := b.ddl(ctx, ix.Def); err != nil {
		return fmt.Errorf("creating index %s on %s on the target: %w", ix.Name, tb.QualifiedName(), err)
	}
	return nil
}

// partTable names a partition as a table, for the helpers that take one.
func partTable(p *schema.Partition) *schema.Table {
	return &schema.Table{Schema: p.Schema, Name: p.Name}
}

// CreateKeyIndex implements engine.Target.
func (t *Target) CreateKeyIndex(ctx context.Context, tb *schema.Table) error {
	return t.build().keyIndex(ctx, tb)
}

// keyIndex builds the key; it also adds the checks the source holds NOT
// VALID, which the table could not be created with. A partitioned table's key
// builds its partitions' too.
func (b builder) keyIndex(ctx context.Context, tb *schema.Table) error {
	for _, c := range tb.Constraints {
		if c.Kind == "c" && strings.HasSuffix(c.Def, " NOT VALID") {
			if err := b.addConstraint(ctx, tb, c); err != nil {
				return err
			}
		}
	}
	for _, p := range partitions(tb) {
		for _, c := range p.Constraints {
			if c.Kind == "c" && strings.HasSuffix(c.Def, " NOT VALID") {
				if err := b.addConstraint(ctx, partTable(p), c); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range tb.Constraints {
		if c.Kind == "p" || (tb.KeyIndex != "" && c.Name == tb.KeyIndex && c.Kind == "u") {
			return b.addConstraint(ctx, tb, c)
		}
	}
	for _, ix := range tb.Indexes {
		if ix.Name == tb.KeyIndex {
			return b.addIndex(ctx, tb, ix)
		}
	}
	return nil
}

// CreateSecondary implements engine.Target.
func (t *Target) CreateSecondary(ctx context.Context, tb *schema.Table) error {
	return t.build().secondary(ctx, tb)
}

// secondary builds the other indexes and constraints. Partitions' own come
// first: an index on a partitioned table then adopts a partition's equal
// index instead of building another one beside it.
func (b builder) secondary(ctx context.Context, tb *schema.Table) error {
	for _, p := range partitions(tb) {
		pt := partTable(p)
		for _, c := range p.Constraints {
			if c.Kind == "p" || c.Kind == "u" || c.Kind == "x" {
				if err := b.addConstraint(ctx, pt, c); err != nil {
					return err
				}
			}
		}
		for _, ix := range p.Indexes {
			if err := b.addIndex(ctx, pt, ix); err != nil {
				return err
			}
		}
	}
	for _, c := range tb.Constraints {
		if (c.Kind == "u" || c.Kind == "x") && c.Name != tb.KeyIndex {
			if err := b.addConstraint(ctx, tb, c); err != nil {
				return err
			}
		}
	}
	for _, ix := range tb.Indexes {
		if ix.Name != tb.KeyIndex {
			if err := b.addIndex(ctx, tb, ix); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateForeignKeys implements engine.Target.
func (t *Target) CreateForeignKeys(ctx context.Context, tb *schema.Table, migrated map[string]bool) error {
	return t.build().foreignKeys(ctx, tb, migrated)
}

// foreignKeys adds the foreign keys NOT VALID, so no scan checks rows the
// source already checked; on a partitioned table validated, as PostgreSQL
// (before 18) cannot add one NOT VALID there.
func (b builder) foreignKeys(ctx context.Context, tb *schema.Table, migrated map[string]bool) error {
	add := func(rel *schema.Table, cons []schema.Constraint, partitioned bool) error {
		for _, c := range cons {
			if c.Kind == "f" && migrated[c.RefTable] {
				if !partitioned && !strings.HasSuffix(c.Def, " NOT VALID") {
					c.Def += " NOT VALID"
				}
				if err := b.addConstraint(ctx, rel, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add(tb, tb.Constraints, tb.Partitioning != nil); err != nil {
		return err
	}
	for _, p := range partitions(tb) {
		if err := add(partTable(p), p.Constraints, p.Key != ""); err != nil {
			return err
		}
	}
	return nil
}

// TryCreate builds on the target everything a migration of tables creates —
// schemas, enum types, sequences, tables, partitions, keys, indexes, foreign
// keys — in one transaction it then rolls back, so that whatever the target
// refuses (a missing extension, type or domain, a definition it cannot
// take) is found before anything is created. Tables that exist are left out.
func (t *Target) TryCreate(ctx context.Context, tables []*schema.Table) error {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Locks on existing objects are not waited for long: a dry run must not
	// queue behind (and in front of) the target's own work.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
		return err
	}
	var fresh []*schema.Table
	migrated := map[string]bool{}
	for _, tb := range tables {
		migrated[tb.QualifiedName()] = true
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", QualName(tb)).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		if err := createTable(ctx, tx, tb, false); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42704" { // undefined_object
				return fmt.Errorf("%w: create it on the target first (as on the source: CREATE EXTENSION, CREATE TYPE or CREATE DOMAIN), or --exclude the table", err)
			}
			return err
		}
		fresh = append(fresh, tb)
	}
	b := builder{tx: tx}
	for _, tb := range fresh {
		if err := b.keyIndex(ctx, tb); err != nil {
			return err
		}
		if err := b.secondary(ctx, tb); err != nil {
			return err
		}
	}
	for _, tb := range fresh {
		if err := b.foreignKeys(ctx, tb, migrated); err != nil {
			return err
		}
	}
	return nil
}

// Applied implements engine.Target.
func (t *Target) Applied(ctx context.Context, migration string) (position.Position, error) {
	var applied *string
	err := t.pool.QueryRow(ctx, "SELECT coalesce(applied_pos, start_pos) FROM _godwit.migrations WHERE name = $1", migration).Scan(&applied)
	if err != nil {
		return nil, fmt.Errorf("reading the applied position on the target: %w", err)
	}
	return parsePos(applied)
}

// SetStage implements engine.Target.
func (t *Target) SetStage(ctx context.Context, migration string, stage engine.Stage, consistency position.Position) error {
	_, err := t.pool.Exec(ctx, "UPDATE _godwit.migrations SET stage = $2, consistency_pos = coalesce($3, consistency_pos), updated_at = now() WHERE name = $1",
		migration, string(stage), encodePos(consistency))
	return err
}

// DropTables implements engine.Target.
func (t *Target) DropTables(ctx context.Context, tables []*schema.Table) error {
	var names []string
	for _, tb := range tables {
		names = append(names, QualName(tb))
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := t.pool.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(names, ", ")+" CASCADE"); err != nil {
		return err
	}
	for _, tb := range tables { // the enum types made for them
		for _, c := range tb.Columns {
			if c.CreateEnum {
				if _, err := t.pool.Exec(ctx, "DROP TYPE IF EXISTS "+c.Type); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DropMeta implements engine.Target.
func (t *Target) DropMeta(ctx context.Context, migration string) error {
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass('_godwit.migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM _godwit.chunks WHERE migration = $1; ", migration); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM _godwit.migrations WHERE name = $1", migration); err != nil {
			return err
		}
		var left bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM _godwit.migrations)").Scan(&left); err != nil {
			return err
		}
		if !left {
			_, err := tx.Exec(ctx, "DROP SCHEMA _godwit CASCADE")
			return err
		}
		return nil
	})
}

// BeginApply implements engine.Target.
func (t *Target) BeginApply(ctx context.Context, migration string) (engine.ApplyTx, error) {
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, err
	}
	// The applied position is acknowledged to the source once committed here:
	// the commit must be durable whatever the target's default says.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
		_ = tx.Rollback(ctx)
		conn.Release()
		return nil, err
	}
	return &applyTx{conn: conn, tx: tx, migration: migration}, nil
}

type applyTx struct {
	conn      *pgxpool.Conn
	tx        pgx.Tx
	migration string
	released  bool
}

func (a *applyTx) release() {
	if !a.released {
		a.released = true
		a.conn.Release()
	}
}

func textArray(rows [][]engine.Value, col int) []pgtype.Text {
	out := make([]pgtype.Text, len(rows))
	for i, r := range rows {
		out[i] = pgtype.Text{String: r[col].Text, Valid: !r[col].Null}
	}
	return out
}

func (a *applyTx) Apply(ctx context.Context, seg engine.Segment) error {
	ops := seg.Ops
	if seg.Barrier != nil {
		handled, err := a.barrier(ctx, seg.Barrier)
		if handled || err != nil {
			return err
		}
		ops = []*engine.TableOps{engine.OpsOf(seg.Barrier)}
	}
	batch := &pgx.Batch{}
	var tables []string
	queue := func(tb *schema.Table, sql string, args ...any) {
		batch.Queue(sql, args...)
		tables = append(tables, tb.QualifiedName())
	}
	for _, o := range ops {
		if len(o.Deletes) > 0 {
			args := make([]any, len(o.Table.Key))
			for i := range args {
				args[i] = textArray(o.Deletes, i)
			}
			queue(o.Table, DeleteSQL(o.Table), args...)
		}
	}
	for _, o := range ops {
		for _, g := range groupPartials(settable(o.Table, o.Partials)) {
			rows := make([][]engine.Value, len(g))
			for i, p := range g {
				rows[i] = append(append([]engine.Value{}, p.Key...), p.Vals...)
			}
			args := make([]any, len(rows[0]))
			for i := range args {
				args[i] = textArray(rows, i)
			}
			queue(o.Table, PartialUpdateSQL(o.Table, g[0].Cols), args...)
		}
		if len(o.Upserts) > 0 {
			args := make([]any, len(o.Upserts[0]))
			for i := range args {
				args[i] = textArray(o.Upserts, i)
			}
			queue(o.Table, UpsertSQL(o.Table), args...)
		}
	}
	if batch.Len() == 0 {
		return nil
	}
	br := a.tx.SendBatch(ctx, batch)
	for _, tb := range tables {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return classify(tb, err)
		}
	}
	return br.Close()
}

func classify(table string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "23P01") { // unique, exclusion
		return &engine.CollisionError{Table: table, Err: err}
	}
	return fmt.Errorf("applying changes to %s: %w", table, err)
}

// settable drops GENERATED ALWAYS identity columns from partial updates: such
// values cannot be updated (and never change); an update left with nothing to
// set is dropped.
func settable(t *schema.Table, ps []engine.Partial) []engine.Partial {
	out := ps[:0:0]
	for _, p := range ps {
		q := engine.Partial{Key: p.Key}
		for i, c := range p.Cols {
			if col := t.Column(c); col == nil || col.Identity != "ALWAYS" {
				q.Cols, q.Vals = append(q.Cols, c), append(q.Vals, p.Vals[i])
			}
		}
		if len(q.Cols) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// groupPartials groups partial updates by the set of columns they carry.
func groupPartials(ps []engine.Partial) [][]engine.Partial {
	by := map[string][]engine.Partial{}
	var order []string
	for _, p := range ps {
		// Same columns in the same order share one statement.
		k := strings.Join(p.Cols, "\x00")
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], p)
	}
	sort.Strings(order)
	out := make([][]engine.Partial, len(order))
	for i, k := range order {
		out[i] = by[k]
	}
	return out
}

// barrier applies the changes that need their own statements.
func (a *applyTx) barrier(ctx context.Context, ch *engine.Change) (bool, error) {
	switch {
	case ch.Op != engine.Truncate && !ch.Table.HasKey():
		return true, a.wholeRow(ctx, ch)
	case ch.Op == engine.Truncate:
		var names []string
		for _, tb := range ch.Truncated {
			names = append(names, QualName(tb))
		}
		_, err := a.tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", "))
		return true, err
	case ch.Op == engine.Update && ch.Key != nil && engine.IsPartial(ch.New):
		tb := ch.Table
		cols := tb.CopyColumns()
		newKey := make([]any, len(tb.Key)) // in key order, which may not be the columns'
		var carried []string
		var vals []any
		for i, v := range ch.New {
			for j, k := range tb.Key {
				if k == cols[i].Name {
					newKey[j] = v.Text
				}
			}
			if !v.Unchanged && !(cols[i].Identity == "ALWAYS" && !contains(tb.Key, cols[i].Name)) {
				carried = append(carried, cols[i].Name)
				if v.Null {
					vals = append(vals, nil)
				} else {
					vals = append(vals, v.Text)
				}
			}
		}
		oldKey := make([]any, len(ch.Key))
		for i, v := range ch.Key {
			oldKey[i] = v.Text
		}
		dropStale, move := MovedKeySQL(tb, carried)
		if _, err := a.tx.Exec(ctx, dropStale, append(oldKey, newKey...)...); err != nil {
			return true, classify(tb.QualifiedName(), err)
		}
		tag, err := a.tx.Exec(ctx, move, append(oldKey, vals...)...)
		if err != nil {
			return true, classify(tb.QualifiedName(), err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := a.tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+QualName(tb)+" WHERE "+keyParams(tb, 1)+")", newKey...).Scan(&exists); err != nil {
				return true, classify(tb.QualifiedName(), err)
			}
			if !exists { // on neither key: the copy saw the row at neither
				var key []engine.Value
				for _, k := range newKey {
					key = append(key, engine.Value{Text: k.(string)})
				}
				return true, &engine.MissingRowError{Table: tb, Key: key}
			}
		}
		return true, nil
	}
	return false, nil
}

// wholeRow applies one change of a table identified by all its values. An
// update or delete whose old row is not on the target means the target
// differs from the source: replay stops rather than go on without it.
func (a *applyTx) wholeRow(ctx context.Context, ch *engine.Change) error {
	tb := ch.Table
	texts := func(vals []engine.Value) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			if !v.Null {
				out[i] = v.Text
			}
		}
		return out
	}
	var sql string
	var args []any
	switch ch.Op {
	case engine.Insert:
		sql, args = RowInsertSQL(tb), texts(ch.New)
	case engine.Delete:
		sql, args = RowDeleteSQL(tb), texts(ch.Old)
	default:
		sql, args = RowUpdateSQL(tb), append(texts(ch.New), texts(ch.Old)...)
	}
	tag, err := a.tx.Exec(ctx, sql, args...)
	if err != nil {
		return classify(tb.QualifiedName(), err)
	}
	if tag.RowsAffected() != 1 {
		return &engine.PermanentError{Err: fmt.Errorf("table %s (no key, replicated by its whole row): the row %s is not on the target, so the target differs from the source; cancel this migration and start again",
			tb.QualifiedName(), map[engine.Op]string{engine.Update: "an update changes", engine.Delete: "a delete removes"}[ch.Op])}
	}
	return nil
}

func (a *applyTx) Commit(ctx context.Context, applied position.Position) error {
	defer a.release()
	if _, err := a.tx.Exec(ctx, "UPDATE _godwit.migrations SET applied_pos = $2, updated_at = now() WHERE name = $1", a.migration, encodePos(applied)); err != nil {
		_ = a.tx.Rollback(ctx)
		return err
	}
	return a.tx.Commit(ctx)
}

func (a *applyTx) Rollback(ctx context.Context) {
	if !a.released {
		_ = a.tx.Rollback(ctx)
	}
	a.release()
}
