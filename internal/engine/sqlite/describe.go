package sqlite

import (
	"context"
	"database/sql"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

func describeFile(ctx context.Context, db *sql.DB, path string) (engine.ServerInfo, error) {
	info := engine.ServerInfo{Engine: "sqlite", Settings: map[string]string{"file": path}}
	var mode string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&info.Version); err != nil {
		return info, err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return info, err
	}
	info.Settings["journal_mode"] = mode
	return info, nil
}

// Describe implements engine.Source.
func (s *Source) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describeFile(ctx, s.db, s.path)
}

// Describe implements engine.Target.
func (t *Target) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describeFile(ctx, t.db, t.path)
}

// NonEmpty implements engine.Target.
func (t *Target) NonEmpty(ctx context.Context, tables []*schema.Table) ([]string, error) {
	var out []string
	for _, tb := range tables {
		var n int
		if err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", tb.Name).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		var rows int
		if err := t.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+QuoteIdent(tb.Name)+")").Scan(&rows); err != nil {
			return nil, err
		}
		if rows != 0 {
			out = append(out, tb.QualifiedName())
		}
	}
	return out, nil
}
