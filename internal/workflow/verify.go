package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/throttle"
	"github.com/godwit-db/godwit/internal/verify"
)

// Verification states.
const (
	VerifyRunning = "running"
	VerifyPassed  = "passed"
	VerifyFailed  = "failed" // differences found
	VerifyError   = "error"  // could not verify
)

// VerifyState is the last verification of a migration, kept in the store so
// status can show it and a killed verification can resume.
type VerifyState struct {
	State       string              `json:"state"`
	PID         int                 `json:"pid,omitempty"`
	Host        string              `json:"host,omitempty"`
	Tables      []string            `json:"tables"`
	ChunksDone  int64               `json:"chunks_done"`
	ChunksTotal int64               `json:"chunks_total"`
	RowsChecked int64               `json:"rows_checked"`
	Differences int                 `json:"differences"`
	Found       []verify.Difference `json:"found,omitempty"`
	Unsettled   []verify.Difference `json:"unsettled,omitempty"`
	Resume      map[string][]string `json:"resume,omitempty"`
	Done        []string            `json:"done_tables,omitempty"`
	// NotKept are the tables without a key (--allow-no-key): copied once,
	// their changes not replayed, so not compared — the target may differ.
	NotKept    []string   `json:"not_kept,omitempty"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// maxReported bounds the differences kept in the store and printed.
const maxReported = 1000

// VerifyOptions are what the user asked of a verification.
type VerifyOptions struct {
	Tables    schema.Filter
	ChunkRows int64
	MaxRate   float64 // rows per second, 0 for no limit
	Restart   bool    // ignore an interrupted verification instead of resuming it

	notKept []string // the keyless tables left out (VerifyState.NotKept)
}

func loadVerify(m *store.Migration) *VerifyState {
	var vs VerifyState
	if len(m.Verify) == 0 || json.Unmarshal(m.Verify, &vs) != nil || vs.State == "" {
		return nil
	}
	return &vs
}

// Verify compares the migration's tables on source and target. The migration
// must be replicating and consistent (its runner applying changes), or completed.
func (r *Runner) Verify(ctx context.Context, name string, opts VerifyOptions) (*VerifyState, error) {
	m, spec, err := r.loadSpec(ctx, name)
	if err != nil {
		return nil, err
	}
	st, err := StatusOf(m, r.Engines.Redact, r.Host)
	if err != nil {
		return nil, err
	}
	live := true
	switch {
	case st.State == Completed:
		live = false
	case st.Once:
		return nil, fmt.Errorf("migration %s is a one-time copy that is %s: verify compares a completed copy or a live migration", name, st.State)
	case st.State != Running || st.Runner == nil || !st.Runner.Alive:
		return nil, fmt.Errorf("migration %s is %s: verify needs its runner applying changes ('godwit resume %s') or a completed migration", name, st.State, name)
	case !st.Consistent:
		return nil, fmt.Errorf("migration %s is not consistent yet (still %s): verify once status shows consistent", name, st.Phase)
	}
	var tables []*schema.Table
	var notKept []string
	for _, t := range spec.Tables {
		switch {
		case !opts.Tables.Match(t.QualifiedName()):
		case replays(r.Engines, spec, t):
			tables = append(tables, t)
		default:
			notKept = append(notKept, t.QualifiedName())
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no keyed table of migration %s matches the --tables patterns", name)
	}
	src, err := r.openSource(ctx, spec, name, 1)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	tgt, err := r.openTarget(ctx, spec, name, 1)
	if err != nil {
		return nil, err
	}
	defer tgt.Close()
	opts.notKept = notKept
	return r.verifyWith(ctx, name, src, tgt, tables, live, opts)
}

// verifyWith runs a verification on open engines and records it in the store.
func (r *Runner) verifyWith(ctx context.Context, name string, src engine.Source, tgt engine.Target, tables []*schema.Table, live bool, opts VerifyOptions) (*VerifyState, error) {
	if opts.ChunkRows <= 0 {
		opts.ChunkRows = 20000
	}
	var names []string
	var total int64
	for _, t := range tables {
		names = append(names, t.QualifiedName())
		total += max(1, (t.Rows+opts.ChunkRows-1)/opts.ChunkRows)
	}
	vs := &VerifyState{State: VerifyRunning, PID: r.PID, Host: r.Host, Tables: names, ChunksTotal: total, Resume: map[string][]string{}, StartedAt: time.Now(), NotKept: opts.notKept}
	if m, err := r.Store.Get(ctx, name); err == nil && !opts.Restart {
		if prev := loadVerify(m); prev != nil && prev.State == VerifyRunning && !(prev.Host == r.Host && processAlive(prev.PID)) &&
			fmt.Sprint(prev.Tables) == fmt.Sprint(names) {
			vs = prev // an interrupted verification of the same tables: go on from where it stopped
			vs.PID, vs.Host, vs.NotKept = r.PID, r.Host, opts.notKept
			r.event(ctx, name, "info", fmt.Sprintf("resuming an interrupted verification (%d of about %d chunks done)", vs.ChunksDone, vs.ChunksTotal))
		}
	}
	var mu sync.Mutex
	save := func() {
		mu.Lock()
		b, _ := json.Marshal(vs)
		mu.Unlock()
		_ = r.Store.Update(context.WithoutCancel(ctx), name, func(m *store.Migration) error {
			m.Verify = b
			return nil
		})
	}
	save()
	done := map[string]bool{}
	for _, t := range vs.Done {
		done[t] = true
	}
	var todo []*schema.Table
	for _, t := range tables {
		if !done[t.QualifiedName()] {
			todo = append(todo, t)
		}
	}
	var limit throttle.Throttler = throttle.Noop{}
	if opts.MaxRate > 0 {
		limit = throttle.NewRowRate(opts.MaxRate)
	}
	lastSave := time.Now()
	vopts := verify.Options{
		ChunkRows: opts.ChunkRows, Live: live, Throttle: limit, Resume: vs.Resume, MaxDifferences: maxReported,
		SourcePosition: src.CurrentPosition,
		WaitApplied: func(ctx context.Context, pos position.Position) error {
			return waitApplied(ctx, src, tgt, name, pos, 2*time.Minute)
		},
		OnChunk: func(table string, reached []string, rows int64, diffs []verify.Difference) {
			mu.Lock()
			vs.ChunksDone++
			vs.RowsChecked += rows
			vs.Differences += len(diffs)
			for _, d := range diffs {
				if len(vs.Found) < maxReported {
					vs.Found = append(vs.Found, d)
				}
			}
			if reached == nil {
				delete(vs.Resume, table)
				vs.Done = append(vs.Done, table)
			} else {
				vs.Resume[table] = reached
			}
			mu.Unlock()
			if time.Since(lastSave) > time.Second || reached == nil {
				save()
				lastSave = time.Now()
			}
		},
	}
	res, err := verify.Run(ctx, src, tgt, todo, vopts)
	now := time.Now()
	vs.FinishedAt = &now
	switch {
	case err != nil && ctx.Err() != nil:
		save() // left running: the next verification resumes it
		return vs, ctx.Err()
	case err != nil:
		vs.State, vs.Error = VerifyError, oneLine(err.Error())
	default:
		vs.Unsettled = res.Unsettled
		switch {
		case vs.Differences > 0:
			vs.State = VerifyFailed
		case len(res.Unsettled) > 0:
			vs.State = VerifyError
			vs.Error = fmt.Sprintf("%d rows changed on the source in every round and could not be compared; run verify again", len(res.Unsettled))
		default:
			vs.State = VerifyPassed
		}
	}
	vs.Resume = nil
	save()
	switch vs.State {
	case VerifyPassed:
		r.event(ctx, name, "info", fmt.Sprintf("verified %d rows in %d tables: no differences", vs.RowsChecked, len(tables)))
	case VerifyFailed:
		r.event(ctx, name, "warn", fmt.Sprintf("verification found %d differences", vs.Differences))
	default:
		r.event(ctx, name, "warn", "verification incomplete: "+vs.Error)
	}
	if err != nil {
		return vs, err
	}
	return vs, nil
}

// nudger returns how to push the source's unflushed WAL along (a no-op for
// engines that need none): waits for a position use it.
func nudger(src engine.Source) func(context.Context) error {
	if n, ok := sourceAs[interface{ Nudge(context.Context) error }](src); ok {
		return n.Nudge
	}
	return func(context.Context) error { return nil }
}

// waitApplied waits until the target has applied pos for the migration.
func waitApplied(ctx context.Context, src engine.Source, tgt engine.Target, name string, pos position.Position, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	nudge, lastNudge := nudger(src), time.Now()
	for {
		// The source's WAL up to pos may sit unflushed: nudge it along.
		if time.Since(lastNudge) > 100*time.Millisecond {
			if err := nudge(ctx); err != nil {
				return err
			}
			lastNudge = time.Now()
		}
		applied, err := tgt.Applied(ctx, name)
		if err != nil {
			return err
		}
		if applied != nil && applied.Covers(pos) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replay did not reach source position %s within %s (applied %v): is the runner applying changes?", pos, timeout, applied)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}
