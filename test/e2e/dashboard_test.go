package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestDashboard drives the dashboard of `godwit serve` in headless Chromium
// (playwright-core): the migration shows as consistent with its tables and a
// lag chart, Verify passes, Complete cuts over; the API then confirms it. The
// screenshot is kept in the test's log directory when GODWIT_KEEP_SCREENSHOT
// names a path.
// needBrowser ends the test unless scripts/browser.sh set up Chromium and
// playwright-core.
func needBrowser(t *testing.T) {
	t.Helper()
	if os.Getenv("GODWIT_E2E_CHROMIUM") == "" || os.Getenv("GODWIT_E2E_NODE_PATH") == "" {
		testutil.Unavailable(t, `GODWIT_E2E_CHROMIUM and GODWIT_E2E_NODE_PATH are not set: eval "$(scripts/browser.sh)"`)
	}
}

func TestDashboard(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	createSQLiteSource(t, src, testutil.Seed(t), 2000)
	g := newGodwit(t)
	addr := freeAddr(t)
	_, c := startServe(t, g, addr, "--token", "dash-token")
	c.token = "dash-token"
	if code, b := c.do("POST", "/api/v1/migrations", map[string]any{"name": "dash", "source": "sqlite://" + src, "target": "sqlite://" + dst}); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	shot := filepath.Join(dir, "dashboard.png")
	if keep := os.Getenv("GODWIT_KEEP_SCREENSHOT"); keep != "" {
		shot = keep
	}
	// The page asks for the token; the script stores it the way the token form does.
	script, err := filepath.Abs("testdata/dashboard.mjs")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, "http://"+addr+"/", "dash", shot)
	cmd.Env = append(os.Environ(), "GODWIT_E2E_TOKEN=dash-token")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("browser:\n%s", out.String())
	if err != nil {
		t.Fatalf("the dashboard test in Chromium failed: %v", err)
	}
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no screenshot at %s (%d bytes, %v)", shot, len(png), err)
	}
	st := c.status("dash")
	if st.State != "COMPLETED" || st.FreezeMS == nil || st.Verify == nil || st.Verify.State != "passed" {
		t.Fatalf("after the clicks the API shows %v (verify %+v)", st, st.Verify)
	}
	if !strings.Contains(out.String(), "completed, freeze") {
		t.Fatalf("the browser did not see the cutover:\n%s", out.String())
	}
}
