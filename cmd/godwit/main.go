// Command godwit moves tables from a live database to another one while the
// source keeps taking writes. This file maps flags to the workflow and signals to
// contexts; nothing else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/godwit-db/godwit/internal/engines"
	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/workflow"
)

// usageError marks errors in how godwit was called (exit status 2).
type usageError struct{ error }

// exitError carries a specific exit status with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	if os.Getenv("GOGC") == "" {
		// The heap stays small (tens of MB) and is mostly short-lived row images:
		// collecting half as often costs little memory and a lot less CPU.
		debug.SetGCPercent(200)
	}
	if path := os.Getenv("GODWIT_CPUPROFILE"); path != "" { // for performance work
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				code := run(os.Args[1:], os.Stdout, os.Stderr)
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(code)
			}
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := &app{stdout: stdout, stderr: stderr}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	code := 1
	var ue usageError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue), isCobraUsage(err):
		code = 2
	}
	if msg := oneLine(err.Error()); msg != "" {
		fmt.Fprintln(stderr, "godwit: "+msg)
	}
	return code
}

// isCobraUsage recognises cobra's own errors for unknown commands and flags.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

type app struct {
	stdout, stderr io.Writer
	statePath      string
	logFormat      string
	server         string
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "godwit",
		Short:         "Move live tables to another database with a sub-second cutover",
		Long:          "godwit migrates tables from a running source database to a target database while the source keeps taking writes:\nit captures changes, copies the data in parallel resumable chunks, replays every change, and keeps the target in step.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.statePath, "state", "", "state store path (default $GODWIT_STATE or $XDG_STATE_HOME/godwit/godwit.db)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&a.server, "server", "", "act through a running 'godwit serve' at this URL instead of the state store (default $GODWIT_SERVER; token from $GODWIT_TOKEN)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.startCommand(), a.resumeCommand(), a.statusCommand(), a.listCommand(), a.verifyCommand(), a.completeCommand(), a.cancelCommand(), a.deleteCommand(), a.demoCommand(), a.checkCommand(), a.serveCommand())
	return root
}

// exactArgs is cobra.ExactArgs that reports a usage error naming what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s needs %s (usage: %s)", c.Name(), what, c.UseLine())}
		}
		return nil
	}
}

func (a *app) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	path := a.statePath
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, path)
}

func defaultEngines() workflow.Engines {
	return workflow.Engines{
		OpenSource:    engines.OpenSource,
		OpenTarget:    engines.OpenTarget,
		Check:         engines.Check,
		SameDatabase:  engines.SameDatabase,
		Pair:          engines.Pair,
		Redact:        engines.Redact,
		TargetExists:  engines.TargetExists,
		Dialect:       engines.Dialect,
		DefaultSchema: engines.DefaultSchema,
		TryCreate:     engines.TryCreate,
	}
}

// withRunner opens the store and a runner for one command.
func (a *app) withRunner(ctx context.Context, fn func(*workflow.Runner) error) error {
	if a.logFormat != "text" && a.logFormat != "json" {
		return usageError{fmt.Errorf("--log-format must be text or json, not %q", a.logFormat)}
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(workflow.NewRunner(st, defaultEngines(), a.logger()))
}

// signalContext ends on SIGINT or SIGTERM: runners then pause at a checkpoint.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
