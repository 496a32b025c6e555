package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/godwit-db/godwit/internal/api"
	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/workflow"
)

// loopback reports whether a listen address only accepts local connections.
func loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--listen %q is not host:port", addr)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

func (a *app) serveCommand() *cobra.Command {
	var listen, token string
	var noToken bool
	var allowHosts, allowOrigins, hookDefs []string
	c := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:7070]",
		Short: "Run every active migration in the store and serve the HTTP API and metrics",
		Long: `serve runs every active migration in the state store (CREATED, PAUSED, or RUNNING with its runner gone),
picking up new ones, and serves the JSON API (/api/v1/migrations ...), Prometheus metrics (/metrics), a health
check (/healthz) and the dashboard (/).

Every request but /healthz and the dashboard page needs the API token, sent as "Authorization: Bearer <token>":
--token or GODWIT_TOKEN, else the one serve keeps in serve.token beside the state store (created mode 0600 on
first use; the CLI's --server reads it there). Requests that change something must be application/json from
serve's own pages or programs; requests under a Host name serve does not know are refused (DNS rebinding).
Cutover hooks are named here (--hook NAME=CMD) and picked by name over the API, which takes no commands.
SIGINT/SIGTERM pause every migration at its checkpoint and stop.`,
		Example: `  godwit serve
  godwit serve --listen 0.0.0.0:7070 --allow-host godwit.internal --hook dns='./switch-dns.sh'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("GODWIT_TOKEN")
			}
			local, err := loopback(listen)
			if err != nil {
				return usageError{err}
			}
			if noToken && (!local || token != "") {
				return usageError{fmt.Errorf("--no-token is only for a loopback --listen, without --token or GODWIT_TOKEN")}
			}
			guard, err := api.NewGuard(listen, allowHosts, allowOrigins)
			if err != nil {
				return usageError{err}
			}
			hooks, err := api.ParseHooks(hookDefs)
			if err != nil {
				return usageError{err}
			}
			tokenNote := ""
			switch {
			case noToken:
				tokenNote = "no API token (--no-token): any program or user of this machine can drive this serve"
			case token == "":
				path, err := a.tokenPath()
				if err != nil {
					return err
				}
				var created bool
				if token, created, err = api.LoadOrCreateToken(path); err != nil {
					return err
				}
				verb := "in"
				if created {
					verb = "created in"
				}
				tokenNote = fmt.Sprintf("API token %s %s (the dashboard asks for it; --server clients here read it there)", verb, path)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %v", listen, err)
			}
			ctx, stop := signalContext()
			defer stop()
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				as := &api.Server{Runner: r, Token: token, Guard: guard, Hooks: hooks, Log: r.Log, Background: ctx}
				go as.Sample(ctx, time.Second)
				srv := &http.Server{Handler: as.Handler(), ReadHeaderTimeout: 10 * time.Second}
				fmt.Fprintf(a.stdout, "godwit serve: listening on http://%s\n", ln.Addr())
				if tokenNote != "" {
					fmt.Fprintf(a.stdout, "godwit serve: %s\n", tokenNote)
				}
				done := make(chan error, 1)
				go func() { done <- r.Supervise(ctx, time.Second) }()
				go func() {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					_ = srv.Shutdown(sctx)
				}()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					stop()
					<-done
					return err
				}
				return <-done
			})
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:7070", "address to serve the API, metrics, health check and dashboard on")
	c.Flags().StringVar(&token, "token", "", "API token required with every request (default $GODWIT_TOKEN, else the one kept in serve.token beside the state store)")
	c.Flags().BoolVar(&noToken, "no-token", false, "loopback only: require no token, so that any program or user of this machine can drive serve")
	c.Flags().StringArrayVar(&allowHosts, "allow-host", nil, "also answer under this Host name (repeatable; e.g. the DNS name of a proxy in front of serve)")
	c.Flags().StringArrayVar(&allowOrigins, "allow-origin", nil, "trust web pages of this origin (scheme://host[:port], repeatable): they may change migrations and get CORS answers")
	c.Flags().StringArrayVar(&hookDefs, "hook", nil, "a cutover hook the API may pick by name: NAME=CMD (repeatable); the API takes no commands")
	return c
}

// tokenPath is where serve keeps its API token for this command's state store.
func (a *app) tokenPath() (string, error) {
	state := a.statePath
	if state == "" {
		var err error
		if state, err = store.DefaultPath(); err != nil {
			return "", err
		}
	}
	return api.TokenPath(state)
}
