package mysql

import (
	"context"
	"database/sql"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// prober asks the server whether it still answers, over a connection of its
// own: pooled connections may all be busy, and a busy one proves nothing.
type prober struct {
	once sync.Once
	conn *Conn
	db   *sql.DB
	err  error
}

// Ping answers within ctx, or fails; a failed connection is replaced by the
// next Ping.
func (p *prober) Ping(ctx context.Context) error {
	p.once.Do(func() {
		connector, err := mysql.NewConnector(p.conn.config())
		if err != nil {
			p.err = err
			return
		}
		p.db = sql.OpenDB(connector)
		p.db.SetMaxOpenConns(1)
		p.db.SetMaxIdleConns(1)
	})
	if p.err != nil {
		return p.err
	}
	return p.db.PingContext(ctx)
}

func (p *prober) close() {
	if p.db != nil {
		p.db.Close()
	}
}
