package testutil

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// upDir is a ".." path component: not part of "...", between separators,
// quotes, spaces or the ends of the line.
var upDir = regexp.MustCompile(`(^|[^.\w])\.\.([/\\"'\s)]|$)`)

// scriptToRoot is the one ".." a script may use: a script one folder below
// the root changing to the root.
const scriptToRoot = `cd "$(dirname "$0")/.."`

// outside names places outside the repository that tests once read.
var outside = regexp.MustCompile(`shared/(datasets|bench)|"shared", "(datasets|bench)"`)

// TestNoPathLeavesRepository: the suite and the benchmarks must run from a
// clone with nothing beside it, so nothing in their code may climb out of the
// repository. Paths are built from the module root (ModuleRoot, or a script's
// cd to the root), never with "..".
func TestNoPathLeavesRepository(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, dir := range []string{"scripts", "test", "bench", ".ci", "internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && isCode(p) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	files = append(files, filepath.Join(root, "Makefile"))
	if len(files) < 50 {
		t.Fatalf("found only %d code files under %s", len(files), root)
	}
	var bad []string
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		if rel == filepath.Join("internal", "testutil", "repo_test.go") {
			continue // its examples of what it catches
		}
		depth := strings.Count(filepath.ToSlash(rel), "/")
		for n, line := range readLines(t, p) {
			l := line
			if depth == 1 {
				l = strings.Replace(l, scriptToRoot, "", 1)
			}
			if upDir.MatchString(l) || outside.MatchString(l) {
				bad = append(bad, rel+":"+strconv.Itoa(n+1)+": "+strings.TrimSpace(line))
			}
		}
	}
	if len(bad) > 0 {
		t.Fatalf("paths that may leave the repository (build them from the module root instead):\n%s", strings.Join(bad, "\n"))
	}
}

// The check above must be able to fail: the forms tests once used, and a few others.
func TestNoPathLeavesRepositoryCatches(t *testing.T) {
	for _, line := range []string{
		`dir := filepath.Join(root, "..", "shared", "datasets", name)`,
		`ANCHORS=${ANCHORS:-$ROOT/../shared/bench}`,
		`load ../../fixtures/x.sql`,
		`cd "$(dirname "$0")/../.."`,
		`f := "/work/shared/datasets/pagila"`,
		`p = os.path.join(here, '..')`,
	} {
		l := strings.Replace(line, scriptToRoot, "", 1)
		if !upDir.MatchString(l) && !outside.MatchString(l) {
			t.Errorf("not caught: %s", line)
		}
	}
	for _, line := range []string{scriptToRoot, `// the optional body of .../complete`, `go vet ./...`, `x := "a..b"`} {
		if l := strings.Replace(line, scriptToRoot, "", 1); upDir.MatchString(l) || outside.MatchString(l) {
			t.Errorf("caught by mistake: %s", line)
		}
	}
}

func isCode(p string) bool {
	switch filepath.Ext(p) {
	case ".go", ".sh", ".mjs", ".js", ".py":
		return true
	case "":
		// Scripts without an extension (.ci/run): a shebang says so.
		f, err := os.Open(p)
		if err != nil {
			return false
		}
		defer f.Close()
		b := make([]byte, 2)
		n, _ := f.Read(b)
		return n == 2 && string(b) == "#!"
	}
	return false
}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return out
}
