package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgSchema is the PostgreSQL schema a shared store's tables live in.
const pgSchema = "godwit_state"

// pgSchemaSQL is schemaSQL for PostgreSQL: 64-bit times, generated ids.
var pgSchemaSQL = []string{
	"CREATE SCHEMA IF NOT EXISTS " + pgSchema,
	`CREATE TABLE IF NOT EXISTS migrations (
  name TEXT PRIMARY KEY, spec TEXT NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '', progress TEXT NOT NULL DEFAULT '{}', verify TEXT NOT NULL DEFAULT '{}',
  runner_pid INTEGER NOT NULL DEFAULT 0, runner_host TEXT NOT NULL DEFAULT '', heartbeat_at BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS requests (
  id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL, taken_at BIGINT NOT NULL DEFAULT 0, done_at BIGINT NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '')`,
	`CREATE TABLE IF NOT EXISTS events (
  id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, at BIGINT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL)`,
	"CREATE INDEX IF NOT EXISTS events_name ON events (name, id)",
}

// redact hides a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a malformed URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
		return strings.Replace(u.String(), ":xxx@", ":***@", 1)
	}
	return u.String()
}

// openPG opens a store kept in a PostgreSQL database, creating its schema
// (under an advisory lock, so that processes starting together do not race).
func openPG(ctx context.Context, raw string) (*Store, error) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("the state store URL %s is malformed: use postgres://user[:password]@host[:port]/database", redact(raw))
	}
	cfg.RuntimeParams["search_path"] = pgSchema
	cfg.RuntimeParams["application_name"] = "godwit-state"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	if err := initialisePG(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open the state store %s: %v", redact(raw), err)
	}
	return &Store{db: db, pg: true}, nil
}

func initialisePG(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7307443511)"); err != nil {
		return err
	}
	for _, q := range pgSchemaSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}
