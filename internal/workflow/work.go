package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/godwit-db/godwit/internal/copier"
	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/replicator"
	"github.com/godwit-db/godwit/internal/retry"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/throttle"
)

// run is one execution of a migration by a runner.
type run struct {
	r       *Runner
	name    string
	spec    Spec
	tables  []*schema.Table
	tracker *tracker

	mu    sync.Mutex
	src   engine.Source
	phase Phase

	// What the store said before this run claimed the migration.
	prevState State
	prevStep  string

	// copiedAt: the tables without a key, each copied at one exact source
	// position (its chunk's end); replay skips what their copies hold.
	copiedAt map[string]position.Position

	completeCh      chan completeRequest
	poke            chan struct{}
	draining        atomic.Bool // a cutover waits for the final position
	consistentStage atomic.Bool // secondary indexes built: cutover may start
	switched        atomic.Bool // COMPLETED recorded: nothing may undo it

	outage retry.Budget // the connections' current outage, if any
	opened bool         // an attempt reached both servers
}

func (w *run) source() engine.Source {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.src
}

func (w *run) currentPhase() Phase {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phase
}

func (w *run) setPhase(p Phase) {
	w.mu.Lock()
	w.phase = p
	w.mu.Unlock()
	w.tracker.setPhase(p)
}

// copyOnly tells whether a table is copied without replaying its changes.
func (w *run) copyOnly(t *schema.Table) bool {
	return !w.spec.Once && !replays(w.r.Engines, w.spec, t)
}

// replayed are the tables whose changes are captured and replayed.
func (w *run) replayed() []*schema.Table {
	var out []*schema.Table
	for _, t := range w.tables {
		if replays(w.r.Engines, w.spec, t) {
			out = append(out, t)
		}
	}
	return out
}

func (w *run) jobs() int {
	if w.spec.Jobs < 1 {
		return 1
	}
	return w.spec.Jobs
}

// errForeignCheckpoints: the target holds another migration's checkpoints
// under this migration's name. The migration stays CREATED: it did nothing, and
// deleting it must not remove what belongs to the other one.
var errForeignCheckpoints = errors.New("the target already holds the checkpoints of another migration")

// work runs the phases from wherever the target's checkpoint says they stand.
func (w *run) work(ctx context.Context, src engine.Source, tgt engine.Target) error {
	w.mu.Lock()
	w.src = src
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.src = nil
		w.mu.Unlock()
	}()

	cp, err := tgt.Prepare(ctx, w.name)
	if err != nil {
		return err
	}
	if cp.Stage != "" && w.prevState == Created {
		// Checkpoints this migration never wrote: another migration of the same
		// name, run from another state store (or never deleted), owns them.
		return fmt.Errorf("%w named %s (stage %s) that this state store did not run: run 'godwit delete %s' where that one was run, or start this one under another name ('godwit delete %s' here removes only this one)",
			errForeignCheckpoints, w.name, cp.Stage, w.name, w.name)
	}
	if cp.Stage == "" {
		if cp, err = w.begin(ctx, src, tgt); err != nil {
			return err
		}
	} else {
		w.r.event(ctx, w.name, "info", fmt.Sprintf("resuming from the target's checkpoint (stage %s)", cp.Stage))
	}
	w.markSnapshotChunks(cp.Chunks)
	w.tracker.loadChunks(cp.Chunks)
	w.tracker.setPositions(cp.Start, position.Max(cp.Applied, cp.Start), cp.Consistency)
	if w.prevState == CuttingOver || w.prevStep != "" {
		switched, err := w.recoverCutover(ctx, src)
		if err != nil {
			return err
		}
		if switched {
			return w.afterSwitch(ctx, src, tgt)
		}
	}

	if cp.Stage == engine.StageCopying {
		if err := w.pinSnapshot(ctx, src, cp); err != nil {
			return err
		}
		if err := w.copyAll(ctx, src, tgt, cp); err != nil {
			return err
		}
		if w.spec.Once {
			return w.finishOnce(ctx, src, tgt)
		}
		cp.Consistency = w.consistencyPoint(cp.Chunks)
		if err := tgt.SetStage(ctx, w.name, engine.StageCopied, cp.Consistency); err != nil {
			return err
		}
		cp.Stage = engine.StageCopied
		w.tracker.setPositions(cp.Start, position.Max(cp.Applied, cp.Start), cp.Consistency)
	}
	if cp.Stage == engine.StageFinished {
		return nil
	}
	if w.copiedAt, err = copiedAt(w.replayed(), cp.Chunks); err != nil {
		return err
	}
	if err := w.replicate(ctx, src, tgt, cp); err != nil {
		return err
	}
	return w.afterSwitch(ctx, src, tgt)
}

// snapshotter is a source that can show every chunk read one consistent view.
type snapshotter interface {
	PinSnapshot(ctx context.Context, tables []*schema.Table) error
	ReleaseSnapshot()
}

// pinSnapshot gives a one-time copy a single consistent view of the source, as
// a live migration does not need: its replay repairs the fuzzy chunks.
func (w *run) pinSnapshot(ctx context.Context, src engine.Source, cp *engine.Checkpoint) error {
	s, ok := sourceAs[snapshotter](src)
	if !w.spec.Once || !ok {
		return nil
	}
	for _, c := range cp.Chunks {
		if c.Done {
			w.r.event(ctx, w.name, "warn", "resuming a one-time copy: chunks copied before the interruption saw an earlier state of the source; rows changed in between may differ (start again for one consistent copy)")
			break
		}
	}
	return s.PinSnapshot(ctx, w.tables)
}

// begin starts change capture (before anything is copied), plans the chunks and
// creates the target tables with the plan, atomically on the target.
func (w *run) begin(ctx context.Context, src engine.Source, tgt engine.Target) (*engine.Checkpoint, error) {
	// `start` checked the target; rows may have arrived there since (serve
	// runs a migration after it was created). Look again before capture.
	if !w.spec.TruncateTarget {
		full, err := tgt.NonEmpty(ctx, w.tables)
		if err != nil {
			return nil, err
		}
		if len(full) > 0 {
			return nil, fmt.Errorf("target tables %s already exist and hold rows (they were empty when the migration was created): empty or drop them, then 'godwit resume %s'", strings.Join(full, ", "), w.name)
		}
	}
	var start position.Position
	if !w.spec.Once {
		if err := src.CheckCapture(ctx, w.replayed()); err != nil {
			return nil, err
		}
		var err error
		if start, err = src.StartCapture(ctx, w.replayed()); err != nil {
			return nil, err
		}
		w.r.event(ctx, w.name, "info", "change capture started at "+start.String())
	}
	var chunks []engine.Chunk
	for _, t := range w.tables {
		cs, err := src.PlanChunks(ctx, t, w.spec.ChunkRows)
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, cs...)
	}
	if err := tgt.CreateTables(ctx, w.name, w.tables, chunks, start, w.spec.TruncateTarget); err != nil {
		// Nothing was copied: leave the source as it was, not holding a
		// slot or triggers for a migration that has no tables.
		if !w.spec.Once {
			if _, derr := src.DropCapture(context.WithoutCancel(ctx), w.replayed()); derr != nil {
				w.r.event(ctx, w.name, "warn", "could not remove the change capture after the tables failed: "+oneLine(derr.Error())+" ('godwit cancel' removes it)")
			} else {
				w.r.event(ctx, w.name, "info", "change capture removed from the source: the target tables could not be created")
			}
		}
		return nil, err
	}
	w.r.event(ctx, w.name, "info", fmt.Sprintf("created %d tables on the target; copying %d chunks", len(w.tables), len(chunks)))
	return &engine.Checkpoint{Stage: engine.StageCopying, Start: start, Chunks: chunks}, nil
}

// copyAll copies every chunk not yet done, then builds the keys replay needs.
func (w *run) copyAll(ctx context.Context, src engine.Source, tgt engine.Target, cp *engine.Checkpoint) error {
	w.setPhase(Copying)
	byName := map[string]*schema.Table{}
	for _, t := range w.tables {
		byName[t.QualifiedName()] = t
	}
	var pending []engine.Chunk
	index := map[[2]any]int{}
	for i, c := range cp.Chunks {
		index[[2]any{c.Table, c.Seq}] = i
		if !c.Done {
			pending = append(pending, c)
		}
	}
	started := time.Now()
	var mu sync.Mutex
	var limit throttle.Throttler = throttle.Noop{}
	if w.spec.MaxCopyRate > 0 {
		limit = throttle.NewRowRate(w.spec.MaxCopyRate)
	}
	err := copier.Run(ctx, src, tgt, w.name, byName, pending, w.jobs(), limit, func(c engine.Chunk) {
		mu.Lock()
		cp.Chunks[index[[2]any{c.Table, c.Seq}]] = c
		mu.Unlock()
		w.tracker.chunkDone(c)
	})
	if err != nil {
		return err
	}
	w.r.event(ctx, w.name, "info", fmt.Sprintf("copied %d chunks in %.1fs; building keys", len(pending), time.Since(started).Seconds()))
	return w.eachTable(ctx, func(ctx context.Context, t *schema.Table) error {
		if !t.HasKey() {
			return nil
		}
		return tgt.CreateKeyIndex(ctx, t)
	})
}

// eachTable runs fn for every table, jobs at a time.
func (w *run) eachTable(ctx context.Context, fn func(context.Context, *schema.Table) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(w.jobs())
	for _, t := range w.tables {
		g.Go(func() error { return fn(ctx, t) })
	}
	return g.Wait()
}

// markSnapshotChunks asks for the chunk of each replayed table without a key
// to be read at one exact position (there is one such chunk per table).
func (w *run) markSnapshotChunks(chunks []engine.Chunk) {
	for _, t := range w.replayed() {
		if !t.RowIdentity() {
			continue
		}
		for i := range chunks {
			if chunks[i].Table == t.QualifiedName() {
				chunks[i].Snapshot = true
			}
		}
	}
}

// copiedAt maps each table identified by its whole row to the position its
// one chunk was read at: a snapshot that holds exactly the transactions
// committed before it.
func copiedAt(tables []*schema.Table, chunks []engine.Chunk) (map[string]position.Position, error) {
	out := map[string]position.Position{}
	for _, t := range tables {
		if !t.RowIdentity() {
			continue
		}
		n := 0
		for _, c := range chunks {
			if c.Table != t.QualifiedName() {
				continue
			}
			n++
			if p, err := position.Parse(c.End); err == nil && c.Done {
				out[t.QualifiedName()] = p
			}
		}
		if _, ok := out[t.QualifiedName()]; !ok || n != 1 {
			return nil, fmt.Errorf("table %s (no key) was not copied in one snapshot (%d chunks): cancel this migration and start again", t.QualifiedName(), n)
		}
	}
	return out, nil
}

// consistencyPoint is the furthest position any chunk read ended at: once replay
// passes it, every chunk's view of the source has been overtaken.
func (w *run) consistencyPoint(chunks []engine.Chunk) position.Position {
	var max position.Position
	for _, c := range chunks {
		if p, err := position.Parse(c.End); err == nil {
			max = position.Max(max, p)
		}
	}
	return max
}

func (w *run) buildSecondary(ctx context.Context, tgt engine.Target) error {
	started := time.Now()
	if err := w.eachTable(ctx, func(ctx context.Context, t *schema.Table) error { return tgt.CreateSecondary(ctx, t) }); err != nil {
		return err
	}
	w.r.event(ctx, w.name, "info", fmt.Sprintf("built secondary indexes and unique constraints in %.1fs", time.Since(started).Seconds()))
	return nil
}

func (w *run) finishOnce(ctx context.Context, src engine.Source, tgt engine.Target) error {
	if err := w.buildSecondary(ctx, tgt); err != nil {
		return err
	}
	// Counters as the source has them now (at or past the copy's), so that the
	// target's next insert without a key does not collide, as after a cutover.
	vals, err := src.Sequences(ctx, w.tables)
	if err != nil {
		return err
	}
	if err := tgt.SetSequences(ctx, w.tables, vals); err != nil {
		return err
	}
	migrated := map[string]bool{}
	for _, t := range w.tables {
		migrated[t.QualifiedName()] = true
	}
	if err := w.eachTable(ctx, func(ctx context.Context, t *schema.Table) error { return tgt.CreateForeignKeys(ctx, t, migrated) }); err != nil {
		return err
	}
	// Keys created without checking rows are checked now; a copy that was not
	// one consistent view may hold rows whose reference was deleted meanwhile.
	if err := w.eachTable(ctx, func(ctx context.Context, t *schema.Table) error { return tgt.ValidateForeignKeys(ctx, t) }); err != nil {
		w.r.event(ctx, w.name, "warn", "validating foreign keys (they stay NOT VALID): "+oneLine(err.Error()))
	}
	return tgt.SetStage(ctx, w.name, engine.StageFinished, nil)
}

// replicate streams and applies changes from the applied position until ctx
// ends. It retries interruptions with backoff, switches to one-at-a-time replay
// after a compaction collision, and builds the secondary indexes once the
// target is consistent.
func (w *run) replicate(ctx context.Context, src engine.Source, tgt engine.Target, cp *engine.Checkpoint) error {
	ctx, stop := context.WithCancelCause(ctx)
	// The engines close when work returns: a cutover in progress (its abort
	// removes the fence) must be over by then.
	cutDone := make(chan struct{})
	go func() {
		defer close(cutDone)
		w.serveCutovers(ctx, src, tgt, stop)
	}()
	defer func() {
		stop(nil)
		<-cutDone
	}()
	w.setPhase(Replicating)
	applied := cp.Applied
	if applied == nil {
		applied = cp.Start
	}
	stage := cp.Stage
	if stage == engine.StageCopied && w.tracker.isConsistent() {
		if err := w.reachConsistency(ctx, src, tgt); err != nil {
			return err
		}
		stage = engine.StageConsistent
	}
	w.consistentStage.Store(stage == engine.StageConsistent)
	if stage == engine.StageCopied {
		nudged := make(chan struct{})
		go func() {
			defer close(nudged)
			w.nudgeToConsistency(ctx, src)
		}()
		defer func() { stop(nil); <-nudged }()
	}
	var sequentialUntil position.Position
	for {
		err := w.stream(ctx, src, tgt, applied, sequentialUntil, stage == engine.StageCopied)
		if w.switched.Load() {
			return nil
		}
		if a := w.tracker.appliedPos(); a != nil {
			applied = a
		}
		var retry *replicator.CollisionRetry
		var perm *engine.PermanentError
		var coll *engine.CollisionError
		switch {
		case errors.Is(context.Cause(ctx), errSwitched):
			return nil
		case errors.Is(err, errConsistent):
			if err := w.reachConsistency(ctx, src, tgt); err != nil {
				return err
			}
			stage = engine.StageConsistent
			w.consistentStage.Store(true)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &retry):
			if sequentialUntil, err = src.CurrentPosition(ctx); err != nil {
				return err
			}
			w.r.event(ctx, w.name, "warn", "a batch collided on a unique key; replaying it one change at a time: "+oneLine(retry.Err.Error()))
		case errors.As(err, &perm):
			return err
		case errors.As(err, &coll):
			return fmt.Errorf("%v: the target diverged from the source after the consistency point; cancel and restart the migration", err)
		default:
			// The stream alone is retried here, on the open engines; a server
			// that no longer answers ends the attempt instead (attempts).
			if err := w.outageWait(ctx, "replication interrupted", err); err != nil {
				if w.switched.Load() {
					return nil
				}
				return err
			}
		}
	}
}

// nudgeToConsistency moves an idle source's position on while the target
// waits for the consistency point. That point is an insert position read with
// a chunk; a source that stops writing sends no position past it until its
// WAL is flushed, and one that crashed may have lost the WAL there (not yet
// flushed, of transactions that never committed). A tiny source transaction
// every few seconds (Nudge) ends the wait.
func (w *run) nudgeToConsistency(ctx context.Context, src engine.Source) {
	n, ok := sourceAs[interface{ Nudge(context.Context) error }](src)
	if !ok {
		return
	}
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for !w.tracker.isConsistent() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = n.Nudge(ctx) // a failure here is the stream's to report
	}
}

func (w *run) reachConsistency(ctx context.Context, src engine.Source, tgt engine.Target) error {
	w.r.event(ctx, w.name, "info", "consistent: the target has caught up with every chunk's view of the source")
	if err := w.buildSecondary(ctx, tgt); err != nil {
		return err
	}
	if err := tgt.SetStage(ctx, w.name, engine.StageConsistent, nil); err != nil {
		return err
	}
	if w.spec.Verify {
		// start --verify: compare once, beside replication; the result shows in status.
		go func() {
			if _, err := w.r.verifyWith(ctx, w.name, src, tgt, w.replayed(), true, VerifyOptions{}); err != nil && ctx.Err() == nil {
				w.r.event(ctx, w.name, "warn", "automatic verification could not finish: "+oneLine(err.Error()))
			}
		}()
	}
	return nil
}

// stream runs one change stream and its applier until either stops. When
// stopAtConsistency is set, it ends with errConsistent once replay passes the
// consistency point.
func (w *run) stream(ctx context.Context, src engine.Source, tgt engine.Target, from, sequentialUntil position.Position, stopAtConsistency bool) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var mu sync.Mutex
	acked := from
	// Parts of big transactions hold thousands of changes each: a short queue
	// keeps memory flat while the applier works through one.
	txns := make(chan engine.Txn, 16)
	opts := w.r.Replay
	opts.SequentialUntil = sequentialUntil
	opts.HeartbeatNow = w.draining.Load
	opts.CopiedAt = w.copiedAt
	opts.Consistent = w.tracker.isConsistent
	opts.Fetch = func(ctx context.Context, t *schema.Table, key []engine.Value) ([]engine.Value, bool, error) {
		k := make([]string, len(key))
		for i, v := range key {
			k[i] = v.Text
		}
		// Replay takes the row in the source engine's own value form.
		rows, err := ownSource(src).Rows(ctx, t, [][]string{k})
		if err != nil || rows[0] == nil {
			return nil, false, err
		}
		img := make([]engine.Value, len(rows[0]))
		for i, v := range rows[0] {
			if v == nil {
				img[i].Null = true
			} else {
				img[i].Text = *v
			}
		}
		w.r.event(ctx, w.name, "info", fmt.Sprintf("fetched a row of %s from the source: a key change carried only some columns and the copy had the row at neither key", t.QualifiedName()))
		return img, true, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return src.Stream(gctx, from, w.replayed(), txns, func() position.Position {
			mu.Lock()
			defer mu.Unlock()
			return acked
		}, w.poke)
	})
	g.Go(func() error {
		return replicator.Run(gctx, txns, func(ctx context.Context) (engine.ApplyTx, error) {
			return tgt.BeginApply(ctx, w.name)
		}, from, opts, func(c replicator.Commit) {
			mu.Lock()
			acked = c.Applied
			mu.Unlock()
			if w.tracker.commit(c) && stopAtConsistency {
				stop(errConsistent)
			}
		})
	})
	err := g.Wait()
	if cause := context.Cause(ctx); errors.Is(cause, errConsistent) {
		return errConsistent
	}
	return err
}
