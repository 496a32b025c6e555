package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/workflow"
)

func (a *app) checkCommand() *cobra.Command {
	var spec workflow.Spec
	var asJSON bool
	var specPath string
	c := &cobra.Command{
		Use:   "check --source URL --target URL",
		Short: "Assess a migration before starting it; creates nothing",
		Long: `check runs every check 'start' makes, without creating anything on either database, and reports the
servers' versions and settings, the tables that would be copied with their size and key, and everything that
would block the migration (settings, privileges, tables without a key, target tables holding rows). Exit 0 when
nothing blocks, 1 when something does.`,
		Args: exactArgs(0, "no arguments"),
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
				return usageError{errors.New("check needs --source URL and --target URL (or GODWIT_SOURCE and GODWIT_TARGET, or a --spec file with source and target)")}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := workflow.Check(ctx, defaultEngines(), spec)
			if err != nil {
				return usageError{err}
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printCheck(os.Stdout, rep, defaultEngines().Redact(spec.Source), defaultEngines().Redact(spec.Target))
			}
			if !rep.Ready {
				return &exitError{code: 1, msg: fmt.Sprintf("%d problem(s) block this migration: %s", len(rep.Blocking), rep.Blocking[0])}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&spec.Source, "source", "", "source database URL, postgres://user@host:port/db (default $GODWIT_SOURCE; the password can come from $GODWIT_SOURCE_PASSWORD, out of sight of ps)")
	f.StringVar(&spec.Target, "target", "", "target database URL (default $GODWIT_TARGET; the password can come from $GODWIT_TARGET_PASSWORD)")
	f.StringArrayVar(&spec.Include, "include", nil, "tables to migrate, a glob over schema.table (repeatable)")
	f.StringArrayVar(&spec.Exclude, "exclude", nil, "tables to leave out (repeatable)")
	f.BoolVar(&spec.Once, "once", false, "assess a one-time copy (no change capture)")
	f.BoolVar(&spec.AllowNoKey, "allow-no-key", false, "as for start: tables without a key are copied once")
	f.BoolVar(&spec.TruncateTarget, "truncate-target", false, "as for start: target tables holding rows are emptied")
	bridgeFlags(f, &spec.Bridge)
	specFlag(f, &specPath)
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

// bridgeFlags are the options of a migration between engines.
func bridgeFlags(f *pflag.FlagSet, o *bridge.Options) {
	f.StringVar(&o.Names, "names", "", "between engines: target identifier style: keep (default), lower, snake (InvoiceLine -> invoice_line) or pascal (invoice_line -> InvoiceLine)")
	f.StringVar(&o.TargetSchema, "target-schema", "", "between engines: put every table in this target schema (MySQL: database)")
	f.StringSliceVar(&o.AllowLossy, "allow-lossy", nil, "between engines: accept these lossy type mappings by name (docs/types.md; 'all' for every one)")
	f.BoolVar(&o.TinyIntBool, "tinyint1-as-boolean", false, "between engines: map MySQL tinyint(1) to boolean (default: a small integer)")
	f.BoolVar(&o.EnumTypes, "enum-types", false, "to PostgreSQL: make enum columns enum types named table_column (default: text with a CHECK of the labels)")
}

func printCheck(out io.Writer, rep *workflow.CheckReport, source, target string) {
	fmt.Fprintf(out, "%-8s %s  %s\n", "source", source, serverText(rep.Source))
	fmt.Fprintf(out, "%-8s %s  %s\n", "target", target, serverText(rep.Target))
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tROWS (EST.)\tSIZE\tKEY\tNOTE")
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", t.Name, t.Rows, sizeText(t.Bytes), orDash(strings.Join(t.Key, ", ")), t.Note)
	}
	w.Flush()
	for _, t := range rep.Tables {
		if t.Target == "" {
			continue
		}
		fmt.Fprintf(out, "\n%s -> %s\n", t.Name, t.Target)
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, c := range t.Columns {
			fmt.Fprintf(w, "  %s\t%s\t->\t%s\t%s\n", c.Name, c.Type, c.Target, c.TargetType)
		}
		w.Flush()
	}
	est := "under a second"
	if rep.CopySeconds >= 1 {
		est = "roughly " + time.Duration(rep.CopySeconds*float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(out, "\n%d tables, about %d rows and %s; the copy would take %s at %s/s (the benchmarks' rate on 2 cores)\n",
		len(rep.Tables), rep.Rows, sizeText(rep.Bytes), est, sizeText(50<<20))
	for _, wmsg := range rep.Warnings {
		fmt.Fprintln(out, "warning:", wmsg)
	}
	if rep.Ready {
		fmt.Fprintln(out, "ready: nothing blocks this migration")
		return
	}
	fmt.Fprintln(out, "blocked:")
	for _, b := range rep.Blocking {
		fmt.Fprintln(out, "  -", b)
	}
}

// serverText is "engine version  setting=value ...".
func serverText(info *engine.ServerInfo) string {
	if info == nil {
		return "(not reached)"
	}
	keys := make([]string, 0, len(info.Settings))
	for k := range info.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{info.Engine + " " + info.Version}
	for _, k := range keys {
		parts = append(parts, k+"="+info.Settings[k])
	}
	return strings.Join(parts, "  ")
}
