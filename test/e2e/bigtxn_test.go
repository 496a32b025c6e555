package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// bigTxnRows are the transaction sizes TestBigTransactionMemory applies:
// GODWIT_TEST_BIG_TXN (a comma-separated list of row counts; scripts/test.sh
// sets it for CI), else one small size so that the test itself is always run.
func bigTxnRows() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("GODWIT_TEST_BIG_TXN"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{200000}
	}
	return out
}

// maxRSS is the bound on the runner's resident memory while it applies one
// source transaction, whatever its size.
const maxRSS = 300 << 20

// rssSampler records the peak resident set of a process, sampled every 10 ms.
type rssSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			if n := rssOf(pid); n > s.peak.Load() {
				s.peak.Store(n)
			}
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *rssSampler) finish() int64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// rssOf reads VmRSS of a process in bytes (0 when it is gone).
func rssOf(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestBigTransactionMemory: one source transaction updating every row of a
// table of N rows (PostgreSQL and MariaDB sources, into the same engine) is
// applied while the runner's resident memory stays under 300 MB, in one
// target transaction: the target shows none of it until all of it. The
// runner is the plain build (the race detector multiplies memory).
func TestBigTransactionMemory(t *testing.T) {
	for _, n := range bigTxnRows() {
		t.Run(fmt.Sprintf("postgres-%d", n), func(t *testing.T) { bigTxnPG(t, n) })
		t.Run(fmt.Sprintf("mariadb-%d", n), func(t *testing.T) { bigTxnMy(t, n) })
	}
}

func bigTxnPG(t *testing.T, n int) {
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	g := newGodwit(t)
	g.bin = testutil.BuildPlainGodwit(t)
	src := connect(t, srcURL)
	exec1(t, src, fmt.Sprintf(`create table acc (id int primary key, bal int not null, filler char(84) not null default '');
insert into acc select i, 0, md5(i::text) from generate_series(1, %d) i; analyze acc`, n))
	name := migrationName("bigpg")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL)
	g.waitFor(name, r, "consistent", 5*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" && st.Consistent })
	dst := connect(t, dstURL)
	s := sampleRSS(r.cmd.Process.Pid)
	before := rssOf(r.cmd.Process.Pid)
	started := time.Now()
	exec1(t, src, `update acc set bal = bal + 1`)
	updated := time.Since(started)
	lsnText, lsn := currentLSN(t, srcURL)
	sawPart := false
	g.waitFor(name, r, "applied "+lsnText, 10*time.Minute, func(st status) bool {
		var sum int64
		if err := dst.QueryRow(context.Background(), "select sum(bal) from acc").Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != 0 && sum != int64(n) {
			sawPart = true
		}
		applied, err := parseLSN(st.AppliedPosition)
		return err == nil && applied >= lsn
	})
	applyTime := time.Since(started)
	peak := s.finish()
	reportBigTxn(t, "postgres", n, updated, applyTime, before, peak, sawPart)
	compareTables(t, srcURL, dstURL, []tableSpec{{"public", "acc", []string{"id"}}})
}

func bigTxnMy(t *testing.T, n int) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	db := newMyDB(t, "big", srcBase, dstBase)
	src := openMy(t, srcBase, db)
	mustExec(t, src, "CREATE TABLE acc (id INT PRIMARY KEY, bal INT NOT NULL, filler CHAR(84) NOT NULL DEFAULT '')")
	mustExec(t, src, fmt.Sprintf("INSERT INTO acc SELECT seq, 0, MD5(seq) FROM seq_1_to_%d", n))
	g := newGodwit(t)
	g.bin = testutil.BuildPlainGodwit(t)
	name := migrationName("bigmy")
	t.Cleanup(func() { g.run("delete", name) })
	r := g.start("start", name, "--source", myDBURL(t, srcBase, db), "--target", myDBURL(t, dstBase, db))
	g.waitFor(name, r, "consistent", 5*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" && st.Consistent })
	dst := openMy(t, dstBase, db)
	s := sampleRSS(r.cmd.Process.Pid)
	before := rssOf(r.cmd.Process.Pid)
	started := time.Now()
	mustExec(t, src, "UPDATE acc SET bal = bal + 1")
	updated := time.Since(started)
	sawPart := false
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var sum int64
		if err := dst.QueryRow("SELECT COALESCE(SUM(bal), 0) FROM acc").Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum == int64(n) {
			break
		}
		if sum != 0 {
			sawPart = true
		}
		if time.Now().After(deadline) || r.exited() {
			t.Fatalf("the update did not arrive on the target (sum %d): %v", sum, g.mustStatus(name))
		}
		time.Sleep(100 * time.Millisecond)
	}
	applyTime := time.Since(started)
	peak := s.finish()
	reportBigTxn(t, "mariadb", n, updated, applyTime, before, peak, sawPart)
}

// reportBigTxn logs one big transaction's figures and checks what must hold:
// no part of it visible alone, and the runner's peak RSS under maxRSS.
func reportBigTxn(t *testing.T, eng string, n int, updated, applied time.Duration, before, peak int64, sawPart bool) {
	t.Helper()
	t.Logf("%s, %d rows in one transaction: source update %v, applied on the target %v after it began; runner RSS %d MB before, peak %d MB",
		eng, n, updated.Round(time.Millisecond), applied.Round(time.Millisecond), before>>20, peak>>20)
	if sawPart {
		t.Errorf("the target showed part of the transaction")
	}
	if peak > maxRSS {
		t.Errorf("runner peak RSS %d MB applying a %d-row transaction, want < %d MB", peak>>20, n, maxRSS>>20)
	}
}
