package main

import (
	"encoding/json"
	"fmt"

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
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				vs, err := r.Verify(ctx, args[0], opts)
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
