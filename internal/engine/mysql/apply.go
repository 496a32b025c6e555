package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/sqlmeta"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// BeginApply implements engine.Target.
func (t *Target) BeginApply(ctx context.Context, migration string) (engine.ApplyTx, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &applyTx{tx: tx, migration: migration}, nil
}

// applyTx applies compacted changes with few statements: one DELETE of every
// key a segment deletes, then multi-row upserts of the new images. Where the
// table has unique keys besides its key, INSERT ... ON DUPLICATE KEY UPDATE
// could match one of those and silently update a different row, so there the
// rewritten keys are deleted too and the images plainly inserted: a collision
// is then an error, as it must be.
type applyTx struct {
	tx        *sql.Tx
	migration string
}

// maxStmtBytes bounds one statement's size, far below max_allowed_packet's default.
const maxStmtBytes = 4 << 20

func arg(v engine.Value) any {
	if v.Null {
		return nil
	}
	if v.Raw != nil {
		return v.Raw
	}
	return v.Text
}

func valueSize(v engine.Value) int {
	switch r := v.Raw.(type) {
	case string:
		return len(r) + 4
	case []byte:
		return 2*len(r) + 10
	}
	return len(v.Text) + 8
}

func (a *applyTx) exec(ctx context.Context, tb *schema.Table, q string, args []any) error {
	if _, err := a.tx.ExecContext(ctx, q, args...); err != nil {
		if errNumber(err) == 1062 || errNumber(err) == 1586 {
			return &engine.CollisionError{Table: tb.QualifiedName(), Err: describe(err)}
		}
		return fmt.Errorf("applying changes to %s: %w", tb.QualifiedName(), describe(err))
	}
	return nil
}

// keyMatch is the predicate for one key: k = ? or (k1 = ? AND k2 = ?).
func keyMatch(keys []*schema.Column) string {
	if len(keys) == 1 {
		return QuoteIdent(keys[0].Name) + " = " + placeholder(keys[0])
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = QuoteIdent(k.Name) + " = " + placeholder(k)
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// deleteKeys deletes the rows with the given keys, in statements of bounded size.
func (a *applyTx) deleteKeys(ctx context.Context, tb *schema.Table, keys [][]engine.Value) error {
	kc := keyColumns(tb)
	head := "DELETE FROM " + qualified(tb) + " WHERE "
	var b strings.Builder
	var args []any
	size, n := 0, 0
	// Composite keys are OR-ed equalities; the range optimizer handles a
	// thousand of them well, and IN lists of a single key several times more.
	limit := 5000
	if len(kc) > 1 {
		limit = 1000
	}
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		err := a.exec(ctx, tb, b.String(), args)
		b.Reset()
		args, size, n = args[:0], 0, 0
		return err
	}
	for _, k := range keys {
		if len(args) == 0 {
			b.WriteString(head)
			if len(kc) == 1 {
				b.WriteString(QuoteIdent(kc[0].Name) + " IN (")
			}
		} else {
			if len(kc) == 1 {
				b.WriteString(", ")
			} else {
				b.WriteString(" OR ")
			}
		}
		if len(kc) == 1 {
			b.WriteString(placeholder(kc[0]))
		} else {
			b.WriteString(keyMatch(kc))
		}
		for _, v := range k {
			args = append(args, arg(v))
			size += valueSize(v)
		}
		n++
		if size > maxStmtBytes || n >= limit {
			if len(kc) == 1 {
				b.WriteString(")")
			}
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(args) > 0 && len(kc) == 1 {
		b.WriteString(")")
	}
	return flush()
}

// onlyKeyUnique reports whether the table's only unique index is its key: then
// INSERT ... ON DUPLICATE KEY UPDATE can only ever match the row's own key.
func onlyKeyUnique(tb *schema.Table) bool {
	for _, ix := range tb.Indexes {
		if ix.Name != tb.KeyIndex && strings.HasPrefix(ix.Def, "UNIQUE ") {
			return false
		}
	}
	return true
}

// upsertClause is the ON DUPLICATE KEY UPDATE clause setting every non-key column.
func upsertClause(tb *schema.Table) string {
	var set []string
	for _, c := range copyColumns(tb) {
		isKey := false
		for _, k := range tb.Key {
			isKey = isKey || k == c.Name
		}
		if !isKey {
			set = append(set, QuoteIdent(c.Name)+" = VALUES("+QuoteIdent(c.Name)+")")
		}
	}
	if len(set) == 0 {
		k := QuoteIdent(tb.Key[0])
		set = append(set, k+" = "+k)
	}
	return " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
}

// insertRows inserts full row images with multi-row INSERTs, ending each
// statement with suffix.
func (a *applyTx) insertRows(ctx context.Context, tb *schema.Table, imgs [][]engine.Value, suffix string) error {
	cols := copyColumns(tb)
	ph := make([]string, len(cols))
	for i, c := range cols {
		ph[i] = placeholder(c)
	}
	tuple := "(" + strings.Join(ph, ", ") + ")"
	head := "INSERT INTO " + qualified(tb) + " (" + quoteNames(cols) + ") VALUES "
	var b strings.Builder
	var args []any
	size, n := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		b.WriteString(suffix)
		err := a.exec(ctx, tb, b.String(), args)
		b.Reset()
		args, size, n = args[:0], 0, 0
		return err
	}
	for _, img := range imgs {
		if n == 0 {
			b.WriteString(head)
		} else {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
		for _, v := range img {
			args = append(args, arg(v))
			size += valueSize(v)
		}
		n++
		if size > maxStmtBytes || n >= 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// Apply implements engine.ApplyTx.
func (a *applyTx) Apply(ctx context.Context, seg engine.Segment) error {
	ops := seg.Ops
	if seg.Barrier != nil {
		if seg.Barrier.Op == engine.Truncate {
			// TRUNCATE would commit the transaction; DELETE stays inside it.
			for _, tb := range seg.Barrier.Truncated {
				if err := a.exec(ctx, tb, "DELETE FROM "+qualified(tb), nil); err != nil {
					return err
				}
			}
			return nil
		}
		ops = []*engine.TableOps{engine.OpsOf(seg.Barrier)}
	}
	for _, o := range ops {
		tb := o.Table
		kc := keyColumns(tb)
		keys := append([][]engine.Value{}, o.Deletes...)
		cols := copyColumns(tb)
		// Without other unique keys an upsert is one statement and updates rows in
		// place; with them, rewritten rows are deleted first and inserted again, so
		// that a collision on another unique key is an error.
		upsert := onlyKeyUnique(tb)
		for _, img := range o.Upserts {
			if upsert {
				break
			}
			k := make([]engine.Value, len(kc))
			for i, c := range kc {
				for j, cc := range cols {
					if cc == c {
						k[i] = img[j]
					}
				}
			}
			keys = append(keys, k)
		}
		if err := a.deleteKeys(ctx, tb, keys); err != nil {
			return err
		}
		for _, p := range o.Partials {
			var set []string
			var args []any
			for i, name := range p.Cols {
				set = append(set, QuoteIdent(name)+" = "+placeholder(tb.Column(name)))
				args = append(args, arg(p.Vals[i]))
			}
			for _, v := range p.Key {
				args = append(args, arg(v))
			}
			q := "UPDATE " + qualified(tb) + " SET " + strings.Join(set, ", ") + " WHERE " + keyMatch(kc)
			if err := a.exec(ctx, tb, q, args); err != nil {
				return err
			}
		}
		suffix := ""
		if upsert {
			suffix = upsertClause(tb)
		}
		if err := a.insertRows(ctx, tb, o.Upserts, suffix); err != nil {
			return err
		}
	}
	return nil
}

func (a *applyTx) Commit(ctx context.Context, applied position.Position) error {
	if _, err := a.tx.ExecContext(ctx, "UPDATE "+metaDB+".migrations SET applied_pos = ? WHERE name = ?", sqlmeta.EncodePos(applied), a.migration); err != nil {
		_ = a.tx.Rollback()
		return err
	}
	return a.tx.Commit()
}

func (a *applyTx) Rollback(context.Context) { _ = a.tx.Rollback() }
