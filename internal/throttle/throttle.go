// Package throttle limits how fast godwit reads from the source.
package throttle

import (
	"context"
	"sync"
	"time"
)

// Throttler paces work measured in rows.
type Throttler interface {
	// Wait blocks until n more rows may be counted as done.
	Wait(ctx context.Context, n int64) error
}

// Noop never waits.
type Noop struct{}

func (Noop) Wait(context.Context, int64) error { return nil }

// RowRate keeps the average rate at or under a number of rows per second,
// shared by every worker that calls Wait.
type RowRate struct {
	mu    sync.Mutex
	rate  float64
	start time.Time
	done  int64
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// NewRowRate returns a throttler for perSecond rows per second.
func NewRowRate(perSecond float64) *RowRate {
	return &RowRate{rate: perSecond, now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait implements Throttler.
func (r *RowRate) Wait(ctx context.Context, n int64) error {
	r.mu.Lock()
	if r.start.IsZero() {
		r.start = r.now()
	}
	r.done += n
	due := r.start.Add(time.Duration(float64(r.done) / r.rate * float64(time.Second)))
	wait := due.Sub(r.now())
	r.mu.Unlock()
	return r.sleep(ctx, wait)
}
