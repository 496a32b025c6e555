package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/testutil"
)

// salesRows is the initial size of public.sales: enough for a copy that a
// --max-copy-rate of 25000 rows/s stretches over several seconds.
const salesRows = 120_000

// createPartitionedSource creates public.sales, range-partitioned by day into
// quarters, one quarter list-partitioned again by region, a partition in
// another schema, a default partition, an index on the table and one of a
// partition's own; and a plain table beside it.
func createPartitionedSource(t *testing.T, url string, seed int64) {
	t.Helper()
	conn := connect(t, url)
	exec1(t, conn, "select setseed($1)", float64(uint64(seed)%2000)/1000-1)
	exec1(t, conn, `
create schema arch;
create table sales(id bigint not null, day date not null, region text not null, qty int, note text,
  primary key (day, region, id)) partition by range (day);
create index sales_id on sales(id);
create table arch.sales_old partition of sales for values from (minvalue) to ('2024-01-01');
create table sales_2024_q1 partition of sales for values from ('2024-01-01') to ('2024-04-01');
create table sales_2024_q2 partition of sales for values from ('2024-04-01') to ('2024-07-01');
create table sales_2024_q3 partition of sales for values from ('2024-07-01') to ('2024-10-01');
create table sales_2024_q4 partition of sales for values from ('2024-10-01') to ('2025-01-01') partition by list (region);
create table sales_2024_q4_eu partition of sales_2024_q4 for values in ('eu');
create table sales_2024_q4_other partition of sales_2024_q4 default;
create table sales_later partition of sales default;
create index sales_2024_q2_note on sales_2024_q2(note);
alter table sales_2024_q3 add constraint sales_2024_q3_qty check (qty >= 0);
create table plain(id int primary key, v text);
insert into plain select i, 'v' || i from generate_series(1, 500) i;`)
	exec1(t, conn, `
insert into sales
select i, date '2023-10-01' + (i % 500), (array['eu', 'us', 'apac'])[1 + i % 3], (random() * 100)::int,
       case when i % 9 = 0 then null else 'note ' || md5(i::text) end
from generate_series(1, $1::int) i`, salesRows)
	exec1(t, conn, "analyze")
}

// partitionTree describes the partitions of table on one side: name, parent,
// bound, key and row count, one line each.
func partitionTree(t *testing.T, url, table string) string {
	t.Helper()
	conn := connect(t, url)
	rows, err := conn.Query(context.Background(), `
select c.oid::regclass::text, coalesce(p.parentrelid::regclass::text, ''), coalesce(pg_get_expr(c.relpartbound, c.oid), ''),
       coalesce(pg_get_partkeydef(c.oid), ''), c.relkind::text
from pg_partition_tree($1::regclass) p join pg_class c on c.oid = p.relid order by 1`, table)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var name, parent, bound, key, kind string
		err := r.Scan(&name, &parent, &bound, &key, &kind)
		return strings.Join([]string{name, parent, bound, key, kind}, " | "), err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(context.Background(), "select tableoid::regclass::text || ' has ' || count(*) || ' rows' from "+table+" group by tableoid order by 1")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(append(lines, counts...), "\n")
}

// indexDefs lists the index definitions of the tables of schemas.
func indexDefs(t *testing.T, url string, schemas ...string) string {
	t.Helper()
	conn := connect(t, url)
	rows, err := conn.Query(context.Background(), `
select pg_get_indexdef(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) order by 1`, schemas)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(defs, "\n")
}

// partWriters write to public.sales with a few connections: inserts through
// the table and straight into partitions, updates, deletes, and updates that
// move rows to another partition.
type partWriters struct {
	t                  *testing.T
	stopped            chan struct{}
	wg                 sync.WaitGroup
	once               sync.Once
	commits, failures  atomic.Int64
	moves, directWrite atomic.Int64
	mu                 sync.Mutex
	firstErrs          []string
}

func startPartWriters(t *testing.T, url string, seed int64, workers int, interval time.Duration) *partWriters {
	w := &partWriters{t: t, stopped: make(chan struct{})}
	for i := 0; i < workers; i++ {
		conn := connect(t, url)
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)+100))
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for seq := int64(1); ; seq++ {
				select {
				case <-w.stopped:
					return
				case <-tick.C:
				}
				w.tx(conn, rng, int64(i+1)*10_000_000+seq*10)
			}
		}()
	}
	t.Cleanup(w.stop)
	return w
}

func (w *partWriters) stop() {
	w.once.Do(func() {
		close(w.stopped)
		w.wg.Wait()
		w.t.Logf("partition writers: %d commits (%d moves between partitions, %d writes straight into a partition), %d failed transactions %v",
			w.commits.Load(), w.moves.Load(), w.directWrite.Load(), w.failures.Load(), w.firstErrs)
	})
}

// tx runs one transaction of 1-3 statements; newID is free for its inserts.
func (w *partWriters) tx(conn *pgx.Conn, r *rand.Rand, newID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		w.fail(err)
		return
	}
	day := func() string {
		return time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(500)).Format("2006-01-02")
	}
	region := func() string { return []string{"eu", "us", "apac"}[r.IntN(3)] }
	id := func() int64 { return 1 + r.Int64N(salesRows) }
	var moves, direct int64
	for n := 1 + r.IntN(3); n > 0; n-- {
		var err error
		switch p := r.IntN(100); {
		case p < 25:
			_, err = tx.Exec(ctx, "insert into sales values ($1, $2, $3, $4, $5)", newID+int64(n), day(), region(), r.IntN(100), fmt.Sprintf("new %d", newID))
		case p < 32: // straight into a partition
			d := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(91)).Format("2006-01-02")
			_, err = tx.Exec(ctx, "insert into sales_2024_q2 values ($1, $2, $3, $4, $5)", newID+int64(n), d, region(), r.IntN(100), "direct")
			direct++
		case p < 55:
			_, err = tx.Exec(ctx, "update sales set qty = qty + 1, note = $1 where id = $2", fmt.Sprintf("upd %d 'q'", newID), id())
		case p < 60:
			_, err = tx.Exec(ctx, "update sales_2024_q2 set qty = qty - 1 where id = $1", id())
			direct++
		case p < 75: // the partition key changes: the row moves to another partition
			_, err = tx.Exec(ctx, "update sales set day = day + $1::int where id = $2", 30+r.IntN(200), id())
			moves++
		case p < 82: // to another partition of the sub-partitioned quarter
			_, err = tx.Exec(ctx, "update sales set region = $1 where id = $2", region(), id())
			moves++
		case p < 95:
			_, err = tx.Exec(ctx, "delete from sales where id = $1", id())
		default: // many rows in many partitions
			_, err = tx.Exec(ctx, "update sales set qty = qty + 1 where id between $1 and $1 + 40", id())
		}
		if err != nil {
			tx.Rollback(ctx)
			w.fail(err)
			return
		}
	}
	if err := tx.Commit(ctx); err != nil {
		w.fail(err)
		return
	}
	w.commits.Add(1)
	w.moves.Add(moves)
	w.directWrite.Add(direct)
}

func (w *partWriters) fail(err error) {
	w.failures.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.firstErrs) < 3 && !strings.Contains(err.Error(), "40P01") {
		w.firstErrs = append(w.firstErrs, err.Error())
	}
}

var salesTables = []tableSpec{{"public", "sales", []string{"day", "region", "id"}}, {"public", "plain", []string{"id"}}}

// TestPartitionLiveKillResume migrates a partitioned table (sub-partitions, a
// default partition, a partition in another schema) under writes that land in
// different partitions and move rows between them, killing the runner during
// the copy and during replication; then verifies, completes, compares every
// row and checks the target is partitioned the same way.
func TestPartitionLiveKillResume(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x70617274))
	g := newGodwit(t)
	createPartitionedSource(t, srcURL, seed)

	wl := startPartWriters(t, srcURL, seed, 3, 12*time.Millisecond)
	name := migrationName("part")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--chunk-rows", "4000", "--max-copy-rate", "15000")
	copyKills, replKills := 0, 0
	for copyKills < 2 {
		st := g.waitFor(name, r, "phase COPYING or REPLICATING", 90*time.Second, func(st status) bool {
			return st.State == "RUNNING" && (st.Phase == "COPYING" || st.Phase == "REPLICATING")
		})
		if st.Phase != "COPYING" {
			// The copy outran the second kill (a busy machine times things
			// differently); one kill while copying is what must happen.
			if copyKills == 0 {
				t.Errorf("the copy finished before any SIGKILL during COPYING (seed %d)", seed)
			} else {
				t.Logf("the copy finished after %d SIGKILL(s) during COPYING", copyKills)
			}
			break
		}
		waited, phase := g.sleepDuringCopy(name, r, time.Duration(100+rng.IntN(1400))*time.Millisecond)
		r.kill9()
		t.Logf("SIGKILL after %v in phase %s", waited.Round(time.Millisecond), phase)
		if phase == "COPYING" {
			copyKills++
		} else {
			replKills++
		}
		r = g.start("resume", name)
	}
	for replKills < 2 {
		g.waitFor(name, r, "phase REPLICATING", 3*time.Minute, func(st status) bool {
			return st.State == "RUNNING" && st.Phase == "REPLICATING"
		})
		delay := time.Duration(300+rng.IntN(2700)) * time.Millisecond
		sleepRunning(t, r, delay)
		r.kill9()
		t.Logf("SIGKILL after %v in phase REPLICATING", delay)
		replKills++
		r = g.start("resume", name)
	}
	g.waitFor(name, r, "phase REPLICATING after the last resume", 2*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING"
	})
	sleepRunning(t, r, 2*time.Second)
	wl.stop()
	if wl.failures.Load() > wl.commits.Load()/10 {
		t.Errorf("the writers failed %d transactions for %d commits: %v", wl.failures.Load(), wl.commits.Load(), wl.firstErrs)
	}
	if wl.commits.Load() == 0 || wl.moves.Load() == 0 || wl.directWrite.Load() == 0 {
		t.Fatalf("the writers committed %d transactions, %d moves, %d direct partition writes: want some of each", wl.commits.Load(), wl.moves.Load(), wl.directWrite.Load())
	}
	lsnText, lsn := currentLSN(t, srcURL)
	st := g.waitFor(name, r, "consistent with applied_position >= "+lsnText, 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.Consistent && err == nil && applied >= lsn
	})
	t.Logf("caught up: %v", st)
	for _, tb := range st.Tables {
		if tb.Name != "public.sales" && tb.Name != "public.plain" {
			t.Errorf("status lists table %s: partitions must not be tables of their own", tb.Name)
		}
	}

	if code, v := (&live{g: g, name: name}).verify(t); code != 0 || v.State != "passed" || v.Differences != 0 || v.RowsChecked < salesRows/2 {
		t.Fatalf("verify: exit %d, %+v (want 0 differences over the partitions' rows)", code, v)
	}
	res := g.runTimeout(2*time.Minute, "complete", name, "--timeout", "90s")
	if res.code != 0 || !strings.Contains(res.stdout, "frozen for") {
		t.Fatalf("complete: %v", res)
	}
	if st := g.mustStatus(name); st.State != "COMPLETED" {
		t.Fatalf("after complete: %v", st)
	}
	compareTables(t, srcURL, dstURL, salesTables)

	srcTree, dstTree := partitionTree(t, srcURL, "public.sales"), partitionTree(t, dstURL, "public.sales")
	if srcTree != dstTree {
		t.Errorf("the target's partitions differ from the source's:\nsource:\n%s\ntarget:\n%s", srcTree, dstTree)
	} else if n := strings.Count(srcTree, "\n") + 1; n < 10 {
		t.Errorf("partition tree has only %d lines:\n%s", n, srcTree)
	}
	if s, d := indexDefs(t, srcURL, "public", "arch"), indexDefs(t, dstURL, "public", "arch"); s != d {
		t.Errorf("the target's indexes differ from the source's:\nsource:\n%s\ntarget:\n%s", s, d)
	}
	if err := execURL(t, srcURL, "insert into sales values (999999999, '2024-05-05', 'eu', 1, 'after cutover')"); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("write to the fenced partitioned table: %v (want an error naming %s)", err, name)
	}
	// A statement naming a partition fires no trigger of its parent: each partition is fenced too.
	for _, p := range []string{"sales_2024_q2", "sales_2024_q4_eu", "arch.sales_old"} {
		if err := execURL(t, srcURL, "update "+p+" set qty = qty + 1"); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("write straight into partition %s after the cutover: %v (want an error naming %s)", p, err, name)
		}
	}
	if err := execURL(t, dstURL, "insert into sales values (999999999, '2024-05-05', 'eu', 1, 'on the target')"); err != nil {
		t.Errorf("the target does not route a new row to its partition: %v", err)
	}
	if objs := godwitObjects(t, srcURL); len(objs) > 0 {
		t.Errorf("slot or publication left after completion: %v", objs)
	}
}

// loadPagilaDB loads the Pagila sample database (schema and data) into url.
func loadPagilaDB(t *testing.T, url string) {
	t.Helper()
	loadPagilaSample(t, url)
}

// TestPartitionPagilaPayment migrates Pagila's payment (range-partitioned by
// month) live, with changes in several partitions, and refuses a partition
// selected without it.
func TestPartitionPagilaPayment(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	loadPagilaDB(t, srcURL)
	g := newGodwit(t)

	res := g.run("start", migrationName("pagbad"), "--source", srcURL, "--target", dstURL, "--include", "public.payment_p2022_03")
	if res.code != 1 || !oneLine(res.stderr) || !strings.Contains(res.stderr, "select public.payment instead") {
		t.Errorf("a partition selected without its table: want exit 1 and one line naming public.payment: %v", res)
	}

	name := migrationName("pagila")
	// With the tables its partitions' foreign keys refer to.
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--include", "public.payment", "--include", "public.customer",
		"--include", "public.staff", "--include", "public.rental", "--chunk-rows", "3000")
	l := &live{srcURL: srcURL, dstURL: dstURL, name: name, g: g, r: r}
	st := l.waitReplicating(t)
	i := slices.IndexFunc(st.Tables, func(ts tableStatus) bool { return ts.Name == "public.payment" })
	if len(st.Tables) != 4 || i < 0 || st.Tables[i].RowsCopied != 16049 {
		t.Fatalf("tables after the copy: %+v, want 4 with public.payment and its 16049 rows", st.Tables)
	}
	for _, q := range []string{
		`insert into public.payment (customer_id, staff_id, rental_id, amount, payment_date) values (1, 1, 76, 9.99, '2022-02-14 10:00:00+00'), (2, 2, 573, 1.50, '2022-07-04 12:00:00+00')`,
		`update public.payment set amount = amount + 1 where payment_id in (select payment_id from public.payment_p2022_05 order by payment_id limit 20)`,
		`update public.payment set payment_date = payment_date + interval '1 month' where payment_id in (select payment_id from public.payment_p2022_03 order by payment_id limit 5)`,
		`delete from public.payment_p2022_06 where payment_id in (select payment_id from public.payment_p2022_06 order by payment_id limit 7)`,
	} {
		if err := execURL(t, srcURL, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	lsnText, lsn := currentLSN(t, srcURL)
	g.waitFor(name, r, "applied_position >= "+lsnText, 2*time.Minute, func(st status) bool {
		applied, err := parseLSN(st.AppliedPosition)
		return st.Consistent && err == nil && applied >= lsn
	})
	if code, v := l.verify(t); code != 0 || v.Differences != 0 || v.RowsChecked < 16049+2-7 {
		t.Fatalf("verify: exit %d, %+v (want 0 differences over 16044 rows)", code, v)
	}
	res = g.runTimeout(2*time.Minute, "complete", name, "--timeout", "90s")
	if res.code != 0 {
		t.Fatalf("complete: %v", res)
	}
	compareTables(t, srcURL, dstURL, []tableSpec{{"public", "payment", []string{"payment_date", "payment_id"}}})
	if s, d := partitionTree(t, srcURL, "public.payment"), partitionTree(t, dstURL, "public.payment"); s != d {
		t.Errorf("the target's partitions differ from the source's:\nsource:\n%s\ntarget:\n%s", s, d)
	}
	// The partitions' own indexes (Pagila indexes each month on its own).
	dst := connect(t, dstURL)
	var n int
	if err := dst.QueryRow(context.Background(), "select count(*) from pg_indexes where tablename like 'payment_p2022_%' and indexname like 'idx_fk_payment_p2022_%'").Scan(&n); err != nil || n != 12 {
		t.Errorf("target has %d of the 12 idx_fk_payment_p2022_* indexes of the partitions (%v)", n, err)
	}
	// Every foreign key, the partitions' own among them, is validated by the cutover.
	var fks, invalid int
	if err := dst.QueryRow(context.Background(), "select count(*), count(*) filter (where not convalidated) from pg_constraint where contype = 'f' and conrelid::regclass::text like 'payment_p2022_%'").Scan(&fks, &invalid); err != nil || invalid != 0 || fks != 18 {
		t.Errorf("target: %d of the partitions' %d foreign keys not validated, want 0 of 18, as on the source (%v)", invalid, fks, err)
	}
}
