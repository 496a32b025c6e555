package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// maxPart is the number of changes after which a large source transaction is
// sent on in parts (applied in one target transaction all the same).
const maxPart = 5000

func (s *Source) syncer(v serverVars) *replication.BinlogSyncer {
	cfg := replication.BinlogSyncerConfig{
		ServerID:                s.conn.replicaID(s.name),
		Flavor:                  s.flavor(v),
		Host:                    s.conn.Host,
		Port:                    s.conn.Port,
		User:                    s.conn.User,
		Password:                s.conn.Password,
		Charset:                 "utf8mb4",
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         time.Second,
		ReadTimeout:             10 * time.Second, // ten heartbeats missed: the connection is dead
		DisableRetrySync:        true,
		Logger:                  slog.New(slog.DiscardHandler),
		Localhost:               "godwit-" + s.name,
		// Events wait here decoded, rows and all: the library's default of
		// 10240 rows events held close to a gigabyte during one big
		// transaction. The applier drains far faster than 256 fill.
		EventCacheCount: 256,
	}
	if cfg.Flavor == "mariadb" {
		cfg.FillZeroLogPos = true
	}
	return replication.NewBinlogSyncer(cfg)
}

// replicationError turns an error of the replica connection into one actionable line.
func replicationError(err error) error {
	var me *gomysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case 1227, 1045, 1044:
			return fmt.Errorf("the source user cannot read the binary log (%s, error %d): grant it REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)", me.Message, me.Code)
		case 1236:
			return fmt.Errorf("the source cannot send its binary log from godwit's position (%s): the binlog files may have been purged (raise expire_logs_days / binlog_expire_logs_seconds), or another replica uses godwit's server_id (set ?server_id=N in the source URL)", me.Message)
		}
		return fmt.Errorf("reading the source's binary log: %s (error %d)", me.Message, me.Code)
	}
	return fmt.Errorf("reading the source's binary log: %w", err)
}

// probe opens a replica connection at pos and reads its first event: the
// privilege and server_id checks the server makes, made before anything is copied.
func (s *Source) probe(ctx context.Context, v serverVars, pos position.Binlog) error {
	sy := s.syncer(v)
	defer sy.Close()
	st, err := sy.StartSync(gomysql.Position{Name: pos.File, Pos: pos.Pos})
	if err != nil {
		return replicationError(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := st.GetEvent(pctx); err != nil {
		if pctx.Err() != nil && ctx.Err() == nil {
			return errors.New("the source did not start sending its binary log within 10 s")
		}
		return replicationError(err)
	}
	return nil
}

// decoder turns binlog events into transactions of row changes on the
// migrated tables.
type decoder struct {
	tables map[string]*tableInfo // by qualified name
	byID   map[uint64]*tableInfo // table map ids of the current binlog stretch; nil entry: not migrated
	file   string
	txn    *engine.Txn
}

func newDecoder(tables []*schema.Table, file string) *decoder {
	d := &decoder{tables: map[string]*tableInfo{}, byID: map[uint64]*tableInfo{}, file: file}
	for _, t := range tables {
		d.tables[t.QualifiedName()] = newTableInfo(t)
	}
	return d
}

// event handles one event. It returns a transaction (or part of one) when one
// is ready, and done set when the event ended a transaction or stands between
// transactions (so that its position is a safe place to resume from).
func (d *decoder) event(ev *replication.BinlogEvent) (out *engine.Txn, boundary bool, err error) {
	pos := position.Binlog{File: d.file, Pos: ev.Header.LogPos}
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		d.file = string(e.NextLogName)
		return nil, d.txn == nil, nil
	case *replication.GTIDEvent, *replication.MariadbGTIDEvent:
		d.txn = &engine.Txn{}
	case *replication.TableMapEvent:
		ti := d.tables[string(e.Schema)+"."+string(e.Table)]
		if ti != nil && int(e.ColumnCount) != len(ti.all) {
			return nil, false, &engine.PermanentError{Err: fmt.Errorf("table %s has %d columns in the binary log but had %d when the migration started: its definition changed on the source, which godwit does not replay; start the migration again", ti.t.QualifiedName(), e.ColumnCount, len(ti.all))}
		}
		d.byID[e.TableID] = ti
	case *replication.RowsEvent:
		ti := d.byID[e.TableID]
		if ti == nil {
			return nil, false, nil
		}
		if d.txn == nil {
			d.txn = &engine.Txn{}
		}
		if err := d.rows(ti, ev.Header.EventType, e); err != nil {
			return nil, false, err
		}
		if len(d.txn.Changes) >= maxPart {
			part := &engine.Txn{Changes: d.txn.Changes, More: true}
			d.txn.Changes = nil
			return part, false, nil
		}
	case *replication.XIDEvent:
		return d.end(pos, ev.Header.Timestamp), true, nil
	case *replication.QueryEvent:
		q := string(e.Query)
		switch strings.ToUpper(strings.TrimSpace(q)) {
		case "BEGIN":
			if d.txn == nil {
				d.txn = &engine.Txn{}
			}
			return nil, false, nil
		case "COMMIT":
			return d.end(pos, ev.Header.Timestamp), true, nil
		}
		if err := d.statement(q, string(e.Schema)); err != nil {
			return nil, false, err
		}
		// A DDL statement is a transaction of its own (implicit commit).
		return d.end(pos, ev.Header.Timestamp), true, nil
	}
	// Anything else between transactions (MariaDB's binlog checkpoint and GTID
	// list events after a rotation, a heartbeat) is a place to resume from:
	// else an idle source's position stays past what is applied, lag grows.
	return nil, d.txn == nil, nil
}

// end closes the current transaction at pos.
func (d *decoder) end(pos position.Binlog, ts uint32) *engine.Txn {
	txn := d.txn
	d.txn = nil
	if txn == nil {
		txn = &engine.Txn{}
	}
	txn.End = pos
	txn.CommitTime = time.Unix(int64(ts), 0)
	return txn
}

func (d *decoder) rows(ti *tableInfo, typ replication.EventType, e *replication.RowsEvent) error {
	skipped := func(i int) []int {
		if i < len(e.SkippedColumns) {
			return e.SkippedColumns[i]
		}
		return nil
	}
	switch typ {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		for i, row := range e.Rows {
			img := ti.image(row, skipped(i))
			if engine.IsPartial(img) {
				return &engine.PermanentError{Err: fmt.Errorf("an insert into %s in the binary log lacks some columns (binlog_row_image is MINIMAL): set binlog_row_image=FULL on the source and start the migration again", ti.t.QualifiedName())}
			}
			d.txn.Changes = append(d.txn.Changes, engine.Change{Table: ti.t, Op: engine.Insert, New: img})
		}
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		for _, row := range e.Rows {
			d.txn.Changes = append(d.txn.Changes, engine.Change{Table: ti.t, Op: engine.Delete, Key: ti.key(row)})
		}
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
		for i := 0; i+1 < len(e.Rows); i += 2 {
			before, after := e.Rows[i], e.Rows[i+1]
			ch := engine.Change{Table: ti.t, Op: engine.Update, New: ti.image(after, skipped(i+1))}
			old := ti.key(before)
			for j, p := range ti.keyPos {
				if ch.New[p].Unchanged {
					ch.New[p] = old[j] // a MINIMAL after image leaves out an unchanged key
				}
				if ch.New[p].Text != old[j].Text {
					ch.Key = old
				}
			}
			d.txn.Changes = append(d.txn.Changes, ch)
		}
	}
	return nil
}

// statement handles a statement logged as text: TRUNCATE of a migrated table
// is replayed; other changes to a migrated table's definition stop the migration.
func (d *decoder) statement(q, defaultSchema string) error {
	st := parseDDL(q, defaultSchema)
	if st.Verb == "" {
		return nil
	}
	var hit []*schema.Table
	for _, ti := range d.tables {
		for _, n := range st.Tables {
			if matches(n, ti.t) {
				hit = append(hit, ti.t)
				break
			}
		}
	}
	if len(hit) == 0 {
		return nil
	}
	if st.Verb == "truncate" {
		if d.txn == nil {
			d.txn = &engine.Txn{}
		}
		d.txn.Changes = append(d.txn.Changes, engine.Change{Op: engine.Truncate, Table: hit[0], Truncated: hit})
		return nil
	}
	stmt := strings.Join(strings.Fields(q), " ")
	if len(stmt) > 120 {
		stmt = stmt[:120] + "..."
	}
	return &engine.PermanentError{Err: fmt.Errorf("the definition of migrated table %s changed on the source (%s): godwit does not replay schema changes; cancel and start the migration again", hit[0].QualifiedName(), stmt)}
}

// Stream implements engine.Source.
func (s *Source) Stream(ctx context.Context, from position.Position, tables []*schema.Table, out chan<- engine.Txn, acked func() position.Position, poke <-chan struct{}) error {
	start, ok := from.(position.Binlog)
	if !ok {
		return fmt.Errorf("MySQL source cannot start from position %v", from)
	}
	s.needed.Store(&start)
	v, err := s.vars(ctx)
	if err != nil {
		return fmt.Errorf("reading the source's settings: %w", describe(err))
	}
	sy := s.syncer(v)
	defer sy.Close()
	st, err := sy.StartSync(gomysql.Position{Name: start.File, Pos: start.Pos})
	if err != nil {
		return replicationError(err)
	}
	// A poke interrupts the wait for the next event, so that the last
	// boundary read is reported again at once (a drain is waiting for it).
	var mu sync.Mutex
	var interrupt context.CancelFunc
	var poked atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-poke:
				poked.Store(true)
				mu.Lock()
				if interrupt != nil {
					interrupt()
				}
				mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	dec := newDecoder(tables, start.File)
	// received is the last transaction boundary read; heartbeats report it when
	// nothing for the migrated tables is waiting, so applied positions, lag and
	// a cutover's drain move on while the source writes only other tables.
	received, sent := start, start
	send := func(txn engine.Txn) error {
		select {
		case out <- txn:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if poked.Swap(false) {
			sent = position.Binlog{} // report again
		}
		// Heartbeats go only between transactions: never between the parts of one.
		pending := received != sent && dec.txn == nil
		if pending {
			select {
			case out <- engine.Txn{End: received}:
				sent = received
			default:
			}
		}
		var gctx context.Context
		var cancel context.CancelFunc
		if pending && received != sent {
			gctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
		} else {
			gctx, cancel = context.WithCancel(ctx)
		}
		mu.Lock()
		interrupt = cancel
		mu.Unlock()
		ev, err := st.GetEvent(gctx)
		mu.Lock()
		interrupt = nil
		mu.Unlock()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Only the wait's own end is a poke or the heartbeat's turn. (gctx
			// is cancelled by now whatever happened: a connection that died
			// must not pass for a poke, or the stream spins on, silent.)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			return replicationError(err)
		}
		txn, boundary, err := dec.event(ev)
		if err != nil {
			return err
		}
		if boundary && ev.Header.LogPos > 0 {
			// What the target committed moves only between transactions.
			if a, ok := acked().(position.Binlog); ok && a != *s.needed.Load() && a.Covers(*s.needed.Load()) {
				s.needed.Store(&a)
			}
			received = position.Binlog{File: dec.file, Pos: ev.Header.LogPos}
			if r, rot := ev.Event.(*replication.RotateEvent); rot {
				received.Pos = uint32(r.Position)
			}
			rcv := received
			s.received.Store(&rcv)
		}
		if txn == nil || (len(txn.Changes) == 0 && !txn.More) {
			continue // an empty transaction: the heartbeat reports its end
		}
		if err := send(*txn); err != nil {
			return err
		}
		if !txn.More {
			sent = received
		}
	}
}
