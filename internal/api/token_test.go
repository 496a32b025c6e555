package api

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", TokenFile)
	tok, created, err := LoadOrCreateToken(path)
	if err != nil || !created || len(tok) != 48 {
		t.Fatalf("first call: %q %v %v", tok, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	again, created, err := LoadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Fatalf("second call: %q %v %v, want the same token", again, created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateToken(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable token file: %v", err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadToken(path); err == nil || !strings.Contains(err.Error(), "does not hold a token") {
		t.Fatalf("a file without a token: %v", err)
	}
}

// Serves starting at once on one store agree on one token.
func TestLoadOrCreateTokenRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), TokenFile)
	var wg sync.WaitGroup
	toks := make([]string, 8)
	errs := make([]error, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _, errs[i] = LoadOrCreateToken(path)
		}()
	}
	wg.Wait()
	for i := range toks {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("call %d: %q %v, call 0: %q", i, toks[i], errs[i], toks[0])
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".serve-token-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestTokenPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	for state, want := range map[string]string{
		"/srv/godwit/godwit.db":           "/srv/godwit/serve.token",
		"postgres://u:p@db/godwit":        "/x/state/godwit/serve.token",
		"postgresql://db/godwit?sslmode=": "/x/state/godwit/serve.token",
	} {
		if got, err := TokenPath(state); err != nil || got != want {
			t.Errorf("TokenPath(%q) = %q %v, want %q", state, got, err, want)
		}
	}
}
