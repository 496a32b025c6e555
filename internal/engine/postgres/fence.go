package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// The fence is a statement-level trigger on every migrated table that raises
// an error naming the migration. Creating the triggers takes locks that wait for
// transactions writing to the tables, so once the fence commits no write is in
// flight and none can start: the source position read after it is final.

func fenceFunction(migration string) string {
	return "_godwit." + QuoteIdent("fence_"+strings.TrimPrefix(ObjectName(migration), "godwit_"))
}

func fenceTrigger(migration string) string { return QuoteIdent(ObjectName(migration) + "_fence") }

// fencedRelations are the tables and, for a partitioned one, every partition
// below it (SQL names, and names to show): a statement that names a partition
// fires no statement trigger of its parent, and a partition may have foreign
// keys of its own.
func fencedRelations(tables []*schema.Table) (names, shown []string) {
	for _, t := range tables {
		names, shown = append(names, QualName(t)), append(shown, t.QualifiedName())
		if t.Partitioning != nil {
			for _, p := range t.Partitioning.Partitions {
				names, shown = append(names, QuoteIdent(p.Schema)+"."+QuoteIdent(p.Name)), append(shown, p.QualifiedName())
			}
		}
	}
	return names, shown
}

// FenceSQL returns the statements that fence the tables, in one transaction.
func FenceSQL(migration string, tables []*schema.Table) []string {
	msg := fmt.Sprintf("table %%.%% is fenced by godwit migration %s: it has moved to the new database", migration)
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS _godwit",
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $godwit$
BEGIN
  RAISE EXCEPTION %s, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = '25006', HINT = 'write to the new database';
END $godwit$`, fenceFunction(migration), QuoteLiteral(msg)),
	}
	names, _ := fencedRelations(tables)
	for _, n := range names {
		stmts = append(stmts, fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE PROCEDURE %s()",
			fenceTrigger(migration), n, fenceFunction(migration)))
	}
	return stmts
}

// Fence implements engine.Source. It takes every table's lock in one LOCK
// TABLE ... NOWAIT and retries until the timeout: it never waits while holding
// a lock, so it cannot deadlock with a writer that touches several tables, and
// writers are not queued behind it until it holds them all.
func (s *Source) Fence(ctx context.Context, migration string, tables []*schema.Table, timeout time.Duration) (time.Time, position.Position, error) {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = QualName(t)
	}
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		var locked time.Time
		var final string
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// Committing the fence flushes the WAL of every write before it.
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = local"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN SHARE ROW EXCLUSIVE MODE NOWAIT"); err != nil {
				return err
			}
			locked = time.Now()
			for _, stmt := range FenceSQL(migration, tables) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return err
				}
			}
			// A marker in the fence's own transaction: every write to the tables
			// committed before it, and the stream delivers the transaction (as an
			// empty one) once replay has everything before it.
			return tx.QueryRow(ctx, "SELECT pg_logical_emit_message(true, 'godwit', $1)::text", "fence "+migration).Scan(&final)
		})
		switch {
		case err == nil:
			pos, err := position.ParseLSN(final)
			return locked, pos, err
		case pgCode(err) != "55P03" && pgCode(err) != "40P01":
			return time.Time{}, nil, fmt.Errorf("fencing the source tables: %w", err)
		case time.Now().After(deadline):
			return time.Time{}, nil, fmt.Errorf("writes in flight on the source did not pause within %s, so the tables could not be fenced; retry with a longer --timeout or at a quieter moment", timeout)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// Unfence implements engine.Source.
func (s *Source) Unfence(ctx context.Context, migration string, tables []*schema.Table) ([]string, error) {
	var removed []string
	names, shown := fencedRelations(tables)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, n := range names {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2)",
				n, ObjectName(migration)+"_fence").Scan(&exists); err != nil {
				return err
			}
			if exists {
				if _, err := tx.Exec(ctx, "DROP TRIGGER "+fenceTrigger(migration)+" ON "+n); err != nil {
					return err
				}
				removed = append(removed, "write fence on "+shown[i])
			}
		}
		if _, err := tx.Exec(ctx, "DROP FUNCTION IF EXISTS "+fenceFunction(migration)+"()"); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("removing the write fence from the source: %w", err)
	}
	// The schema goes when nothing of godwit's is left in it.
	if _, err := s.pool.Exec(ctx, "DROP SCHEMA IF EXISTS _godwit RESTRICT"); err != nil && pgCode(err) != "2BP01" {
		return removed, err
	}
	return removed, nil
}

// Sequences implements engine.Source.
func (s *Source) Sequences(ctx context.Context, tables []*schema.Table) ([]engine.SequenceValue, error) {
	var out []engine.SequenceValue
	for _, t := range tables {
		for _, c := range t.Columns {
			if c.Identity == "" && !strings.Contains(c.Default, "nextval(") {
				continue
			}
			var seq *string
			if err := s.pool.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, $2)", QualName(t), c.Name).Scan(&seq); err != nil {
				return nil, fmt.Errorf("finding the sequence of %s.%s: %w", t.QualifiedName(), c.Name, err)
			}
			v := engine.SequenceValue{Table: t.QualifiedName(), Column: c.Name}
			if seq == nil { // a default on a sequence the column does not own
				m := nextvalRef.FindStringSubmatch(c.Default)
				if m == nil {
					continue
				}
				name := strings.ReplaceAll(m[1], "''", "'")
				seq, v.Sequence = &name, name
			}
			if err := s.pool.QueryRow(ctx, "SELECT last_value, is_called FROM "+*seq).Scan(&v.Value, &v.Called); err != nil {
				return nil, fmt.Errorf("reading sequence %s: %w", *seq, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// SetSequences implements engine.Target.
func (t *Target) SetSequences(ctx context.Context, tables []*schema.Table, values []engine.SequenceValue) error {
	byName := map[string]*schema.Table{}
	for _, tb := range tables {
		byName[tb.QualifiedName()] = tb
	}
	for _, v := range values {
		tb := byName[v.Table]
		if tb == nil {
			continue
		}
		var seq *string
		if v.Sequence != "" {
			seq = &v.Sequence
		} else if err := t.pool.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, $2)", QualName(tb), v.Column).Scan(&seq); err != nil {
			return fmt.Errorf("finding the target sequence of %s.%s: %w", v.Table, v.Column, err)
		}
		if seq == nil {
			return fmt.Errorf("target column %s.%s has no sequence to carry the source's value %d", v.Table, v.Column, v.Value)
		}
		// A sequence shared by several columns is set once per column: keep the
		// highest. (value, is_called) pairs compare as the next value they give:
		// (N, called) is past (N, not called), so it is never moved back to it.
		if _, err := t.pool.Exec(ctx, "SELECT setval($1::regclass, $2, $3) FROM "+*seq+" WHERE ($2::bigint, $3::boolean) > (last_value, is_called)", *seq, v.Value, v.Called); err != nil {
			return fmt.Errorf("setting sequence %s: %w", *seq, err)
		}
	}
	return nil
}

// ValidateForeignKeys implements engine.Target.
// A partition's own foreign keys are validated too.
func (t *Target) ValidateForeignKeys(ctx context.Context, tb *schema.Table) error {
	rels, shown := fencedRelations([]*schema.Table{tb}) // the table and its partitions
	for i, rel := range rels {
		rows, err := t.pool.Query(ctx, "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'f' AND NOT convalidated", rel)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, err := t.pool.Exec(ctx, "ALTER TABLE "+rel+" VALIDATE CONSTRAINT "+QuoteIdent(n)); err != nil {
				return fmt.Errorf("validating foreign key %s on %s: %w", n, shown[i], err)
			}
		}
	}
	return nil
}
