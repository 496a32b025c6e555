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
	c := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:7070]",
		Short: "Run every active migration in the store and serve the HTTP API and metrics",
		Long: `serve runs every active migration in the state store (CREATED, PAUSED, or RUNNING with its runner gone),
picking up new ones, and serves the JSON API (/api/v1/migrations ...), Prometheus metrics (/metrics) and a health
check (/healthz). Listening on a non-loopback address requires an API token (--token or GODWIT_TOKEN), sent as
"Authorization: Bearer <token>". SIGINT/SIGTERM pause every migration at its checkpoint and stop.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("GODWIT_TOKEN")
			}
			local, err := loopback(listen)
			if err != nil {
				return usageError{err}
			}
			if !local && token == "" {
				return usageError{fmt.Errorf("--listen %s accepts connections from other machines: pass --token or set GODWIT_TOKEN", listen)}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %v", listen, err)
			}
			ctx, stop := signalContext()
			defer stop()
			return a.withRunner(ctx, func(r *workflow.Runner) error {
				as := &api.Server{Runner: r, Token: token, Log: r.Log, Background: ctx}
				go as.Sample(ctx, time.Second)
				srv := &http.Server{Handler: as.Handler(), ReadHeaderTimeout: 10 * time.Second}
				fmt.Fprintf(a.stdout, "godwit serve: listening on http://%s\n", ln.Addr())
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
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:7070", "address to serve the API, metrics and health check on")
	c.Flags().StringVar(&token, "token", "", "API token required with every request (default $GODWIT_TOKEN); required off loopback")
	return c
}
