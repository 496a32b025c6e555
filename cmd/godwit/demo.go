package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/godwit-db/godwit/internal/demo"
	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/workflow"
)

func (a *app) demoCommand() *cobra.Command {
	var keep bool
	var rows int
	c := &cobra.Command{
		Use:   "demo",
		Short: "Show a whole live migration on a fresh machine, with no database server",
		Long: `demo creates a sample shop database (SQLite) in a temporary directory, starts an application writing to
it, migrates it to a second SQLite file with godwit while the writes go on (live progress), verifies source
against target, cuts over with a measured write freeze, checks every row independently, and removes its files
(unless --keep). It uses the same code as real migrations, with its own state store.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signalContext()
			defer stop()
			return a.runDemo(ctx, rows, keep)
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the demo's files (databases, state store) and print where they are")
	c.Flags().IntVar(&rows, "rows", 80000, "about how many rows the sample database holds")
	return c
}

type demoOut struct {
	w     io.Writer
	tty   bool
	live  bool // a progress line is showing
	last  string
	lastT time.Time
}

func (d *demoOut) step(format string, args ...any) {
	d.endLine()
	fmt.Fprintf(d.w, format+"\n", args...)
}

// progress redraws one line on a terminal; elsewhere it prints a line when it
// changed, at most once a second.
func (d *demoOut) progress(line string) {
	if d.tty {
		fmt.Fprintf(d.w, "\r\033[K     %s", line)
		d.live = true
		return
	}
	if line == d.last || time.Since(d.lastT) < time.Second {
		return
	}
	d.last, d.lastT = line, time.Now()
	fmt.Fprintf(d.w, "     %s\n", line)
}

func (d *demoOut) endLine() {
	if d.live {
		fmt.Fprintln(d.w)
		d.live = false
	}
}

func (a *app) runDemo(ctx context.Context, rows int, keep bool) (err error) {
	started := time.Now()
	out := &demoOut{w: a.stdout}
	if f, ok := a.stdout.(*os.File); ok {
		out.tty = isatty.IsTerminal(f.Fd())
	}
	dir, err := os.MkdirTemp("", "godwit-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			out.step("kept the demo's files in %s", dir)
			return
		}
		os.RemoveAll(dir)
		out.step("removed %s (--keep keeps it)", dir)
	}()
	source, target := filepath.Join(dir, "shop.db"), filepath.Join(dir, "shop-migrated.db")
	fmt.Fprintf(a.stdout, "godwit demo: a live migration between two SQLite files, while an application keeps writing\n\n")

	if err := demo.Generate(ctx, source, rows, uint64(started.UnixNano())); err != nil {
		return fmt.Errorf("creating the sample database: %w", err)
	}
	n, err := demo.Count(ctx, source)
	if err != nil {
		return err
	}
	out.step("1. created a sample shop database: %d rows in customers, products, orders, order_items\n     (unicode text, reals, blobs, dates, NULLs) %s", n, source)

	wl, err := demo.StartWorkload(source, 3, uint64(started.UnixNano()))
	if err != nil {
		return err
	}
	defer wl.Stop()
	out.step("2. an application writes to it: 3 writers placing, paying and shipping orders, changing customers")

	st, err := store.Open(ctx, filepath.Join(dir, "godwit-state.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := workflow.NewRunner(st, defaultEngines(), quiet)
	const name = "demo"
	spec := workflow.Spec{Source: "sqlite://" + source, Target: "sqlite://" + target, ChunkRows: 5000, Jobs: 2}
	if err := r.Create(ctx, name, spec); err != nil {
		return err
	}
	out.step("3. godwit start %s --source %s --target %s", name, spec.Source, spec.Target)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(runCtx, name) }()

	status := func() (workflow.Status, error) {
		m, err := st.Get(ctx, name)
		if err != nil {
			return workflow.Status{}, err
		}
		return workflow.StatusOf(m, r.Engines.Redact, r.Host)
	}
	show := func(s workflow.Status) {
		var copied, est int64
		for _, t := range s.Tables {
			copied, est = copied+t.RowsCopied, est+t.RowsEstimate
		}
		if s.Phase == workflow.Copying || s.Phase == "" {
			out.progress(fmt.Sprintf("%-11s rows copied %d / %d", workflow.Copying, copied, est))
			return
		}
		out.progress(fmt.Sprintf("%-11s consistent=%v  changes applied %d (%.0f/s)  lag %.1fs", s.Phase, s.Consistent, s.ChangesApplied, s.ApplyRate, s.LagSeconds))
	}
	// Watch until consistent, then a few seconds more of live replication.
	var consistentAt time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for consistentAt.IsZero() || time.Since(consistentAt) < 3*time.Second {
		select {
		case err := <-runDone:
			return fmt.Errorf("the migration stopped: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		s, err := status()
		if err != nil {
			return err
		}
		show(s)
		if s.Consistent && consistentAt.IsZero() {
			consistentAt = time.Now()
		}
	}
	out.endLine()

	vs, err := r.Verify(ctx, name, workflow.VerifyOptions{})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if vs.State != workflow.VerifyPassed {
		return fmt.Errorf("verify found %d differences: %s", vs.Differences, vs.Error)
	}
	out.step("4. godwit verify %s: %d rows compared while the writes go on: no differences", name, vs.RowsChecked)

	freeze, err := r.Complete(ctx, name, workflow.CompleteOptions{Timeout: 30 * time.Second, MaxLag: 10 * time.Second, SkipVerify: true})
	if err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	select {
	case err := <-runDone:
		if err != nil {
			return err
		}
	case <-time.After(30 * time.Second):
		return errors.New("the runner did not finish after the cutover")
	}
	time.Sleep(200 * time.Millisecond) // let the writers meet the fence
	wl.Stop()
	out.step("5. godwit complete %s: writes fenced on the source, last changes drained, sequences carried, switched\n     writes were frozen for %d ms; the fence then refused %d application writes (they now belong on the new database)",
		name, freeze.Milliseconds(), wl.Refused.Load())

	s, err := status()
	if err != nil {
		return err
	}
	compared, diffs, err := demo.Compare(ctx, source, target)
	if err != nil {
		return err
	}
	if diffs > 0 {
		return fmt.Errorf("independent check: %d of %d rows differ between source and target", diffs, compared)
	}
	out.step("6. independent check: all %d rows of the 4 tables equal on both sides, value by value and type by type", compared)
	out.step("\nsummary: %s, %d application commits during the migration, %d changes replayed, freeze %d ms, %.1fs in all",
		strings.ToLower(string(s.State)), wl.Commits.Load(), s.ChangesApplied, freeze.Milliseconds(), time.Since(started).Seconds())
	return nil
}
