package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Source is a MySQL or MariaDB server godwit migrates from. Change capture is
// a replica connection reading the binary log: nothing is created on the
// server, so the start position is just the binlog coordinate read before the copy.
type Source struct {
	checksummer
	db   *sql.DB
	conn *Conn
	name string
	jobs int
	// snap holds connections in one shared consistent snapshot while a
	// one-time copy is pinned (PinSnapshot); ReadChunk takes one from it.
	snap chan *sql.Conn
	// needed is the oldest binlog position the migration still needs (the
	// start, then what the target has committed), for RetainedBytes.
	needed atomic.Pointer[position.Binlog]
	// received is the last place to resume from the stream has read.
	received atomic.Pointer[position.Binlog]
	*prober
}

var _ engine.Source = (*Source)(nil)

// OpenSource connects to the source server of a migration.
func OpenSource(ctx context.Context, raw, migration string, jobs int) (*Source, error) {
	c, err := ParseURL("source", raw)
	if err != nil {
		return nil, err
	}
	db, err := c.open(ctx, "source", jobs)
	if err != nil {
		return nil, err
	}
	return &Source{checksummer: checksummer{db}, db: db, conn: c, name: migration, jobs: max(1, jobs), prober: &prober{conn: c}}, nil
}

func (s *Source) Close() {
	s.ReleaseSnapshot()
	s.prober.close()
	s.db.Close()
}

// PinSnapshot makes every later ReadChunk see the tables as of one moment (a
// one-time copy, which no replay repairs). InnoDB snapshots cannot be shared
// between sessions, so, as mydumper does, the tables are read-locked for the
// instant it takes to open one snapshot per copy job; then the lock goes.
func (s *Source) PinSnapshot(ctx context.Context, tables []*schema.Table) error {
	lock, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "SET SESSION lock_wait_timeout = 60"); err != nil {
		return err
	}
	locks := make([]string, len(tables))
	for i, t := range tables {
		locks[i] = qualified(t) + " READ"
	}
	if len(locks) > 0 {
		if _, err := lock.ExecContext(ctx, "LOCK TABLES "+strings.Join(locks, ", ")); err != nil {
			return fmt.Errorf("locking the source tables for an instant to open one consistent snapshot for the copy (needs the LOCK TABLES privilege): %w", describe(err))
		}
		defer lock.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES")
	}
	snap := make(chan *sql.Conn, s.jobs)
	for range s.jobs {
		c, err := s.db.Conn(ctx)
		if err == nil {
			_, err = c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			close(snap)
			for c := range snap {
				c.Close()
			}
			return fmt.Errorf("opening a consistent snapshot on the source: %w", describe(err))
		}
		snap <- c
	}
	s.snap = snap
	return nil
}

// ReleaseSnapshot ends the pinned snapshot, if any.
func (s *Source) ReleaseSnapshot() {
	if s.snap == nil {
		return
	}
	for range cap(s.snap) {
		c := <-s.snap
		_, _ = c.ExecContext(context.Background(), "ROLLBACK")
		c.Close()
	}
	s.snap = nil
}

// Tables implements engine.Source.
func (s *Source) Tables(ctx context.Context, f schema.Filter) ([]*schema.Table, error) {
	return readTables(ctx, s.db, s.conn.Database, f)
}

// serverVars are the settings change capture depends on.
type serverVars struct {
	LogBin, Format, RowImage, Version string
	ServerID                          uint32
}

// checkVars reports, as one actionable line, what in the settings stops change capture.
func checkVars(v serverVars, replicaID uint32) error {
	switch {
	case v.LogBin != "1" && !strings.EqualFold(v.LogBin, "ON"):
		return errors.New("the source's binary log is off (log_bin): godwit reads changes from it; restart the server with log_bin=ON and binlog_format=ROW, or copy once with --once")
	case !strings.EqualFold(v.Format, "ROW"):
		return fmt.Errorf("the source's binlog_format is %s: godwit needs row events; run SET GLOBAL binlog_format=ROW (and set it in the server's config), then reconnect the writers", v.Format)
	case strings.EqualFold(v.RowImage, "MINIMAL"):
		return errors.New("the source's binlog_row_image is MINIMAL: inserts would arrive without their default values; run SET GLOBAL binlog_row_image=FULL (or NOBLOB) and set it in the server's config, then reconnect the writers")
	case v.ServerID == replicaID:
		return fmt.Errorf("server_id %d, which godwit would read the binlog with, is the source's own server_id: pass another one with ?server_id=N in the source URL", replicaID)
	}
	return nil
}

func (s *Source) vars(ctx context.Context) (serverVars, error) {
	var v serverVars
	var image sql.NullString
	err := s.db.QueryRowContext(ctx, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@version").Scan(&v.LogBin, &v.Format, &image, &v.ServerID, &v.Version)
	v.RowImage = image.String
	return v, err
}

func (s *Source) flavor(v serverVars) string {
	if strings.Contains(strings.ToLower(v.Version), "mariadb") {
		return "mariadb"
	}
	return "mysql"
}

// CaptureWarnings names the foreign keys whose actions (CASCADE, SET NULL,
// SET DEFAULT) change rows the binary log does not show: InnoDB performs them
// below the binlog, so the target does not see those changes.
func (s *Source) CaptureWarnings(tables []*schema.Table) []string {
	var fks []string
	for _, t := range tables {
		for _, c := range t.Constraints {
			if c.Kind != "f" {
				continue
			}
			var acts []string
			for _, a := range []struct{ on, act string }{{"DELETE", c.OnDelete}, {"UPDATE", c.OnUpdate}} {
				if a.act == "CASCADE" || a.act == "SET NULL" || a.act == "SET DEFAULT" {
					acts = append(acts, "ON "+a.on+" "+a.act)
				}
			}
			if len(acts) > 0 {
				fks = append(fks, fmt.Sprintf("%s.%s (%s)", t.QualifiedName(), c.Name, strings.Join(acts, ", ")))
			}
		}
	}
	if len(fks) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("MySQL does not write the rows that foreign key actions change to the binary log, so those changes are not replayed: %s; verify reports such rows and complete refuses to cut over while they differ (docs/mysql.md)",
		strings.Join(fks, ", "))}
}

// CheckCapture implements engine.Source: binary log on and in ROW format, a
// free server_id, and the privileges to read positions and the binlog (tried
// for real with a short replica connection).
func (s *Source) CheckCapture(ctx context.Context, _ []*schema.Table) error {
	v, err := s.vars(ctx)
	if err != nil {
		return fmt.Errorf("reading the source's settings: %w", describe(err))
	}
	if err := checkVars(v, s.conn.replicaID(s.name)); err != nil {
		return err
	}
	pos, err := s.CurrentPosition(ctx)
	if err != nil {
		return err
	}
	return s.probe(ctx, v, pos.(position.Binlog))
}

// masterStatus reads the binlog coordinate the server writes next.
func masterStatus(ctx context.Context, q querier) (position.Binlog, error) {
	rows, err := q.QueryContext(ctx, "SHOW MASTER STATUS")
	if errNumber(err) == 1064 { // MySQL 8.4 renamed it
		rows, err = q.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err != nil {
		if n := errNumber(err); n == 1227 || n == 1045 {
			return position.Binlog{}, fmt.Errorf("the source user cannot read the binlog position (%w): grant it REPLICATION CLIENT (BINLOG MONITOR on MariaDB) and REPLICATION SLAVE", describe(err))
		}
		return position.Binlog{}, fmt.Errorf("reading the source's binlog position: %w", describe(err))
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return position.Binlog{}, err
		}
		return position.Binlog{}, errors.New("the source's binary log is off (SHOW MASTER STATUS is empty): restart the server with log_bin=ON and binlog_format=ROW, or copy once with --once")
	}
	vals, ptrs := rawRow(len(cols))
	if err := rows.Scan(ptrs...); err != nil {
		return position.Binlog{}, err
	}
	return position.ParseBinlog(string(vals[0]) + ":" + string(vals[1]))
}

// StartCapture implements engine.Source: the binlog is already being written;
// P0 is where it stands now.
func (s *Source) StartCapture(ctx context.Context, _ []*schema.Table) (position.Position, error) {
	p, err := masterStatus(ctx, s.db)
	if err == nil {
		s.needed.Store(&p)
	}
	return p, err
}

// RetainedBytes is how much binlog the migration still needs from the server:
// from the oldest position it needs (the start, then what the target has
// committed, as this process knows it) to the end. The server keeps binlogs by
// its own expiry, not for godwit: this is what must not be purged.
func (s *Source) RetainedBytes(ctx context.Context) (int64, error) {
	need := s.needed.Load()
	if need == nil {
		return 0, nil
	}
	rows, err := s.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals, ptrs := rawRow(len(cols))
	var total int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		size, _ := strconv.ParseInt(string(vals[1]), 10, 64)
		file := position.Binlog{File: string(vals[0]), Pos: uint32(min(size, math.MaxUint32))}
		switch {
		case file.File == need.File:
			total += max(0, size-int64(need.Pos))
		case file.Covers(*need):
			total += size
		}
	}
	return total, rows.Err()
}

// DropCapture implements engine.Source: reading the binlog leaves nothing on the server.
func (s *Source) DropCapture(context.Context, []*schema.Table) ([]string, error) { return nil, nil }

// CurrentPosition implements engine.Source.
func (s *Source) CurrentPosition(ctx context.Context) (position.Position, error) {
	return masterStatus(ctx, s.db)
}

// DisplayPosition is the source's position for showing lag. MariaDB writes a
// binlog checkpoint event some time after a rotation and sends it to a
// replica only with the next transaction: an idle source's position stays a
// few bytes past what any stream can read. Events after the stream's place
// that are no transaction are not lag.
func (s *Source) DisplayPosition(ctx context.Context) (position.Position, error) {
	cur, err := masterStatus(ctx, s.db)
	rcv := s.received.Load()
	if err != nil || rcv == nil || rcv.File != cur.File || cur.Pos <= rcv.Pos || cur.Pos-rcv.Pos > 4096 {
		return cur, err
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SHOW BINLOG EVENTS IN %s FROM %d LIMIT 20", QuoteString(rcv.File), rcv.Pos))
	if err != nil {
		return cur, nil // only a display: the plain position will do
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals, ptrs := rawRow(len(cols))
	for rows.Next() {
		if rows.Scan(ptrs...) != nil || len(vals) < 3 {
			return cur, nil
		}
		if pos, _ := strconv.ParseUint(string(vals[1]), 10, 32); pos >= uint64(cur.Pos) {
			break // written since the status was read
		}
		switch string(vals[2]) { // Log_name, Pos, Event_type, ...
		case "Binlog_checkpoint", "Gtid_list", "Format_desc", "Rotate", "Previous_gtids":
		default:
			return cur, nil
		}
	}
	if rows.Err() != nil {
		return cur, nil
	}
	return *rcv, nil
}

func isIntType(c *schema.Column) bool {
	switch baseType(c) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return true
	}
	return false
}

// PlanChunks implements engine.Source: a dense integer key is split by value
// range, other keys by walking the key every rows entries.
func (s *Source) PlanChunks(ctx context.Context, t *schema.Table, rows int64) ([]engine.Chunk, error) {
	one := []engine.Chunk{{Table: t.QualifiedName()}}
	if !t.HasKey() {
		return one, nil
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qualified(t)).Scan(&t.Rows); err != nil {
		return nil, fmt.Errorf("counting the rows of %s: %w", t.QualifiedName(), err)
	}
	if t.Rows <= rows {
		return one, nil
	}
	if k := t.Column(t.Key[0]); len(t.Key) == 1 && isIntType(k) && !isUnsigned(k) {
		var lo, hi sql.NullInt64
		q := QuoteIdent(k.Name)
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf("SELECT MIN(%s), MAX(%s) FROM %s", q, q, qualified(t))).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("planning chunks of %s: %w", t.QualifiedName(), err)
		}
		if !lo.Valid {
			return one, nil
		}
		if float64(hi.Int64)-float64(lo.Int64)+1 <= 2*float64(t.Rows) {
			return engine.SplitIntRange(t.QualifiedName(), lo.Int64, hi.Int64, t.Rows, rows), nil
		}
	}
	return engine.WalkChunks(ctx, s, t, rows)
}

// Format is the chunk byte format: LOAD DATA's default text format (tab
// separated, backslash escapes, \N for NULL), each column read with selectExpr.
const Format = "mysql-tsv"

// CopyFormat implements engine.Source.
func (s *Source) CopyFormat() string { return Format }

// ReadChunk implements engine.Source: one SELECT (its own consistent read),
// then the binlog position, which lies after every commit the read saw. In a
// pinned snapshot the read is in the snapshot and there is no position.
func (s *Source) ReadChunk(ctx context.Context, t *schema.Table, c engine.Chunk, w io.Writer) (position.Position, error) {
	var conn *sql.Conn
	if s.snap != nil {
		select {
		case conn = <-s.snap:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { s.snap <- conn }()
	} else {
		var err error
		if conn, err = s.db.Conn(ctx); err != nil {
			return nil, err
		}
		defer conn.Close()
	}
	if err := writeRows(ctx, conn, t, c.Lo, c.Hi, w); err != nil {
		return nil, fmt.Errorf("reading %s chunk %d: %w", t.QualifiedName(), c.Seq, err)
	}
	if s.snap != nil {
		return nil, nil
	}
	return masterStatus(ctx, conn)
}

// ReadRange implements engine.RangeReader: the rows with lo < key <= hi in
// Format, in one SELECT, without a binlog position (it works on a server with
// the binary log off, such as a target).
func (s *Source) ReadRange(ctx context.Context, t *schema.Table, lo, hi []string, w io.Writer) error {
	if err := writeRows(ctx, s.db, t, lo, hi, w); err != nil {
		return fmt.Errorf("reading %s: %w", t.QualifiedName(), err)
	}
	return nil
}

// writeRows writes the rows with lo < key <= hi (all rows of a table without
// a key) in Format, in key order, each column read with selectExpr.
func writeRows(ctx context.Context, q querier, t *schema.Table, lo, hi []string, w io.Writer) error {
	cols := copyColumns(t)
	where, args := "TRUE", []any(nil)
	order := ""
	if t.HasKey() {
		where, args = rangeWhere(t, lo, hi)
		order = " ORDER BY " + quoteNames(keyColumns(t))
	}
	rows, err := q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s%s", selectList(cols), qualified(t), where, order), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals, ptrs := rawRow(len(cols))
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		buf = buf[:0]
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, '\t')
			}
			if v == nil {
				buf = append(buf, '\\', 'N')
			} else {
				buf = loadEscape(buf, v)
			}
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return rows.Err()
}

var _ engine.RangeReader = (*Source)(nil)

// fenceTag names one migration's fence triggers.
func fenceTag(migration string) string {
	h := fnv.New32a()
	h.Write([]byte(migration))
	return fmt.Sprintf("_godwit_fence_%08x_", h.Sum32())
}

// FenceSQL returns the trigger statements that make writes to table i fail.
func FenceSQL(migration string, i int, t *schema.Table) []string {
	msg := fmt.Sprintf("%s is fenced by godwit migration %s: it moved to the new database", t.QualifiedName(), migration)
	if len(msg) > 128 {
		msg = msg[:128]
	}
	var out []string
	for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
		name := fenceTag(migration) + itoa(i) + "_" + strings.ToLower(op[:3])
		out = append(out, fmt.Sprintf("CREATE TRIGGER %s.%s BEFORE %s ON %s FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = %s",
			QuoteIdent(t.Schema), QuoteIdent(name), op, qualified(t), QuoteString(msg)))
	}
	return out
}

// Fence implements engine.Source: LOCK TABLES ... WRITE over every table at
// once (each attempt waits at most a second, so waiting writers and readers are
// not queued behind it for long; retried until timeout), then the triggers and
// the final position while the lock is held, then UNLOCK TABLES.
func (s *Source) Fence(ctx context.Context, migration string, tables []*schema.Table, timeout time.Duration) (time.Time, position.Position, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return time.Time{}, nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION lock_wait_timeout = 1"); err != nil {
		return time.Time{}, nil, err
	}
	locks := make([]string, len(tables))
	for i, t := range tables {
		locks[i] = qualified(t) + " WRITE"
	}
	deadline := time.Now().Add(timeout)
	for {
		_, err = conn.ExecContext(ctx, "LOCK TABLES "+strings.Join(locks, ", "))
		if err == nil {
			break
		}
		if errNumber(err) != 1205 || time.Now().After(deadline) {
			if errNumber(err) == 1205 {
				return time.Time{}, nil, fmt.Errorf("writes in flight on the source kept the tables locked for %s, so they could not be fenced; retry with a longer --timeout", timeout)
			}
			return time.Time{}, nil, fmt.Errorf("locking the source tables to fence them: %w", describe(err))
		}
	}
	locked := time.Now()
	unlock := func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES") }
	for i, t := range tables {
		for _, stmt := range FenceSQL(migration, i, t) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil && errNumber(err) != 1359 { // 1359: exists already
				unlock()
				_, _ = s.Unfence(context.WithoutCancel(ctx), migration, tables)
				return time.Time{}, nil, fmt.Errorf("creating the fence trigger on %s: %w", t.QualifiedName(), describe(err))
			}
		}
	}
	final, err := masterStatus(ctx, conn)
	unlock()
	if err != nil {
		_, _ = s.Unfence(context.WithoutCancel(ctx), migration, tables)
		return time.Time{}, nil, err
	}
	return locked, final, nil
}

// Unfence implements engine.Source.
func (s *Source) Unfence(ctx context.Context, migration string, _ []*schema.Table) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_NAME LIKE ?",
		strings.ReplaceAll(fenceTag(migration), "_", `\_`)+"%")
	if err != nil {
		return nil, fmt.Errorf("looking for the fence: %w", describe(err))
	}
	var names []string
	for rows.Next() {
		var sch, name string
		if err := rows.Scan(&sch, &name); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, QuoteIdent(sch)+"."+QuoteIdent(name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := s.db.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+n); err != nil {
			return nil, fmt.Errorf("removing the fence trigger %s: %w", n, describe(err))
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("write fence (%d triggers)", len(names))}, nil
}

// Sequences implements engine.Source: AUTO_INCREMENT counters, each as the
// last value handed out (Value = the table's AUTO_INCREMENT - 1, Called set).
// Values are only read for AUTO_INCREMENT columns.
func (s *Source) Sequences(ctx context.Context, tables []*schema.Table) ([]engine.SequenceValue, error) {
	_, _ = s.db.ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0") // MySQL 8 caches it; MariaDB has no such variable
	var out []engine.SequenceValue
	for _, t := range tables {
		col := ""
		for _, c := range t.Columns {
			if c.AutoIncrement || c.Identity == "AUTO_INCREMENT" {
				col = c.Name
			}
		}
		if col == "" {
			continue
		}
		// An unsigned counter goes up to 2^64-1: read it as text.
		var next sql.NullString
		if err := s.db.QueryRowContext(ctx, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", t.Schema, t.Name).Scan(&next); err != nil {
			return nil, fmt.Errorf("reading the AUTO_INCREMENT of %s: %w", t.QualifiedName(), err)
		}
		if next.Valid {
			n, err := strconv.ParseUint(next.String, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("the AUTO_INCREMENT of %s is %q: %w", t.QualifiedName(), next.String, err)
			}
			// Beyond a signed 64-bit counter no target's sequence goes: it
			// stops at the largest, where its next value fails, as the
			// source's would.
			last := int64(math.MaxInt64)
			if n-1 < math.MaxInt64 {
				last = int64(n - 1)
			}
			out = append(out, engine.SequenceValue{Table: t.QualifiedName(), Column: col, Value: last, Called: true})
		}
	}
	return out, nil
}

// rawRow is a row of n raw columns and the pointers Scan fills them through.
func rawRow(n int) ([]sql.RawBytes, []any) {
	vals := make([]sql.RawBytes, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ptrs
}
