package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

func describeServer(ctx context.Context, db *sql.DB) (engine.ServerInfo, error) {
	info := engine.ServerInfo{Engine: "mysql", Settings: map[string]string{}}
	var logBin, format, serverID, infile string
	var image sql.NullString
	err := db.QueryRowContext(ctx, "SELECT @@version, @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@local_infile").
		Scan(&info.Version, &logBin, &format, &image, &serverID, &infile)
	if err != nil {
		return info, fmt.Errorf("reading the server's settings: %w", describe(err))
	}
	info.Settings["log_bin"] = logBin
	info.Settings["binlog_format"] = format
	info.Settings["binlog_row_image"] = image.String
	info.Settings["server_id"] = serverID
	info.Settings["local_infile"] = infile
	var expiry sql.NullString
	if db.QueryRowContext(ctx, "SELECT @@binlog_expire_logs_seconds").Scan(&expiry) == nil && expiry.Valid {
		info.Settings["binlog_expire_logs_seconds"] = expiry.String
	}
	return info, nil
}

// Describe implements engine.Source.
func (s *Source) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describeServer(ctx, s.db)
}

// Describe implements engine.Target.
func (t *Target) Describe(ctx context.Context) (engine.ServerInfo, error) {
	return describeServer(ctx, t.db)
}

// NonEmpty implements engine.Target.
func (t *Target) NonEmpty(ctx context.Context, tables []*schema.Table) ([]string, error) {
	var out []string
	for _, tb := range tables {
		exists, err := t.tableExists(ctx, tb)
		if err != nil || !exists {
			if err != nil {
				return nil, err
			}
			continue
		}
		var rows int
		if err := t.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+qualified(tb)+")").Scan(&rows); err != nil {
			return nil, err
		}
		if rows != 0 {
			out = append(out, tb.QualifiedName())
		}
	}
	return out, nil
}
