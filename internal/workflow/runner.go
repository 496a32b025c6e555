package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/replicator"
	"github.com/godwit-db/godwit/internal/retry"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/store"
)

// Engines opens databases by URL; injected so the workflow knows no engine.
type Engines struct {
	OpenSource   func(ctx context.Context, url, migration string, jobs int) (engine.Source, error)
	OpenTarget   func(ctx context.Context, url string, jobs int) (engine.Target, error)
	Check        func(role, url string) error
	SameDatabase func(a, b string) bool
	Pair         func(source, target string) error
	Redact       func(url string) string
	// TargetExists reports whether a target database exists already (a SQLite
	// file may not: opening it would create it).
	TargetExists func(url string) bool
	// Dialect is the engine's half of migrations between engines.
	Dialect func(url string) engine.Dialect
	// DefaultSchema is where a target URL puts tables that bring no schema of
	// their own ("" when it names none).
	DefaultSchema func(url string) string
	// TryCreate builds target tables and takes them back: an error is a
	// definition the target refuses; note, why they were not tried.
	TryCreate func(ctx context.Context, url string, tables []*schema.Table) (note string, err error)
}

// Runner runs migrations kept in a store.
type Runner struct {
	Store   *store.Store
	Engines Engines
	Log     *slog.Logger
	Host    string
	PID     int
	// Replay tunes the applier.
	Replay replicator.Options
}

// NewRunner returns a runner for this process.
func NewRunner(st *store.Store, eng Engines, log *slog.Logger) *Runner {
	return &Runner{Store: st, Engines: eng, Log: log, Host: Hostname(), PID: os.Getpid()}
}

var (
	errCancelRequested = errors.New("cancel requested")
	errConsistent      = errors.New("consistency point reached")
)

// Create checks the request against both databases and records the migration.
// Nothing is created on either database: bad input leaves nothing behind.
func (r *Runner) Create(ctx context.Context, name string, spec Spec) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if spec.RetryForSeconds < 0 {
		return fmt.Errorf("retry_for_seconds must not be negative (0: the default of %s)", retry.DefaultFor)
	}
	if _, err := r.Store.Get(ctx, name); err == nil {
		return fmt.Errorf("migration %q already exists: pick another name, or remove it with 'godwit delete %s'", name, name)
	}
	list, err := r.Store.List(ctx)
	if err != nil {
		return err
	}
	for _, m := range list {
		if strings.ReplaceAll(m.Name, "-", "_") == strings.ReplaceAll(name, "-", "_") {
			return fmt.Errorf("migration %q already exists under the name %q (they would share source objects): pick another name", name, m.Name)
		}
	}
	// The same assessment as `godwit check`: what it blocks on is refused
	// here, before anything is created on either database.
	rep, got, err := assess(ctx, r.Engines, spec, name)
	if err != nil {
		return err
	}
	if !rep.Ready {
		return refusal(rep)
	}
	spec.Tables = got.tables
	if got.mapped != nil {
		spec.TargetTables = got.mapped.Targets
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := r.Store.Create(ctx, &store.Migration{Name: name, Spec: b, State: string(Created)}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("migration %q already exists: pick another name", name)
		}
		return err
	}
	r.event(ctx, name, "info", fmt.Sprintf("created: %d tables from %s to %s", len(got.tables), r.Engines.Redact(spec.Source), r.Engines.Redact(spec.Target)))
	for _, w := range rep.Warnings {
		r.event(ctx, name, "warn", w)
	}
	return nil
}

// refusal is the error of an assessment that blocks: its first problem, and
// how many more `godwit check` shows.
func refusal(rep *CheckReport) error {
	if n := len(rep.Blocking) - 1; n > 0 {
		return fmt.Errorf("%s (and %d more: 'godwit check' with the same options lists them all)", rep.Blocking[0], n)
	}
	return errors.New(rep.Blocking[0])
}

func (r *Runner) event(ctx context.Context, name, level, msg string) {
	switch level {
	case "warn":
		r.Log.Warn(msg, "migration", name)
	case "error":
		r.Log.Error(msg, "migration", name)
	default:
		r.Log.Info(msg, "migration", name)
	}
	_ = r.Store.AddEvent(context.WithoutCancel(ctx), name, level, msg)
}

// loadSpec reads a migration and its spec.
func (r *Runner) loadSpec(ctx context.Context, name string) (*store.Migration, Spec, error) {
	m, err := r.Store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Spec{}, fmt.Errorf("unknown migration %q: 'godwit list' shows the migrations in this state store", name)
	}
	if err != nil {
		return nil, Spec{}, err
	}
	var spec Spec
	if err := json.Unmarshal(m.Spec, &spec); err != nil {
		return nil, Spec{}, fmt.Errorf("migration %s has an unreadable spec: %v", name, err)
	}
	return m, spec, nil
}

// claim takes the runner lease or says who holds it.
// errRunElsewhere is claim's refusal: another live process runs the migration.
var errRunElsewhere = errors.New("already being run")

func (r *Runner) claim(ctx context.Context, name string) error {
	return r.Store.Update(ctx, name, func(m *store.Migration) error {
		st := State(m.State)
		if st.Finished() {
			return fmt.Errorf("migration %s is %s: there is nothing left to run", name, st)
		}
		if alive(m, r.Host) && !(m.RunnerPID == r.PID && m.RunnerHost == r.Host) {
			return fmt.Errorf("migration %s is %w by process %d on %s: stop that one first (or 'godwit cancel %s')", name, errRunElsewhere, m.RunnerPID, m.RunnerHost, name)
		}
		m.State, m.Error = string(Running), ""
		m.RunnerPID, m.RunnerHost, m.Heartbeat = r.PID, r.Host, time.Now()
		return nil
	})
}

// Run runs a migration until it completes, fails, is cancelled, or ctx ends
// (then it is left PAUSED at its last checkpoint). It returns an error only when
// the migration could not run or FAILED.
func (r *Runner) Run(ctx context.Context, name string) error {
	m, spec, err := r.loadSpec(ctx, name)
	if err != nil {
		return err
	}
	if err := r.claim(ctx, name); err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancelCause(ctx)
	defer stopWork(nil)
	w := &run{r: r, name: name, spec: spec, prevState: State(m.State), prevStep: prevCutoverStep(m),
		completeCh: make(chan completeRequest, 1), poke: make(chan struct{}, 1), outage: retry.Budget{For: time.Duration(spec.RetryForSeconds * float64(time.Second))}}
	w.tables = append(w.tables, spec.Tables...)
	w.tracker = newTracker(spec.Tables, nil, w.copyOnly)

	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	cancelArgs := make(chan cancelRequest, 1)
	go func() {
		defer close(beatDone)
		r.heartbeat(beatCtx, w, func(req cancelRequest) {
			select {
			case cancelArgs <- req:
			default:
			}
			stopWork(errCancelRequested)
		})
	}()

	workErr := w.attempts(workCtx)
	stopBeat()
	<-beatDone

	final, phase, msg := Failed, w.phase, ""
	cause := context.Cause(workCtx)
	switch {
	case w.switched.Load():
		// Switched: the applications may already use the target. Nothing undoes that.
		final, phase = Completed, NoPhase
		if workErr != nil {
			r.event(ctx, name, "warn", "completed, but the runner then stopped with: "+oneLine(workErr.Error()))
		}
	case workErr == nil:
		final, phase = Completed, NoPhase
		r.event(ctx, name, "info", "completed")
	case errors.Is(cause, errCancelRequested):
		var req cancelRequest
		select {
		case req = <-cancelArgs:
		default:
		}
		cctx := context.WithoutCancel(ctx)
		if err := r.cleanup(cctx, name, spec, req.DropTarget); err != nil {
			final, msg = Failed, "cancel could not clean up: "+err.Error()
			r.event(ctx, name, "error", msg)
		} else {
			final, phase = Cancelled, NoPhase
		}
	case errors.Is(workErr, errForeignCheckpoints):
		final, phase, msg = Created, NoPhase, oneLine(workErr.Error())
		r.event(context.WithoutCancel(ctx), name, "error", msg)
	case ctx.Err() != nil:
		final = Paused
		r.event(context.WithoutCancel(ctx), name, "info", "paused at the last checkpoint; 'godwit resume "+name+"' continues")
	default:
		msg = oneLine(workErr.Error())
		r.event(context.WithoutCancel(ctx), name, "error", "failed: "+msg)
	}
	r.publish(context.WithoutCancel(ctx), w, func(m *store.Migration) {
		m.State, m.Phase, m.Error = string(final), string(phase), msg
		m.RunnerPID, m.RunnerHost = 0, ""
	})
	if final == Failed || final == Created {
		return errors.New(msg)
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

type cancelRequest struct {
	DropTarget bool `json:"drop_target"`
}

// publish writes the tracker's snapshot and lets fn adjust the record.
func (r *Runner) publish(ctx context.Context, w *run, fn func(*store.Migration)) {
	p := w.tracker.snapshot()
	b, _ := json.Marshal(p)
	err := r.Store.Update(ctx, w.name, func(m *store.Migration) error {
		m.Progress = b
		m.Heartbeat = time.Now()
		if fn != nil {
			fn(m)
		}
		return nil
	})
	if err != nil {
		r.Log.Warn("cannot write progress to the state store", "migration", w.name, "err", err)
	}
}

// heartbeat publishes progress every second, watches the source position, and
// picks up control requests.
func (r *Runner) heartbeat(ctx context.Context, w *run, onCancel func(cancelRequest)) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var n int
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n++
		reqs, err := r.Store.TakeRequests(ctx, w.name)
		if err == nil {
			for _, req := range reqs {
				switch req.Kind {
				case "cancel":
					var args cancelRequest
					_ = json.Unmarshal(req.Args, &args)
					r.event(ctx, w.name, "info", "cancel requested")
					_ = r.Store.FinishRequest(ctx, req.ID, "")
					onCancel(args)
				case "complete":
					var opts CompleteOptions
					_ = json.Unmarshal(req.Args, &opts)
					if !w.consistentStage.Load() {
						_ = r.Store.FinishRequest(ctx, req.ID, "error migration "+w.name+" is not consistent yet: complete once status shows consistent")
						continue
					}
					select {
					case w.completeCh <- completeRequest{id: req.ID, opts: opts}:
					default:
						_ = r.Store.FinishRequest(ctx, req.ID, "error a cutover is already in progress")
					}
				}
			}
		}
		if n%2 == 0 {
			if src := w.source(); src != nil {
				qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				current := src.CurrentPosition
				if d, ok := sourceAs[interface {
					DisplayPosition(context.Context) (position.Position, error)
				}](src); ok {
					current = d.DisplayPosition // lag is shown, not relied on: no need to sync
				}
				if pos, err := current(qctx); err == nil {
					var retained int64
					if rb, ok := sourceAs[interface {
						RetainedBytes(context.Context) (int64, error)
					}](src); ok && !w.spec.Once {
						retained, _ = rb.RetainedBytes(qctx)
					}
					w.tracker.observeSource(pos, retained)
					limit := w.spec.RetainedWarnMB << 20
					if limit <= 0 {
						limit = 10 << 30
					}
					if w.tracker.retainedOver(retained > limit) {
						r.event(ctx, w.name, "warn", fmt.Sprintf("the source keeps %s of change log for this migration, over the warning threshold of %s: it fills the source's disk until the target catches up (or cancel the migration to release it)",
							HumanBytes(retained), HumanBytes(limit)))
					}
				}
				cancel()
			}
			r.publish(ctx, w, func(m *store.Migration) { m.Phase = string(w.currentPhase()) })
		}
	}
}

// cleanup removes what a migration created on the source, and on the target
// its bookkeeping (and tables, when asked).
func (r *Runner) cleanup(ctx context.Context, name string, spec Spec, dropTarget bool) error {
	src, err := r.Engines.OpenSource(ctx, spec.Source, name, 1)
	if err != nil {
		return err
	}
	defer src.Close()
	removed, err := src.DropCapture(ctx, spec.Tables)
	if err == nil {
		var fence []string // a cutover that died may have left it
		fence, err = src.Unfence(ctx, name, spec.Tables)
		removed = append(removed, fence...)
	}
	for _, what := range removed {
		r.event(ctx, name, "info", "removed "+what+" from the source")
	}
	if err != nil {
		return err
	}
	tgt, err := r.openTarget(ctx, spec, name, 1)
	if err != nil {
		return err
	}
	defer tgt.Close()
	if dropTarget {
		if err := tgt.DropTables(ctx, spec.Tables); err != nil {
			return err
		}
		r.event(ctx, name, "info", fmt.Sprintf("dropped %d target tables", len(spec.Tables)))
	}
	if err := tgt.DropMeta(ctx, name); err != nil {
		return err
	}
	return nil
}

// Cancel stops a migration and removes its capture from the source. A running
// runner is asked to do it and waited for; otherwise it is done here.
func (r *Runner) Cancel(ctx context.Context, name string, dropTarget bool, wait time.Duration) error {
	m, spec, err := r.loadSpec(ctx, name)
	if err != nil {
		return err
	}
	switch State(m.State) {
	case Cancelled:
		return fmt.Errorf("migration %s is already cancelled", name)
	case Completed:
		return fmt.Errorf("migration %s is completed: nothing to cancel ('godwit delete %s' removes it)", name, name)
	}
	if alive(m, r.Host) {
		if _, err := r.Store.AddRequest(ctx, name, "cancel", cancelRequest{DropTarget: dropTarget}); err != nil {
			return err
		}
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			m, err := r.Store.Get(ctx, name)
			if err != nil {
				return err
			}
			switch State(m.State) {
			case Cancelled:
				return nil
			case Failed:
				return fmt.Errorf("migration %s: %s", name, m.Error)
			}
			if !alive(m, r.Host) && State(m.State) != Running {
				break
			}
		}
		return fmt.Errorf("migration %s did not stop within %s: its runner (process %d) may be stuck; try again", name, wait, m.RunnerPID)
	}
	if err := r.claim(ctx, name); err != nil {
		return err
	}
	if err := r.cleanup(ctx, name, spec, dropTarget); err != nil {
		_ = r.Store.Update(context.WithoutCancel(ctx), name, func(m *store.Migration) error {
			m.State, m.Error, m.RunnerPID, m.RunnerHost = string(Failed), "cancel could not clean up: "+oneLine(err.Error()), 0, ""
			return nil
		})
		return err
	}
	r.event(ctx, name, "info", "cancelled")
	return r.Store.Update(ctx, name, func(m *store.Migration) error {
		m.State, m.Phase, m.Error, m.RunnerPID, m.RunnerHost = string(Cancelled), "", "", 0, ""
		return nil
	})
}

// Delete forgets a finished migration after removing what it left on the
// databases. It returns what it removed.
func (r *Runner) Delete(ctx context.Context, name string) ([]string, error) {
	m, spec, err := r.loadSpec(ctx, name)
	if err != nil {
		return nil, err
	}
	st := State(m.State)
	if alive(m, r.Host) {
		return nil, fmt.Errorf("migration %s is running (process %d): cancel it first with 'godwit cancel %s'", name, m.RunnerPID, name)
	}
	var removed []string
	if st != Created {
		if !st.Finished() {
			return nil, fmt.Errorf("migration %s is %s and still holds change capture on the source: run 'godwit cancel %s' first", name, st, name)
		}
		src, err := r.Engines.OpenSource(ctx, spec.Source, name, 1)
		if err != nil {
			return nil, err
		}
		got, err := src.DropCapture(ctx, spec.Tables)
		if err == nil {
			var fence []string
			fence, err = src.Unfence(ctx, name, spec.Tables)
			got = append(got, fence...)
		}
		src.Close()
		for _, g := range got {
			removed = append(removed, g+" (source)")
		}
		if err != nil {
			return removed, err
		}
		tgt, err := r.Engines.OpenTarget(ctx, spec.Target, 1)
		if err != nil {
			return removed, err
		}
		err = tgt.DropMeta(ctx, name)
		tgt.Close()
		if err != nil {
			return removed, err
		}
		removed = append(removed, "godwit bookkeeping for "+name+" (target)")
	}
	if err := r.Store.Delete(ctx, name); err != nil {
		return removed, err
	}
	return append(removed, "migration "+name+" (state store)"), nil
}

// HumanBytes is n in B, KiB, MiB, GiB... as status and logs show sizes.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
