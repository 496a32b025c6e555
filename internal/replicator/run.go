package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Options tune replay. The zero value is usable.
type Options struct {
	// MaxBatch is how many changes a target transaction gathers before it commits
	// (default 20000). A source transaction is never split across two.
	MaxBatch int
	// MaxDelay bounds how long a batch waits for more transactions (default 250ms).
	MaxDelay time.Duration
	// HeartbeatEvery is how often a position with no changes is recorded
	// (default 250ms: verify waits for it on every chunk of an idle source).
	HeartbeatEvery time.Duration
	// Linger is how long a batch waits for the next transaction when none is
	// queued (default 2ms): under load the next one is microseconds away, and a
	// fuller batch saves a commit.
	Linger time.Duration
	// HeartbeatNow, when it returns true, records heartbeats at once (a drain
	// before cutover is waiting for them).
	HeartbeatNow func() bool
	// Fetch reads a row's current image from the source by key, for a change
	// whose row the target lacks (MissingRowError); Consistent says whether
	// the consistency point is passed, after which a missing row is an error.
	Fetch      func(ctx context.Context, t *schema.Table, key []engine.Value) ([]engine.Value, bool, error)
	Consistent func() bool
	// SequentialUntil, when set, applies changes one at a time, in source order,
	// until the applied position covers it.
	SequentialUntil position.Position
	// CopiedAt holds the tables (by qualified name) copied at one exact source
	// position, a snapshot: a change of theirs in a transaction whose commit
	// record (Txn.Final) lies before that position is in the copy already, and
	// is skipped. (Replaying it again could not converge: such tables have no key.)
	CopiedAt map[string]position.Position
}

// inCopy reports whether a change of table t in a transaction committed at
// final is already in t's snapshot copy.
func (o *Options) inCopy(t *schema.Table, final position.Position) bool {
	at, ok := o.CopiedAt[t.QualifiedName()]
	return ok && final != nil && !final.Covers(at)
}

// unseen drops from ch what the snapshot copies already hold; ok is false
// when nothing is left to apply.
func (o *Options) unseen(ch engine.Change, final position.Position) (engine.Change, bool) {
	if len(o.CopiedAt) == 0 {
		return ch, true
	}
	if ch.Op != engine.Truncate {
		return ch, !o.inCopy(ch.Table, final)
	}
	var keep []*schema.Table
	for _, t := range ch.Truncated {
		if !o.inCopy(t, final) {
			keep = append(keep, t)
		}
	}
	ch.Truncated = keep
	return ch, len(keep) > 0
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 20000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 250 * time.Millisecond
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 250 * time.Millisecond
	}
	if o.Linger <= 0 {
		o.Linger = 2 * time.Millisecond
	}
}

// Commit describes one committed target transaction.
type Commit struct {
	Applied    position.Position
	Changes    int
	Txns       int
	CommitTime time.Time // source commit time of the last transaction, zero for heartbeats
}

// CollisionRetry is returned when a compacted batch collided on a unique key:
// the caller restarts the stream from the applied position with SequentialUntil
// set to a source position past every transaction received so far.
type CollisionRetry struct {
	Err error
}

func (e *CollisionRetry) Error() string {
	return fmt.Sprintf("%v (replaying again one change at a time)", e.Err)
}

func (e *CollisionRetry) Unwrap() error { return e.Err }

// Run applies transactions from in until ctx ends or an error occurs. applied is
// the position already committed on the target (nil when none). onCommit is
// called after every commit.
func Run(ctx context.Context, in <-chan engine.Txn, begin func(context.Context) (engine.ApplyTx, error),
	applied position.Position, opts Options, onCommit func(Commit)) error {
	opts.defaults()
	var lastPersist time.Time
	// held is a heartbeat that came too soon after the last commit: it is
	// recorded when its turn comes unless something newer arrives first. (A
	// source sends a heartbeat only when its position moved: one dropped here
	// would leave an idle source's applied position behind for good.)
	var held *engine.Txn
	for {
		var due time.Time
		if held != nil {
			due = lastPersist.Add(opts.HeartbeatEvery)
		}
		txn, ok, err := recvBy(ctx, in, due)
		if err != nil {
			return err
		}
		if !ok {
			txn = *held
		}
		held = nil
		if len(txn.Changes) == 0 && !txn.More {
			// A heartbeat: record it now and then, so consistency and lag can advance
			// while the source is idle, and so the source can release its log.
			if txn.End == nil || (applied != nil && applied.Covers(txn.End)) {
				continue
			}
			if urgent := opts.HeartbeatNow != nil && opts.HeartbeatNow(); !urgent && time.Since(lastPersist) < opts.HeartbeatEvery {
				held = &txn
				continue
			}
		}
		sequential := opts.SequentialUntil != nil && (applied == nil || !applied.Covers(opts.SequentialUntil))
		tx, err := begin(ctx)
		if err != nil {
			return err
		}
		c, err := fill(ctx, in, tx, txn, sequential, opts)
		if err == nil && c.Applied == nil {
			err = errors.New("replay batch ended without a position")
		}
		if err == nil {
			err = tx.Commit(ctx, c.Applied)
		}
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			var coll *engine.CollisionError
			if errors.As(err, &coll) && !sequential {
				return &CollisionRetry{Err: err}
			}
			return err
		}
		applied = c.Applied
		lastPersist = time.Now()
		onCommit(c)
	}
}

// fill gathers transactions into tx starting with first, applying compacted
// segments as they grow, and stops at a transaction boundary.
func fill(ctx context.Context, in <-chan engine.Txn, tx engine.ApplyTx, first engine.Txn, sequential bool, opts Options) (Commit, error) {
	var c Commit
	comp := NewCompactor()
	apply := func() error {
		for _, seg := range comp.Flush() {
			if err := tx.Apply(ctx, seg); err != nil {
				var missing *engine.MissingRowError
				if !errors.As(err, &missing) {
					return err
				}
				if err := fetchMissing(ctx, tx, missing, opts); err != nil {
					return err
				}
			}
		}
		return nil
	}
	started := time.Now()
	linger := time.NewTimer(opts.Linger)
	defer linger.Stop()
	txn := first
	for {
		for _, ch := range txn.Changes {
			ch, ok := opts.unseen(ch, txn.Final)
			if !ok {
				continue
			}
			comp.Add(ch)
			if sequential {
				if err := apply(); err != nil {
					return c, err
				}
			}
		}
		c.Changes += len(txn.Changes)
		if comp.Len() >= opts.MaxBatch {
			if err := apply(); err != nil {
				return c, err
			}
		}
		if !txn.More {
			if txn.End != nil {
				c.Applied = txn.End
			}
			if len(txn.Changes) > 0 {
				c.Txns++
				c.CommitTime = txn.CommitTime
			}
			if c.Changes >= opts.MaxBatch || time.Since(started) > opts.MaxDelay {
				return c, apply()
			}
			if len(in) == 0 {
				if !linger.Stop() {
					select {
					case <-linger.C:
					default:
					}
				}
				linger.Reset(opts.Linger)
				select {
				case next, ok := <-in:
					if !ok {
						return c, errors.New("change stream closed")
					}
					txn = next
					continue
				case <-linger.C:
					return c, apply()
				case <-ctx.Done():
					return c, ctx.Err()
				}
			}
		}
		var err error
		if txn, err = recv(ctx, in); err != nil {
			return c, err
		}
	}
}

// fetchMissing writes the current source image of a row the target lacks.
// Before the consistency point that is safe: a newer image is brought forward
// by the changes replayed after it, as a fuzzy chunk's rows are.
func fetchMissing(ctx context.Context, tx engine.ApplyTx, m *engine.MissingRowError, opts Options) error {
	if opts.Fetch == nil || opts.Consistent == nil || opts.Consistent() {
		return fmt.Errorf("%v after the consistency point: the target diverged from the source; cancel and restart the migration", m)
	}
	img, found, err := opts.Fetch(ctx, m.Table, m.Key)
	if err != nil || !found { // not found: deleted since, and that change follows
		return err
	}
	return tx.Apply(ctx, engine.Segment{Ops: []*engine.TableOps{{Table: m.Table, Upserts: [][]engine.Value{img}}}})
}

// recvBy is recv that gives up at deadline (none when zero), returning ok false.
func recvBy(ctx context.Context, in <-chan engine.Txn, deadline time.Time) (engine.Txn, bool, error) {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-ctx.Done():
		return engine.Txn{}, false, ctx.Err()
	case txn, ok := <-in:
		if !ok {
			return engine.Txn{}, false, errors.New("change stream closed")
		}
		return txn, true, nil
	case <-expired:
		return engine.Txn{}, false, nil
	}
}

func recv(ctx context.Context, in <-chan engine.Txn) (engine.Txn, error) {
	txn, _, err := recvBy(ctx, in, time.Time{})
	return txn, err
}
