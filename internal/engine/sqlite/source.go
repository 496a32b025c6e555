package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Source is a SQLite database file godwit migrates from. Change capture is a
// set of triggers per table that write each change, numbered by a counter in
// commit order (SQLite has one writer at a time), into a log table in the file.
type Source struct {
	checksummer
	db   *sql.DB
	path string
	pfx  string // name prefix of this migration's objects in the file
	name string
}

var _ engine.Source = (*Source)(nil)

// OpenSource opens the source file of a migration; it must exist.
func OpenSource(ctx context.Context, raw, migration string) (*Source, error) {
	db, path, err := open(ctx, "source", raw, true, false)
	if err != nil {
		return nil, err
	}
	slug := strings.ToLower(strings.ReplaceAll(migration, "-", "_"))
	return &Source{checksummer: checksummer{db}, db: db, path: path, pfx: "_godwit_" + slug, name: migration}, nil
}

func (s *Source) Close() { s.db.Close() }

// Tables implements engine.Source.
func (s *Source) Tables(ctx context.Context, f schema.Filter) ([]*schema.Table, error) {
	return readTables(ctx, s.db, f)
}

// CheckCapture implements engine.Source: the file must be writable (triggers go in it).
func (s *Source) CheckCapture(ctx context.Context, _ []*schema.Table) error {
	if err := writable(s.path); err != nil {
		return fmt.Errorf("source %s: %v; change capture adds triggers and a change log to the file (or use --once)", s.path, err)
	}
	return nil
}

func (s *Source) seqTable() string      { return QuoteIdent(s.pfx + "_seq") }
func (s *Source) logTable(i int) string { return QuoteIdent(s.pfx + "_log_" + strconv.Itoa(i)) }
func (s *Source) trigger(kind string, i int) string {
	return QuoteIdent(s.pfx + "_" + kind + "_" + strconv.Itoa(i))
}

// immediate runs fn in a write transaction that waits up to wait for other writers.
func immediate(ctx context.Context, db *sql.DB, wait time.Duration, fn func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if wait > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", max(1, wait.Milliseconds()))); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = 10000")
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// CaptureSQL returns the statements that install change capture for the tables.
func (s *Source) CaptureSQL(tables []*schema.Table) []string {
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + s.seqTable() + " (n INTEGER NOT NULL)",
		"INSERT INTO " + s.seqTable() + " (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM " + s.seqTable() + ")",
	}
	for i, t := range tables {
		cols := copyColumnNames(t)
		var logCols, keyNull, colNull, oldKey, newCols []string
		for j := range t.Key {
			logCols = append(logCols, "k"+strconv.Itoa(j))
			keyNull = append(keyNull, "NULL")
			oldKey = append(oldKey, "OLD."+QuoteIdent(t.Key[j]))
		}
		for j, c := range cols {
			logCols = append(logCols, "c"+strconv.Itoa(j))
			colNull = append(colNull, "NULL")
			newCols = append(newCols, "NEW."+QuoteIdent(c))
		}
		// Untyped log columns keep each value exactly as it was, type included.
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.logTable(i)+" (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, "+strings.Join(logCols, ", ")+")")
		body := func(op string, vals []string) string {
			return "BEGIN UPDATE " + s.seqTable() + " SET n = n + 1; INSERT INTO " + s.logTable(i) +
				" SELECT n, '" + op + "', " + strings.Join(vals, ", ") + " FROM " + s.seqTable() + "; END"
		}
		tbl := QuoteIdent(t.Name)
		stmts = append(stmts,
			"CREATE TRIGGER IF NOT EXISTS "+s.trigger("ins", i)+" AFTER INSERT ON "+tbl+" "+body("I", append(append([]string{}, keyNull...), newCols...)),
			"CREATE TRIGGER IF NOT EXISTS "+s.trigger("upd", i)+" AFTER UPDATE ON "+tbl+" "+body("U", append(append([]string{}, oldKey...), newCols...)),
			"CREATE TRIGGER IF NOT EXISTS "+s.trigger("del", i)+" AFTER DELETE ON "+tbl+" "+body("D", append(append([]string{}, oldKey...), colNull...)))
	}
	return stmts
}

// StartCapture implements engine.Source.
func (s *Source) StartCapture(ctx context.Context, tables []*schema.Table) (position.Position, error) {
	var start int64
	err := immediate(ctx, s.db, 30*time.Second, func(c *sql.Conn) error {
		for _, stmt := range s.CaptureSQL(tables) {
			if _, err := c.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("installing change capture in %s: %w", s.path, err)
			}
		}
		return c.QueryRowContext(ctx, "SELECT n FROM "+s.seqTable()).Scan(&start)
	})
	return position.Seq(start), err
}

// objects lists this migration's objects in the file, by type.
func (s *Source) objects(ctx context.Context, kind string) ([]string, error) {
	return queryStrings(ctx, s.db, "SELECT name FROM sqlite_master WHERE type = ? AND substr(name, 1, ?) = ? ORDER BY name", kind, len(s.pfx)+1, s.pfx+"_")
}

// DropCapture implements engine.Source: capture triggers and change logs go
// (the fence, if any, stays: Unfence removes it).
func (s *Source) DropCapture(ctx context.Context, _ []*schema.Table) ([]string, error) {
	triggers, err := s.objects(ctx, "trigger")
	if err != nil {
		return nil, err
	}
	tables, err := s.objects(ctx, "table")
	if err != nil {
		return nil, err
	}
	var removed []string
	err = immediate(ctx, s.db, 30*time.Second, func(c *sql.Conn) error {
		for _, t := range triggers {
			if strings.Contains(t, "_fence_") {
				continue
			}
			if _, err := c.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+QuoteIdent(t)); err != nil {
				return err
			}
		}
		for _, t := range tables {
			if _, err := c.ExecContext(ctx, "DROP TABLE IF EXISTS "+QuoteIdent(t)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("removing change capture from %s: %w", s.path, err)
	}
	if n := len(triggers) - countFence(triggers); n > 0 {
		removed = append(removed, fmt.Sprintf("%d change capture triggers", n))
	}
	if len(tables) > 0 {
		removed = append(removed, fmt.Sprintf("change log (%d tables)", len(tables)))
	}
	return removed, nil
}

func countFence(names []string) int {
	n := 0
	for _, t := range names {
		if strings.Contains(t, "_fence_") {
			n++
		}
	}
	return n
}

// PlanChunks implements engine.Source by walking the key.
func (s *Source) PlanChunks(ctx context.Context, t *schema.Table, rows int64) ([]engine.Chunk, error) {
	if !t.HasKey() || t.Rows <= rows {
		return []engine.Chunk{{Table: t.QualifiedName()}}, nil
	}
	return engine.WalkChunks(ctx, s, t, rows)
}

// CopyFormat implements engine.Source.
func (s *Source) CopyFormat() string { return Format }

// currentSeq reads the change counter (0 when capture is not installed).
func (s *Source) currentSeq(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (position.Seq, error) {
	var n int64
	err := q.QueryRowContext(ctx, "SELECT n FROM "+s.seqTable()).Scan(&n)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	return position.Seq(n), err
}

// ReadChunk implements engine.Source: rows and the change counter are read in
// one read transaction, so the position is exactly the chunk's view.
func (s *Source) ReadChunk(ctx context.Context, t *schema.Table, c engine.Chunk, w io.Writer) (position.Position, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := writeRows(ctx, tx, t, c.Lo, c.Hi, "", w); err != nil {
		return nil, fmt.Errorf("reading %s chunk %d: %w", t.QualifiedName(), c.Seq, err)
	}
	return s.currentSeq(ctx, tx)
}

// ReadRange implements engine.RangeReader: the rows with lo < key <= hi in
// key order, without a position (so it also reads a target file, which has no
// change capture).
func (s *Source) ReadRange(ctx context.Context, t *schema.Table, lo, hi []string, w io.Writer) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	order := ""
	if t.HasKey() {
		order = " ORDER BY " + quoteList(t.Key)
	}
	if err := writeRows(ctx, tx, t, lo, hi, order, w); err != nil {
		return fmt.Errorf("reading %s: %w", t.QualifiedName(), err)
	}
	return nil
}

var _ engine.RangeReader = (*Source)(nil)

// writeRows writes the copied columns of the rows with lo < key <= hi to w in
// the rows format.
func writeRows(ctx context.Context, tx *sql.Tx, t *schema.Table, lo, hi []string, order string, w io.Writer) error {
	where := "1"
	var args []any
	if t.HasKey() {
		var err error
		if where, args, err = rangeWhere(t, lo, hi); err != nil {
			return err
		}
	}
	cols := copyColumnNames(t)
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s%s", rawList(cols), QuoteIdent(t.Name), where, order), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		buf = buf[:0]
		for _, v := range vals {
			if buf, err = appendValue(buf, v); err != nil {
				return err
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CurrentPosition implements engine.Source.
func (s *Source) CurrentPosition(ctx context.Context) (position.Position, error) {
	return s.currentSeq(ctx, s.db)
}

// logRow is one change read from a log table.
type logRow struct {
	seq   int64
	table int
	op    string
	vals  []any
}

// readLogs reads the changes with from < seq <= to from every log table, in order.
func (s *Source) readLogs(ctx context.Context, tables []*schema.Table, from, to int64) ([]logRow, error) {
	var out []logRow
	for i, t := range tables {
		rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+s.logTable(i)+" WHERE seq > ? AND seq <= ? ORDER BY seq", from, to)
		if err != nil {
			return nil, fmt.Errorf("reading the change log of %s: %w", t.QualifiedName(), err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			op, _ := vals[1].(string)
			out = append(out, logRow{seq: vals[0].(int64), table: i, op: op, vals: vals[2:]})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].seq < out[b].seq })
	return out, nil
}

func change(t *schema.Table, r logRow) engine.Change {
	nk := len(t.Key)
	ch := engine.Change{Table: t}
	switch r.op {
	case "I":
		ch.Op = engine.Insert
	case "U":
		ch.Op = engine.Update
	default:
		ch.Op = engine.Delete
	}
	if r.op != "I" {
		for _, v := range r.vals[:nk] {
			ch.Key = append(ch.Key, value(v))
		}
	}
	if r.op != "D" {
		for _, v := range r.vals[nk:] {
			ch.New = append(ch.New, value(v))
		}
	}
	if r.op == "U" { // an update that kept its key is not a move
		same := true
		cols := copyColumnNames(t)
		for j, k := range t.Key {
			for c, name := range cols {
				if name == k && ch.New[c].Text != ch.Key[j].Text {
					same = false
				}
			}
		}
		if same {
			ch.Key = nil
		}
	}
	return ch
}

const readBatch = 2000

// Stream implements engine.Source. Every read takes the counter M first and then
// the changes up to M: a reader sees only committed transactions, so the changes
// up to M are whole transactions; they go out as one transaction (in parts when
// large) ending at M, and are never split across target transactions.
func (s *Source) Stream(ctx context.Context, from position.Position, tables []*schema.Table, out chan<- engine.Txn, acked func() position.Position, poke <-chan struct{}) error {
	start, ok := from.(position.Seq)
	if !ok {
		return fmt.Errorf("SQLite source cannot start from position %v", from)
	}
	cur := int64(start)
	lastPurge := time.Now()
	idle := time.NewTimer(0)
	defer idle.Stop()
	send := func(txn engine.Txn) error {
		select {
		case out <- txn:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poke:
		case <-idle.C:
		}
		m, err := s.currentSeq(ctx, s.db)
		if err != nil {
			return err
		}
		if int64(m) <= cur {
			// Nothing new: a heartbeat says so, so consistency and lag can advance.
			select {
			case out <- engine.Txn{End: position.Seq(cur)}:
			default:
			}
		}
		for int64(m) > cur {
			to := min(int64(m), cur+readBatch)
			rows, err := s.readLogs(ctx, tables, cur, to)
			if err != nil {
				return err
			}
			txn := engine.Txn{More: to < int64(m), CommitTime: time.Now()}
			if !txn.More {
				txn.End = m
			}
			for _, r := range rows {
				txn.Changes = append(txn.Changes, change(tables[r.table], r))
			}
			if err := send(txn); err != nil {
				return err
			}
			cur = to
		}
		if time.Since(lastPurge) > time.Second {
			if err := s.purge(ctx, tables, acked()); err != nil {
				return err
			}
			lastPurge = time.Now()
		}
		idle.Reset(20 * time.Millisecond)
	}
}

// purge deletes logged changes the target has committed.
func (s *Source) purge(ctx context.Context, tables []*schema.Table, acked position.Position) error {
	q, ok := acked.(position.Seq)
	if !ok || q <= 0 {
		return nil
	}
	for i := range tables {
		if _, err := s.db.ExecContext(ctx, "DELETE FROM "+s.logTable(i)+" WHERE seq <= ?", int64(q)); err != nil && !isBusy(err) {
			return fmt.Errorf("purging the change log: %w", err)
		}
	}
	return nil
}

// Fence implements engine.Source: triggers that abort every write, installed
// in one write transaction (which waits for the writer in flight, up to timeout).
func (s *Source) Fence(ctx context.Context, migration string, tables []*schema.Table, timeout time.Duration) (time.Time, position.Position, error) {
	var locked time.Time
	var final position.Seq
	err := immediate(ctx, s.db, timeout, func(c *sql.Conn) error {
		locked = time.Now() // the write lock is held: writers wait from here
		for i, t := range tables {
			msg := strings.ReplaceAll(fmt.Sprintf("table %s is fenced by godwit migration %s: it has moved to the new database", t.QualifiedName(), migration), "'", "''")
			for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
				stmt := fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s BEFORE %s ON %s BEGIN SELECT RAISE(ABORT, '%s'); END",
					s.trigger("fence_"+strings.ToLower(op), i), op, QuoteIdent(t.Name), msg)
				if _, err := c.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
		}
		var err error
		final, err = s.currentSeq(ctx, c)
		return err
	})
	if isBusy(err) {
		return time.Time{}, nil, fmt.Errorf("a write in flight on the source did not finish within %s, so the tables could not be fenced; retry with a longer --timeout", timeout)
	}
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("fencing the source tables: %w", err)
	}
	return locked, final, nil
}

// Unfence implements engine.Source.
func (s *Source) Unfence(ctx context.Context, _ string, _ []*schema.Table) ([]string, error) {
	triggers, err := s.objects(ctx, "trigger")
	if err != nil {
		return nil, err
	}
	n := 0
	err = immediate(ctx, s.db, 30*time.Second, func(c *sql.Conn) error {
		for _, t := range triggers {
			if strings.Contains(t, "_fence_") {
				if _, err := c.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+QuoteIdent(t)); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		return nil, err
	}
	return []string{fmt.Sprintf("write fence (%d triggers)", n)}, nil
}

// Sequences implements engine.Source: for each table with a counter, the last
// value handed out (Called set): the AUTOINCREMENT counter in sqlite_sequence
// or, above it or without one, the largest INTEGER PRIMARY KEY (a rowid table
// hands out the largest plus one).
func (s *Source) Sequences(ctx context.Context, tables []*schema.Table) ([]engine.SequenceValue, error) {
	var out []engine.SequenceValue
	for _, t := range tables {
		var seq sql.NullInt64
		err := s.db.QueryRowContext(ctx, "SELECT seq FROM sqlite_sequence WHERE name = ?", t.Name).Scan(&seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table") {
			return nil, err
		}
		col := ""
		for _, c := range t.Columns {
			if c.AutoIncrement {
				col = c.Name
			}
		}
		var top sql.NullInt64
		if col != "" {
			if err := s.db.QueryRowContext(ctx, "SELECT max("+QuoteIdent(col)+") FROM "+QuoteIdent(t.Name)).Scan(&top); err != nil {
				return nil, fmt.Errorf("reading the largest key of %s: %w", t.QualifiedName(), err)
			}
		} else if len(t.Key) == 1 {
			col = t.Key[0]
		}
		if !seq.Valid && !top.Valid {
			continue
		}
		out = append(out, engine.SequenceValue{Table: t.QualifiedName(), Column: col, Value: max(seq.Int64, top.Int64), Called: true})
	}
	return out, nil
}
