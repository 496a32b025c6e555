package replicator

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
)

// recordTx records the positions committed: a unit stand-in for the target's
// bookkeeping, not for what a database does with rows.
type recordTx struct {
	mu      *sync.Mutex
	commits *[]position.Position
}

func (r recordTx) Apply(context.Context, engine.Segment) error { return nil }
func (r recordTx) Commit(_ context.Context, p position.Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.commits = append(*r.commits, p)
	return nil
}
func (r recordTx) Rollback(context.Context) {}

// A source reports each position once: heartbeats that come too soon after a
// commit must still be recorded later, or an idle source's applied position
// stays behind for good (MariaDB after a rotation sends four boundary events
// within a millisecond, then heartbeats repeating the last).
func TestHeartbeatTooSoonIsRecordedLater(t *testing.T) {
	var mu sync.Mutex
	var commits []position.Position
	in := make(chan engine.Txn, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, in, func(context.Context) (engine.ApplyTx, error) {
			return recordTx{&mu, &commits}, nil
		}, nil, Options{HeartbeatEvery: 100 * time.Millisecond}, func(Commit) {})
	}()
	in <- engine.Txn{End: position.LSN(4)}
	for {
		mu.Lock()
		n := len(commits)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, p := range []position.LSN{256, 299, 339, 379} {
		in <- engine.Txn{End: p}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(commits)
		last := position.Position(nil)
		if n > 0 {
			last = commits[n-1]
		}
		mu.Unlock()
		if last == position.LSN(379) {
			if n > 3 {
				t.Errorf("%d commits for 5 heartbeats within one interval: %v", n, commits)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last heartbeat was never recorded: commits %v", commits)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}
