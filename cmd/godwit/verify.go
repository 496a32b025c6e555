package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/workflow"
)

func (a *app) verifyCommand() *cobra.Command {
	var asJSON bool
	var opts workflow.VerifyOptions
	var tables []string
	c := &cobra.Command{
		Use:   "verify NAME",
		Short: "Prove the target equals the source, online, while changes keep flowing",
		Long: `verify compares every table of the migration on source and target, chunk by chunk by hash, while the
migration is replicating (and consistent) or after it completed. Rows that differ while changes are in flight
are re-checked once replay has caught up; only persistent differences are reported, by table and key.
An interrupted verification resumes where it stopped (--restart begins again).
Exit status: 0 no differences, 3 differences found, 1 could not verify.`,
		Args: exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Tables = schema.Filter{Include: tables}
			if err := opts.Tables.Validate(); err != nil {
				return usageError{err}
			}
			ctx, stop := signalContext()
			defer stop()
			run := func(fn func() (*workflow.VerifyState, error)) error {
				vs, err := fn()
				if vs != nil && asJSON {
					if err := json.NewEncoder(a.stdout).Encode(vs); err != nil {
						return err
					}
				}
				if err != nil {
					return err
				}
				if !asJSON {
					for _, d := range vs.Found {
						fmt.Fprintln(a.stdout, d.String())
					}
					if vs.Differences > len(vs.Found) {
						fmt.Fprintf(a.stdout, "... and %d more\n", vs.Differences-len(vs.Found))
					}
				}
				if len(vs.NotKept) > 0 && !asJSON {
					fmt.Fprintln(a.stdout, notKeptLine(vs.NotKept))
				}
				switch vs.State {
				case workflow.VerifyPassed:
					if !asJSON {
						fmt.Fprintf(a.stdout, "verified %d rows in %d tables: no differences\n", vs.RowsChecked, len(vs.Tables))
					}
					return nil
				case workflow.VerifyFailed:
					return &exitError{code: 3, msg: fmt.Sprintf("%d rows differ between source and target (listed above)", vs.Differences)}
				default:
					return fmt.Errorf("could not verify: %s", vs.Error)
				}
			}
			if rc, err := a.remote(); err != nil || rc != nil {
				if err != nil {
					return err
				}
				if len(tables) > 0 || opts.MaxRate != 0 || opts.Restart || opts.ChunkRows != 20000 {
					return usageError{fmt.Errorf("--tables, --chunk-rows, --max-rate and --restart are not available through --server")}
				}
				return run(func() (*workflow.VerifyState, error) { return rc.verify(ctx, args[0]) })
			}
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				return run(func() (*workflow.VerifyState, error) { return r.Verify(ctx, args[0], opts) })
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON, with the differing rows' values")
	c.Flags().StringArrayVar(&tables, "tables", nil, "verify only tables matching this glob over schema.table (repeatable)")
	c.Flags().Int64Var(&opts.ChunkRows, "chunk-rows", 20000, "rows per compared chunk")
	c.Flags().Float64Var(&opts.MaxRate, "max-rate", 0, "limit reading to this many rows per second per side (0: no limit)")
	c.Flags().BoolVar(&opts.Restart, "restart", false, "start over instead of resuming an interrupted verification")
	return c
}

func (a *app) completeCommand() *cobra.Command {
	var opts workflow.CompleteOptions
	c := &cobra.Command{
		Use:   "complete NAME",
		Short: "Cut over: fence source writes, drain, verify, carry sequences, switch",
		Long: `complete asks the running migration to cut over and waits. It refuses when replication lags more than
--max-lag; otherwise it fences writes on the migrated source tables (new writes fail with an error naming the
migration; writes in flight are waited for), drains replay to the final source position, runs a final
verification (unless --skip-verify), sets the target's sequences and identity columns to the source's values,
adds foreign keys, runs --hook, and marks the migration COMPLETED. The write freeze (fence to switch) is printed
and shown in status as freeze_ms. If any step fails or --timeout passes first, the fence is removed and the
migration goes on replicating. After COMPLETED the source tables stay fenced; 'godwit delete' removes the fence.`,
		Args: exactArgs(1, "a migration NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Timeout <= 0 {
				return usageError{fmt.Errorf("--timeout must be positive")}
			}
			ctx, stop := signalContext()
			defer stop()
			if rc, err := a.remote(); err != nil || rc != nil {
				if err != nil {
					return err
				}
				st, err := rc.complete(ctx, args[0], opts)
				if err != nil {
					return err
				}
				var freeze int64
				if st.FreezeMS != nil {
					freeze = *st.FreezeMS
				}
				fmt.Fprintf(a.stdout, "migration %s completed: writes were frozen for %d ms\n", args[0], freeze)
				a.warnNotKept(st)
				return nil
			}
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				freeze, err := r.Complete(ctx, args[0], opts)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "migration %s completed: writes were frozen for %d ms\n", args[0], freeze.Milliseconds())
				if m, err := r.Store.Get(ctx, args[0]); err == nil {
					if st, err := workflow.StatusOf(m, r.Engines.Redact, r.Host); err == nil {
						a.warnNotKept(st)
					}
				}
				return nil
			})
		},
	}
	c.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "give up (and unfence) if the cutover has not switched by then")
	c.Flags().BoolVar(&opts.SkipVerify, "skip-verify", false, "skip the final verification on the fenced source (verify beforehand)")
	c.Flags().StringVar(&opts.Hook, "hook", "", "shell command run after the drain, before the switch (to repoint applications); its failure aborts the cutover. With --server: the NAME of a hook serve was started with (--hook NAME=CMD)")
	c.Flags().DurationVar(&opts.MaxLag, "max-lag", 10*time.Second, "refuse to start when replication lags more than this")
	return c
}

// notKeptLine names the tables a migration copied once without keeping them
// in step (--allow-no-key): nothing vouches for them.
func notKeptLine(tables []string) string {
	return fmt.Sprintf("not verified: %s (no key, and verify compares rows by key; in a live migration such tables are copied once with --allow-no-key and their later changes not replayed, so the target may differ)", summarize(tables, 10))
}

// summarize lists names, the first n of them and how many more.
func summarize(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// warnNotKept names, after a cutover, the tables nothing kept in step.
func (a *app) warnNotKept(st workflow.Status) {
	var names []string
	for _, t := range st.Tables {
		if t.Phase == "COPY_ONLY" {
			names = append(names, t.Name)
		}
	}
	if len(names) > 0 {
		fmt.Fprintln(a.stderr, "godwit: warning: "+notKeptLine(names))
	}
}
