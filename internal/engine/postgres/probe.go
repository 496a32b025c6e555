package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// prober asks the server whether it still answers, over a connection of its
// own: pooled connections may all be busy, and a busy one proves nothing.
type prober struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
}

// Ping answers within ctx, or fails: then the connection is dropped and the
// next Ping dials again.
func (p *prober) Ping(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
		if err != nil {
			return err
		}
		p.conn = c
	}
	if err := p.conn.Ping(ctx); err != nil {
		p.drop()
		return err
	}
	return nil
}

func (p *prober) drop() {
	if p.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = p.conn.Close(ctx)
		p.conn = nil
	}
}

func (p *prober) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop()
}
