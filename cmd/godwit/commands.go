package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/godwit-db/godwit/internal/retry"
	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/workflow"
)

func (a *app) startCommand() *cobra.Command {
	var spec workflow.Spec
	var specPath string
	var retryFor time.Duration
	c := &cobra.Command{
		Use:   "start NAME --source URL --target URL",
		Short: "Create a migration and run it in the foreground",
		Long: `start creates migration NAME and runs it in the foreground: it starts change capture on the source,
copies the selected tables in parallel chunks, then replays every change, until the migration is
COMPLETED, CANCELLED or FAILED, or until SIGINT/SIGTERM, which pauses it at its last checkpoint
('godwit resume NAME' continues). With --once it copies without change capture and completes.`,
		Args: exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			tables, err := applySpec(specPath, c.Flags())
			if err != nil {
				return usageError{err}
			}
			spec.Bridge.Tables = tables
			if err := serverURLs(&spec, os.Getenv); err != nil {
				return usageError{err}
			}
			if spec.Source == "" || spec.Target == "" {
				return usageError{errors.New("start needs --source URL and --target URL (or GODWIT_SOURCE and GODWIT_TARGET, or a --spec file with source and target)")}
			}
			if spec.ChunkRows < 1 || spec.Jobs < 1 {
				return usageError{errors.New("--chunk-rows and --jobs must be at least 1")}
			}
			if retryFor <= 0 {
				return usageError{errors.New("--retry-for must be a positive duration, such as 30s or 1h")}
			}
			spec.RetryForSeconds = retryFor.Seconds()
			ctx, stop := signalContext()
			defer stop()
			if rc, err := a.remote(); err != nil || rc != nil {
				if err != nil {
					return err
				}
				if err := rc.create(ctx, args[0], spec); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "migration %s created; %s runs it ('godwit status %s --server %s')\n", args[0], rc.base, args[0], rc.base)
				return nil
			}
			d := newDisplay(a.stdout)
			return a.withDisplay(d).withRunner(ctx, func(r *workflow.Runner) error {
				if err := r.Create(ctx, args[0], spec); err != nil {
					return err
				}
				return a.runShown(ctx, r, d, args[0])
			})
		},
	}
	f := c.Flags()
	f.StringVar(&spec.Source, "source", "", "source database URL, postgres://user@host:port/db (default $GODWIT_SOURCE; the password can come from $GODWIT_SOURCE_PASSWORD, out of sight of ps)")
	f.StringVar(&spec.Target, "target", "", "target database URL (default $GODWIT_TARGET; the password can come from $GODWIT_TARGET_PASSWORD)")
	f.StringArrayVar(&spec.Include, "include", nil, "tables to migrate, a glob over schema.table (repeatable; default: every user table)")
	f.StringArrayVar(&spec.Exclude, "exclude", nil, "tables to leave out, a glob over schema.table (repeatable)")
	f.BoolVar(&spec.Once, "once", false, "copy once without change capture, then complete (like pgcopydb clone)")
	f.Int64Var(&spec.ChunkRows, "chunk-rows", 100000, "rows per copy chunk: the unit of parallelism and of resume")
	f.IntVar(&spec.Jobs, "jobs", max(2, min(8, runtime.NumCPU())), "chunks copied and indexes built in parallel")
	f.BoolVar(&spec.TruncateTarget, "truncate-target", false, "empty target tables that already exist and hold rows (default: refuse)")
	f.Float64Var(&spec.MaxCopyRate, "max-copy-rate", 0, "limit the copy to this many rows per second, to spare the source (0: no limit)")
	f.BoolVar(&spec.Verify, "verify", false, "verify source against target automatically once the migration is consistent (result in status)")
	f.BoolVar(&spec.AllowNoKey, "allow-no-key", false, "copy tables without a primary or unique key once, without replaying their changes")
	bridgeFlags(f, &spec.Bridge)
	specFlag(f, &specPath)
	f.DurationVar(&retryFor, "retry-for", retry.DefaultFor, "keep reconnecting to a lost source or target for this long before the migration FAILS ('godwit resume' continues it)")
	f.Int64Var(&spec.RetainedWarnMB, "warn-retained-mb", 10240, "warn in status, metrics and the log when the source keeps more change log (WAL, binlog) than this for the migration")
	return c
}

func (a *app) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume NAME",
		Short: "Run a paused migration, or one whose runner died, from its checkpoints",
		Args:  exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signalContext()
			defer stop()
			d := newDisplay(a.stdout)
			return a.withDisplay(d).withRunner(ctx, func(r *workflow.Runner) error { return a.runShown(ctx, r, d, args[0]) })
		},
	}
}

func (a *app) status(ctx context.Context, name string) (workflow.Status, error) {
	if rc, err := a.remote(); err != nil || rc != nil {
		if err != nil {
			return workflow.Status{}, err
		}
		return rc.status(ctx, name)
	}
	var st workflow.Status
	err := a.withRunner(ctx, func(r *workflow.Runner) error {
		m, err := r.Store.Get(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("unknown migration %q: 'godwit list' shows the migrations in this state store", name)
		}
		if err != nil {
			return err
		}
		st, err = workflow.StatusOf(m, r.Engines.Redact, r.Host)
		return err
	})
	return st, err
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a migration's state, phase, per-table progress and lag",
		Args:  exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := a.status(context.Background(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(st)
			}
			printStatus(a, st)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func printStatus(a *app, st workflow.Status) {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	state := string(st.State)
	if st.Phase != "" {
		state += " / " + string(st.Phase)
	}
	fmt.Fprintf(w, "migration\t%s\n", st.Name)
	fmt.Fprintf(w, "state\t%s\n", state)
	if st.Error != nil {
		fmt.Fprintf(w, "error\t%s\n", *st.Error)
	}
	fmt.Fprintf(w, "source\t%s\n", st.Source)
	fmt.Fprintf(w, "target\t%s\n", st.Target)
	if !st.Once {
		fmt.Fprintf(w, "consistent\t%v\n", st.Consistent)
		if r := st.Retrying; r != nil {
			fmt.Fprintf(w, "stream\tDOWN since %s (%s ago, %d attempts): %s\n", r.Since.Format(time.RFC3339), time.Since(r.Since).Round(time.Second), r.Attempts, r.Reason)
		}
		fmt.Fprintf(w, "lag\t%.1fs, %s behind (source %s, applied %s)\n", st.LagSeconds, sizeText(st.LagBytes), orDash(st.SourcePosition), orDash(st.AppliedPosition))
		fmt.Fprintf(w, "changes applied\t%d (%.0f/s)\n", st.ChangesApplied, st.ApplyRate)
		warn := ""
		if st.RetainedWarning {
			warn = "  WARNING: over the threshold (--warn-retained-mb); the source's disk fills until the target catches up"
		}
		fmt.Fprintf(w, "source log kept\t%s%s\n", sizeText(st.RetainedBytes), warn)
	}
	if st.Runner != nil {
		alive := "running"
		if !st.Runner.Alive {
			alive = "gone (resume it with 'godwit resume " + st.Name + "')"
		}
		fmt.Fprintf(w, "runner\tprocess %d on %s, %s\n", st.Runner.PID, st.Runner.Host, alive)
	}
	w.Flush()
	fmt.Fprintln(a.stdout)
	w = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tPHASE\tROWS COPIED\tESTIMATE\tCHUNKS")
	for _, t := range st.Tables {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d/%d\n", t.Name, t.Phase, t.RowsCopied, t.RowsEstimate, t.ChunksDone, t.ChunksTotal)
	}
	w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sizeText(n int64) string { return workflow.HumanBytes(n) }

func (a *app) listCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the migrations in the state store",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := context.Background()
			rc, err := a.remote()
			if err != nil {
				return err
			}
			return a.withStatuses(ctx, rc, func(out []workflow.Status) error {
				if asJSON {
					return json.NewEncoder(a.stdout).Encode(out)
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tSTATE\tPHASE\tCONSISTENT\tLAG\tSOURCE\tTARGET")
				for _, st := range out {
					fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%.1fs\t%s\t%s\n", st.Name, st.State, orDash(string(st.Phase)), st.Consistent, st.LagSeconds, st.Source, st.Target)
				}
				return w.Flush()
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of status objects")
	return c
}

func (a *app) cancelCommand() *cobra.Command {
	var dropTarget bool
	var wait time.Duration
	c := &cobra.Command{
		Use:   "cancel NAME",
		Short: "Stop a migration and remove its change capture from the source",
		Long: `cancel stops the migration's runner (or acts for it when it is gone), drops the replication slot and
publication from the source, and marks the migration CANCELLED. Target tables stay unless --drop-target.`,
		Args: exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := context.Background()
			if rc, err := a.remote(); err != nil || rc != nil {
				if err == nil {
					err = rc.cancel(ctx, args[0], dropTarget)
				}
				if err == nil {
					fmt.Fprintf(a.stdout, "migration %s cancelled\n", args[0])
				}
				return err
			}
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				if err := r.Cancel(ctx, args[0], dropTarget, wait); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "migration %s cancelled\n", args[0])
				return nil
			})
		},
	}
	c.Flags().BoolVar(&dropTarget, "drop-target", false, "also drop the migrated tables on the target")
	c.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for a running migration to stop")
	return c
}

func (a *app) deleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a finished migration and everything godwit left for it",
		Args:  exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := context.Background()
			if rc, err := a.remote(); err != nil || rc != nil {
				if err != nil {
					return err
				}
				removed, err := rc.delete(ctx, args[0])
				for _, what := range removed {
					fmt.Fprintln(a.stdout, "removed "+what)
				}
				return err
			}
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				removed, err := r.Delete(ctx, args[0])
				for _, what := range removed {
					fmt.Fprintln(a.stdout, "removed "+what)
				}
				return err
			})
		},
	}
}

// withStatuses runs fn on every migration's status, from the server when rc is
// set, else from the state store.
func (a *app) withStatuses(ctx context.Context, rc *remote, fn func([]workflow.Status) error) error {
	if rc != nil {
		out, err := rc.list(ctx)
		if err != nil {
			return err
		}
		return fn(out)
	}
	return a.withRunner(ctx, func(r *workflow.Runner) error {
		ms, err := r.Store.List(ctx)
		if err != nil {
			return err
		}
		out := []workflow.Status{}
		for _, m := range ms {
			st, err := workflow.StatusOf(m, r.Engines.Redact, r.Host)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return fn(out)
	})
}
