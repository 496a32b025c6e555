package e2e

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

const testPassword = "pw-Secret-42" // pwuser's (scripts/testdb.sh), checked by scram over TCP

// TestPasswordsOutOfProcessList: with the passwords in GODWIT_SOURCE_PASSWORD
// and GODWIT_TARGET_PASSWORD, a migration between servers that check them
// runs with URLs that carry none, so the process list shows none; nor do
// status and the log. Without them the same command is refused, which shows
// that the passwords were taken from the environment.
func TestPasswordsOutOfProcessList(t *testing.T) {
	asPWUser := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User("pwuser")
		return u.String()
	}
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	exec1(t, connect(t, srcURL), `create table t (id int primary key, v text); insert into t select i, md5(i::text) from generate_series(1, 1000) i`)
	source, target := asPWUser(srcURL), asPWUser(dstURL)
	g := newGodwit(t)

	if res := g.run("check", "--source", source, "--target", target); res.code == 0 || !strings.Contains(res.stdout+res.stderr, "password") {
		t.Fatalf("check without the password: %v", res)
	}
	g.extra = []string{"GODWIT_SOURCE_PASSWORD=" + testPassword, "GODWIT_TARGET_PASSWORD=" + testPassword}
	name := migrationName("pw")
	r := g.start("start", name, "--source", source, "--target", target)
	g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmdline) == 0 || strings.Contains(string(cmdline), testPassword) {
		t.Errorf("the process list shows the password (or nothing): %q", cmdline)
	}
	res := g.run("status", name, "--json")
	log, _ := os.ReadFile(g.logPath)
	if strings.Contains(res.stdout+res.stderr+string(log), testPassword) {
		t.Errorf("status or the log shows the password")
	}
	compareTables(t, srcURL, dstURL, []tableSpec{{"public", "t", []string{"id"}}})
	if code := r.terminate(time.Minute); code != 0 {
		t.Errorf("runner exit code after SIGTERM = %d", code)
	}
	// The state store keeps the URL with its password, so resume needs nothing.
	g.extra = nil
	r = g.start("resume", name)
	g.waitFor(name, r, "resumed", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	if res := g.run("cancel", name); res.code != 0 {
		t.Errorf("cancel: %v", res)
	}
}
