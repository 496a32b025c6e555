package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/godwit-db/godwit/internal/api"
	"github.com/godwit-db/godwit/internal/workflow"
)

// remote is the CLI's client of a running `godwit serve` (--server or
// GODWIT_SERVER): the commands send the same requests the dashboard does.
type remote struct {
	base  string
	token string
	http  *http.Client
}

// remote returns the client of the server the command should use, or nil for
// the local state store.
func (a *app) remote() (*remote, error) {
	s := a.server
	if s == "" {
		s = os.Getenv("GODWIT_SERVER")
	}
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("--server %q is not an http(s)://host:port URL", s)}
	}
	token := os.Getenv("GODWIT_TOKEN")
	if token == "" {
		// The token a serve of this machine keeps beside the state store.
		path, err := a.tokenPath()
		if err != nil {
			return nil, err
		}
		if token, err = api.ReadToken(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return &remote{base: strings.TrimSuffix(s, "/"), token: token, http: &http.Client{Timeout: 10 * time.Minute}}, nil
}

// call sends a request and decodes a 2xx answer into out; an error answer
// becomes its one-line message.
func (r *remote) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil || method != http.MethodGet {
		// serve refuses changes sent as anything but JSON (a cross-site form).
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach godwit serve at %s: %v", r.base, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return resp.StatusCode, errors.New(e.Error)
		}
		return resp.StatusCode, fmt.Errorf("godwit serve at %s answered %s", r.base, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("unexpected answer from %s: %v", r.base, err)
		}
	}
	return resp.StatusCode, nil
}

func migrationPath(name string, action ...string) string {
	p := "/api/v1/migrations/" + url.PathEscape(name)
	for _, a := range action {
		p += "/" + a
	}
	return p
}

func (r *remote) status(ctx context.Context, name string) (workflow.Status, error) {
	var st workflow.Status
	_, err := r.call(ctx, "GET", migrationPath(name), nil, &st)
	return st, err
}

func (r *remote) list(ctx context.Context) ([]workflow.Status, error) {
	var out []workflow.Status
	_, err := r.call(ctx, "GET", "/api/v1/migrations", nil, &out)
	return out, err
}

// verify starts a verification and waits for its result in the migration's status.
func (r *remote) verify(ctx context.Context, name string) (*workflow.VerifyState, error) {
	if _, err := r.call(ctx, "POST", migrationPath(name, "verify"), nil, nil); err != nil {
		return nil, err
	}
	for {
		st, err := r.status(ctx, name)
		if err != nil {
			return nil, err
		}
		if st.Verify != nil && st.Verify.State != workflow.VerifyRunning {
			return st.Verify, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (r *remote) complete(ctx context.Context, name string, opts workflow.CompleteOptions) (workflow.Status, error) {
	var st workflow.Status
	body := map[string]any{"timeout": opts.Timeout.String(), "max_lag": opts.MaxLag.String(), "skip_verify": opts.SkipVerify, "hook": opts.Hook}
	_, err := r.call(ctx, "POST", migrationPath(name, "complete"), body, &st)
	return st, err
}

func (r *remote) cancel(ctx context.Context, name string, dropTarget bool) error {
	_, err := r.call(ctx, "POST", migrationPath(name, "cancel"), map[string]any{"drop_target": dropTarget}, nil)
	return err
}

func (r *remote) delete(ctx context.Context, name string) ([]string, error) {
	var out struct {
		Removed []string `json:"removed"`
	}
	_, err := r.call(ctx, "DELETE", migrationPath(name), nil, &out)
	return out.Removed, err
}

func (r *remote) create(ctx context.Context, name string, spec workflow.Spec) error {
	body := struct {
		Name string `json:"name"`
		workflow.Spec
	}{name, spec}
	_, err := r.call(ctx, "POST", "/api/v1/migrations", body, nil)
	return err
}
