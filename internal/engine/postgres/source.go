package postgres

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/retry"
	"github.com/godwit-db/godwit/internal/schema"
)

// Source is a PostgreSQL database godwit migrates from.
type Source struct {
	checksummer
	url  string
	cfg  *pgx.ConnConfig
	pool *pgxpool.Pool
	slot string
	pub  string
	// snapshot, when set, is an exported snapshot every chunk read uses; the
	// transaction that exported it stays open on snapConn.
	snapshot string
	snapConn *pgx.Conn
	// format is the copy format of ReadChunk: pgbinary, or pgtext for a
	// migration to another engine.
	format string
	prober
}

var (
	_ engine.Source           = (*Source)(nil)
	_ engine.CopyFormatSetter = (*Source)(nil)
	_ engine.RangeReader      = (*Source)(nil)
)

// ObjectName is the name of the slot and publication godwit creates for a migration.
func ObjectName(migration string) string {
	return "godwit_" + strings.ToLower(strings.ReplaceAll(migration, "-", "_"))
}

func openPool(ctx context.Context, role, rawURL string, conns int) (*pgxpool.Pool, *pgx.ConnConfig, error) {
	cfg, err := parseConfig(role, rawURL)
	if err != nil {
		return nil, nil, err
	}
	pcfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%s URL %s is malformed", role, Redact(rawURL))
	}
	pcfg.ConnConfig = cfg.Copy()
	pcfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, nil, describeConnectError(role, cfg.Host, cfg.Port, cfg.User, cfg.Database, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, describeConnectError(role, cfg.Host, cfg.Port, cfg.User, cfg.Database, err)
	}
	return pool, cfg, nil
}

// OpenSource connects to the source database of a migration.
func OpenSource(ctx context.Context, rawURL, migration string, conns int) (*Source, error) {
	pool, cfg, err := openPool(ctx, "source", rawURL, conns+1)
	if err != nil {
		return nil, err
	}
	name := ObjectName(migration)
	return &Source{checksummer: checksummer{pool}, url: rawURL, cfg: cfg, pool: pool, slot: name, pub: name, format: formatBinary,
		prober: prober{cfg: cfg}}, nil
}

func (s *Source) Close() {
	s.ReleaseSnapshot()
	s.prober.close()
	s.pool.Close()
}

// PinSnapshot makes every later ReadChunk see the database as of now, as one
// consistent view (a one-time copy). It holds a transaction open until
// ReleaseSnapshot or Close.
func (s *Source) PinSnapshot(ctx context.Context, _ []*schema.Table) error {
	conn, err := connect(ctx, "source", s.url)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		conn.Close(ctx)
		return err
	}
	if err := conn.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.snapshot); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("exporting a snapshot on the source: %w", err)
	}
	s.snapConn = conn
	return nil
}

// ReleaseSnapshot ends the pinned snapshot, if any.
func (s *Source) ReleaseSnapshot() {
	if s.snapConn != nil {
		s.snapConn.Close(context.Background())
		s.snapConn, s.snapshot = nil, ""
	}
}

// Tables implements engine.Source.
func (s *Source) Tables(ctx context.Context, f schema.Filter) ([]*schema.Table, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	return readTables(ctx, conn.Conn(), f)
}

// CheckCapture implements engine.Source.
func (s *Source) CheckCapture(ctx context.Context, tables []*schema.Table) error {
	if err := checkReplicaIdentity(tables); err != nil {
		return err
	}
	var walLevel, user string
	var canReplicate bool
	var maxSlots, usedSlots, ours, version int
	err := s.pool.QueryRow(ctx, `
SELECT current_setting('wal_level'), current_user, r.rolreplication OR r.rolsuper,
       current_setting('max_replication_slots')::int,
       (SELECT count(*) FROM pg_replication_slots)::int,
       (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)::int,
       current_setting('server_version_num')::int
FROM pg_roles r WHERE r.rolname = current_user`, s.slot).Scan(&walLevel, &user, &canReplicate, &maxSlots, &usedSlots, &ours, &version)
	if err != nil {
		return fmt.Errorf("checking the source settings: %w", err)
	}
	host := fmt.Sprintf("%s:%d", s.cfg.Host, s.cfg.Port)
	for _, t := range tables {
		if t.Partitioning != nil && version < 130000 {
			return fmt.Errorf("source %s runs PostgreSQL %d; capturing the changes of partitioned table %s needs 13 or later (publish_via_partition_root): use --once, or --exclude it",
				host, version/10000, t.QualifiedName())
		}
	}
	switch {
	case version < 120000:
		return fmt.Errorf("source %s runs PostgreSQL %d; godwit needs 12 or later", host, version/10000)
	case walLevel != "logical":
		return fmt.Errorf("source %s has wal_level = %s; set wal_level = logical in postgresql.conf and restart PostgreSQL (or use --once for a one-time copy)", host, walLevel)
	case !canReplicate:
		return fmt.Errorf("source user %q lacks the REPLICATION privilege: run ALTER ROLE %s REPLICATION as a superuser (or use --once)", user, QuoteIdent(user))
	case ours == 0 && usedSlots >= maxSlots:
		return fmt.Errorf("source %s has no free replication slot (%d of max_replication_slots = %d in use): drop an unused slot or raise max_replication_slots", host, usedSlots, maxSlots)
	}
	var whole []string
	for _, t := range tables {
		if t.RowIdentity() {
			whole = append(whole, t.QualifiedName())
			if err := s.checkRowMatch(ctx, t); err != nil {
				return err
			}
		}
	}
	if len(whole) > 0 && usedSlots+(1-ours)+1 > maxSlots {
		return fmt.Errorf("source %s needs a second free replication slot, for a moment, to copy %s (no key) in one snapshot (%d of max_replication_slots = %d in use): drop an unused slot or raise max_replication_slots", host, strings.Join(whole, ", "), usedSlots, maxSlots)
	}
	return nil
}

// checkRowMatch refuses a table identified by its whole row when one of its
// columns has no equality to match rows by (json, point, xml...), as
// PostgreSQL's own subscriber would fail on it.
func (s *Source) checkRowMatch(ctx context.Context, t *schema.Table) error {
	for _, c := range t.CopyColumns() {
		q := QuoteIdent(c.Name)
		_, err := s.pool.Exec(ctx, "SELECT 1 FROM "+only(t)+" WHERE "+q+" IS NOT DISTINCT FROM "+q+" LIMIT 0")
		if pgCode(err) == "42883" {
			return fmt.Errorf("table %s has no key and is replicated by its whole row (REPLICA IDENTITY FULL), but its column %s of type %s has no equality operator to find a row by: add a primary key, change the column's type, --exclude it, or --allow-no-key to copy it once",
				t.QualifiedName(), c.Name, c.Type)
		}
		if err != nil {
			return fmt.Errorf("checking how rows of %s can be matched: %w", t.QualifiedName(), err)
		}
	}
	return nil
}

// checkReplicaIdentity refuses tables whose replica identity would break the
// source's writes once published, or would not carry the key godwit uses.
func checkReplicaIdentity(tables []*schema.Table) error {
	for _, t := range tables {
		if !t.HasKey() {
			continue
		}
		keyIndex := t.KeyIndex
		if keyIndex == "" {
			for _, c := range t.Constraints {
				if c.Kind == "p" {
					keyIndex = c.Name
				}
			}
		}
		if err := checkIdentity("table "+t.QualifiedName(), QualName(t), t.QualifiedName(), t.ReplicaIdentity, t.ReplicaIdentityIndex, t.KeyIndex != "", keyIndex); err != nil {
			return err
		}
		// Each partition logs the old rows of its updates and deletes by its own
		// replica identity, whatever its parent's.
		for _, p := range partitions(t) {
			if err := checkIdentity("partition "+p.QualifiedName()+" of "+t.QualifiedName(), partQual(p), t.QualifiedName(), p.ReplicaIdentity, p.ReplicaIdentityIndex, t.KeyIndex != "", p.KeyIndex); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkIdentity checks the replica identity of a table or partition (what, sql
// its name in SQL); settable says godwit sets a NOTHING identity to keyIndex
// itself; table is the one to exclude.
func checkIdentity(what, sql, table, identity, identityIndex string, settable bool, keyIndex string) error {
	switch {
	case identity == "n" && !settable:
		return fmt.Errorf("%s has REPLICA IDENTITY NOTHING: published, its UPDATEs and DELETEs would fail on the source; run ALTER TABLE %s REPLICA IDENTITY DEFAULT first, or --exclude %s",
			what, sql, table)
	case identity == "i" && identityIndex != keyIndex:
		return fmt.Errorf("%s uses REPLICA IDENTITY USING INDEX %s, not its key %s: changes would not carry the key; run ALTER TABLE %s REPLICA IDENTITY DEFAULT first, or --exclude %s",
			what, identityIndex, keyIndex, sql, table)
	}
	return nil
}

// identityChange is a table or partition whose replica identity StartCapture
// sets to its key index, and DropCapture puts back.
type identityChange struct {
	name, sql, index, original string
}

// identityChanges lists them for a table keyed by a unique index (without a
// primary key, PostgreSQL would refuse updates on a published table).
func identityChanges(t *schema.Table) []identityChange {
	if !t.HasKey() || t.KeyIndex == "" {
		return nil
	}
	var out []identityChange
	if t.ReplicaIdentity == "d" || t.ReplicaIdentity == "n" {
		out = append(out, identityChange{t.QualifiedName(), QualName(t), t.KeyIndex, t.ReplicaIdentity})
	}
	for _, p := range partitions(t) {
		if p.KeyIndex != "" && (p.ReplicaIdentity == "d" || p.ReplicaIdentity == "n") {
			out = append(out, identityChange{p.QualifiedName(), partQual(p), p.KeyIndex, p.ReplicaIdentity})
		}
	}
	return out
}

func (s *Source) replicationConn(ctx context.Context) (*pgconn.PgConn, error) {
	cfg := s.cfg.Config.Copy()
	cfg.RuntimeParams["replication"] = "database"
	// The stream is many small messages: read the socket in large blocks.
	cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, 256<<10), w)
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, describeConnectError("source (replication)", cfg.Host, cfg.Port, cfg.User, cfg.Database, err)
	}
	return conn, nil
}

// StartCapture implements engine.Source: publication first, then the slot, so
// the slot never decodes a change the publication did not exist for.
func (s *Source) StartCapture(ctx context.Context, tables []*schema.Table) (position.Position, error) {
	var names []string
	viaRoot := false
	for _, t := range tables {
		if !t.Replayed() {
			continue
		}
		// Identify rows by the key godwit uses. DropCapture puts the original back.
		for _, c := range identityChanges(t) {
			if _, err := s.pool.Exec(ctx, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY USING INDEX %s", c.sql, QuoteIdent(c.index))); err != nil {
				return nil, fmt.Errorf("setting the replica identity of %s to its unique key %s: %w", c.name, c.index, err)
			}
		}
		names = append(names, QualName(t))
		viaRoot = viaRoot || t.Partitioning != nil
	}
	// pubviaroot through to_jsonb: the column is new in PostgreSQL 13.
	var exists, existsViaRoot bool
	if err := s.pool.QueryRow(ctx, "SELECT count(*) > 0, coalesce(bool_or((to_jsonb(p) ->> 'pubviaroot')::boolean), false) FROM pg_publication p WHERE pubname = $1", s.pub).Scan(&exists, &existsViaRoot); err != nil {
		return nil, err
	}
	switch {
	case !exists:
		sql := "CREATE PUBLICATION " + QuoteIdent(s.pub) + " FOR TABLE " + strings.Join(names, ", ")
		if len(names) == 0 {
			return nil, errors.New("no table with a key to capture changes for")
		}
		if viaRoot {
			// Changes of partitions come as changes of the partitioned table.
			sql += " WITH (publish_via_partition_root = true)"
		}
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("creating publication %s on the source: %w", s.pub, err)
		}
	case viaRoot && !existsViaRoot:
		return nil, fmt.Errorf("publication %s on the source publishes partitions under their own names (publish_via_partition_root is off): drop it, or cancel this migration and start a new one", s.pub)
	}
	var flushed *string
	err := s.pool.QueryRow(ctx, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", s.slot).Scan(&flushed)
	if err == nil && flushed != nil {
		return position.ParseLSN(*flushed)
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	conn, err := s.replicationConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res, err := pglogrepl.CreateReplicationSlot(ctx, conn, s.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
	if err != nil {
		return nil, fmt.Errorf("creating replication slot %s on the source: %w", s.slot, err)
	}
	return position.ParseLSN(res.ConsistentPoint)
}

// DropCapture implements engine.Source. It needs the tables to restore the replica
// identity it changed; it is safe to call when nothing exists.
func (s *Source) DropCapture(ctx context.Context, tables []*schema.Table) ([]string, error) {
	var removed []string
	var pid *int32
	err := s.pool.QueryRow(ctx, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", s.slot).Scan(&pid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		if pid != nil { // a runner that died may leave its walsender for a moment
			_, _ = s.pool.Exec(ctx, "SELECT pg_terminate_backend($1)", *pid)
		}
		var dropErr error
		for i := 0; i < 50; i++ {
			if _, dropErr = s.pool.Exec(ctx, "SELECT pg_drop_replication_slot($1)", s.slot); dropErr == nil || pgCode(dropErr) != "55006" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if dropErr != nil {
			return removed, fmt.Errorf("dropping replication slot %s: %w", s.slot, dropErr)
		}
		removed = append(removed, "replication slot "+s.slot)
	}
	var pubExists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.pub).Scan(&pubExists); err != nil {
		return removed, err
	}
	if pubExists {
		if _, err := s.pool.Exec(ctx, "DROP PUBLICATION IF EXISTS "+QuoteIdent(s.pub)); err != nil {
			return removed, fmt.Errorf("dropping publication %s: %w", s.pub, err)
		}
		removed = append(removed, "publication "+s.pub)
	}
	// Put back the replica identity StartCapture changed.
	for _, t := range tables {
		for _, c := range identityChanges(t) {
			original := map[string]string{"d": "DEFAULT", "n": "NOTHING"}[c.original]
			if _, err := s.pool.Exec(ctx, "ALTER TABLE "+c.sql+" REPLICA IDENTITY "+original); err != nil && pgCode(err) != "42P01" {
				return removed, fmt.Errorf("restoring the replica identity of %s: %w", c.name, err)
			}
			removed = append(removed, "the replica identity godwit set on "+c.name+" (back to "+original+")")
		}
	}
	return removed, nil
}

func isIntType(typ string) bool {
	switch typ {
	case "smallint", "integer", "bigint":
		return true
	}
	return false
}

// PlanChunks implements engine.Source: integer keys split by value range,
// other keys by walking the key index every rows entries.
func (s *Source) PlanChunks(ctx context.Context, t *schema.Table, rows int64) ([]engine.Chunk, error) {
	one := []engine.Chunk{{Table: t.QualifiedName()}}
	if !t.HasKey() || t.Rows <= rows {
		return one, nil
	}
	if len(t.Key) == 1 && isIntType(t.Column(t.Key[0]).Type) {
		var lo, hi *int64
		k := QuoteIdent(t.Key[0])
		if err := s.pool.QueryRow(ctx, fmt.Sprintf("SELECT min(%s)::int8, max(%s)::int8 FROM %s", k, k, only(t))).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("planning chunks of %s: %w", t.QualifiedName(), err)
		}
		if lo == nil {
			return one, nil
		}
		// An even split of the value range only balances chunks when the keys are
		// dense; gaps (ids from other ranges, deleted stretches) need the walk below.
		if float64(*hi)-float64(*lo)+1 <= 2*float64(t.Rows) {
			return engine.SplitIntRange(t.QualifiedName(), *lo, *hi, t.Rows, rows), nil
		}
	}
	return engine.WalkChunks(ctx, s, t, rows)
}

// CopyFormat implements engine.Source.
func (s *Source) CopyFormat() string { return s.format }

// SetCopyFormat implements engine.CopyFormatSetter: pgbinary (the default)
// or pgtext.
func (s *Source) SetCopyFormat(format string) error {
	if format != formatBinary && format != formatText {
		return fmt.Errorf("PostgreSQL source cannot read chunks in format %q: use %s or %s", format, formatBinary, formatText)
	}
	s.format = format
	return nil
}

func (s *Source) copyOutSQL(t *schema.Table, lo, hi []string) string {
	if s.format == formatText || t.TextCopy {
		return copyOutTextSQL(t, lo, hi)
	}
	return CopyOutSQL(t, lo, hi)
}

// ReadRange implements engine.RangeReader: the rows with lo < key <= hi in
// COPY text format, the dialect's ReadFormat.
func (s *Source) ReadRange(ctx context.Context, t *schema.Table, lo, hi []string, w io.Writer) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyTo(ctx, w, copyOutTextSQL(t, lo, hi)); err != nil {
		return fmt.Errorf("reading rows of %s: %w", t.QualifiedName(), err)
	}
	return nil
}

// ReadChunk implements engine.Source.
func (s *Source) ReadChunk(ctx context.Context, t *schema.Table, c engine.Chunk, w io.Writer) (position.Position, error) {
	if c.Snapshot && s.snapshot == "" {
		return s.readAtSlotSnapshot(ctx, t, w)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if s.snapshot != "" {
		err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+QuoteLiteral(s.snapshot)); err != nil {
				return err
			}
			_, err := conn.Conn().PgConn().CopyTo(ctx, w, s.copyOutSQL(t, c.Lo, c.Hi))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s chunk %d: %w", t.QualifiedName(), c.Seq, err)
		}
	} else if _, err := conn.Conn().PgConn().CopyTo(ctx, w, s.copyOutSQL(t, c.Lo, c.Hi)); err != nil {
		return nil, fmt.Errorf("reading %s chunk %d: %w", t.QualifiedName(), c.Seq, err)
	}
	return insertLSN(ctx, conn.Conn())
}

// readAtSlotSnapshot copies a table without a key whole, at one exact
// position of the change stream, as native logical replication's table sync
// does: in the snapshot of a temporary replication slot created for the copy,
// whose consistent point is the position. The snapshot holds exactly the
// transactions whose commit record lies before it; replay applies the rest.
// (Chunks read at fuzzy moments converge under replay only by key.)
func (s *Source) readAtSlotSnapshot(ctx context.Context, t *schema.Table, w io.Writer) (position.Position, error) {
	conn, err := s.replicationConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx)) // and the temporary slot goes with it
	fail := func(what string, err error) (position.Position, error) {
		return nil, fmt.Errorf("copying %s (no key) in one snapshot: %s: %w", t.QualifiedName(), what, err)
	}
	if err := conn.Exec(ctx, "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ").Close(); err != nil {
		return fail("opening the transaction", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	slot := fmt.Sprintf("godwit_copy_%x", b)
	res, err := pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, Temporary: true, SnapshotAction: "USE_SNAPSHOT"})
	if err != nil {
		return fail("creating a temporary replication slot (it needs one free slot beside the migration's)", err)
	}
	at, err := position.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return fail("reading the slot's consistent point", err)
	}
	if _, err := conn.CopyTo(ctx, w, s.copyOutSQL(t, nil, nil)); err != nil {
		return fail("reading the rows", err)
	}
	if err := conn.Exec(ctx, "COMMIT").Close(); err != nil {
		return fail("ending the transaction", err)
	}
	return at, nil
}

// insertLSN is a position every commit already visible lies below: the WAL
// insert position. (pg_current_wal_lsn is where WAL has been written, and with
// synchronous_commit off a commit is visible before its WAL is written.) The
// insert position may point past WAL nobody has flushed yet, which the
// walsender only reports once something flushes it: whoever waits for it
// nudges (Nudge). One just past a WAL page header is moved back to the page
// start, the position the server reports.
func insertLSN(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (position.Position, error) {
	var s string
	var segSize int64
	if err := q.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text, (SELECT setting::int8 FROM pg_settings WHERE name = 'wal_segment_size')").Scan(&s, &segSize); err != nil {
		return nil, fmt.Errorf("reading the source position: %w", err)
	}
	lsn, err := position.ParseLSN(s)
	if err != nil {
		return nil, err
	}
	return lsn.RecordBoundary(segSize), nil
}

// CurrentPosition implements engine.Source.
func (s *Source) CurrentPosition(ctx context.Context) (position.Position, error) {
	return insertLSN(ctx, s.pool)
}

// Nudge commits a tiny transaction (an xid, no data) with a local flush, which
// flushes all WAL inserted before it and wakes the walsender. Waits for a
// position use it: the walsender was seen waiting for WAL for 10-20 s after
// the position was inserted (WalSenderWaitForWAL, PostgreSQL 15).
func (s *Source) Nudge(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = local"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT txid_current()")
		return err
	})
}

// DisplayPosition is the source's position for showing lag: cheap, no commit.
func (s *Source) DisplayPosition(ctx context.Context) (position.Position, error) {
	var lsn string
	if err := s.pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return nil, err
	}
	return position.ParseLSN(lsn)
}

// RetainedBytes is how much WAL the source keeps for the migration's slot.
func (s *Source) RetainedBytes(ctx context.Context) (int64, error) {
	var n *int64
	err := s.pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8 FROM pg_replication_slots WHERE slot_name = $1", s.slot).Scan(&n)
	if err != nil || n == nil {
		return 0, err
	}
	return *n, nil
}

// Stream implements engine.Source.
func (s *Source) Stream(ctx context.Context, from position.Position, tables []*schema.Table, out chan<- engine.Txn, acked func() position.Position, poke <-chan struct{}) error {
	start, ok := from.(position.LSN)
	if !ok {
		return fmt.Errorf("PostgreSQL source cannot start from position %v", from)
	}
	conn, err := s.replicationConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	args := []string{"proto_version '1'", "publication_names " + QuoteLiteral(s.pub)}
	var version int
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return err
	}
	if version >= 140000 {
		// Logical messages make the fence's transaction arrive even though it
		// changes no row (from 15 on, empty transactions are not sent).
		args = append(args, "messages 'true'")
	}
	err = pglogrepl.StartReplication(ctx, conn, s.slot, pglogrepl.LSN(start), pglogrepl.StartReplicationOptions{PluginArgs: args})
	if err != nil {
		return fmt.Errorf("starting replication from slot %s: %w", s.slot, err)
	}
	dec := newDecoder(tables, start)
	received := start
	lastAck := func() pglogrepl.LSN {
		if a, ok := acked().(position.LSN); ok && a > start {
			return pglogrepl.LSN(a)
		}
		return pglogrepl.LSN(start)
	}
	sendStatus := func() error {
		a := lastAck()
		return pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{
			WALWritePosition: pglogrepl.LSN(received), WALFlushPosition: a, WALApplyPosition: a,
			ClientTime: time.Now(), ReplyRequested: true,
		})
	}
	const statusEvery = time.Second
	const streamSilence = 10 * time.Second
	nextStatus := time.Now()
	emit := func(txn engine.Txn) error {
		select {
		case out <- txn:
			return nil
		default:
		}
		wait := time.NewTimer(time.Until(nextStatus))
		defer wait.Stop()
		for {
			select {
			case out <- txn:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-wait.C:
				// The applier is busy: keep the walsender from timing us out.
				if err := sendStatus(); err != nil {
					return err
				}
				nextStatus = time.Now().Add(statusEvery)
				wait.Reset(statusEvery)
			}
		}
	}
	// Reads use a socket deadline set once per status interval, not a context per
	// message: a context makes pgconn arm a watcher for every one of them.
	stopWatch := context.AfterFunc(ctx, func() { _ = conn.Conn().SetReadDeadline(time.Unix(1, 0)) })
	defer stopWatch()
	// A poke interrupts the read so the status update (which asks for a reply) goes now.
	var poked atomic.Bool
	pokeDone := make(chan struct{})
	defer close(pokeDone)
	go func() {
		for {
			select {
			case <-poke:
				poked.Store(true)
				_ = conn.Conn().SetReadDeadline(time.Now())
			case <-pokeDone:
				return
			}
		}
	}()
	deadline := time.Time{}
	// Every status update asks for a reply: a stream that hears nothing for
	// streamSilence is dead (a black-holed network gives no error).
	heard := time.Now()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if silent := time.Since(heard); silent > streamSilence {
			return &retry.NoAnswerError{Role: "source", After: silent, Err: errors.New("no reply to the change stream's status updates")}
		}
		if poked.Swap(false) {
			nextStatus, deadline = time.Now(), time.Time{}
		}
		if !time.Now().Before(nextStatus) {
			if err := sendStatus(); err != nil {
				return fmt.Errorf("replication status update: %w", err)
			}
			nextStatus = time.Now().Add(statusEvery)
		}
		if !deadline.Equal(nextStatus) {
			deadline = nextStatus
			if err := conn.Conn().SetReadDeadline(deadline); err != nil {
				return err
			}
		}
		raw, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("receiving changes: %w", err)
		}
		heard = time.Now()
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("source replication error: %s (SQLSTATE %s)", msg.Message, msg.Code)
		case *pgproto3.CopyData:
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return err
				}
				if ka.ReplyRequested {
					nextStatus = time.Now()
				}
				end := position.LSN(ka.ServerWALEnd)
				if dec.cur == nil && end > received {
					// Everything committed before end has been sent: a heartbeat.
					// Only one delivered counts: a drain waits for it.
					select {
					case out <- engine.Txn{End: end}:
						received = end
					default:
					}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return err
				}
				txns, err := dec.decode(xld.WALData)
				if err != nil {
					return err
				}
				for _, txn := range txns {
					if txn.End != nil {
						if e := txn.End.(position.LSN); e > received {
							received = e
						}
					}
					if err := emit(txn); err != nil {
						return err
					}
				}
				heard = time.Now() // the wait for the applier is not silence
			}
		}
	}
}
