// Package store keeps migrations, their control requests and events in a
// database that several godwit processes share: the runner writes progress and
// a heartbeat, status and control commands read and write beside it. The
// store is an embedded SQLite file by default, or a PostgreSQL database
// (postgres://...) that processes on several machines share.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite" // the pure-Go SQLite driver
)

// ErrNotFound is returned for a migration name the store does not know.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating a migration whose name is taken.
var ErrExists = errors.New("already exists")

// Migration is one migration as the store keeps it. Spec and Progress are JSON
// documents owned by the workflow package.
type Migration struct {
	Name       string
	Spec       json.RawMessage
	State      string
	Phase      string
	Error      string
	Progress   json.RawMessage
	Verify     json.RawMessage // the last verification, owned by the workflow
	RunnerPID  int
	RunnerHost string
	Heartbeat  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Request is a control request for a running migration (cancel, complete, ...).
type Request struct {
	ID   int64
	Name string
	Kind string
	Args json.RawMessage
}

// Store is the migration store.
type Store struct {
	db *sql.DB
	pg bool // PostgreSQL: $n placeholders and row locks
}

// q adapts a query written with ? placeholders to the store's database.
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// forUpdate locks the rows a transaction reads and then writes (SQLite's
// write transactions are exclusive already).
func (s *Store) forUpdate() string {
	if s.pg {
		return " FOR UPDATE"
	}
	return ""
}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS migrations (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  phase TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  progress TEXT NOT NULL DEFAULT '{}',
  verify TEXT NOT NULL DEFAULT '{}',
  runner_pid INTEGER NOT NULL DEFAULT 0,
  runner_host TEXT NOT NULL DEFAULT '',
  heartbeat_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  args TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  taken_at INTEGER NOT NULL DEFAULT 0,
  done_at INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_name ON events (name, id);
`

// upgrades bring a store written by an earlier godwit up to date; each is
// skipped when its column already exists.
var upgrades = []struct{ table, column, ddl string }{
	{"migrations", "verify", "ALTER TABLE migrations ADD COLUMN verify TEXT NOT NULL DEFAULT '{}'"},
	{"requests", "result", "ALTER TABLE requests ADD COLUMN result TEXT NOT NULL DEFAULT ''"},
	{"requests", "taken_at", "ALTER TABLE requests ADD COLUMN taken_at INTEGER NOT NULL DEFAULT 0"},
}

// upgrade runs in one write transaction, so processes opening the store at
// the same time do not add a column twice.
func upgrade(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, u := range upgrades {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", u.table, u.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, u.ddl); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// DefaultPath is where the store lives unless --state or GODWIT_STATE say otherwise.
func DefaultPath() (string, error) {
	if p := os.Getenv("GODWIT_STATE"); p != "" {
		return p, nil
	}
	dir, err := LocalDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "godwit.db"), nil
}

// LocalDir is the directory of this user's local godwit state:
// $XDG_STATE_HOME/godwit, else ~/.local/state/godwit.
func LocalDir() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find a home directory for the state store: pass --state PATH")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "godwit"), nil
}

// IsURL reports whether a state store path names a PostgreSQL store.
func IsURL(path string) bool {
	return strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
}

// Open opens (creating if needed) the store at path, a file or a postgres://
// URL. The store holds database URLs with their passwords, so a file is
// created readable by its owner only.
func Open(ctx context.Context, path string) (*Store, error) {
	if IsURL(path) {
		return openPG(ctx, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state directory %s: %v", filepath.Dir(path), err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("cannot open the state store %s: %v", path, err)
	} else {
		f.Close()
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	// Switching a new file to WAL mode does not wait for other processes doing
	// the same: retry briefly when the file is busy.
	for attempt := 0; ; attempt++ {
		err = initialise(ctx, db)
		if err == nil || !isBusy(err) || attempt == 100 {
			break
		}
		time.Sleep(time.Duration(5+attempt) * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot initialise the state store %s: %v", path, err)
	}
	return &Store{db: db}, nil
}

func initialise(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
		return err
	}
	return upgrade(ctx, db)
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6) // SQLITE_BUSY, SQLITE_LOCKED
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func unix(t time.Time) int64 { return t.UnixMilli() }

func fromUnix(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Create inserts a new migration; ErrExists if the name is taken.
func (s *Store) Create(ctx context.Context, m *Migration) error {
	now := unix(time.Now())
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO migrations (name, spec, state, phase, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
		m.Name, string(m.Spec), m.State, m.Phase, now, now)
	if err != nil {
		if _, getErr := s.Get(ctx, m.Name); getErr == nil {
			return ErrExists
		}
		return err
	}
	return nil
}

const cols = `name, spec, state, phase, error, progress, verify, runner_pid, runner_host, heartbeat_at, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scan(r scanner) (*Migration, error) {
	var m Migration
	var spec, progress, verify string
	var hb, created, updated int64
	if err := r.Scan(&m.Name, &spec, &m.State, &m.Phase, &m.Error, &progress, &verify, &m.RunnerPID, &m.RunnerHost, &hb, &created, &updated); err != nil {
		return nil, err
	}
	m.Spec, m.Progress, m.Verify = json.RawMessage(spec), json.RawMessage(progress), json.RawMessage(verify)
	m.Heartbeat, m.CreatedAt, m.UpdatedAt = fromUnix(hb), fromUnix(created), fromUnix(updated)
	return &m, nil
}

// Get returns one migration; ErrNotFound if unknown.
func (s *Store) Get(ctx context.Context, name string) (*Migration, error) {
	m, err := scan(s.db.QueryRowContext(ctx, s.q("SELECT "+cols+" FROM migrations WHERE name = ?"), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return m, err
}

// List returns every migration, oldest first.
func (s *Store) List(ctx context.Context) ([]*Migration, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+cols+" FROM migrations ORDER BY created_at, name"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Migration
	for rows.Next() {
		m, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Update reads a migration, lets fn change it, and writes it back atomically.
func (s *Store) Update(ctx context.Context, name string, fn func(*Migration) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	m, err := scan(tx.QueryRowContext(ctx, s.q("SELECT "+cols+" FROM migrations WHERE name = ?")+s.forUpdate(), name))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := fn(m); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE migrations SET spec = ?, state = ?, phase = ?, error = ?, progress = ?, verify = ?, runner_pid = ?, runner_host = ?, heartbeat_at = ?, updated_at = ? WHERE name = ?`),
		string(m.Spec), m.State, m.Phase, m.Error, string(m.Progress), string(m.Verify), m.RunnerPID, m.RunnerHost, unix(m.Heartbeat), unix(time.Now()), name)
	if err != nil {
		return err
	}
	return tx.Commit()
}

// Delete removes a migration with its requests and events.
func (s *Store) Delete(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM migrations WHERE name = ?"), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := s.db.ExecContext(ctx, s.q("DELETE FROM requests WHERE name = ?"), name); err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q("DELETE FROM events WHERE name = ?"), name)
	return err
}

// AddRequest queues a control request for the migration's runner and returns its id.
func (s *Store) AddRequest(ctx context.Context, name, kind string, args any) (int64, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.QueryRowContext(ctx, s.q("INSERT INTO requests (name, kind, args, created_at) VALUES (?, ?, ?, ?) RETURNING id"), name, kind, string(b), unix(time.Now())).Scan(&id)
	return id, err
}

// TakeRequests returns the requests nobody has taken yet, oldest first, and
// marks them taken, atomically: each request is handed out once.
func (s *Store) TakeRequests(ctx context.Context, name string) ([]Request, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.q("SELECT id, name, kind, args FROM requests WHERE name = ? AND taken_at = 0 AND done_at = 0 ORDER BY id")+s.forUpdate(), name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var args string
		if err := rows.Scan(&r.ID, &r.Name, &r.Kind, &args); err != nil {
			return nil, err
		}
		r.Args = json.RawMessage(args)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, s.q("UPDATE requests SET taken_at = ? WHERE name = ? AND taken_at = 0 AND done_at = 0 AND id <= ?"), unix(time.Now()), name, out[len(out)-1].ID); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// FinishRequest marks a request done with its result (a message; empty for plain success).
func (s *Store) FinishRequest(ctx context.Context, id int64, result string) error {
	_, err := s.db.ExecContext(ctx, s.q("UPDATE requests SET done_at = ?, result = ? WHERE id = ?"), unix(time.Now()), result, id)
	return err
}

// RequestResult reports whether a request is done and its result.
func (s *Store) RequestResult(ctx context.Context, id int64) (done bool, result string, err error) {
	var at int64
	err = s.db.QueryRowContext(ctx, s.q("SELECT done_at, result FROM requests WHERE id = ?"), id).Scan(&at, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", ErrNotFound
	}
	return at != 0, result, err
}

// AddEvent records something that happened to a migration.
func (s *Store) AddEvent(ctx context.Context, name, level, message string) error {
	_, err := s.db.ExecContext(ctx, s.q("INSERT INTO events (name, at, level, message) VALUES (?, ?, ?, ?)"), name, unix(time.Now()), level, message)
	return err
}

// Event is one recorded event.
type Event struct {
	At      time.Time `json:"at"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Events returns the last n events of a migration, oldest first.
func (s *Store) Events(ctx context.Context, name string, n int) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT at, level, message FROM (SELECT id, at, level, message FROM events WHERE name = ? ORDER BY id DESC LIMIT ?) AS e ORDER BY id"), name, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Level, &e.Message); err != nil {
			return nil, err
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
