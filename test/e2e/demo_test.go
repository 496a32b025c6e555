package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestDemo runs `godwit demo` as a newcomer would: it must finish well within a
// minute, exit 0, and show every step of the lifecycle.
func TestDemo(t *testing.T) {
	g := newGodwit(t)
	// The minute is a promise about the binary users run: time a plain build
	// (the race detector slows the pure-Go SQLite tenfold).
	g.bin = testutil.BuildPlainGodwit(t)
	started := time.Now()
	res := g.runTimeout(2*time.Minute, "demo")
	took := time.Since(started)
	if res.code != 0 {
		t.Fatalf("godwit demo exited %d: %v", res.code, res)
	}
	for _, want := range []string{"1. created a sample shop database", "3. godwit start demo", "REPLICATING", "no differences", "writes were frozen for", "6. independent check: all", "summary: completed", "removed "} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
		}
	}
	if took > time.Minute {
		t.Errorf("demo took %v, want under a minute", took)
	}
	t.Logf("demo took %v:\n%s", took.Round(time.Millisecond), res.stdout)
}
