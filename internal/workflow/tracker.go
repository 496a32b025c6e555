package workflow

import (
	"sync"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/replicator"
	"github.com/godwit-db/godwit/internal/schema"
)

// tracker holds a running migration's progress; the copier and the applier
// report to it, the heartbeat snapshots it.
type tracker struct {
	mu          sync.Mutex
	now         func() time.Time
	tables      []*tableProgress
	byName      map[string]*tableProgress
	phase       Phase
	start       position.Position
	applied     position.Position
	consistency position.Position
	source      position.Position
	consistent  bool
	changes     int64
	retained    int64
	retainedHot bool
	copyStart   time.Time
	copyEnd     time.Time
	samples     []sample // source positions over time, for lag in seconds
	rate        rateMeter
	copyRate    rateMeter
	cutover     string
	freezeMS    *int64
	retrying    *Retrying
}

// streamDown records that the change stream failed and is being retried; the
// first failure since it last worked sets since.
func (tr *tracker) streamDown(reason string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.retrying == nil {
		tr.retrying = &Retrying{Since: tr.now()}
	}
	tr.retrying.Attempts++
	tr.retrying.Reason = reason
}

// isDown reports whether a failure is recorded with no commit or copied
// chunk since.
func (tr *tracker) isDown() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.retrying != nil
}

func (tr *tracker) setCutover(step string, freeze *time.Duration) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.cutover = step
	if freeze != nil {
		ms := freeze.Milliseconds()
		tr.freezeMS = &ms
	}
}

type tableProgress struct {
	TableStatus
	copyOnly bool
}

type sample struct {
	pos position.Position
	at  time.Time
}

// rateMeter is an exponentially smoothed per-second rate.
type rateMeter struct {
	last  time.Time
	count int64
	rate  float64
}

func (r *rateMeter) add(now time.Time, n int64) {
	r.count += n
	if r.last.IsZero() {
		r.last = now
		return
	}
	if dt := now.Sub(r.last).Seconds(); dt >= 1 {
		cur := float64(r.count) / dt
		if r.rate == 0 {
			r.rate = cur
		} else {
			r.rate = 0.5*r.rate + 0.5*cur
		}
		r.count, r.last = 0, now
	}
}

func (r *rateMeter) value(now time.Time) float64 {
	if !r.last.IsZero() && now.Sub(r.last) > 5*time.Second {
		return 0 // nothing for a while
	}
	return r.rate
}

func newTracker(tables []*schema.Table, chunks []engine.Chunk, copyOnly func(*schema.Table) bool) *tracker {
	tr := &tracker{now: time.Now, byName: map[string]*tableProgress{}}
	for _, t := range tables {
		tp := &tableProgress{TableStatus: TableStatus{Name: t.QualifiedName(), Phase: "PENDING", RowsEstimate: t.Rows}, copyOnly: copyOnly(t)}
		tr.tables = append(tr.tables, tp)
		tr.byName[tp.Name] = tp
	}
	tr.loadChunks(chunks)
	return tr
}

// loadChunks sets per-table chunk counts from a chunk plan.
func (tr *tracker) loadChunks(chunks []engine.Chunk) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, tp := range tr.tables {
		tp.ChunksTotal, tp.ChunksDone, tp.RowsCopied = 0, 0, 0
	}
	for _, c := range chunks {
		tp := tr.byName[c.Table]
		if tp == nil {
			continue
		}
		tp.ChunksTotal++
		if c.Done {
			tp.ChunksDone++
			tp.RowsCopied += c.Rows
		}
	}
	for _, tp := range tr.tables {
		tp.refresh()
	}
}

func (tp *tableProgress) refresh() {
	switch {
	case tp.ChunksTotal > 0 && tp.ChunksDone == tp.ChunksTotal && tp.copyOnly:
		tp.Phase = "COPY_ONLY"
	case tp.ChunksTotal > 0 && tp.ChunksDone == tp.ChunksTotal:
		tp.Phase = "COPIED"
	case tp.ChunksDone > 0:
		tp.Phase = "COPYING"
	}
	if tp.RowsCopied > tp.RowsEstimate && tp.Phase != "COPIED" && tp.Phase != "COPY_ONLY" {
		tp.RowsEstimate = tp.RowsCopied
	}
}

func (tr *tracker) setPhase(p Phase) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.phase = p
	now := tr.now()
	switch p {
	case Copying:
		if tr.copyStart.IsZero() {
			tr.copyStart = now
		}
	case Replicating:
		if tr.copyEnd.IsZero() {
			tr.copyEnd = now
		}
		for _, tp := range tr.tables {
			if !tp.copyOnly {
				tp.Phase = "REPLICATING"
			}
		}
	}
}

func (tr *tracker) setPositions(start, applied, consistency position.Position) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.start, tr.consistency = start, consistency
	if applied != nil {
		tr.applied = applied
	}
	tr.consistent = consistency != nil && tr.applied != nil && tr.applied.Covers(consistency)
}

func (tr *tracker) chunkDone(c engine.Chunk) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tp := tr.byName[c.Table]
	if tp == nil {
		return
	}
	tp.ChunksDone++
	tp.RowsCopied += c.Rows
	tp.refresh()
	tr.retrying = nil // a chunk committed: the connections work again
	tr.copyRate.add(tr.now(), c.Rows)
}

// commit records a replay commit and reports whether the consistency point was
// just passed.
func (tr *tracker) commit(c replicator.Commit) (becameConsistent bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.applied = c.Applied
	tr.retrying = nil // a commit: the stream works again
	tr.changes += int64(c.Changes)
	tr.rate.add(tr.now(), int64(c.Changes))
	if !tr.consistent && tr.consistency != nil && c.Applied.Covers(tr.consistency) {
		tr.consistent = true
		return true
	}
	return false
}

func (tr *tracker) appliedPos() position.Position {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.applied
}

func (tr *tracker) isConsistent() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.consistent
}

// retainedOver records whether the retained log is over the warning threshold
// and reports whether it just went over.
func (tr *tracker) retainedOver(over bool) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	crossed := over && !tr.retainedHot
	tr.retainedHot = over
	return crossed
}

// observeSource records the source's current position (and its retained log).
func (tr *tracker) observeSource(pos position.Position, retained int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.source, tr.retained = pos, retained
	tr.samples = append(tr.samples, sample{pos, tr.now()})
	if len(tr.samples) > 4096 {
		tr.samples = tr.samples[len(tr.samples)-4096:]
	}
}

// lagSeconds is how long ago the source was at a position the target has
// applied: now minus the time of the newest covered sample.
func (tr *tracker) lagSeconds(now time.Time) float64 {
	if len(tr.samples) == 0 {
		return 0
	}
	newest := -1
	for i := len(tr.samples) - 1; i >= 0; i-- {
		if tr.applied != nil && tr.applied.Covers(tr.samples[i].pos) {
			newest = i
			break
		}
	}
	if newest == len(tr.samples)-1 {
		tr.samples = tr.samples[newest:]
		return 0
	}
	if newest < 0 { // nothing applied that recent: at least as old as the oldest sample
		return now.Sub(tr.samples[0].at).Seconds()
	}
	tr.samples = tr.samples[newest:]
	return now.Sub(tr.samples[0].at).Seconds()
}

func encode(p position.Position) string {
	if p == nil {
		return ""
	}
	return p.String()
}

// snapshot returns the progress to publish.
func (tr *tracker) snapshot() Progress {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	now := tr.now()
	p := Progress{
		Consistent:          tr.consistent,
		SourcePosition:      encode(tr.source),
		AppliedPosition:     encode(tr.applied),
		StartPosition:       encode(tr.start),
		ConsistencyPosition: encode(tr.consistency),
		ChangesApplied:      tr.changes,
		ApplyRate:           tr.rate.value(now),
		CopyRate:            tr.copyRate.value(now),
		RetainedBytes:       tr.retained,
		RetainedWarning:     tr.retainedHot,
		Cutover:             tr.cutover,
		FreezeMS:            tr.freezeMS,
	}
	if tr.source != nil {
		base := tr.applied
		if base == nil {
			base = tr.start
		}
		if base != nil {
			p.LagBytes = position.Bytes(tr.source, base)
		}
		p.LagSeconds = tr.lagSeconds(now)
	}
	if r := tr.retrying; r != nil {
		// Nothing is known of the source since the stream went down: the
		// target is behind by at least that long.
		rc := *r
		p.Retrying = &rc
		p.LagSeconds = max(p.LagSeconds, now.Sub(r.Since).Seconds())
	}
	if !tr.copyStart.IsZero() {
		end := tr.copyEnd
		if end.IsZero() {
			end = now
		}
		p.CopySeconds = end.Sub(tr.copyStart).Seconds()
	}
	for _, tp := range tr.tables {
		p.Tables = append(p.Tables, tp.TableStatus)
	}
	return p
}
