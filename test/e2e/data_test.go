package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/testutil"
)

// tableSpec names a test table and the columns rows are identified by.
type tableSpec struct {
	schema, name string
	key          []string
}

func (ts tableSpec) ident() string  { return pgx.Identifier{ts.schema, ts.name}.Sanitize() }
func (ts tableSpec) String() string { return ts.schema + "." + ts.name }

// allTables are the tables created by createSourceSchema.
var allTables = []tableSpec{
	{"public", "accounts", []string{"id"}},
	{"public", "docs", []string{"id"}},
	{"public", "items", []string{"region", "sku"}},
	{"public", "members", []string{"email"}},
	{"Sales", "Order Lines", []string{"id"}},
	{"public", "ev", []string{"id"}},
}

// scale is the number of initial rows per table.
type scale struct {
	accounts, docs, items, members, orderLines, ev int
}

var (
	fullScale  = scale{accounts: 150_000, docs: 2_000, items: 20_000, members: 5_000, orderLines: 5_000, ev: 5_000}
	smallScale = scale{accounts: 3_000, docs: 100, items: 1_000, members: 500, orderLines: 500, ev: 500}
)

// connect opens a connection whose session settings make row text
// comparable between clusters.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", testutil.RedactURL(url), err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["datestyle"] = "ISO, MDY"
	cfg.RuntimeParams["extra_float_digits"] = "1"
	cfg.RuntimeParams["bytea_output"] = "hex"
	cfg.RuntimeParams["application_name"] = "godwit-e2e"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", testutil.RedactURL(url), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", clip(sql, 300), err)
	}
}

// createSourceSchema creates the test tables on the source database and fills
// them with deterministic (seeded) data.
func createSourceSchema(t testing.TB, url string, seed int64, sc scale) {
	t.Helper()
	start := time.Now()
	conn := connect(t, url)
	// setseed wants a value in [-1, 1]; random() below is then deterministic.
	exec1(t, conn, "select setseed($1)", float64(uint64(seed)%2000)/1000-1)
	exec1(t, conn, `
create table accounts(id bigint primary key, owner text not null, balance numeric(12,2), note text, updated timestamptz);
create table docs(id int primary key, title text, body text);
create table items(region int, sku text, qty int, data jsonb, tags text[], blob bytea, primary key(region, sku));
create table members(email text not null unique, name text);
alter table members replica identity using index members_email_key;
create schema "Sales";
create table "Sales"."Order Lines"(id serial primary key, "Qty" int, "Note Text" text);
create table ev(id bigint generated always as identity primary key, payload text);
`)
	exec1(t, conn, `
insert into accounts
select i, 'owner-' || (i % 977), round((random() * 100000)::numeric, 2),
       case when i % 7 = 0 then null
            when i % 11 = 0 then E'multi\nline\t"quoted" \\back ''single'''
            when i % 13 = 0 then 'ünïcødé ✓ 日本'
            else md5(i::text) end,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' + random() * interval '1 day'
from generate_series(1, $1::int) i`, sc.accounts)
	// ~9.6 kB of md5 hex per body: too big to stay inline and barely
	// compressible, so it is stored out of line (TOASTed).
	exec1(t, conn, `
insert into docs
select i, 'title ' || i,
       case when i % 50 = 0 then null
            else (select string_agg(md5(random()::text || i || g), '') from generate_series(1, 300) g) end
from generate_series(1, $1::int) i`, sc.docs)
	exec1(t, conn, `
insert into items
select i % 10, 'sku-' || i, (random() * 1000)::int,
       jsonb_build_object('i', i, 'name', 'item "' || i || '"', 'nested', jsonb_build_object('a', array[i, i + 1], 'f', round(random()::numeric, 6)), 'nullv', null),
       array['t' || (i % 5), 'x y', case when i % 3 = 0 then null else 'q"uote' end],
       decode(md5(i::text), 'hex') || '\x00ff'::bytea
from generate_series(1, $1::int) i`, sc.items)
	exec1(t, conn, `
insert into members
select 'm' || i || '@example.com', case when i % 9 = 0 then null else 'Member ' || i end
from generate_series(1, $1::int) i`, sc.members)
	exec1(t, conn, `
insert into "Sales"."Order Lines"("Qty", "Note Text")
select i % 100, 'line ' || i from generate_series(1, $1::int) i`, sc.orderLines)
	exec1(t, conn, `insert into ev(payload) select 'event ' || i from generate_series(1, $1::int) i`, sc.ev)
	exec1(t, conn, "analyze")

	// The point of docs is TOAST: make sure the bodies are really out of line.
	var toastBytes int64
	ctx := context.Background()
	if err := conn.QueryRow(ctx, "select pg_relation_size(reltoastrelid) from pg_class where oid = 'docs'::regclass").Scan(&toastBytes); err != nil {
		t.Fatal(err)
	}
	if toastBytes < int64(sc.docs)*4096 {
		t.Fatalf("docs bodies are not TOASTed (toast relation has %d bytes)", toastBytes)
	}
	t.Logf("source schema and data created in %v", time.Since(start).Round(time.Millisecond))
}

// compareTables compares every table of specs between the source and the
// target row by row (row text of the source's columns, keyed by the key).
func compareTables(t testing.TB, srcURL, dstURL string, specs []tableSpec) {
	t.Helper()
	src, dst := connect(t, srcURL), connect(t, dstURL)
	for _, ts := range specs {
		if msg := compareTable(t, src, dst, ts); msg != "" {
			t.Errorf("table %s differs between source and target:\n%s", ts, msg)
		} else {
			t.Logf("table %s: source and target are equal", ts)
		}
	}
}

func compareTable(t testing.TB, src, dst *pgx.Conn, ts tableSpec) string {
	t.Helper()
	ctx := context.Background()
	rows, err := src.Query(ctx, `select attname from pg_attribute
		where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`, ts.ident())
	if err != nil {
		t.Fatalf("columns of %s: %v", ts, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("columns of %s: %v", ts, err)
	}
	q := fmt.Sprintf("select row(%s)::text, row(%s)::text from %s",
		quoteList(ts.key), quoteList(cols), ts.ident())
	srcRows, srcDups := loadRows(t, src, q, "source")
	dstRows, dstDups := loadRows(t, dst, q, "target")

	var b strings.Builder
	if len(srcRows)+srcDups != len(dstRows)+dstDups {
		fmt.Fprintf(&b, "  row count: source %d, target %d\n", len(srcRows)+srcDups, len(dstRows)+dstDups)
	}
	if dstDups > 0 {
		fmt.Fprintf(&b, "  target has %d rows with a duplicate key\n", dstDups)
	}
	var missing, extra, differ []string
	for k, sv := range srcRows {
		dv, ok := dstRows[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case dv != sv:
			differ = append(differ, k)
		}
	}
	for k := range dstRows {
		if _, ok := srcRows[k]; !ok {
			extra = append(extra, k)
		}
	}
	report := func(what string, keys []string, show func(string) string) {
		if len(keys) == 0 {
			return
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "  %d %s", len(keys), what)
		for i, k := range keys {
			if i == 5 {
				b.WriteString("\n    ...")
				break
			}
			fmt.Fprintf(&b, "\n    key %s%s", k, show(k))
		}
		b.WriteString("\n")
	}
	none := func(string) string { return "" }
	report("rows missing on the target", missing, none)
	report("extra rows on the target", extra, none)
	report("rows that differ", differ, func(k string) string {
		return fmt.Sprintf("\n      source: %s\n      target: %s", clip(srcRows[k], 300), clip(dstRows[k], 300))
	})
	return b.String()
}

func loadRows(t testing.TB, conn *pgx.Conn, q, side string) (map[string]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %s: %v", side, q, err)
	}
	defer rows.Close()
	m := map[string]string{}
	dups := 0
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatalf("%s: %s: %v", side, q, err)
		}
		if _, ok := m[k]; ok {
			dups++
			continue
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %s: %v", side, q, err)
	}
	return m, dups
}

func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// godwitObjects lists the godwit_% replication slots of the database of url
// and its godwit_% publications.
func godwitObjects(t testing.TB, url string) []string {
	t.Helper()
	conn := connect(t, url)
	rows, err := conn.Query(context.Background(), `
		select 'slot ' || slot_name from pg_replication_slots
		where slot_name like 'godwit\_%' and database = current_database()
		union all
		select 'publication ' || pubname from pg_publication where pubname like 'godwit\_%'
		order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func currentLSN(t testing.TB, url string) (string, uint64) {
	t.Helper()
	conn := connect(t, url)
	// The insert position, not pg_current_wal_lsn: with synchronous_commit off
	// (the test clusters) a commit returns before its WAL is written, and the
	// write position can lie before the commit record just made.
	var s string
	var segSize int64
	if err := conn.QueryRow(context.Background(), "select pg_current_wal_insert_lsn()::text, (select setting::int8 from pg_settings where name = 'wal_segment_size')").Scan(&s, &segSize); err != nil {
		t.Fatal(err)
	}
	v, err := position.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	v = v.RecordBoundary(segSize)
	return v.String(), uint64(v)
}

// workload writes to the source with a few connections until stopped.
type workload struct {
	t       testing.TB
	began   time.Time
	stopped chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	commits, rollbacks, failures atomic.Int64
	mu                           sync.Mutex
	errCodes                     map[string]int
	firstErrs                    []string
}

// startWorkload runs `workers` connections on the source database, each
// running one random multi-statement transaction per interval at most.
func startWorkload(t testing.TB, url string, seed int64, workers int, interval time.Duration, sc scale) *workload {
	t.Helper()
	w := &workload{t: t, began: time.Now(), stopped: make(chan struct{}), errCodes: map[string]int{}}
	for i := 0; i < workers; i++ {
		conn := connect(t, url)
		wk := &worker{w: w, id: i, conn: conn, sc: sc, rng: rand.New(rand.NewPCG(uint64(seed), uint64(i)+1))}
		w.wg.Add(1)
		go wk.loop(interval)
	}
	t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the workload and waits for the in-flight transactions.
func (w *workload) stop() {
	w.once.Do(func() {
		close(w.stopped)
		w.wg.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		secs := time.Since(w.began).Seconds()
		w.t.Logf("workload: %d commits (%.0f/s over %.1fs), %d deliberate rollbacks, %d failed transactions (by SQLSTATE: %v)",
			w.commits.Load(), float64(w.commits.Load())/secs, secs, w.rollbacks.Load(), w.failures.Load(), w.errCodes)
		for _, e := range w.firstErrs {
			w.t.Logf("workload error: %s", e)
		}
	})
}

func (w *workload) recordErr(err error) {
	w.failures.Add(1)
	code := "other"
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errCodes[code]++
	// Deadlocks and unique violations are expected with random keys.
	if code != "40P01" && code != "23505" && len(w.firstErrs) < 5 {
		w.firstErrs = append(w.firstErrs, err.Error())
	}
}

type worker struct {
	w    *workload
	id   int
	conn *pgx.Conn
	sc   scale
	rng  *rand.Rand
	seq  int64
}

func (k *worker) loop(interval time.Duration) {
	defer k.w.wg.Done()
	defer func() { k.conn.Close(context.Background()) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-k.w.stopped:
			return
		case <-tick.C:
		}
		k.tx()
	}
}

// tx runs one transaction of 1-4 random operations; 1 in 20 is rolled back.
func (k *worker) tx() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if k.conn.IsClosed() {
		// The server went away (a fault test): reconnect, as an application would.
		c, err := pgx.ConnectConfig(ctx, k.conn.Config())
		if err != nil {
			k.w.recordErr(err)
			time.Sleep(100 * time.Millisecond)
			return
		}
		k.conn = c
	}
	tx, err := k.conn.Begin(ctx)
	if err != nil {
		k.w.recordErr(err)
		return
	}
	n := 1 + k.rng.IntN(4)
	for i := 0; i < n; i++ {
		if err := k.op(ctx, tx); err != nil {
			tx.Rollback(ctx)
			k.w.recordErr(err)
			return
		}
	}
	if k.rng.IntN(20) == 0 {
		if err := tx.Rollback(ctx); err != nil {
			k.w.recordErr(err)
		}
		k.w.rollbacks.Add(1)
		return
	}
	if err := tx.Commit(ctx); err != nil {
		k.w.recordErr(err)
		return
	}
	k.w.commits.Add(1)
}

func (k *worker) next() int64 {
	k.seq++
	return k.seq
}

// newID returns an id no other worker and no initial row uses.
func (k *worker) newID() int64 { return int64(k.id+1)*10_000_000 + k.next() }

func (k *worker) hexText(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[k.rng.IntN(16)]
	}
	return string(b)
}

// op runs one random statement. Random keys may hit rows that are already
// deleted or moved; then the statement simply changes nothing.
func (k *worker) op(ctx context.Context, tx pgx.Tx) error {
	r := k.rng
	acct := func() int64 { return 1 + r.Int64N(int64(k.sc.accounts)) }
	doc := func() int { return 1 + r.IntN(k.sc.docs) }
	item := func() (int, string) { i := 1 + r.IntN(k.sc.items); return i % 10, fmt.Sprintf("sku-%d", i) }
	member := func() string { return fmt.Sprintf("m%d@example.com", 1+r.IntN(k.sc.members)) }
	line := func() int { return 1 + r.IntN(k.sc.orderLines) }
	evID := func() int { return 1 + r.IntN(k.sc.ev) }
	var err error
	switch p := r.IntN(100); {
	case p < 8:
		_, err = tx.Exec(ctx, "insert into accounts values ($1, $2, $3, $4, now())",
			k.newID(), fmt.Sprintf("wl-%d", k.id), fmt.Sprintf("%d.%02d", r.IntN(100000), r.IntN(100)), k.hexText(1+r.IntN(40)))
	case p < 24:
		_, err = tx.Exec(ctx, "update accounts set balance = balance + $1, note = $2, updated = now() where id = $3",
			r.IntN(1000)-500, fmt.Sprintf("upd %d 'q' \"d\"", k.next()), acct())
	case p < 29: // primary key change
		_, err = tx.Exec(ctx, "update accounts set id = $1 where id = $2", k.newID(), acct())
	case p < 33:
		_, err = tx.Exec(ctx, "delete from accounts where id = $1", acct())
	case p < 34: // a bigger transaction
		_, err = tx.Exec(ctx, "update accounts set balance = balance + 1, updated = now() where id between $1 and $1 + 300", acct())
	case p < 43: // only the title: the TOASTed body is unchanged
		_, err = tx.Exec(ctx, "update docs set title = $1 where id = $2", fmt.Sprintf("title %d by %d", k.next(), k.id), doc())
	case p < 46: // rewrite the body
		_, err = tx.Exec(ctx, "update docs set body = $1 where id = $2", k.hexText(8500+r.IntN(2000)), doc())
	case p < 48:
		_, err = tx.Exec(ctx, "insert into docs values ($1, $2, $3)", k.newID(), "new doc", k.hexText(9000))
	case p < 49:
		_, err = tx.Exec(ctx, "delete from docs where id = $1", doc())
	case p < 55:
		_, err = tx.Exec(ctx, "insert into items values ($1, $2, $3, $4, $5, $6)",
			r.IntN(10), fmt.Sprintf("w%d-%d", k.id, k.next()), r.IntN(1000),
			fmt.Sprintf(`{"w": %d, "s": "x\"y", "n": [1, 2.5, null]}`, k.id),
			[]string{"a", "b c", fmt.Sprint(r.IntN(9))}, []byte(k.hexText(20)))
	case p < 63:
		reg, sku := item()
		_, err = tx.Exec(ctx, `update items set qty = qty + 1, data = data || jsonb_build_object('u', $1::int),
			tags = array_append(tags, $2) where region = $3 and sku = $4`, r.IntN(1000), "t"+fmt.Sprint(r.IntN(5)), reg, sku)
	case p < 65: // composite primary key change
		reg, sku := item()
		_, err = tx.Exec(ctx, "update items set sku = $1 where region = $2 and sku = $3", fmt.Sprintf("w%d-m%d", k.id, k.next()), reg, sku)
	case p < 67:
		reg, sku := item()
		_, err = tx.Exec(ctx, "delete from items where region = $1 and sku = $2", reg, sku)
	case p < 72:
		_, err = tx.Exec(ctx, "insert into members values ($1, $2)", fmt.Sprintf("w%d-%d@example.com", k.id, k.next()), "new member")
	case p < 77:
		_, err = tx.Exec(ctx, "update members set name = $1 where email = $2", fmt.Sprintf("renamed %d", k.next()), member())
	case p < 81: // unique key change on a table without primary key
		_, err = tx.Exec(ctx, "update members set email = $1 where email = $2", fmt.Sprintf("w%d-e%d@example.com", k.id, k.next()), member())
	case p < 83:
		_, err = tx.Exec(ctx, "delete from members where email = $1", member())
	case p < 87:
		_, err = tx.Exec(ctx, `insert into "Sales"."Order Lines"("Qty", "Note Text") values ($1, $2)`, r.IntN(100), "wl line")
	case p < 91:
		_, err = tx.Exec(ctx, `update "Sales"."Order Lines" set "Qty" = "Qty" + 1 where id = $1`, line())
	case p < 92:
		_, err = tx.Exec(ctx, `delete from "Sales"."Order Lines" where id = $1`, line())
	case p < 96:
		_, err = tx.Exec(ctx, "insert into ev(payload) values ($1)", fmt.Sprintf("wl event %d", k.next()))
	case p < 99:
		_, err = tx.Exec(ctx, "update ev set payload = payload || '+' where id = $1", evID())
	default:
		_, err = tx.Exec(ctx, "delete from ev where id = $1", evID())
	}
	return err
}
