// Package engines opens a source or target by its URL scheme. It is the one
// place that knows every engine; the workflow only sees the engine interfaces.
package engines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/mysql"
	"github.com/godwit-db/godwit/internal/engine/postgres"
	"github.com/godwit-db/godwit/internal/engine/sqlite"
	"github.com/godwit-db/godwit/internal/schema"
)

// Redact hides the password in any supported URL.
func Redact(url string) string { return postgres.Redact(url) }

func scheme(url string) string {
	if sqlite.IsURL(url) {
		return "sqlite"
	}
	s, _, ok := strings.Cut(url, "://")
	if !ok {
		s, _, _ = strings.Cut(url, ":")
	}
	switch s {
	case "postgresql":
		return "postgres"
	case "mariadb":
		return "mysql"
	}
	return s
}

// Check reports whether the URL names an engine godwit knows, without connecting.
func Check(role, url string) error {
	switch scheme(url) {
	case "postgres":
		return nil
	case "mysql":
		_, err := mysql.ParseURL(role, url)
		return err
	case "sqlite":
		_, err := sqlite.Path(url)
		return err
	case "":
		return fmt.Errorf("%s URL is empty: pass --%s postgres://user@host/db, mysql://user@host/db or sqlite:///path/file.db", role, role)
	default:
		return fmt.Errorf("%s URL %s: unknown scheme %q; use postgres://, mysql:// or sqlite:///path/file.db", role, Redact(url), scheme(url))
	}
}

// SameDatabase reports whether two URLs name the same database.
func SameDatabase(a, b string) bool {
	if scheme(a) != scheme(b) {
		return false
	}
	switch scheme(a) {
	case "sqlite":
		return sqlite.SameFile(a, b)
	case "mysql":
		return mysql.SameServer(a, b) // tables keep their database names on the target
	}
	return postgres.SameDatabase(a, b)
}

// TargetExists reports whether the database a target URL names exists already:
// false only for a SQLite file that is not there yet.
func TargetExists(url string) bool {
	if scheme(url) != "sqlite" {
		return true
	}
	path, err := sqlite.Path(url)
	if err != nil {
		return true // opening reports the error
	}
	_, err = os.Stat(path)
	return err == nil
}

// Pair reports why a source and target cannot be migrated between, or nil.
// Every pair of the three engines can.
func Pair(source, target string) error { return nil }

// Dialect is the engine's half of migrations between engines.
func Dialect(url string) engine.Dialect {
	switch scheme(url) {
	case "sqlite":
		return sqlite.Dialect()
	case "mysql":
		return mysql.Dialect()
	}
	return postgres.Dialect()
}

// DefaultSchema is where tables go on a target that names its own place for
// them: the database of a MySQL URL, SQLite's one schema; "" otherwise.
func DefaultSchema(url string) string {
	switch scheme(url) {
	case "sqlite":
		return "main"
	case "mysql":
		if u, err := mysql.ParseURL("target", url); err == nil {
			return u.Database
		}
	}
	return ""
}

// OpenSource opens the source of a migration with room for jobs parallel reads.
func OpenSource(ctx context.Context, url, migration string, jobs int) (engine.Source, error) {
	if err := Check("source", url); err != nil {
		return nil, err
	}
	switch scheme(url) {
	case "sqlite":
		return sqlite.OpenSource(ctx, url, migration)
	case "mysql":
		return mysql.OpenSource(ctx, url, migration, jobs)
	}
	return postgres.OpenSource(ctx, url, migration, jobs)
}

// OpenTarget opens the target with room for jobs parallel writes.
func OpenTarget(ctx context.Context, url string, jobs int) (engine.Target, error) {
	if err := Check("target", url); err != nil {
		return nil, err
	}
	switch scheme(url) {
	case "sqlite":
		return sqlite.OpenTarget(ctx, url)
	case "mysql":
		return mysql.OpenTarget(ctx, url, jobs)
	}
	return postgres.OpenTarget(ctx, url, jobs)
}

// tryCreator is a target that can try its tables' definitions (each
// engine's TryCreate) without keeping anything.
type tryCreator interface {
	TryCreate(ctx context.Context, tables []*schema.Table) error
}

// TryCreate builds the tables on the target the URL names, keeping nothing
// (a SQLite file that is not there yet: in memory). An error is a definition
// the target refuses; note says, instead, why they could not be tried.
func TryCreate(ctx context.Context, url string, tables []*schema.Table) (note string, err error) {
	if scheme(url) == "sqlite" && !TargetExists(url) {
		return "", sqlite.TryCreateInMemory(ctx, tables)
	}
	t, err := OpenTarget(ctx, url, 1)
	if err != nil {
		return "", err
	}
	defer t.Close()
	err = t.(tryCreator).TryCreate(ctx, tables)
	var ns *mysql.NoScratchError
	if errors.As(err, &ns) {
		return ns.Error() + ": let the target user create and drop databases named _godwit_try_% for check and start to try them first", nil
	}
	return "", err
}
