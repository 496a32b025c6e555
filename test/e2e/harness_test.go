package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// cmdTimeout bounds every short godwit command (status, cancel, ...).
const cmdTimeout = 60 * time.Second

// godwit runs the binary under test with one state file.
type godwit struct {
	t       *testing.T
	bin     string
	state   string
	logPath string
	runs    int
	extra   []string // more environment for every command
}

func newGodwit(t *testing.T) *godwit {
	t.Helper()
	bin := testutil.BuildGodwit(t)
	dir := t.TempDir()
	g := &godwit{t: t, bin: bin, state: filepath.Join(dir, "godwit-state.db"), logPath: filepath.Join(dir, "runner.log")}
	t.Cleanup(func() {
		if t.Failed() {
			g.dumpLog()
		}
	})
	return g
}

func (g *godwit) env() []string {
	// XDG_STATE_HOME: what godwit keeps outside a file store (serve's token
	// for a store in PostgreSQL) stays in the test's directory.
	return append(append(os.Environ(), "GODWIT_STATE="+g.state, "XDG_STATE_HOME="+filepath.Join(filepath.Dir(g.logPath), "xdg")), g.extra...)
}

// result is the outcome of a finished godwit command.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("godwit %s: exit %d\nstdout: %s\nstderr: %s",
		strings.Join(redactArgs(r.args), " "), r.code, clip(r.stdout, 4000), clip(r.stderr, 4000))
}

// run runs a godwit command to completion with --state appended.
func (g *godwit) run(args ...string) result {
	g.t.Helper()
	return g.runTimeout(cmdTimeout, args...)
}

func (g *godwit) runTimeout(timeout time.Duration, args ...string) result {
	g.t.Helper()
	args = append(append([]string{}, args...), "--state", g.state)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Env = g.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{args: args, stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		g.t.Fatalf("godwit %s did not finish within %v\nstdout: %s\nstderr: %s",
			strings.Join(redactArgs(args), " "), timeout, clip(res.stdout, 4000), clip(res.stderr, 4000))
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		g.t.Fatalf("run godwit %s: %v", strings.Join(redactArgs(args), " "), err)
	}
	return res
}

// runner is a long-running godwit start/resume child process.
type runner struct {
	g    *godwit
	desc string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid after done is closed
}

// start launches "godwit ARGS --state S" in the background, appending its
// output to the runner log. The process is killed when the test ends.
func (g *godwit) start(args ...string) *runner {
	g.t.Helper()
	g.runs++
	args = append(append([]string{}, args...), "--state", g.state)
	logf, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		g.t.Fatal(err)
	}
	desc := fmt.Sprintf("run #%d: godwit %s", g.runs, strings.Join(redactArgs(args), " "))
	fmt.Fprintf(logf, "\n===== %s %s =====\n", time.Now().Format("15:04:05.000"), desc)
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		g.t.Fatalf("start %s: %v", desc, err)
	}
	r := &runner{g: g, desc: desc, cmd: cmd, done: make(chan struct{})}
	n := g.runs
	go func() {
		r.err = cmd.Wait()
		fmt.Fprintf(logf, "===== %s run #%d ended: %v =====\n", time.Now().Format("15:04:05.000"), n, cmd.ProcessState)
		logf.Close()
		close(r.done)
	}()
	g.t.Cleanup(func() {
		if !r.exited() {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	g.t.Logf("%s (pid %d)", desc, cmd.Process.Pid)
	return r
}

func (r *runner) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *runner) exitCode() int {
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		return -1
	}
	return 0
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (r *runner) kill9() {
	r.g.t.Helper()
	if r.exited() {
		r.g.t.Fatalf("%s exited (code %d) before it could be killed", r.desc, r.exitCode())
	}
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.g.t.Fatalf("kill %s: %v", r.desc, err)
	}
	<-r.done
}

// terminate sends SIGTERM and returns the exit code.
func (r *runner) terminate(timeout time.Duration) int {
	r.g.t.Helper()
	if r.exited() {
		r.g.t.Fatalf("%s exited (code %d) before SIGTERM", r.desc, r.exitCode())
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.g.t.Fatalf("SIGTERM %s: %v", r.desc, err)
	}
	select {
	case <-r.done:
		return r.exitCode()
	case <-time.After(timeout):
		r.g.t.Fatalf("%s still runs %v after SIGTERM", r.desc, timeout)
		return -1
	}
}

// wait waits for the process to exit by itself and returns its exit code.
func (r *runner) wait(timeout time.Duration) int {
	r.g.t.Helper()
	select {
	case <-r.done:
		return r.exitCode()
	case <-time.After(timeout):
		r.g.t.Fatalf("%s still runs after %v", r.desc, timeout)
		return -1
	}
}

func (g *godwit) dumpLog() {
	b, err := os.ReadFile(g.logPath)
	if err != nil {
		return
	}
	const max = 64 << 10
	if len(b) > max {
		b = append([]byte("...(cut)...\n"), b[len(b)-max:]...)
	}
	g.t.Logf("godwit runner log %s:\n%s", g.logPath, b)
}

// status mirrors the JSON of "godwit status NAME --json".
type status struct {
	Name            string        `json:"name"`
	State           string        `json:"state"`
	Phase           string        `json:"phase"`
	Consistent      bool          `json:"consistent"`
	LagSeconds      *float64      `json:"lag_seconds"`
	LagBytes        *float64      `json:"lag_bytes"`
	Error           *string       `json:"error"`
	SourcePosition  string        `json:"source_position"`
	AppliedPosition string        `json:"applied_position"`
	Cutover         string        `json:"cutover"`
	FreezeMS        *int64        `json:"freeze_ms"`
	Tables          []tableStatus `json:"tables"`
	Verify          *struct {
		State       string `json:"state"`
		Differences int    `json:"differences"`
	} `json:"verify"`
	Runner *struct {
		PID   int  `json:"pid"`
		Alive bool `json:"alive"`
	} `json:"runner"`
	Retrying *struct {
		Since    time.Time `json:"since"`
		Attempts int       `json:"attempts"`
		Reason   string    `json:"reason"`
	} `json:"retrying"`
}

type tableStatus struct {
	Name         string  `json:"name"`
	Phase        string  `json:"phase"`
	RowsCopied   float64 `json:"rows_copied"`
	RowsEstimate float64 `json:"rows_estimate"`
}

func (s status) String() string {
	if s.State == "" && s.Name == "" {
		return "(none)"
	}
	e := "null"
	if s.Error != nil {
		e = strconv.Quote(*s.Error)
	}
	var copied, est float64
	for _, tb := range s.Tables {
		copied += tb.RowsCopied
		est += tb.RowsEstimate
	}
	return fmt.Sprintf("state=%s phase=%s consistent=%v source=%q applied=%q rows=%.0f/%.0f error=%s",
		s.State, s.Phase, s.Consistent, s.SourcePosition, s.AppliedPosition, copied, est, e)
}

func (s status) errText() string {
	if s.Error == nil {
		return "(no error text)"
	}
	return *s.Error
}

// rows returns the copied and estimated row counts summed over the tables.
func (s status) rows() (copied, estimate float64) {
	for _, tb := range s.Tables {
		copied += tb.RowsCopied
		estimate += tb.RowsEstimate
	}
	return copied, estimate
}

// status runs "godwit status NAME --json".
func (g *godwit) status(name string) (status, error) {
	res := g.run("status", name, "--json")
	if res.code != 0 {
		return status{}, fmt.Errorf("status exit %d: %s", res.code, strings.TrimSpace(res.stderr))
	}
	var st status
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		return status{}, fmt.Errorf("status --json output is not a status object: %v\n%s", err, clip(res.stdout, 2000))
	}
	return st, nil
}

// mustStatus returns the status or fails the test.
func (g *godwit) mustStatus(name string) status {
	g.t.Helper()
	st, err := g.status(name)
	if err != nil {
		g.t.Fatal(err)
	}
	return st
}

// waitFor polls the status of migration name until cond holds. It fails the
// test when the migration FAILED, when r (optional) exits, or on timeout.
// Transient errors of the status command are tolerated for a while.
func (g *godwit) waitFor(name string, r *runner, what string, timeout time.Duration, cond func(status) bool) status {
	g.t.Helper()
	deadline := time.Now().Add(timeout)
	var last status
	var lastErr error
	errSince := time.Time{}
	for {
		st, err := g.status(name)
		switch {
		case err != nil:
			lastErr = err
			if errSince.IsZero() {
				errSince = time.Now()
			}
			if time.Since(errSince) > 30*time.Second {
				g.t.Fatalf("waiting for %s: status keeps failing for 30s: %v", what, err)
			}
		default:
			errSince = time.Time{}
			last = st
			if st.State == "FAILED" {
				g.t.Fatalf("waiting for %s: migration FAILED: %s\nstatus: %v", what, st.errText(), st)
			}
			if cond(st) {
				return st
			}
		}
		if r != nil && r.exited() {
			g.t.Fatalf("waiting for %s: %s exited with code %d; last status: %v (status error: %v)",
				what, r.desc, r.exitCode(), last, lastErr)
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("timed out after %v waiting for %s; last status: %v (last status error: %v)", timeout, what, last, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// parseLSN parses a PostgreSQL LSN "X/Y" into hi<<32|lo.
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("invalid LSN %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid LSN %q: %v", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid LSN %q: %v", s, err)
	}
	return h<<32 | l, nil
}

// oneLine reports whether s is exactly one non-empty line (a trailing newline
// allowed).
func oneLine(s string) bool {
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return strings.TrimSpace(s) != "" && !strings.ContainsAny(s, "\n\r")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("...(%d more bytes)", len(s)-n)
}

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = testutil.RedactURL(a)
	}
	return out
}
