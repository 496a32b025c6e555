package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/store"
)

// CompleteOptions are what the user asked of a cutover.
type CompleteOptions struct {
	Timeout    time.Duration `json:"timeout"`
	SkipVerify bool          `json:"skip_verify,omitempty"`
	Hook       string        `json:"hook,omitempty"`
	MaxLag     time.Duration `json:"max_lag"`
}

type completeRequest struct {
	id   int64
	opts CompleteOptions
}

// Cutover steps recorded in progress; from stepHook on, the switch may have
// happened outside godwit (the hook repoints applications), so a runner that
// died there finishes the cutover on resume instead of rolling it back.
const (
	stepFencing   = "fencing"
	stepDraining  = "draining"
	stepVerifying = "verifying"
	stepSequences = "sequences"
	stepHook      = "hook"
	stepAborting  = "aborting"
)

var errSwitched = errors.New("cut over")

// Complete asks the migration's runner to cut over and waits for the result.
func (r *Runner) Complete(ctx context.Context, name string, opts CompleteOptions) (time.Duration, error) {
	m, _, err := r.loadSpec(ctx, name)
	if err != nil {
		return 0, err
	}
	switch State(m.State) {
	case Completed:
		return 0, fmt.Errorf("migration %s is already completed", name)
	case Cancelled:
		return 0, fmt.Errorf("migration %s is cancelled", name)
	}
	if !alive(m, r.Host) {
		return 0, fmt.Errorf("migration %s is %s and no runner is applying its changes: run 'godwit resume %s' (in another terminal), then complete", name, m.State, name)
	}
	id, err := r.Store.AddRequest(ctx, name, "complete", opts)
	if err != nil {
		return 0, err
	}
	// The runner enforces the timeout; wait a little longer for its answer.
	deadline := time.Now().Add(opts.Timeout + 30*time.Second)
	for {
		done, result, err := r.Store.RequestResult(ctx, id)
		if err != nil {
			return 0, err
		}
		if done {
			if ms, ok := strings.CutPrefix(result, "ok "); ok {
				n, _ := strconv.ParseInt(ms, 10, 64)
				return time.Duration(n) * time.Millisecond, nil
			}
			return 0, errors.New(strings.TrimPrefix(result, "error "))
		}
		m, err := r.Store.Get(ctx, name)
		if err != nil {
			return 0, err
		}
		if !alive(m, r.Host) && State(m.State) != Completed {
			return 0, fmt.Errorf("the runner of %s stopped during the cutover: 'godwit resume %s' either finishes it or removes the fence", name, name)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no answer from the runner of %s within %s", name, opts.Timeout+30*time.Second)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serveCutovers handles complete requests while the stream runs; a successful
// cutover stops replication with errSwitched.
func (w *run) serveCutovers(ctx context.Context, src engine.Source, tgt engine.Target, stop context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-w.completeCh:
			freeze, err := w.cutover(ctx, src, tgt, req.opts)
			result := fmt.Sprintf("ok %d", freeze.Milliseconds())
			if err != nil {
				result = "error " + oneLine(err.Error())
				w.r.event(ctx, w.name, "warn", "cutover aborted, source writable again: "+oneLine(err.Error()))
			}
			_ = w.r.Store.FinishRequest(context.WithoutCancel(ctx), req.id, result)
			if err == nil {
				stop(errSwitched)
				// Answer a complete that queued meanwhile instead of leaving it waiting.
				select {
				case late := <-w.completeCh:
					_ = w.r.Store.FinishRequest(context.WithoutCancel(ctx), late.id, "error migration "+w.name+" is already completed")
				default:
				}
				return
			}
		}
	}
}

// setStep records a cutover step durably before it is taken.
func (w *run) setStep(ctx context.Context, step string, state State) {
	w.tracker.setCutover(step, nil)
	w.r.publish(context.WithoutCancel(ctx), w, func(m *store.Migration) { m.State = string(state) })
}

// cutover fences the source, drains replay to the final position, verifies,
// carries sequences and foreign keys, runs the hook and switches. Any failure
// before the switch removes the fence.
func (w *run) cutover(ctx context.Context, src engine.Source, tgt engine.Target, opts CompleteOptions) (time.Duration, error) {
	if !w.consistentStage.Load() {
		return 0, fmt.Errorf("migration %s is not consistent yet: complete once status shows consistent", w.name)
	}
	if p := w.tracker.snapshot(); p.LagSeconds > opts.MaxLag.Seconds() {
		return 0, fmt.Errorf("replication lag is %.1fs, over the %s limit: wait for replay to catch up (or raise --max-lag)", p.LagSeconds, opts.MaxLag)
	}
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	step := stepFencing
	abort := func(err error) (time.Duration, error) {
		if cctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("the cutover did not finish within --timeout %s (at step %s): %v", opts.Timeout, step, err)
		}
		// Durably aborting before the fence comes off: a runner killed in between
		// must not take a recorded hook step for a switch.
		w.setStep(ctx, stepAborting, CuttingOver)
		if _, uerr := src.Unfence(context.WithoutCancel(ctx), w.name, w.tables); uerr != nil {
			err = fmt.Errorf("%v; removing the fence also failed: %v (run 'godwit cancel %s' to clean up)", err, uerr, w.name)
		}
		w.draining.Store(false)
		w.setStep(ctx, "", Running)
		return 0, err
	}
	w.r.event(ctx, w.name, "info", "cutover: fencing writes on the source")
	w.setStep(ctx, stepFencing, CuttingOver)
	// Every migrated table is fenced, copy-only ones too: a write to them after
	// the switch would be lost. The freeze runs from when writes stopped.
	fencedAt, final, err := src.Fence(cctx, w.name, w.tables, time.Until(deadlineOf(cctx)))
	if err != nil {
		return abort(err)
	}
	var timings []string
	mark := fencedAt
	lap := func(what string) {
		timings = append(timings, fmt.Sprintf("%s %d ms", what, time.Since(mark).Milliseconds()))
		mark = time.Now()
	}
	lap("fence")
	step = stepDraining
	w.tracker.setCutover(step, nil)
	lap("final position")
	if err := w.drain(cctx, final); err != nil {
		return abort(err)
	}
	lap("drain")
	if !opts.SkipVerify {
		step = stepVerifying
		w.tracker.setCutover(step, nil)
		vs, err := w.r.verifyWith(cctx, w.name, src, tgt, w.replayed(), false, VerifyOptions{Restart: true})
		if err != nil {
			return abort(err)
		}
		if vs.State != VerifyPassed {
			msg := vs.Error
			if vs.State == VerifyFailed {
				msg = fmt.Sprintf("%d rows differ ('godwit verify %s' lists them)", vs.Differences, w.name)
			}
			return abort(fmt.Errorf("final verification failed: %s", msg))
		}
		lap("verify")
	}
	step = stepSequences
	w.tracker.setCutover(step, nil)
	vals, err := src.Sequences(cctx, w.tables)
	if err != nil {
		return abort(err)
	}
	if err := tgt.SetSequences(cctx, w.tables, vals); err != nil {
		return abort(err)
	}
	migrated := map[string]bool{}
	for _, t := range w.tables {
		migrated[t.QualifiedName()] = true
	}
	for _, t := range w.tables {
		if err := tgt.CreateForeignKeys(cctx, t, migrated); err != nil {
			return abort(err)
		}
	}
	lap("sequences and foreign keys")
	if opts.Hook != "" {
		step = stepHook
		w.setStep(ctx, stepHook, CuttingOver) // durable: past here a resume finishes the cutover
		if err := w.runHook(cctx, opts.Hook); err != nil {
			return abort(err)
		}
		lap("hook")
	}
	freeze := time.Since(fencedAt)
	w.tracker.setCutover("", &freeze)
	w.r.publish(context.WithoutCancel(ctx), w, func(m *store.Migration) { m.State, m.Phase = string(Completed), "" })
	w.switched.Store(true)
	w.r.event(ctx, w.name, "info", fmt.Sprintf("cut over: writes were frozen for %d ms (%s); the source tables stay fenced", freeze.Milliseconds(), strings.Join(timings, ", ")))
	var notKept []string
	for _, t := range w.tables {
		if w.copyOnly(t) {
			notKept = append(notKept, t.QualifiedName())
		}
	}
	if len(notKept) > 0 {
		w.r.event(ctx, w.name, "warn", "cut over with tables copied once and not kept in step (no key, --allow-no-key): "+strings.Join(notKept, ", ")+"; their changes since the copy are not on the target, and the verification did not compare them")
	}
	return freeze, nil
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// drain waits until replay has applied the source up to final, asking the
// source for its position every few milliseconds rather than every second.
func (w *run) drain(ctx context.Context, final position.Position) error {
	w.draining.Store(true)
	defer w.draining.Store(false)
	nudge := nudger(w.source())
	started, lastNudge, told := time.Now(), time.Time{}, false
	for {
		if time.Since(lastNudge) > 50*time.Millisecond {
			if err := nudge(ctx); err != nil {
				return err
			}
			lastNudge = time.Now()
		}
		if !told && time.Since(started) > time.Second {
			told = true
			w.r.event(ctx, w.name, "warn", fmt.Sprintf("cutover drain is slow: applied %v, waiting for %v", w.tracker.appliedPos(), final))
		}
		if a := w.tracker.appliedPos(); a != nil && a.Covers(final) {
			return nil
		}
		select {
		case w.poke <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replay did not reach the final position %s: %w", final, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// runHook runs the user's command with the migration in its environment.
func (w *run) runHook(ctx context.Context, hook string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", hook)
	cmd.Env = append(os.Environ(),
		"GODWIT_MIGRATION="+w.name,
		"GODWIT_SOURCE="+w.r.Engines.Redact(w.spec.Source),
		"GODWIT_TARGET="+w.r.Engines.Redact(w.spec.Target))
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if len(text) > 500 {
		text = text[len(text)-500:]
	}
	if err != nil {
		return fmt.Errorf("hook %q failed (%v): %s", hook, err, oneLine(text))
	}
	if text != "" {
		w.r.event(ctx, w.name, "info", "hook said: "+oneLine(text))
	}
	return nil
}

// afterSwitch finishes a completed cutover: the change stream is no longer
// needed, foreign keys are validated. The fence stays. The migration is
// COMPLETED whatever happens here: problems are reported, never undo the switch.
func (w *run) afterSwitch(ctx context.Context, src engine.Source, tgt engine.Target) error {
	w.switched.Store(true)
	ctx = context.WithoutCancel(ctx)
	warn := func(what string, err error) {
		if err != nil {
			w.r.event(ctx, w.name, "warn", "after the cutover, "+what+": "+oneLine(err.Error()))
		}
	}
	warn("recording the stage on the target", tgt.SetStage(ctx, w.name, engine.StageFinished, nil))
	removed, err := src.DropCapture(ctx, w.spec.Tables)
	for _, r := range removed {
		w.r.event(ctx, w.name, "info", "removed "+r+" from the source")
	}
	warn("removing change capture from the source ('godwit delete' retries)", err)
	warn("validating foreign keys (they stay NOT VALID)", w.eachTable(ctx, func(ctx context.Context, t *schema.Table) error { return tgt.ValidateForeignKeys(ctx, t) }))
	return nil
}

// recoverCutover handles a runner that died during a cutover: past the hook the
// switch may have happened, so the cutover is finished; before it, the fence is
// removed and replication goes on.
func (w *run) recoverCutover(ctx context.Context, src engine.Source) (switched bool, err error) {
	if w.prevStep == stepHook && w.prevState == CuttingOver {
		w.r.event(ctx, w.name, "warn", "the runner died while the cutover hook ran: finishing the cutover (applications may already use the target)")
		w.r.publish(context.WithoutCancel(ctx), w, func(m *store.Migration) { m.State, m.Phase = string(Completed), "" })
		return true, nil
	}
	removed, err := src.Unfence(ctx, w.name, w.tables)
	if err != nil {
		return false, err
	}
	w.tracker.setCutover("", nil)
	w.r.publish(context.WithoutCancel(ctx), w, nil)
	w.r.event(ctx, w.name, "warn", fmt.Sprintf("a cutover was interrupted before the switch: removed the fence (%s), the source is writable; run complete again", strings.Join(removed, ", ")))
	return false, nil
}

func prevCutoverStep(m *store.Migration) string {
	var p Progress
	_ = json.Unmarshal(m.Progress, &p)
	return p.Cutover
}
