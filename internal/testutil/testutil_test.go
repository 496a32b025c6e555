package testutil

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"TestFoo":                        "testfoo",
		"TestFoo/sub_case#01":            "testfoo_sub_case_01",
		"Test PG/Wal Level!!not logical": "test_pg_wal_level_not_logical",
		"__x__":                          "x",
		"Ünïcode/Δ":                      "n_code",
		"":                               "",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDBName(t *testing.T) {
	valid := regexp.MustCompile(`^gw_[a-z0-9_]+_[0-9a-f]{8}$`)
	long := "TestSomething/" + strings.Repeat("VeryLongSubtestName_", 10)
	seen := map[string]bool{}
	for _, in := range []string{"TestX", long, "???", long + "/x"} {
		got := DBName(in)
		if len(got) > 63 {
			t.Errorf("DBName(%q) = %q: %d bytes, want <= 63", in, got, len(got))
		}
		if !valid.MatchString(got) || strings.Contains(got, "__") {
			t.Errorf("DBName(%q) = %q: not a clean lowercase identifier", in, got)
		}
		if seen[got] {
			t.Errorf("DBName(%q) = %q repeats", in, got)
		}
		seen[got] = true
	}
	if a, b := DBName("TestX"), DBName("TestX"); a == b {
		t.Errorf("DBName is not unique: %q twice", a)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:56432/postgres", "postgres://postgres@127.0.0.1:56432/gw_x"},
		{"postgres://u:p%40ss@h:1/postgres?sslmode=disable", "postgres://u:p%40ss@h:1/gw_x?sslmode=disable"},
		{"postgresql://h", "postgresql://h/gw_x"},
		{"host=h port=1 user=u", "host=h port=1 user=u dbname=gw_x"},
	} {
		got, err := WithDatabase(c.in, "gw_x")
		if err != nil || got != c.want {
			t.Errorf("WithDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := WithDatabase("postgres://[bad", "x"); err == nil {
		t.Error("WithDatabase accepted a malformed URL")
	}
}

func TestWithUserAndRedact(t *testing.T) {
	got, err := WithUser("postgres://postgres@127.0.0.1:56432/db", "pwuser", "s3cret")
	if err != nil || got != "postgres://pwuser:s3cret@127.0.0.1:56432/db" {
		t.Fatalf("WithUser = %q, %v", got, err)
	}
	if r := RedactURL(got); strings.Contains(r, "s3cret") || !strings.Contains(r, "pwuser") {
		t.Errorf("RedactURL(%q) = %q", got, r)
	}
	got, _ = WithUser(got, "norepl", "")
	if got != "postgres://norepl@127.0.0.1:56432/db" {
		t.Errorf("WithUser without password = %q", got)
	}
}

func TestSeed(t *testing.T) {
	t.Setenv("GODWIT_SEED", "12345")
	if got := Seed(t); got != 12345 {
		t.Errorf("Seed = %d, want 12345", got)
	}
	t.Setenv("GODWIT_SEED", "")
	if Seed(t) == 0 {
		t.Error("time-based seed is 0")
	}
}

func TestModuleRoot(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if filepath.Join(root, "internal", "testutil") != wd {
		t.Errorf("ModuleRoot(%s) = %s", wd, root)
	}
	if _, err := ModuleRoot(t.TempDir()); err == nil && !strings.HasPrefix(os.TempDir(), root) {
		t.Error("ModuleRoot found a go.mod above a temp dir")
	}
}

// TestNewPGDatabase checks, against the real source cluster, that the
// database of a test is dropped at its end even while it has an inactive
// logical slot and an active (temporary) one.
func TestNewPGDatabase(t *testing.T) {
	admin := PGAdmin(t, "source")
	ctx := context.Background()
	var dbname string
	t.Run("Create Me", func(t *testing.T) {
		u := NewPGDatabase(t, "source")
		conn := Connect(t, u)
		if err := conn.QueryRow(ctx, "select current_database()").Scan(&dbname); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(dbname, "gw_testnewpgdatabase_create_me_") {
			t.Errorf("database name %q", dbname)
		}
		if _, err := conn.Exec(ctx, "select pg_create_logical_replication_slot($1, 'pgoutput')", dbname+"_inactive"); err != nil {
			t.Fatal(err)
		}
		// A second session keeps a temporary slot active until terminated.
		holder := Connect(t, u)
		if _, err := holder.Exec(ctx, "select pg_create_logical_replication_slot($1, 'pgoutput', true)", dbname+"_active"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "select count(*) from pg_replication_slots where database = $1 and active", dbname).Scan(&n); err != nil || n != 1 {
			t.Fatalf("active slots = %d, %v; want 1", n, err)
		}
	})
	if dbname == "" {
		t.Fatal("subtest did not create a database")
	}
	conn := Connect(t, admin)
	var dbs, slots int
	if err := conn.QueryRow(ctx, "select (select count(*) from pg_database where datname = $1), (select count(*) from pg_replication_slots where database = $1)", dbname).Scan(&dbs, &slots); err != nil {
		t.Fatal(err)
	}
	if dbs != 0 || slots != 0 {
		t.Errorf("after cleanup: %d databases, %d slots named %s remain", dbs, slots, dbname)
	}
}
