package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestDemo runs `godwit demo` as a newcomer would: it must finish well within a
// minute, exit 0, and show every step of the lifecycle.
func TestDemo(t *testing.T) {
	g := newGodwit(t)
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
