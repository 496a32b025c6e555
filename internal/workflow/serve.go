package workflow

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Supervise runs every active migration of the store in this process (CREATED,
// PAUSED, or RUNNING with its runner gone), picking up new ones every poll,
// until ctx ends; then every run pauses at its checkpoint and Supervise
// returns once they all have. FAILED migrations wait for a resume.
func (r *Runner) Supervise(ctx context.Context, poll time.Duration) error {
	var mu sync.Mutex
	running := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		list, err := r.Store.List(ctx)
		if err != nil && ctx.Err() == nil {
			r.Log.Warn("listing migrations: " + err.Error())
		}
		for _, m := range list {
			switch State(m.State) {
			case Created, Paused, Running, CuttingOver:
			default:
				continue
			}
			mu.Lock()
			busy := running[m.Name]
			mu.Unlock()
			if busy || alive(m, r.Host) {
				continue
			}
			mu.Lock()
			running[m.Name] = true
			mu.Unlock()
			wg.Add(1)
			go func(name string) {
				defer wg.Done()
				// Another process claiming it first (serves sharing a store) is no error.
				if err := r.Run(ctx, name); err != nil && ctx.Err() == nil && !errors.Is(err, errRunElsewhere) {
					r.Log.Warn("migration stopped", "migration", name, "error", oneLine(err.Error()))
				}
				mu.Lock()
				delete(running, name)
				mu.Unlock()
			}(m.Name)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
