package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/godwit-db/godwit/internal/testutil"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// apiClient talks to a running `godwit serve`.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (c apiClient) status(name string) status {
	c.t.Helper()
	code, b := c.do("GET", "/api/v1/migrations/"+name, nil)
	var st status
	if code != 200 || json.Unmarshal(b, &st) != nil {
		c.t.Fatalf("GET %s: %d %s", name, code, b)
	}
	return st
}

func (c apiClient) waitFor(name, what string, timeout time.Duration, cond func(status) bool) status {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := c.status(name)
		if cond(st) {
			return st
		}
		if st.State == "FAILED" || time.Now().After(deadline) {
			c.t.Fatalf("waiting for %s of %s: %v", what, name, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startServe starts `godwit serve` and waits until it answers. The client
// carries the token serve keeps beside the state store (when it keeps one).
func startServe(t *testing.T, g *godwit, addr string, extra ...string) (*runner, apiClient) {
	t.Helper()
	r := g.start(append([]string{"serve", "--listen", addr}, extra...)...)
	c := apiClient{t: t, base: "http://" + addr}
	for i := 0; ; i++ {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if tok, err := os.ReadFile(g.tokenPath()); err == nil {
					c.token = strings.TrimSpace(string(tok))
				}
				return r, c
			}
		}
		if r.exited() || i > 300 {
			t.Fatalf("serve did not answer on %s (exited: %v)", addr, r.exited())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tokenPath is where serve keeps its API token for g's state store.
func (g *godwit) tokenPath() string {
	if strings.HasPrefix(g.state, "postgres") {
		return filepath.Join(filepath.Dir(g.logPath), "xdg", "godwit", "serve.token")
	}
	return filepath.Join(filepath.Dir(g.state), "serve.token")
}

func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

// TestServeAPI drives migrations through `godwit serve` over real HTTP:
// create, watch, metrics (parsed with the Prometheus text parser), verify,
// complete, errors; SIGTERM pauses a running migration and a new serve
// resumes it.
func TestServeAPI(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	createSQLiteSource(t, src, testutil.Seed(t), 3000)
	g := newGodwit(t)
	addr := freeAddr(t)
	serve, c := startServe(t, g, addr)

	code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "api1", "source": "sqlite://" + src, "target": "sqlite://" + dst})
	if code != 201 || !strings.Contains(string(b), `"state":"CREATED"`) {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "api1", "source": "sqlite://" + src, "target": "sqlite://" + dst}); code != 409 {
		t.Fatalf("duplicate create: %d %s", code, b)
	}
	if code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "bad", "source": "sqlite://" + src}); code != 400 || !strings.Contains(string(b), "error") {
		t.Fatalf("create without target: %d %s", code, b)
	}
	if code, _ := c.do("GET", "/api/v1/migrations/nope", nil); code != 404 {
		t.Fatalf("unknown migration: %d", code)
	}
	st := c.waitFor("api1", "consistent", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })

	code, b = c.do("GET", "/api/v1/migrations", nil)
	var list []status
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 || list[0].Name != "api1" {
		t.Fatalf("list: %d %s", code, b)
	}

	code, b = c.do("GET", "/metrics", nil)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if code != 200 || err != nil {
		t.Fatalf("metrics: %d %v\n%s", code, err, b)
	}
	copied, _ := st.rows()
	if v, ok := metricValue(t, fams, "godwit_migration_state", map[string]string{"migration": "api1", "state": "RUNNING"}); !ok || v != 1 {
		t.Fatalf("godwit_migration_state RUNNING = %v %v", v, ok)
	}
	if v, ok := metricValue(t, fams, "godwit_rows_copied_total", map[string]string{"migration": "api1", "table": "main.items"}); !ok || v != 3000 {
		t.Fatalf("godwit_rows_copied_total for main.items = %v %v (status says %v rows copied in all)", v, ok, copied)
	}
	if v, ok := metricValue(t, fams, "godwit_consistent", map[string]string{"migration": "api1"}); !ok || v != 1 {
		t.Fatalf("godwit_consistent = %v %v", v, ok)
	}
	if f := fams["godwit_rows_copied_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER {
		t.Fatalf("godwit_rows_copied_total is not a counter: %v", f)
	}

	if code, b := c.do("POST", "/api/v1/migrations/api1/verify", nil); code != 202 && code != 200 {
		t.Fatalf("verify: %d %s", code, b)
	}
	c.waitFor("api1", "verification", time.Minute, func(st status) bool { return st.Verify != nil && st.Verify.State != "running" })
	if st := c.status("api1"); st.Verify.State != "passed" || st.Verify.Differences != 0 {
		t.Fatalf("verification found differences: %+v", st.Verify)
	}
	code, b = c.do("POST", "/api/v1/migrations/api1/complete", map[string]any{"timeout": "30s"})
	if code != 200 || !strings.Contains(string(b), `"state":"COMPLETED"`) {
		t.Fatalf("complete: %d %s", code, b)
	}
	if code, b := c.do("POST", "/api/v1/migrations/api1/complete", nil); code != 409 {
		t.Fatalf("second complete: %d %s", code, b)
	}

	// SIGTERM pauses what runs; the next serve picks it up again.
	src2, dst2 := filepath.Join(dir, "src2.db"), filepath.Join(dir, "dst2.db")
	createSQLiteSource(t, src2, 2, 500)
	if code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "api2", "source": "sqlite://" + src2, "target": "sqlite://" + dst2}); code != 201 {
		t.Fatalf("create api2: %d %s", code, b)
	}
	c.waitFor("api2", "replicating", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Phase == "REPLICATING" })
	if code := serve.terminate(30 * time.Second); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM", code)
	}
	if st := g.mustStatus("api2"); st.State != "PAUSED" {
		t.Fatalf("after SIGTERM api2 is %v, want PAUSED", st)
	}
	_, c = startServe(t, g, addr)
	c.waitFor("api2", "running again", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Runner != nil && st.Runner.Alive })
}

// TestServeToken: serve always wants a token, on loopback too: its own, made
// on first use and kept mode 0600 beside the state store (never printed), or
// --token / GODWIT_TOKEN; --no-token only on loopback. Requests without it
// get 401; the health check and the dashboard page (which holds no data) stay
// open.
func TestServeToken(t *testing.T) {
	g := newGodwit(t)
	for _, args := range [][]string{{"--listen", "0.0.0.0:0", "--no-token"}, {"--no-token", "--token", "0123456789abcdef"}} {
		if res := g.run(append([]string{"serve"}, args...)...); res.code != 2 || !oneLine(res.stderr) || !strings.Contains(res.stderr, "--no-token") {
			t.Fatalf("serve %v: %v", args, res)
		}
	}
	addr := freeAddr(t)
	serve, c := startServe(t, g, addr)
	fi, err := os.Stat(g.tokenPath())
	if err != nil || fi.Mode().Perm() != 0o600 || len(c.token) < 32 {
		t.Fatalf("serve's token file %s: %v %v, token of %d characters", g.tokenPath(), fi, err, len(c.token))
	}
	out, _ := os.ReadFile(g.logPath)
	if !strings.Contains(string(out), g.tokenPath()) || strings.Contains(string(out), c.token) {
		t.Fatalf("serve's output should name the token file and never hold the token:\n%s", out)
	}
	tok := c.token
	c.token = ""
	for _, path := range []string{"/api/v1/migrations", "/metrics", "/api/v1/migrations/x/lag"} {
		if code, _ := c.do("GET", path, nil); code != 401 {
			t.Fatalf("GET %s without the token: %d", path, code)
		}
	}
	if code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "x", "source": "sqlite:///nope.db", "target": "sqlite:///nope2.db"}); code != 401 {
		t.Fatalf("create without the token: %d %s", code, b)
	}
	for _, path := range []string{"/", "/healthz"} {
		if code, _ := c.do("GET", path, nil); code != 200 {
			t.Fatalf("GET %s without the token: %d", path, code)
		}
	}
	c.token = "wrong"
	if code, _ := c.do("GET", "/api/v1/migrations", nil); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	c.token = tok
	if code, b := c.do("GET", "/api/v1/migrations", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("with token: %d %s", code, b)
	}
	// The next serve keeps the token, so open dashboards and scripts go on working.
	if code := serve.terminate(30 * time.Second); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM", code)
	}
	if _, c2 := startServe(t, g, addr); c2.token != tok {
		t.Fatalf("a restarted serve made a new token")
	}
	// An explicit token wins over the file.
	addr2 := freeAddr(t)
	_, c3 := startServe(t, g, addr2, "--token", "s3cret-token-given-here")
	if code, _ := c3.do("GET", "/api/v1/migrations", nil); code != 401 {
		t.Fatalf("the file's token works on a serve given --token: %d", code)
	}
	c3.token = "s3cret-token-given-here"
	if code, _ := c3.do("GET", "/api/v1/migrations", nil); code != 200 {
		t.Fatalf("--token: %d", code)
	}
	// A token file others can read is refused with one line.
	if err := os.Chmod(g.tokenPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := g.run("serve", "--listen", freeAddr(t)); res.code != 1 || !oneLine(res.stderr) || !strings.Contains(res.stderr, "chmod 600") {
		t.Fatalf("serve with a world-readable token file: %v", res)
	}
}

// TestServeCLI: the CLI commands act through a running serve with --server
// (token from the file serve keeps beside the state store, or GODWIT_TOKEN).
func TestServeCLI(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	createSQLiteSource(t, src, testutil.Seed(t), 1000)
	g := newGodwit(t)
	addr := freeAddr(t)
	hooked := filepath.Join(dir, "hooked")
	startServe(t, g, addr, "--hook", "mark=touch "+hooked)
	server := "http://" + addr
	res := g.run("start", "cli1", "--source", "sqlite://"+src, "--target", "sqlite://"+dst, "--server", server)
	if res.code != 0 || !strings.Contains(res.stdout, "created") {
		t.Fatalf("start --server: %v", res)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		res = g.run("status", "cli1", "--json", "--server", server)
		var st status
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &st) != nil {
			t.Fatalf("status --server: %v", res)
		}
		if st.State == "RUNNING" && st.Consistent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cli1 never became consistent: %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res = g.run("list", "--server", server); res.code != 0 || !strings.Contains(res.stdout, "cli1") {
		t.Fatalf("list --server: %v", res)
	}
	if res = g.run("verify", "cli1", "--server", server); res.code != 0 || !strings.Contains(res.stdout, "no differences") {
		t.Fatalf("verify --server: %v", res)
	}
	if res = g.run("verify", "cli1", "--server", server, "--restart"); res.code != 2 {
		t.Fatalf("verify --server --restart: %v", res)
	}
	// Over the API a hook is a name serve was given, never a command.
	stray := filepath.Join(dir, "stray")
	if res = g.run("complete", "cli1", "--server", server, "--hook", "touch "+stray); res.code != 1 || !oneLine(res.stderr) || !strings.Contains(res.stderr, `no hook named "touch`) {
		t.Fatalf("complete --server with a command for --hook: %v", res)
	}
	if _, err := os.Stat(stray); err == nil {
		t.Fatalf("a hook command sent over the API ran")
	}
	if res = g.run("complete", "cli1", "--server", server, "--hook", "mark"); res.code != 0 || !strings.Contains(res.stdout, "completed") {
		t.Fatalf("complete --server: %v", res)
	}
	if _, err := os.Stat(hooked); err != nil {
		t.Fatalf("serve's hook mark did not run: %v", err)
	}
	if res = g.run("delete", "cli1", "--server", server); res.code != 0 || !strings.Contains(res.stdout, "removed") {
		t.Fatalf("delete --server: %v", res)
	}
	if res = g.run("status", "cli1", "--server", server); res.code != 1 || !oneLine(res.stderr) || !strings.Contains(res.stderr, "unknown migration") {
		t.Fatalf("status of a deleted migration: %v", res)
	}
	t.Setenv("GODWIT_TOKEN", "wrong")
	if res = g.run("list", "--server", server); res.code != 1 || !strings.Contains(res.stderr, "token") {
		t.Fatalf("wrong token: %v", res)
	}
	if res = g.run("list", "--server", "ftp://x"); res.code != 2 {
		t.Fatalf("bad --server URL: %v", res)
	}
}

// TestServeTakeover: two serves share a store in PostgreSQL; the one running
// the migration is killed with SIGKILL, the other takes it over and resumes
// from the checkpoints; writes go on throughout and every row arrives.
func TestServeTakeover(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	seed := testutil.Seed(t)
	createSQLiteSource(t, src, seed, 5000)
	g := newGodwit(t)
	g.state = testutil.NewPGDatabase(t, "target") // the shared store
	addrA, addrB := freeAddr(t), freeAddr(t)
	serveA, a := startServe(t, g, addrA)
	serveB, b := startServe(t, g, addrB)
	wl := startSQLiteWorkload(t, src, seed, 1)
	if code, body := a.do("POST", "/api/v1/migrations", map[string]any{"name": "shared", "source": "sqlite://" + src, "target": "sqlite://" + dst}); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	st := a.waitFor("shared", "running", time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Consistent && st.Runner != nil && st.Runner.Alive
	})
	first, survivor, survivorAPI := serveA, serveB, b
	if st.Runner.PID == serveB.cmd.Process.Pid {
		first, survivor, survivorAPI = serveB, serveA, a
	} else if st.Runner.PID != serveA.cmd.Process.Pid {
		t.Fatalf("runner pid %d is neither serve (%d, %d)", st.Runner.PID, serveA.cmd.Process.Pid, serveB.cmd.Process.Pid)
	}
	first.kill9()
	t.Logf("killed the serve running the migration (pid %d)", st.Runner.PID)
	st = survivorAPI.waitFor("shared", "the takeover", time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Runner != nil && st.Runner.Alive && st.Runner.PID == survivor.cmd.Process.Pid
	})
	time.Sleep(time.Second)
	wl.halt(t)
	if wl.commits.Load() == 0 {
		t.Fatal("the workload committed nothing")
	}
	survivorAPI.waitFor("shared", "caught up", time.Minute, func(st status) bool {
		return st.SourcePosition != "" && st.SourcePosition == st.AppliedPosition
	})
	if code, body := survivorAPI.do("POST", "/api/v1/migrations/shared/complete", map[string]any{"timeout": "30s"}); code != 200 {
		t.Fatalf("complete on the survivor: %d %s", code, body)
	}
	compareSQLite(t, src, dst)
}
