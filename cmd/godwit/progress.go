package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/godwit-db/godwit/internal/workflow"
)

// display shows a foreground migration's progress on stdout: on a terminal,
// per-table bars redrawn in place (log lines written through it appear above
// them); otherwise one plain line every interval.
type display struct {
	mu    sync.Mutex
	out   io.Writer
	tty   bool
	drawn int      // lines of the current drawing
	frame []string // the last drawing, redrawn after a log line
}

func newDisplay(out io.Writer) *display {
	d := &display{out: out}
	if f, ok := out.(*os.File); ok {
		d.tty = isatty.IsTerminal(f.Fd())
	}
	return d
}

func (d *display) clear() {
	if d.drawn > 0 {
		fmt.Fprintf(d.out, "\x1b[%dA\x1b[J", d.drawn)
		d.drawn = 0
	}
}

func (d *display) draw() {
	for _, l := range d.frame {
		fmt.Fprintln(d.out, l)
	}
	d.drawn = len(d.frame)
}

// Write lets the logger write above the drawing.
func (d *display) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	n, err := d.out.Write(p)
	d.draw()
	return n, err
}

func (d *display) show(st workflow.Status) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tty {
		d.clear()
		d.frame = frame(st, 80)
		d.draw()
		return
	}
	if line := plainLine(st); line != "" {
		fmt.Fprintln(d.out, line)
	}
}

// watch shows the migration's progress from the store until stop is closed.
func (a *app) watch(r *workflow.Runner, name string, d *display, stop <-chan struct{}) {
	every := 10 * time.Second
	if d.tty {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := r.Store.Get(ctx, name)
		cancel()
		if err != nil {
			continue
		}
		if st, err := workflow.StatusOf(m, r.Engines.Redact, r.Host); err == nil && st.State == workflow.Running {
			d.show(st)
		}
	}
}

// runShown runs a migration in the foreground with its progress displayed.
func (a *app) runShown(ctx context.Context, r *workflow.Runner, d *display, name string) error {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); a.watch(r, name, d, stop) }()
	err := r.Run(ctx, name)
	close(stop)
	<-done
	return err
}

func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func eta(remaining int64, rate float64) string {
	if rate <= 0 || remaining <= 0 {
		return "-"
	}
	return (time.Duration(float64(remaining)/rate) * time.Second).Round(time.Second).String()
}

func copyTotals(st workflow.Status) (copied, total int64, done, tables int) {
	for _, t := range st.Tables {
		copied += t.RowsCopied
		total += max(t.RowsEstimate, t.RowsCopied)
		if t.ChunksTotal > 0 && t.ChunksDone == t.ChunksTotal {
			done++
		}
	}
	return copied, total, done, len(st.Tables)
}

func percent(a, b int64) int64 {
	if b <= 0 {
		return 100
	}
	return min(100, a*100/b)
}

// plainLine is the periodic progress line for a log or pipe.
func plainLine(st workflow.Status) string {
	switch st.Phase {
	case workflow.Copying:
		copied, total, done, n := copyTotals(st)
		return fmt.Sprintf("progress: copying %d%% (%s of ~%s rows), %s rows/s, ETA %s, %d/%d tables copied",
			percent(copied, total), group(copied), group(total), group(int64(st.CopyRate)), eta(total-copied, st.CopyRate), done, n)
	case workflow.Replicating:
		return "progress: " + replicationLine(st)
	}
	return ""
}

func replicationLine(st workflow.Status) string {
	cons := "not consistent yet"
	if st.Consistent {
		cons = "consistent"
	}
	return fmt.Sprintf("replicating, %s, lag %.1fs (%s), %s changes/s, %s applied", cons, st.LagSeconds, sizeText(st.LagBytes),
		group(int64(st.ApplyRate)), group(st.ChangesApplied))
}

// frame is the terminal drawing: a summary line and, while copying, a bar per
// table (unfinished ones first, at most 10).
func frame(st workflow.Status, width int) []string {
	if st.Phase != workflow.Copying {
		return []string{replicationLine(st)}
	}
	copied, total, done, n := copyTotals(st)
	out := []string{fmt.Sprintf("copying %d%%  %s / ~%s rows  %s rows/s  ETA %s  %d/%d tables",
		percent(copied, total), group(copied), group(total), group(int64(st.CopyRate)), eta(total-copied, st.CopyRate), done, n)}
	var rows []workflow.TableStatus
	for _, t := range st.Tables {
		if !(t.ChunksTotal > 0 && t.ChunksDone == t.ChunksTotal) {
			rows = append(rows, t)
		}
	}
	for _, t := range st.Tables {
		if t.ChunksTotal > 0 && t.ChunksDone == t.ChunksTotal {
			rows = append(rows, t)
		}
	}
	const maxRows, barWidth = 10, 24
	for i, t := range rows {
		if i == maxRows {
			out = append(out, fmt.Sprintf("  ... and %d more tables", len(rows)-maxRows))
			break
		}
		p := percent(t.RowsCopied, max(t.RowsEstimate, t.RowsCopied))
		if t.ChunksTotal > 0 && t.ChunksDone == t.ChunksTotal {
			p = 100
		}
		fill := int(p) * barWidth / 100
		name := t.Name
		if len(name) > 28 {
			name = name[:27] + "…"
		}
		line := fmt.Sprintf("  %-28s [%s%s] %3d%%  %s rows", name, strings.Repeat("#", fill), strings.Repeat("-", barWidth-fill), p, group(t.RowsCopied))
		if len(line) > width+2 {
			line = line[:width]
		}
		out = append(out, line)
	}
	return out
}

// withDisplay is the app with its log lines written through d when d draws on
// the same terminal as the log, so that they appear above the drawing.
func (a *app) withDisplay(d *display) *app {
	if !d.tty {
		return a
	}
	if f, ok := a.stderr.(*os.File); !ok || !isatty.IsTerminal(f.Fd()) {
		return a
	}
	b := *a
	b.stderr = d
	return &b
}
