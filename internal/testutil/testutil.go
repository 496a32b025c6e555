// Package testutil holds helpers shared by godwit's tests: access to the
// throwaway PostgreSQL clusters started by scripts/testdb.sh, per-test
// databases, reproducible seeds and building the godwit binary.
//
// Environment:
//
//	GODWIT_TEST_PG_SOURCE, GODWIT_TEST_PG_TARGET, GODWIT_TEST_PG_REPLICA, GODWIT_TEST_PG_FAULT
//	    admin URLs of the clusters (eval "$(scripts/testdb.sh up)"); fault tests kill the last one
//	GODWIT_REQUIRE_DB=1   fail instead of skip when a cluster is missing
//	GODWIT_KEEP_DB=1      keep the databases of failed tests for inspection
//	GODWIT_SEED=N         reuse the seed of an earlier run
//	GODWIT_E2E_RACE=1     build the godwit binary with -race
//	GODWIT_E2E_BIN=PATH   test this godwit binary instead of building one
package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// envVars maps the cluster names accepted by PGAdmin to their variables.
var envVars = map[string]string{
	"source":  "GODWIT_TEST_PG_SOURCE",
	"target":  "GODWIT_TEST_PG_TARGET",
	"replica": "GODWIT_TEST_PG_REPLICA",
	"fault":   "GODWIT_TEST_PG_FAULT",
}

// reachable caches successful connectivity checks per admin URL.
var reachable sync.Map

// PGAdmin returns the admin (superuser) URL of the test cluster which is
// "source", "target" or "replica". When the variable is unset or the server
// does not answer, the test is skipped, or fails if GODWIT_REQUIRE_DB=1.
func PGAdmin(t testing.TB, which string) string {
	t.Helper()
	name, ok := envVars[which]
	if !ok {
		t.Fatalf("testutil.PGAdmin: unknown cluster %q (want source, target, replica or fault)", which)
	}
	u := os.Getenv(name)
	if u == "" {
		noDB(t, fmt.Sprintf("%s is not set", name))
		return ""
	}
	if _, ok := reachable.Load(u); ok {
		return u
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(context.Background())
	}
	if err != nil {
		noDB(t, fmt.Sprintf("%s cluster (%s=%s) is unreachable: %v", which, name, RedactURL(u), err))
		return ""
	}
	reachable.Store(u, true)
	return u
}

func noDB(t testing.TB, why string) {
	t.Helper()
	Unavailable(t, why+"; start the test clusters with: eval \"$(scripts/testdb.sh up)\"")
}

// Unavailable ends a test that lacks what it needs (a server, a browser):
// it fails under GODWIT_REQUIRE_DB=1, as CI runs, and is skipped otherwise.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("GODWIT_REQUIRE_DB") == "1" {
		t.Fatalf("GODWIT_REQUIRE_DB=1: %s", msg)
	}
	t.Skip(msg)
}

// AdminConn opens a connection with the admin URL of a cluster and closes it
// when the test ends.
func AdminConn(t testing.TB, which string) *pgx.Conn {
	t.Helper()
	return Connect(t, PGAdmin(t, which))
}

// Connect opens a connection to url and closes it when the test ends.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", RedactURL(url), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// NewPGDatabase creates an empty database with a unique name on the cluster
// which ("source", "target" or "replica") and returns its URL. The database
// is dropped when the test ends, after dropping its replication slots.
func NewPGDatabase(t testing.TB, which string) string {
	t.Helper()
	admin := PGAdmin(t, which)
	name := DBName(t.Name())
	dbURL, err := WithDatabase(admin, name)
	if err != nil {
		t.Fatalf("testutil.NewPGDatabase: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testutil.NewPGDatabase: connect %s: %v", RedactURL(admin), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testutil.NewPGDatabase: create database %s on %s: %v", name, which, err)
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("GODWIT_KEEP_DB") == "1" {
			t.Logf("GODWIT_KEEP_DB=1: keeping database %s", RedactURL(dbURL))
			return
		}
		if err := DropDatabase(admin, name); err != nil {
			t.Errorf("testutil: drop database %s on %s: %v", name, which, err)
		}
	})
	return dbURL
}

// DropDatabase drops database name on the cluster of adminURL with FORCE,
// after terminating the users of its replication slots and dropping them.
func DropDatabase(adminURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		type slot struct {
			name   string
			active bool
			pid    *int32
		}
		var slots []slot
		rows, err := conn.Query(ctx,
			"select slot_name, active, active_pid from pg_replication_slots where database = $1", name)
		if err != nil {
			return fmt.Errorf("list replication slots: %w", err)
		}
		for rows.Next() {
			var s slot
			if err := rows.Scan(&s.name, &s.active, &s.pid); err != nil {
				return err
			}
			slots = append(slots, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list replication slots: %w", err)
		}
		if len(slots) == 0 {
			break
		}
		for _, s := range slots {
			if s.active && s.pid != nil {
				_, err = conn.Exec(ctx, "select pg_terminate_backend($1)", *s.pid)
			} else {
				_, err = conn.Exec(ctx, "select pg_drop_replication_slot($1)", s.name)
			}
			if err != nil && !slotGone(err) {
				return fmt.Errorf("drop replication slot %s: %w", s.name, err)
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("replication slots of %s still exist: %w", name, ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err = conn.Exec(ctx, "drop database if exists "+pgx.Identifier{name}.Sanitize()+" with (force)")
	return err
}

// slotGone reports errors caused by a slot that is dropped or becomes active
// concurrently; the caller retries.
func slotGone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "does not exist") || strings.Contains(s, "is active") ||
		strings.Contains(s, "SQLSTATE 55006") || strings.Contains(s, "SQLSTATE 42704")
}

// DBName returns a unique lowercase database name for a test:
// gw_<sanitised test name>_<8 random hex digits>, at most 63 bytes.
func DBName(testName string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	suffix := "_" + hex.EncodeToString(b[:])
	base := Sanitize(testName)
	if max := 63 - len("gw_") - len(suffix); len(base) > max {
		base = strings.TrimRight(base[:max], "_")
	}
	if base == "" {
		base = "test"
	}
	return "gw_" + base + suffix
}

// Sanitize lowercases s and replaces every run of characters outside
// [a-z0-9] by one underscore, trimming underscores at both ends.
func Sanitize(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.Trim(b.String(), "_")
}

// WithDatabase returns connURL (URL or key=value form) with its database
// replaced by dbname.
func WithDatabase(connURL, dbname string) (string, error) {
	if strings.HasPrefix(connURL, "postgres://") || strings.HasPrefix(connURL, "postgresql://") {
		u, err := url.Parse(connURL)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", RedactURL(connURL), err)
		}
		u.Path = "/" + dbname
		u.RawPath = ""
		return u.String(), nil
	}
	return strings.TrimSpace(connURL) + " dbname=" + dbname, nil
}

// WithUser returns connURL (URL form) with its user and password replaced.
// An empty password means none.
func WithUser(connURL, user, password string) (string, error) {
	u, err := url.Parse(connURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", RedactURL(connURL), err)
	}
	if password == "" {
		u.User = url.User(user)
	} else {
		u.User = url.UserPassword(user, password)
	}
	return u.String(), nil
}

// RedactURL hides the password of a URL for logs.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Seed returns the seed for randomised tests: GODWIT_SEED when set, else a
// time-based one. It logs the seed so that a failure can be replayed.
func Seed(t testing.TB) int64 {
	t.Helper()
	var seed int64
	if s := os.Getenv("GODWIT_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("GODWIT_SEED=%q is not an integer: %v", s, err)
		}
		seed = v
	} else {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed=%d (rerun with GODWIT_SEED=%d)", seed, seed)
	return seed
}

type buildResult struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var build, plainBuild buildResult

// BuildGodwit builds ./cmd/godwit once per test binary (with -race when
// GODWIT_E2E_RACE=1) and returns the path of the executable. The binary lives
// in a temporary directory that RemoveBuild deletes (call it from TestMain).
// When GODWIT_E2E_BIN is set, that binary is used instead.
func BuildGodwit(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("GODWIT_E2E_BIN"); p != "" {
			build.path, build.err = filepath.Abs(p)
			if build.err == nil {
				_, build.err = os.Stat(build.path)
			}
			return
		}
		build.path, build.err = buildGodwit(&build, os.Getenv("GODWIT_E2E_RACE") == "1")
	})
	if build.err != nil {
		t.Fatalf("build godwit: %v", build.err)
	}
	return build.path
}

// BuildPlainGodwit builds ./cmd/godwit without the race detector, for tests
// that measure how long something takes as users would see it.
func BuildPlainGodwit(t testing.TB) string {
	t.Helper()
	if os.Getenv("GODWIT_E2E_RACE") != "1" {
		return BuildGodwit(t)
	}
	plainBuild.once.Do(func() { plainBuild.path, plainBuild.err = buildGodwit(&plainBuild, false) })
	if plainBuild.err != nil {
		t.Fatalf("build godwit: %v", plainBuild.err)
	}
	return plainBuild.path
}

func buildGodwit(b *buildResult, race bool) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "godwit-test-bin-")
	if err != nil {
		return "", err
	}
	b.dir = dir
	exe := filepath.Join(dir, "godwit")
	args := []string{"build", "-o", exe}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/godwit")
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out)
	}
	return exe, nil
}

// RemoveBuild deletes the binaries built by BuildGodwit and BuildPlainGodwit.
func RemoveBuild() {
	for _, b := range []*buildResult{&build, &plainBuild} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// ModuleRoot walks up from dir to the directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
