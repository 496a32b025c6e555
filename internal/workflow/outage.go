package workflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/retry"
)

// How often each server is asked whether it answers, and how long it has to.
const (
	probeEvery   = 5 * time.Second
	probeTimeout = 10 * time.Second
)

// pinger is an engine that can say whether its server still answers.
type pinger interface {
	Ping(ctx context.Context) error
}

// attempts runs the migration's work, and runs it again from the target's
// checkpoints after a lost connection, until it ends, the budget of
// --retry-for is spent, or ctx ends.
func (w *run) attempts(ctx context.Context) error {
	for {
		err := w.attempt(ctx)
		if err == nil || ctx.Err() != nil || w.switched.Load() || !w.opened {
			// A runner that never reached both servers says so at once.
			return err
		}
		var gave *retry.GaveUpError
		switch {
		case errors.As(err, &gave), isFinal(err):
			return err
		case retry.Transient(err), w.tracker.isDown():
			// During an outage, opening a server still away fails in many ways.
		default:
			return err
		}
		if err := w.outageWait(ctx, "interrupted", err); err != nil {
			return err
		}
		// Run again as a resume would: from what the store now says.
		if m, err := w.r.Store.Get(ctx, w.name); err == nil {
			w.prevState, w.prevStep = State(m.State), prevCutoverStep(m)
		}
	}
}

// isFinal reports errors no reconnect can cure.
func isFinal(err error) bool {
	var perm *engine.PermanentError
	var coll *engine.CollisionError
	return errors.As(err, &perm) || errors.As(err, &coll) || errors.Is(err, errForeignCheckpoints)
}

// attempt is one run of work, with both servers watched: one that stops
// answering ends the attempt, so that no statement waits on it forever.
func (w *run) attempt(ctx context.Context) error {
	src, err := w.r.openSource(ctx, w.spec, w.name, w.jobs())
	if err != nil {
		return err
	}
	tgt, err := w.r.openTarget(ctx, w.spec, w.name, w.jobs())
	if err != nil {
		src.Close()
		return err
	}
	w.opened = true
	actx, stop := context.WithCancelCause(ctx)
	var watchers sync.WaitGroup
	down := func(err error) {
		w.tracker.streamDown(oneLine(err.Error()))
		stop(err)
	}
	if p, ok := sourceAs[pinger](src); ok {
		watchers.Go(func() { watch(actx, "source", p, down) })
	}
	if p, ok := targetAs[pinger](tgt); ok {
		watchers.Go(func() { watch(actx, "target", p, down) })
	}
	err = w.work(actx, src, tgt)
	cause := context.Cause(actx)
	stop(nil)
	watchers.Wait()
	closeAll := func() {
		tgt.Close()
		src.Close()
	}
	var na *retry.NoAnswerError
	if ctx.Err() == nil && errors.As(cause, &na) {
		// Closing waits on connections to a server that does not answer
		// (pgx sends each a cancel request): let it, but not the retry.
		go closeAll()
		return cause
	}
	closeAll()
	return err
}

// watch pings a server every probeEvery; when it gives no answer within
// probeTimeout, or refuses the connection, the attempt stops.
func watch(ctx context.Context, role string, p pinger, down func(error)) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		began := time.Now()
		err := p.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && (errors.Is(err, context.DeadlineExceeded) || retry.Transient(err)) {
			down(&retry.NoAnswerError{Role: role, After: time.Since(began), Err: err})
			return
		}
	}
}

// outageWait records a failure of the connections in status and the log,
// and pauses before the next try; it returns the error to fail with once
// the outage has outlasted --retry-for.
func (w *run) outageWait(ctx context.Context, what string, err error) error {
	if !w.tracker.isDown() {
		w.outage.Progress() // something committed since the last failure
	}
	wait, ok := w.outage.Fail(time.Now())
	if !ok {
		return w.outage.GaveUp(err)
	}
	w.tracker.streamDown(oneLine(err.Error()))
	w.r.event(ctx, w.name, "warn", fmt.Sprintf("%s (%s); retrying in %s", what, oneLine(err.Error()), wait))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}
