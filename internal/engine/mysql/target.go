package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/sqlmeta"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// metaDB is the database holding godwit's bookkeeping on a MySQL target,
// written in the same transactions as the rows it describes.
const metaDB = "_godwit"

// Target is a MySQL or MariaDB server godwit migrates to.
type Target struct {
	checksummer
	db   *sql.DB
	conn *Conn
	*prober
}

var _ engine.Target = (*Target)(nil)

// OpenTarget connects to the target server.
func OpenTarget(ctx context.Context, raw string, jobs int) (*Target, error) {
	c, err := ParseURL("target", raw)
	if err != nil {
		return nil, err
	}
	db, err := c.open(ctx, "target", jobs)
	if err != nil {
		return nil, err
	}
	return &Target{checksummer: checksummer{db}, db: db, conn: c, prober: &prober{conn: c}}, nil
}

func (t *Target) Close() {
	t.prober.close()
	t.db.Close()
}

var metaDDL = []string{
	"CREATE DATABASE IF NOT EXISTS " + metaDB,
	"CREATE TABLE IF NOT EXISTS " + metaDB + `.migrations (name VARCHAR(200) NOT NULL PRIMARY KEY, stage VARCHAR(20) NOT NULL,
  start_pos TEXT, applied_pos TEXT, consistency_pos TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	"CREATE TABLE IF NOT EXISTS " + metaDB + `.chunks (migration VARCHAR(200) NOT NULL, table_name VARCHAR(400) NOT NULL, seq INT NOT NULL,
  lo LONGTEXT, hi LONGTEXT, done TINYINT NOT NULL DEFAULT 0, ` + "`rows`" + ` BIGINT NOT NULL DEFAULT 0, end_pos TEXT,
  PRIMARY KEY (migration, table_name(250), seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
}

// Prepare implements engine.Target.
func (t *Target) Prepare(ctx context.Context, migration string) (*engine.Checkpoint, error) {
	for _, q := range metaDDL {
		if _, err := t.db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("creating godwit's bookkeeping database %s on the target: %w", metaDB, describe(err))
		}
	}
	return sqlmeta.ReadCheckpoint(ctx, t.db, metaDB+".migrations", metaDB+".chunks", migration)
}

// createSQL is the table's definition qualified with its database.
func createSQL(tb *schema.Table) string {
	return strings.Replace(tb.CreateSQL, "CREATE TABLE "+QuoteIdent(tb.Name), "CREATE TABLE "+qualified(tb), 1)
}

func (t *Target) tableExists(ctx context.Context, tb *schema.Table) (bool, error) {
	var n int
	err := t.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", tb.Schema, tb.Name).Scan(&n)
	return n > 0, err
}

// CreateTables implements engine.Target. MySQL commits every DDL statement, so
// the tables come first (an empty existing table is taken as is, which makes a
// repeated call harmless) and the plan is recorded after, in one transaction.
func (t *Target) CreateTables(ctx context.Context, migration string, tables []*schema.Table, chunks []engine.Chunk, start position.Position, truncate bool) error {
	for _, tb := range tables {
		exists, err := t.tableExists(ctx, tb)
		if err != nil {
			return err
		}
		if exists {
			var nonEmpty int
			if err := t.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+qualified(tb)+")").Scan(&nonEmpty); err != nil {
				return err
			}
			switch {
			case nonEmpty != 0 && !truncate:
				return fmt.Errorf("target table %s already exists and is not empty: drop it, or pass --truncate-target to empty it first", tb.QualifiedName())
			case nonEmpty != 0:
				if _, err := t.db.ExecContext(ctx, "TRUNCATE TABLE "+qualified(tb)); err != nil {
					return err
				}
			}
			continue
		}
		if tb.CreateSQL == "" {
			return fmt.Errorf("table %s has no MySQL definition to create it from", tb.QualifiedName())
		}
		if _, err := t.db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+QuoteIdent(tb.Schema)); err != nil {
			return fmt.Errorf("creating database %s on the target: %w", tb.Schema, describe(err))
		}
		if _, err := t.db.ExecContext(ctx, createSQL(tb)); err != nil {
			return &engine.PermanentError{Err: fmt.Errorf("creating table %s on the target: %w", tb.QualifiedName(), describe(err))}
		}
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+metaDB+".chunks WHERE migration = ?", migration); err != nil {
		return err
	}
	for i := 0; i < len(chunks); i += 500 {
		batch := chunks[i:min(i+500, len(chunks))]
		var b strings.Builder
		args := make([]any, 0, 5*len(batch))
		b.WriteString("INSERT INTO " + metaDB + ".chunks (migration, table_name, seq, lo, hi) VALUES ")
		for j, c := range batch {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, migration, c.Table, c.Seq, sqlmeta.JSONBound(c.Lo), sqlmeta.JSONBound(c.Hi))
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+metaDB+`.migrations (name, stage, start_pos) VALUES (?, ?, ?)
ON DUPLICATE KEY UPDATE stage = VALUES(stage), start_pos = VALUES(start_pos), applied_pos = NULL, consistency_pos = NULL`,
		migration, string(engine.StageCopying), sqlmeta.EncodePos(start)); err != nil {
		return err
	}
	return tx.Commit()
}

var loadSeq atomic.Int64

// loadSQL is the LOAD DATA statement that reads a chunk from the named reader.
func loadSQL(tb *schema.Table, reader string) string {
	var cols, sets []string
	for i, c := range copyColumns(tb) {
		col, set := loadTarget(c, i)
		cols = append(cols, col)
		if set != "" {
			sets = append(sets, set)
		}
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + reader + "' INTO TABLE " + qualified(tb) + " CHARACTER SET binary (" + strings.Join(cols, ", ") + ")"
	if len(sets) > 0 {
		q += " SET " + strings.Join(sets, ", ")
	}
	return q
}

// WriteChunk implements engine.Target: the chunk streams into LOAD DATA
// LOCAL, inside the transaction that marks it done.
func (t *Target) WriteChunk(ctx context.Context, migration string, tb *schema.Table, c engine.Chunk, format string, r io.Reader, end func() (position.Position, error)) (int64, error) {
	if format != Format {
		return 0, fmt.Errorf("MySQL target cannot load chunks in format %q", format)
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	name := fmt.Sprintf("godwit-%d", loadSeq.Add(1))
	mysql.RegisterReaderHandler(name, func() io.Reader { return r })
	defer mysql.DeregisterReaderHandler(name)
	res, err := tx.ExecContext(ctx, loadSQL(tb, name))
	if err != nil {
		if errNumber(err) == 1148 || errNumber(err) == 3948 {
			return 0, &engine.PermanentError{Err: fmt.Errorf("the target refuses LOAD DATA LOCAL: set local_infile=ON on the target server (%w)", describe(err))}
		}
		return 0, fmt.Errorf("writing %s chunk %d: %w", tb.QualifiedName(), c.Seq, describe(err))
	}
	warning, err := loadWarning(ctx, tx)
	if err != nil {
		return 0, err
	}
	if warning != "" {
		return 0, &engine.PermanentError{Err: fmt.Errorf("writing %s chunk %d: the target did not store a row as read (%s): make the target table's columns able to hold the source's values",
			tb.QualifiedName(), c.Seq, warning)}
	}
	rows, _ := res.RowsAffected()
	pos, err := end()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+metaDB+".chunks SET done = 1, `rows` = ?, end_pos = ? WHERE migration = ? AND table_name = ? AND seq = ?",
		rows, sqlmeta.EncodePos(pos), migration, c.Table, c.Seq); err != nil {
		return 0, err
	}
	return rows, tx.Commit()
}

// loadWarning returns the first warning of the LOAD DATA just run, or "":
// with LOCAL the server stores what it can of a value it cannot hold
// (truncated, out of range) and skips duplicate keys, with a warning only.
func loadWarning(ctx context.Context, tx *sql.Tx) (string, error) {
	rows, err := tx.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return "", err
		}
		if level != "Note" {
			return fmt.Sprintf("%s, warning %d", msg, code), nil
		}
	}
	return "", rows.Err()
}

func (t *Target) existingIndexes(ctx context.Context, tb *schema.Table) (map[string]bool, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", tb.Schema, tb.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// addIndexes adds the indexes that pick selects and the target lacks, in one ALTER TABLE.
func (t *Target) addIndexes(ctx context.Context, tb *schema.Table, pick func(schema.Index) bool) error {
	for again := true; ; again = false {
		have, err := t.existingIndexes(ctx, tb)
		if err != nil {
			return err
		}
		var adds []string
		for _, ix := range tb.Indexes {
			if pick(ix) && !have[ix.Name] {
				adds = append(adds, "ADD "+ix.Def)
			}
		}
		if len(adds) == 0 {
			return nil
		}
		_, err = t.db.ExecContext(ctx, "ALTER TABLE "+qualified(tb)+" "+strings.Join(adds, ", "))
		if err != nil && errNumber(err) == 1061 && again {
			// A killed runner's ALTER goes on on the server, unseen until it
			// ends; ours waited for it: look at the indexes again.
			continue
		}
		if err != nil {
			return fmt.Errorf("creating indexes on %s: %w", tb.QualifiedName(), describe(err))
		}
		return nil
	}
}

// CreateKeyIndex implements engine.Target: the primary key came with the
// table (InnoDB clusters rows by it); a unique key used as the key is added now.
func (t *Target) CreateKeyIndex(ctx context.Context, tb *schema.Table) error {
	return t.addIndexes(ctx, tb, func(ix schema.Index) bool { return ix.Name == tb.KeyIndex })
}

// CreateSecondary implements engine.Target.
func (t *Target) CreateSecondary(ctx context.Context, tb *schema.Table) error {
	return t.addIndexes(ctx, tb, func(ix schema.Index) bool { return ix.Name != tb.KeyIndex })
}

// CreateForeignKeys implements engine.Target: added with foreign_key_checks
// off, so existing rows are not checked (ValidateForeignKeys does).
func (t *Target) CreateForeignKeys(ctx context.Context, tb *schema.Table, migrated map[string]bool) error {
	var have = map[string]bool{}
	rows, err := t.db.QueryContext(ctx, "SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'FOREIGN KEY'", tb.Schema, tb.Name)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	var adds []string
	for _, c := range tb.Constraints {
		if c.Kind == "f" && migrated[c.RefTable] && !have[c.Name] {
			adds = append(adds, "ADD "+c.Def)
		}
	}
	if len(adds) == 0 {
		return nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// An unqualified REFERENCES resolves in the current database.
	if _, err := conn.ExecContext(ctx, "USE "+QuoteIdent(tb.Schema)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "USE "+metaDB)
	if _, err := conn.ExecContext(ctx, "ALTER TABLE "+qualified(tb)+" "+strings.Join(adds, ", ")); err != nil {
		return fmt.Errorf("adding foreign keys to %s: %w", tb.QualifiedName(), describe(err))
	}
	return nil
}

var fkCols = regexp.MustCompile("FOREIGN KEY \\(([^)]*)\\) REFERENCES (`(?:[^`]|``)+`(?:\\.`(?:[^`]|``)+`)?) \\(([^)]*)\\)")

// ValidateForeignKeys implements engine.Target: every row's reference must exist.
func (t *Target) ValidateForeignKeys(ctx context.Context, tb *schema.Table) error {
	for _, c := range tb.Constraints {
		if c.Kind != "f" {
			continue
		}
		m := fkCols.FindStringSubmatch(c.Def)
		if m == nil {
			continue
		}
		ref := m[2]
		if !strings.Contains(ref, "`.`") {
			ref = QuoteIdent(tb.Schema) + "." + ref
		}
		child, parent := strings.Split(m[1], ", "), strings.Split(m[3], ", ")
		var on, notNull []string
		for i := range child {
			on = append(on, "p."+parent[i]+" = c."+child[i])
			notNull = append(notNull, "c."+child[i]+" IS NOT NULL")
		}
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)",
			qualified(tb), strings.Join(notNull, " AND "), ref, strings.Join(on, " AND "))
		if err := t.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("validating foreign key %s of %s: %w", c.Name, tb.QualifiedName(), describe(err))
		}
		if n > 0 {
			return fmt.Errorf("foreign key %s of %s: %d rows reference rows that do not exist", c.Name, tb.QualifiedName(), n)
		}
	}
	return nil
}

// SetStage implements engine.Target.
func (t *Target) SetStage(ctx context.Context, migration string, stage engine.Stage, consistency position.Position) error {
	_, err := t.db.ExecContext(ctx, "UPDATE "+metaDB+".migrations SET stage = ?, consistency_pos = coalesce(?, consistency_pos) WHERE name = ?",
		string(stage), sqlmeta.EncodePos(consistency), migration)
	return err
}

// Applied implements engine.Target.
func (t *Target) Applied(ctx context.Context, migration string) (position.Position, error) {
	return sqlmeta.Applied(ctx, t.db, metaDB+".migrations", migration)
}

// SetSequences implements engine.Target: AUTO_INCREMENT counters (the server
// keeps the larger of the value and the column's maximum plus one). A value
// with Called set is the last one handed out, as Sources read them; without
// it, the next one to hand out.
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
		next := v.Value
		if v.Called {
			next++
		}
		if _, err := t.db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s AUTO_INCREMENT = %d", qualified(tb), max(next, 1))); err != nil {
			return fmt.Errorf("setting the AUTO_INCREMENT of %s: %w", v.Table, describe(err))
		}
	}
	return nil
}

// DropTables implements engine.Target.
func (t *Target) DropTables(ctx context.Context, tables []*schema.Table) error {
	for _, tb := range tables {
		if _, err := t.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+qualified(tb)); err != nil {
			return fmt.Errorf("dropping %s: %w", tb.QualifiedName(), describe(err))
		}
	}
	return nil
}

// DropMeta implements engine.Target; the bookkeeping database goes with its last migration.
func (t *Target) DropMeta(ctx context.Context, migration string) error {
	var n int
	if err := t.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'migrations'", metaDB).Scan(&n); err != nil || n == 0 {
		return err
	}
	for _, q := range []string{"DELETE FROM " + metaDB + ".chunks WHERE migration = ?", "DELETE FROM " + metaDB + ".migrations WHERE name = ?"} {
		if _, err := t.db.ExecContext(ctx, q, migration); err != nil {
			return err
		}
	}
	if err := t.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+metaDB+".migrations").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		_, err := t.db.ExecContext(ctx, "DROP DATABASE "+metaDB)
		return err
	}
	return nil
}

// scratchPrefix names the scratch databases of TryCreate:
// _godwit_try_<unix time, hex>_<n>.
const scratchPrefix = "_godwit_try_"

// NoScratchError is TryCreate's answer when the user may not create the
// scratch databases it needs: the definitions were not tried.
type NoScratchError struct{ Err error }

func (e *NoScratchError) Error() string {
	return "the target's table definitions were not tried: creating a scratch database failed (" + e.Err.Error() + ")"
}

// TryCreate creates the tables, their indexes and foreign keys in scratch
// databases, one for each target database, and drops them: MySQL commits
// every DDL statement, so nothing could be rolled back. A definition the
// server refuses (a default, a key, a row too wide, a foreign key of another
// type) is so found before anything is created. Tables that exist are left out.
func (t *Target) TryCreate(ctx context.Context, tables []*schema.Table) error {
	t.dropStaleScratch(ctx)
	var fresh []*schema.Table
	for _, tb := range tables {
		exists, err := t.tableExists(ctx, tb)
		if err != nil {
			return err
		}
		if !exists {
			fresh = append(fresh, tb)
		}
	}
	stamp := fmt.Sprintf("%x", time.Now().Unix())
	scratch := map[string]string{} // target database -> its scratch database
	defer func() {
		for _, s := range scratch {
			_, _ = t.db.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+QuoteIdent(s))
		}
	}()
	for _, tb := range fresh {
		if _, ok := scratch[tb.Schema]; ok {
			continue
		}
		s := fmt.Sprintf("%s%s_%d", scratchPrefix, stamp, len(scratch))
		if _, err := t.db.ExecContext(ctx, "CREATE DATABASE "+QuoteIdent(s)); err != nil {
			return &NoScratchError{Err: describe(err)}
		}
		scratch[tb.Schema] = s
	}
	// The same definitions in the scratch databases; references to the
	// tables tried point at their scratch copies.
	var pairs []string
	for _, tb := range fresh {
		pairs = append(pairs, "REFERENCES "+qualified(tb), "REFERENCES "+QuoteIdent(scratch[tb.Schema])+"."+QuoteIdent(tb.Name))
	}
	refs := strings.NewReplacer(pairs...)
	clones := make([]*schema.Table, len(fresh))
	migrated := map[string]bool{}
	for i, tb := range fresh {
		c := *tb
		c.Schema = scratch[tb.Schema]
		c.Constraints = slices.Clone(tb.Constraints)
		for j := range c.Constraints {
			c.Constraints[j].Def = refs.Replace(c.Constraints[j].Def)
		}
		clones[i] = &c
		migrated[tb.QualifiedName()] = true
	}
	for i, c := range clones {
		if _, err := t.db.ExecContext(ctx, createSQL(c)); err != nil {
			return fmt.Errorf("creating table %s on the target: %w", fresh[i].QualifiedName(), describe(err))
		}
		if err := t.addIndexes(ctx, c, func(schema.Index) bool { return true }); err != nil {
			return fmt.Errorf("table %s: %w", fresh[i].QualifiedName(), err)
		}
	}
	for i, c := range clones {
		if err := t.CreateForeignKeys(ctx, c, migrated); err != nil {
			return fmt.Errorf("table %s: %w", fresh[i].QualifiedName(), err)
		}
	}
	return nil
}

// dropStaleScratch drops scratch databases over an hour old: TryCreate runs
// that were killed before they dropped their own.
func (t *Target) dropStaleScratch(ctx context.Context) {
	rows, err := t.db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '\\_godwit\\_try\\_%'")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			break
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(n, scratchPrefix), "_")
		if sec, err := strconv.ParseInt(stamp, 16, 64); err == nil && time.Since(time.Unix(sec, 0)) > time.Hour {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		_, _ = t.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+QuoteIdent(n))
	}
}
