package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
	"github.com/godwit-db/godwit/internal/testutil/netfault"
)

// blackHoleFor is how long a black-holed connection gives no answer.
const blackHoleFor = 30 * time.Second

// viaProxy starts a proxy to rawURL's server and returns the URL through it.
func viaProxy(t *testing.T, rawURL string) (*netfault.Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := netfault.Listen(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return p, u.String()
}

// netMigration is a live migration under writes with one of its servers
// behind a fault proxy.
type netMigration struct {
	proxy    *netfault.Proxy
	name     string
	g        *godwit
	r        *runner
	stop     func()                   // stops the writers
	caughtUp func() func(status) bool // reads the source's position now
	compare  func()                   // independent row-by-row comparison
	// acked, on a PostgreSQL source, is the slot's confirmed_flush_lsn: what
	// the source has been told it may release.
	acked func() uint64
	// applied, on a PostgreSQL target, is the position its checkpoint holds.
	applied func() uint64
}

func TestNetworkFaults(t *testing.T) {
	for _, eng := range []string{"postgres", "mariadb"} {
		for _, role := range []string{"source", "target"} {
			t.Run(eng+"-"+role, func(t *testing.T) {
				var proxy *netfault.Proxy
				via := func(r, u string) string {
					if r != role {
						return u
					}
					var through string
					proxy, through = viaProxy(t, u)
					return through
				}
				var m netMigration
				if eng == "postgres" {
					m = pgLive(t, testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target"), via)
				} else {
					m = myLive(t, myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET"), via)
				}
				m.proxy = proxy
				netFaults(t, m)
			})
		}
	}
}

// pgLive starts a PostgreSQL migration under writes; via gives the URL godwit
// is given for each role's database.
func pgLive(t *testing.T, srcURL, dstURL string, via func(role, url string) string) netMigration {
	seed := testutil.Seed(t)
	createSourceSchema(t, srcURL, seed, smallScale)
	m := netMigration{g: newGodwit(t), name: migrationName("net")}
	wl := startWorkload(t, srcURL, seed, 2, 15*time.Millisecond, smallScale)
	m.stop = wl.stop
	m.r = m.g.start("start", m.name, "--source", via("source", srcURL), "--target", via("target", dstURL), "--chunk-rows", "500", "--max-copy-rate", "1500")
	m.caughtUp = func() func(status) bool {
		_, lsn := currentLSN(t, srcURL)
		return func(st status) bool {
			applied, err := parseLSN(st.AppliedPosition)
			return st.State == "RUNNING" && err == nil && applied >= lsn
		}
	}
	m.compare = func() { compareTables(t, srcURL, dstURL, allTables) }
	m.applied = func() uint64 {
		var lsn string
		if err := connect(t, dstURL).QueryRow(context.Background(), "select applied_pos from _godwit.migrations where name = $1", m.name).Scan(&lsn); err != nil {
			t.Fatalf("reading the target's checkpoint: %v", err)
		}
		_, lsn, _ = strings.Cut(lsn, ":") // encoded as pg1:LSN
		v, err := parseLSN(lsn)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	m.acked = func() uint64 {
		var lsn string
		if err := connect(t, srcURL).QueryRow(context.Background(), "select coalesce(confirmed_flush_lsn::text, '0/0') from pg_replication_slots where slot_name = $1",
			"godwit_"+m.name).Scan(&lsn); err != nil {
			t.Fatalf("reading the slot: %v", err)
		}
		v, err := parseLSN(lsn)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return m
}

// myLive starts a MariaDB migration under writes between two servers (one
// database of the same name on both); via as for pgLive.
func myLive(t *testing.T, srcBase, dstBase string, via func(role, url string) string) netMigration {
	db := newMyDB(t, "net", srcBase, dstBase)
	seed := testutil.Seed(t)
	src := openMy(t, srcBase, db)
	createMySource(t, src, seed, 3000)
	m := netMigration{g: newGodwit(t), name: migrationName("net")}
	wl := startMyWorkload(t, srcBase, db, seed, 2, 3000)
	m.stop = func() { wl.halt(t) }
	t.Cleanup(func() { m.g.run("delete", m.name) })
	m.r = m.g.start("start", m.name, "--source", via("source", myDBURL(t, srcBase, db)), "--target", via("target", myDBURL(t, dstBase, db)),
		"--chunk-rows", "500", "--max-copy-rate", "1500")
	m.caughtUp = func() func(status) bool {
		want := masterPos(t, src)
		return func(st status) bool {
			ok, _ := posAtLeast(st.AppliedPosition, want)
			return st.State == "RUNNING" && ok
		}
	}
	m.compare = func() { compareMy(t, src, openMy(t, dstBase, db), db) }
	return m
}

// netFaults: the connections through the proxy are reset during the copy;
// then, while the migration replicates under writes, reset again, then
// black-holed for 30 s. Each time the
// runner must recover by itself within 30 s of the fault's end (a black hole
// shown in status while it lasts), and at the end every row must equal the
// source's.
func netFaults(t *testing.T, m netMigration) {
	g, name, r := m.g, m.name, m.r
	// A reset during the copy: the copy goes on from its checkpoints.
	g.waitFor(name, r, "copying", time.Minute, func(st status) bool { return st.Phase == "COPYING" })
	time.Sleep(time.Second)
	if st := g.mustStatus(name); st.Phase != "COPYING" {
		t.Fatalf("the copy ended before the reset (make it slower): %v", st)
	}
	t.Logf("reset of %d connection(s) during the copy", m.proxy.Reset())
	g.waitFor(name, r, "consistent", 3*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	time.Sleep(time.Second)

	// A reset: every connection through the proxy is cut at once.
	n := m.proxy.Reset()
	cut := time.Now()
	time.Sleep(2 * time.Second) // writes after the cut
	g.waitFor(name, r, "caught up after the reset", time.Minute, m.caughtUp())
	took := time.Since(cut)
	t.Logf("reset of %d connection(s): caught up %v after the cut", n, took.Round(100*time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("recovery from a reset took %v, want under 30 s", took)
	}

	// A black hole: no answer on any connection, old or new, for 30 s.
	m.proxy.BlackHole()
	holed := time.Now()
	down := g.waitFor(name, r, "status showing the stream down", blackHoleFor-2*time.Second, func(st status) bool {
		return st.Retrying != nil
	})
	t.Logf("black hole seen in status after %v: %+v", time.Since(holed).Round(100*time.Millisecond), *down.Retrying)
	if down.State != "RUNNING" || down.Retrying.Reason == "" {
		t.Errorf("during the black hole: %v, retrying %+v", down, *down.Retrying)
	}
	time.Sleep(time.Until(holed.Add(blackHoleFor)))
	m.proxy.Heal()
	healed := time.Now()
	time.Sleep(2 * time.Second)
	st := g.waitFor(name, r, "caught up after the black hole", time.Minute, m.caughtUp())
	took = time.Since(healed)
	t.Logf("black hole of %v: caught up %v after it ended", blackHoleFor, took.Round(100*time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("recovery from a black hole took %v after it ended, want under 30 s", took)
	}
	if st.Retrying != nil {
		// The status is written on a tick: give it one more.
		time.Sleep(2 * time.Second)
		if st = g.mustStatus(name); st.Retrying != nil {
			t.Errorf("after recovery status still shows the stream down: %+v", *st.Retrying)
		}
	}

	m.stop()
	g.waitFor(name, r, "caught up after the writes", time.Minute, m.caughtUp())
	log, _ := os.ReadFile(g.logPath)
	if !strings.Contains(string(log), "retrying") {
		t.Errorf("the runner's log shows no retry")
	}
	m.compare()
	if res := g.run("verify", name); res.code != 0 {
		t.Errorf("verify: %v", res)
	}
	if code := r.terminate(time.Minute); code != 0 {
		t.Errorf("runner exit code after SIGTERM = %d, want 0", code)
	}
}

// TestRetryLimit: a source that stays away longer than --retry-for fails the
// migration with one line saying so; once it is back, resume continues from
// the checkpoints and the target ends equal to the source.
func TestRetryLimit(t *testing.T) {
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	createSourceSchema(t, srcURL, seed, smallScale)
	proxy, gsrc := viaProxy(t, srcURL)
	g, name := newGodwit(t), migrationName("limit")
	wl := startWorkload(t, srcURL, seed, 2, 15*time.Millisecond, smallScale)
	r := g.start("start", name, "--source", gsrc, "--target", dstURL, "--retry-for", "15s")
	g.waitFor(name, r, "consistent", 3*time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })

	proxy.BlackHole()
	holed := time.Now()
	select {
	case <-r.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the runner still runs %v after the source went away, with --retry-for 15s: %v", time.Since(holed), g.mustStatus(name))
	}
	st := g.mustStatus(name)
	t.Logf("runner exited %v after the black hole began: %v", time.Since(holed).Round(100*time.Millisecond), st)
	if st.State != "FAILED" || !strings.Contains(st.errText(), "gave up after") || !strings.Contains(st.errText(), "--retry-for") || !oneLine(st.errText()) {
		t.Errorf("after the retry budget: state %s, error %q; want FAILED saying it gave up", st.State, st.errText())
	}
	if r.exitCode() == 0 {
		t.Errorf("the runner exited 0 on FAILED")
	}

	proxy.Heal()
	r = g.start("resume", name)
	wl.stop()
	_, lsn := currentLSN(t, srcURL)
	g.waitFor(name, r, "caught up after resume", 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.State == "RUNNING" && err == nil && applied >= lsn
	})
	compareTables(t, srcURL, dstURL, allTables)
	if code := r.terminate(time.Minute); code != 0 {
		t.Errorf("runner exit code after SIGTERM = %d, want 0", code)
	}
}

// TestUnansweringHost: check and start against a server that accepts no
// answer (a black-holed network) fail within seconds, saying so in one line.
func TestUnansweringHost(t *testing.T) {
	for _, eng := range []string{"postgres", "mariadb"} {
		t.Run(eng, func(t *testing.T) {
			var u string
			if eng == "postgres" {
				u = testutil.NewPGDatabase(t, "source")
			} else {
				u = myURL(t, "GODWIT_TEST_MY_SOURCE")
			}
			proxy, through := viaProxy(t, u)
			proxy.BlackHole()
			g := newGodwit(t)
			target := "sqlite://" + filepath.Join(t.TempDir(), "t.db")
			for _, args := range [][]string{{"check", "--source", through, "--target", target}, {"start", "hole", "--source", through, "--target", target}} {
				began := time.Now()
				res := g.runTimeout(time.Minute, args...)
				took := time.Since(began)
				t.Logf("%s: %v after %v", args[0], strings.TrimSpace(res.stderr), took.Round(100*time.Millisecond))
				if res.code == 0 || took > 20*time.Second || !strings.Contains(res.stderr, "did not answer") || !oneLine(strings.TrimSpace(res.stderr)) {
					t.Errorf("%s against a host that does not answer: exit %d after %v, want one line saying it did not answer within 20 s:\n%s", args[0], res.code, took, res.stderr)
				}
			}
		})
	}
}
