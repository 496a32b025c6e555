// Package engines opens a source or target by its URL scheme. It is the one
// place that knows every engine; the workflow only sees the engine interfaces.
package engines

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/postgres"
	"github.com/godwit-db/godwit/internal/engine/sqlite"
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
	return s
}

// Check reports whether the URL names an engine godwit knows, without connecting.
func Check(role, url string) error {
	switch scheme(url) {
	case "postgres", "postgresql":
		return nil
	case "sqlite":
		_, err := sqlite.Path(url)
		return err
	case "":
		return fmt.Errorf("%s URL is empty: pass --%s postgres://user@host/db or sqlite:///path/file.db", role, role)
	default:
		return fmt.Errorf("%s URL %s: unknown scheme %q; supported: postgres://, sqlite:", role, Redact(url), scheme(url))
	}
}

// SameDatabase reports whether two URLs name the same database.
func SameDatabase(a, b string) bool {
	if scheme(a) != scheme(b) {
		return false
	}
	if scheme(a) == "sqlite" {
		return sqlite.SameFile(a, b)
	}
	return postgres.SameDatabase(a, b)
}

// Pair reports why a source and target cannot be migrated between, or nil.
// Cross-engine pairs need the neutral type mapping (a later step).
func Pair(source, target string) error {
	if s, t := scheme(source), scheme(target); s != t && !(s+t == "postgrespostgresql" || s+t == "postgresqlpostgres") {
		return fmt.Errorf("migrating from %s to %s is not supported yet: source and target must be the same engine", s, t)
	}
	return nil
}

// OpenSource opens the source of a migration with room for jobs parallel reads.
func OpenSource(ctx context.Context, url, migration string, jobs int) (engine.Source, error) {
	if err := Check("source", url); err != nil {
		return nil, err
	}
	if scheme(url) == "sqlite" {
		return sqlite.OpenSource(ctx, url, migration)
	}
	return postgres.OpenSource(ctx, url, migration, jobs)
}

// OpenTarget opens the target with room for jobs parallel writes.
func OpenTarget(ctx context.Context, url string, jobs int) (engine.Target, error) {
	if err := Check("target", url); err != nil {
		return nil, err
	}
	if scheme(url) == "sqlite" {
		return sqlite.OpenTarget(ctx, url)
	}
	return postgres.OpenTarget(ctx, url, jobs)
}
