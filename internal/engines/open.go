// Package engines opens a source or target by its URL scheme. It is the one
// place that knows every engine; the workflow only sees the engine interfaces.
package engines

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/postgres"
)

// Redact hides the password in any supported URL.
func Redact(url string) string { return postgres.Redact(url) }

func scheme(url string) string {
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
	case "":
		return fmt.Errorf("%s URL is empty: pass --%s postgres://user@host/db", role, role)
	default:
		return fmt.Errorf("%s URL %s: unknown scheme %q; supported: postgres://", role, Redact(url), scheme(url))
	}
}

// SameDatabase reports whether two URLs name the same database.
func SameDatabase(a, b string) bool {
	if scheme(a) != scheme(b) {
		return false
	}
	return postgres.SameDatabase(a, b)
}

// OpenSource opens the source of a migration with room for jobs parallel reads.
func OpenSource(ctx context.Context, url, migration string, jobs int) (engine.Source, error) {
	if err := Check("source", url); err != nil {
		return nil, err
	}
	return postgres.OpenSource(ctx, url, migration, jobs)
}

// OpenTarget opens the target with room for jobs parallel writes.
func OpenTarget(ctx context.Context, url string, jobs int) (engine.Target, error) {
	if err := Check("target", url); err != nil {
		return nil, err
	}
	return postgres.OpenTarget(ctx, url, jobs)
}
