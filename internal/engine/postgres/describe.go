package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

func describe(ctx context.Context, pool *pgxpool.Pool) (engine.ServerInfo, error) {
	info := engine.ServerInfo{Engine: "postgres", Settings: map[string]string{}}
	var wal, slots, senders, used string
	err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('wal_level'),
  current_setting('max_replication_slots'), current_setting('max_wal_senders'),
  (SELECT count(*)::text FROM pg_replication_slots)`).Scan(&info.Version, &wal, &slots, &senders, &used)
	if err != nil {
		return info, fmt.Errorf("reading the server's settings: %w", err)
	}
	info.Settings["wal_level"] = wal
	info.Settings["max_replication_slots"] = slots
	info.Settings["replication_slots_in_use"] = used
	info.Settings["max_wal_senders"] = senders
	return info, nil
}

// Describe implements engine.Source.
func (s *Source) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describe(ctx, s.pool)
}

// Describe implements engine.Target.
func (t *Target) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describe(ctx, t.pool)
}

// NonEmpty implements engine.Target.
func (t *Target) NonEmpty(ctx context.Context, tables []*schema.Table) ([]string, error) {
	var out []string
	for _, tb := range tables {
		var exists bool
		if err := t.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", QuoteIdent(tb.Schema)+"."+QuoteIdent(tb.Name)).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		var rows bool
		if err := t.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+QuoteIdent(tb.Schema)+"."+QuoteIdent(tb.Name)+")").Scan(&rows); err != nil {
			return nil, err
		}
		if rows {
			out = append(out, tb.QualifiedName())
		}
	}
	return out, nil
}
