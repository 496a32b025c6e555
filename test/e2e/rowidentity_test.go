package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestPGReplicaIdentityFull: a PostgreSQL table without any key but with
// REPLICA IDENTITY FULL (duplicate rows, NULLs, TOASTed values) is replicated
// into PostgreSQL as native logical replication does: copied in one snapshot
// at an exact stream position, then every change replayed matching one row on
// all its columns. Writers run through the copy and the replay, the runner is
// killed -9 once while copying and once while replicating, and then the two
// tables must hold the same multiset of rows (compared independently of
// verify), verify must pass, complete must succeed, and verify must find a
// row removed from the target afterwards. A column without equality (json)
// and a cross-engine target are refused up front.
func TestPGReplicaIdentityFull(t *testing.T) {
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	g := newGodwit(t)
	src := connect(t, srcURL)
	exec1(t, src, `
create table events (n int, tag text, payload text, at timestamptz, f float8, maybe int);
alter table events replica identity full;
alter table events alter payload set storage external;
insert into events
  select i % 700, 'tag' || (i % 7), case when i % 50 = 0 then repeat(md5(i::text), 120) else 'p' || (i % 300) end,
         timestamptz '2026-01-01' + i * interval '1 minute', (i % 13) / 4.0, case when i % 3 = 0 then null else i % 11 end
  from generate_series(1, 60000) i;
insert into events select * from events limit 500; -- exact duplicates
create table keyed (id int primary key, v text);
insert into keyed select i, 'v' || i from generate_series(1, 20000) i;
create table jsony (doc json, n int);
alter table jsony replica identity full;
analyze;`)

	// Refused up front: a column with no equality to match rows by, and a
	// target that cannot replay whole rows.
	res, rep := g.check("--source", srcURL, "--target", dstURL)
	if res.code != 1 || !strings.Contains(joined(rep.Blocking), "column doc of type json has no equality operator") || strings.Contains(joined(rep.Blocking), "public.events") {
		t.Fatalf("check with a json column in a REPLICA IDENTITY FULL table: %+v\n%v", rep, res)
	}
	{
		my := myURL(t, "GODWIT_TEST_MY_TARGET")
		res, rep := g.check("--source", srcURL, "--target", my, "--exclude", "public.jsony")
		if res.code != 1 || !strings.Contains(joined(rep.Blocking), "table public.events has no key; its changes (REPLICA IDENTITY FULL) are replayed by whole row into PostgreSQL only") {
			t.Fatalf("check into MySQL: %+v\n%v", rep, res)
		}
	}
	if n := captureObjects(t, srcURL); n != 0 {
		t.Fatalf("check left %d capture objects", n)
	}

	// Writers through copy and replay: inserts (some duplicates), updates of
	// one of several equal rows (some keep the TOASTed payload unchanged),
	// deletes of one of several.
	var stop atomic.Bool
	var ops atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			c := connect(t, srcURL)
			ctx := context.Background()
			for !stop.Load() {
				n := rng.IntN(700)
				var err error
				switch rng.IntN(6) {
				case 0, 1:
					_, err = c.Exec(ctx, `insert into events values ($1, $2, $3, now(), $4, null)`, n, fmt.Sprintf("w%d", w), strings.Repeat("x", rng.IntN(4000)), rng.Float64())
				case 2:
					_, err = c.Exec(ctx, `update events set tag = tag || '+', maybe = coalesce(maybe, 0) + 1 where ctid = (select ctid from events where n = $1 limit 1)`, n)
				case 3:
					_, err = c.Exec(ctx, `update events set payload = md5(payload) where ctid = (select ctid from events where n = $1 and length(payload) > 2000 limit 1)`, n)
				case 4:
					_, err = c.Exec(ctx, `delete from events where ctid = (select ctid from events where n = $1 limit 1)`, n)
				case 5:
					_, err = c.Exec(ctx, `update keyed set v = v || '.' where id = $1`, 1+rng.IntN(20000))
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				ops.Add(1)
				time.Sleep(time.Duration(2+rng.IntN(6)) * time.Millisecond)
			}
		}(w)
	}
	stopWriters := func() {
		if !stop.Swap(true) {
			wg.Wait()
		}
	}
	t.Cleanup(stopWriters)

	name := migrationName("rif")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--exclude", "public.jsony", "--jobs", "1", "--chunk-rows", "2000", "--max-copy-rate", "30000")
	rng := rand.New(rand.NewPCG(uint64(seed), 0x726966))
	g.waitFor(name, r, "copying", time.Minute, func(st status) bool { return st.Phase == "COPYING" })
	waited, phase := g.sleepDuringCopy(name, r, time.Duration(300+rng.IntN(1500))*time.Millisecond)
	r.kill9()
	t.Logf("SIGKILL after %v in phase %s (seed %d)", waited.Round(time.Millisecond), phase, seed)
	r = g.start("resume", name)
	g.waitFor(name, r, "replicating", 3*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" && st.Consistent })
	sleepRunning(t, r, time.Duration(500+rng.IntN(2000))*time.Millisecond)
	r.kill9()
	r = g.start("resume", name)
	sleepRunning(t, r, 2*time.Second)
	stopWriters()
	if ops.Load() == 0 {
		t.Fatal("the writers did nothing")
	}
	lsnText, lsn := currentLSN(t, srcURL)
	g.waitFor(name, r, "applied "+lsnText, 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.Consistent && err == nil && applied >= lsn
	})

	multiset := func(url string) (int64, string) {
		var n int64
		var h string
		q := `select count(*), coalesce(md5(string_agg(e::text, E'\n' order by e::text)), '') from events e`
		if err := connect(t, url).QueryRow(context.Background(), q).Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		return n, h
	}
	sn, sh := multiset(srcURL)
	tn, th := multiset(dstURL)
	if sn != tn || sh != th {
		t.Fatalf("events: source %d rows (%s), target %d rows (%s) after %d writes (seed %d)", sn, sh, tn, th, ops.Load(), seed)
	}
	t.Logf("events equal: %d rows after %d writes", sn, ops.Load())
	compareTables(t, srcURL, dstURL, []tableSpec{{"public", "keyed", []string{"id"}}})
	if res := g.runTimeout(3*time.Minute, "verify", name); res.code != 0 || strings.Contains(res.stdout, "not verified") {
		t.Fatalf("verify: %v", res)
	}
	if res := g.runTimeout(3*time.Minute, "complete", name); res.code != 0 {
		t.Fatalf("complete: %v", res)
	}
	r.wait(time.Minute)

	// One duplicate fewer on the target: verify must see it.
	exec1(t, connect(t, dstURL), `delete from events where ctid = (select ctid from events where n = 1 limit 1)`)
	res = g.runTimeout(3*time.Minute, "verify", name)
	if res.code == 0 || !strings.Contains(res.stdout+res.stderr, "public.events") {
		t.Fatalf("verify after removing a row from the target: %v", res)
	}
}
