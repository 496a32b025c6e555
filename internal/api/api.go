// Package api serves godwit over HTTP: a JSON API over the same workflow calls
// the CLI makes (the objects are those of `status --json`), Prometheus metrics
// and a health check.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/godwit-db/godwit/internal/store"
	"github.com/godwit-db/godwit/internal/workflow"
)

// Server is the HTTP side of `godwit serve`.
type Server struct {
	Runner *workflow.Runner
	// Token, when set, must come with every request but /healthz as
	// "Authorization: Bearer <token>".
	Token string
	// Guard refuses cross-site and DNS-rebinding requests (nil: serve
	// answers to localhost only).
	Guard *Guard
	// Hooks are the cutover hooks serve was started with (--hook NAME=CMD):
	// the API picks one by name and never takes a command.
	Hooks map[string]string
	Log   *slog.Logger
	// Background runs long work (a verification) beyond the request; it ends
	// with the server.
	Background context.Context

	hist history
}

// Handler routes the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /{$}", s.dashboard)
	mux.HandleFunc("GET /api/v1/migrations/{name}/lag", s.lag)
	mux.HandleFunc("GET /api/v1/migrations", s.list)
	mux.HandleFunc("POST /api/v1/migrations", s.create)
	mux.HandleFunc("GET /api/v1/migrations/{name}", s.get)
	mux.HandleFunc("DELETE /api/v1/migrations/{name}", s.delete)
	mux.HandleFunc("POST /api/v1/migrations/{name}/complete", s.complete)
	mux.HandleFunc("POST /api/v1/migrations/{name}/cancel", s.cancel)
	mux.HandleFunc("POST /api/v1/migrations/{name}/verify", s.verify)
	g := s.Guard
	if g == nil {
		g = &Guard{listenHost: "localhost"}
	}
	return g.Wrap(s.auth(mux), s.Log)
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The dashboard page itself holds no data: it asks for the token and
		// sends it with its API calls.
		if s.Token != "" && r.URL.Path != "/healthz" && r.URL.Path != "/" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="godwit"`)
				writeError(w, http.StatusUnauthorized, errors.New("missing or wrong API token: send Authorization: Bearer <token>"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (s *Server) status(ctx context.Context, name string) (workflow.Status, int, error) {
	m, err := s.Runner.Store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return workflow.Status{}, http.StatusNotFound, fmt.Errorf("unknown migration %q", name)
	}
	if err != nil {
		return workflow.Status{}, http.StatusInternalServerError, err
	}
	st, err := workflow.StatusOf(m, s.Runner.Engines.Redact, s.Runner.Host)
	if err != nil {
		return st, http.StatusInternalServerError, err
	}
	return st, http.StatusOK, nil
}

// writeStatus answers with the migration's status and code (or the error
// reading it).
func (s *Server) writeStatus(w http.ResponseWriter, r *http.Request, name string, code int) {
	st, errCode, err := s.status(r.Context(), name)
	if err != nil {
		writeError(w, errCode, err)
		return
	}
	writeJSON(w, code, st)
}

// exists reports whether the migration exists, answering 404 (or the error
// reading it) when it does not.
func (s *Server) exists(w http.ResponseWriter, r *http.Request, name string) bool {
	if _, code, err := s.status(r.Context(), name); err != nil {
		writeError(w, code, err)
		return false
	}
	return true
}

func (s *Server) statuses(ctx context.Context) ([]workflow.Status, error) {
	list, err := s.Runner.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]workflow.Status, 0, len(list))
	for _, m := range list {
		st, err := workflow.StatusOf(m, s.Runner.Engines.Redact, s.Runner.Host)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	out, err := s.statuses(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.writeStatus(w, r, r.PathValue("name"), http.StatusOK)
}

// CreateRequest is the body of POST /api/v1/migrations: a name and the same
// fields as `godwit start`'s flags.
type CreateRequest struct {
	Name string `json:"name"`
	workflow.Spec
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("the body must be a JSON object with name, source, target and start's options: %v", err))
		return
	}
	if req.Source == "" || req.Target == "" || req.Name == "" {
		writeError(w, http.StatusBadRequest, errors.New("name, source and target are required"))
		return
	}
	if req.ChunkRows == 0 {
		req.ChunkRows = 100000
	}
	if req.Jobs == 0 {
		req.Jobs = 2
	}
	req.Tables = nil
	if err := s.Runner.Create(r.Context(), req.Name, req.Spec); err != nil {
		code := http.StatusBadRequest
		if strings.Contains(err.Error(), "already exists") {
			code = http.StatusConflict
		}
		writeError(w, code, err)
		return
	}
	s.writeStatus(w, r, req.Name, http.StatusCreated)
}

func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// CompleteRequest is the optional body of .../complete; durations are Go
// durations ("30s"). Hook names one of serve's --hook hooks.
type CompleteRequest struct {
	Timeout    string `json:"timeout"`
	MaxLag     string `json:"max_lag"`
	SkipVerify bool   `json:"skip_verify"`
	Hook       string `json:"hook"`
}

// hook returns the command of the hook serve was started with under name.
// Commands never come over the API: whoever can reach it would run code here.
func (s *Server) hook(name string) (string, error) {
	if cmd, ok := s.Hooks[name]; ok {
		return cmd, nil
	}
	if len(s.Hooks) == 0 {
		return "", fmt.Errorf("serve has no cutover hooks, and the API takes none: start serve with --hook NAME=CMD, then pass \"hook\": \"NAME\"")
	}
	names := slices.Sorted(maps.Keys(s.Hooks))
	return "", fmt.Errorf("serve has no hook named %q (it has %s): hooks are named when serve starts (--hook NAME=CMD)", clipText(name, 40), strings.Join(names, ", "))
}

// ParseHooks reads serve's --hook NAME=CMD definitions into Server.Hooks.
func ParseHooks(defs []string) (map[string]string, error) {
	hooks := map[string]string{}
	for _, d := range defs {
		name, cmd, ok := strings.Cut(d, "=")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		if !ok || !hookNameRE.MatchString(name) || cmd == "" {
			return nil, fmt.Errorf("--hook %q is not NAME=CMD (NAME of letters, digits, '_' or '-'; CMD a shell command)", clipText(d, 60))
		}
		if _, dup := hooks[name]; dup {
			return nil, fmt.Errorf("--hook %s is given twice", name)
		}
		hooks[name] = cmd
	}
	return hooks, nil
}

var hookNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req CompleteRequest
	if err := decodeOptional(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	opts := workflow.CompleteOptions{Timeout: 30 * time.Second, MaxLag: 10 * time.Second, SkipVerify: req.SkipVerify}
	if req.Hook != "" {
		cmd, err := s.hook(req.Hook)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		opts.Hook = cmd
	}
	for _, d := range []struct {
		text string
		dst  *time.Duration
	}{{req.Timeout, &opts.Timeout}, {req.MaxLag, &opts.MaxLag}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("invalid duration %q: use Go durations like 30s", d.text))
			return
		}
		*d.dst = v
	}
	if !s.exists(w, r, name) {
		return
	}
	if _, err := s.Runner.Complete(r.Context(), name, opts); err != nil {
		writeError(w, http.StatusConflict, err)
		return
	}
	s.writeStatus(w, r, name, http.StatusOK)
}

// CancelRequest is the optional body of .../cancel.
type CancelRequest struct {
	DropTarget bool `json:"drop_target"`
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req CancelRequest
	if err := decodeOptional(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if !s.exists(w, r, name) {
		return
	}
	if err := s.Runner.Cancel(r.Context(), name, req.DropTarget, time.Minute); err != nil {
		writeError(w, http.StatusConflict, err)
		return
	}
	s.writeStatus(w, r, name, http.StatusOK)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.exists(w, r, name) {
		return
	}
	removed, err := s.Runner.Delete(r.Context(), name)
	if err != nil {
		writeError(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": name, "removed": removed})
}

// verify starts a verification in the background (it can take long) and
// answers 202; its progress and result show in the migration's "verify".
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.exists(w, r, name) {
		return
	}
	// An error in the first half second (a verification already running, an
	// unreachable database) is the answer; later ones show in "verify".
	early := make(chan error, 1)
	go func() {
		_, err := s.Runner.Verify(s.Background, name, workflow.VerifyOptions{})
		early <- err
		if err != nil && s.Background.Err() == nil {
			s.Log.Warn("verification stopped", "migration", name, "error", err.Error())
		}
	}()
	select {
	case err := <-early:
		if err != nil {
			writeError(w, http.StatusConflict, err)
			return
		}
		s.writeStatus(w, r, name, http.StatusOK)
	case <-time.After(500 * time.Millisecond):
		writeJSON(w, http.StatusAccepted, map[string]string{"verifying": name})
	}
}
