package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/testutil"
)

// partitionFixture has a range-partitioned table with a sub-partitioned
// partition, a default partition, a partition in another schema and one with
// its own constraints and index; a list-partitioned table keyed by a unique
// index; and a table whose foreign key references a partitioned table.
const partitionFixture = `
CREATE SCHEMA shop;
CREATE SCHEMA arch;
CREATE TABLE shop.customers (id int PRIMARY KEY);
INSERT INTO shop.customers SELECT generate_series(1, 50);
CREATE TABLE shop.orders (
  id bigint NOT NULL, placed date NOT NULL, region text NOT NULL, customer int, amount numeric(10,2),
  note text DEFAULT 'none',
  PRIMARY KEY (placed, region, id),
  CONSTRAINT amount_positive CHECK (amount >= 0)
) PARTITION BY RANGE (placed);
CREATE INDEX orders_customer ON shop.orders (customer);
CREATE TABLE arch.orders_old PARTITION OF shop.orders FOR VALUES FROM (MINVALUE) TO ('2023-01-01');
CREATE TABLE shop.orders_2023 PARTITION OF shop.orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE shop.orders_2024 PARTITION OF shop.orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (region);
CREATE TABLE shop.orders_2024_eu PARTITION OF shop.orders_2024 FOR VALUES IN ('eu');
CREATE TABLE shop.orders_2024_rest PARTITION OF shop.orders_2024 DEFAULT;
CREATE TABLE shop.orders_other PARTITION OF shop.orders DEFAULT;
ALTER TABLE shop.orders_2023 ADD CONSTRAINT orders_2023_small CHECK (id < 1000000);
ALTER TABLE shop.orders_2023 ADD CONSTRAINT orders_2023_note CHECK (note <> '') NOT VALID;
ALTER TABLE shop.orders_2023 ADD CONSTRAINT orders_2023_customer FOREIGN KEY (customer) REFERENCES shop.customers (id);
CREATE INDEX orders_2023_note_idx ON shop.orders_2023 (note);
INSERT INTO shop.orders
SELECT i, date '2022-06-01' + (i % 1000), (ARRAY['eu', 'us', 'apac'])[1 + i % 3], 1 + i % 50, i % 97, 'note ' || i
FROM generate_series(1, 3000) i;
UPDATE shop.orders SET note = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g) WHERE id = 20;
CREATE TABLE shop.events (k int NOT NULL, at int NOT NULL, v text, UNIQUE (k, at)) PARTITION BY LIST (k);
CREATE TABLE shop.events_1 PARTITION OF shop.events FOR VALUES IN (1);
CREATE TABLE shop.events_2 PARTITION OF shop.events FOR VALUES IN (2);
INSERT INTO shop.events SELECT 1 + i % 2, i, 'e' || i FROM generate_series(1, 200) i;
CREATE TABLE shop.refunds (id int PRIMARY KEY, placed date, region text, order_id bigint,
  FOREIGN KEY (placed, region, order_id) REFERENCES shop.orders (placed, region, id));
INSERT INTO shop.refunds VALUES (1, date '2022-06-02', 'us', 1);
`

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func byName(tables []*schema.Table) map[string]*schema.Table {
	out := map[string]*schema.Table{}
	for _, t := range tables {
		out[t.QualifiedName()] = t
	}
	return out
}

func TestPartitionedCatalog(t *testing.T) {
	ctx := context.Background()
	url := testutil.NewPGDatabase(t, "source")
	exec(t, testutil.Connect(t, url), partitionFixture)
	src, err := OpenSource(ctx, url, "part-catalog", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	tables, err := src.Tables(ctx, schema.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.QualifiedName())
	}
	if got := strings.Join(names, " "); got != "shop.customers shop.events shop.orders shop.refunds" {
		t.Fatalf("tables = %s, want the partitioned tables without their partitions", got)
	}
	tb := byName(tables)
	orders := tb["shop.orders"]
	if orders.Partitioning == nil || orders.Partitioning.Key != "RANGE (placed)" {
		t.Fatalf("orders partitioning = %+v", orders.Partitioning)
	}
	if orders.Rows != 3000 || orders.Bytes <= 0 {
		t.Errorf("orders rows = %d, bytes = %d: want the sums over the partitions (3000 rows)", orders.Rows, orders.Bytes)
	}
	if strings.Join(orders.Key, ",") != "placed,region,id" {
		t.Errorf("orders key = %v", orders.Key)
	}
	if len(orders.Indexes) != 1 || orders.Indexes[0].Def != "CREATE INDEX orders_customer ON shop.orders USING btree (customer)" {
		t.Errorf("orders indexes = %+v, want orders_customer built on the partitions too (no ONLY)", orders.Indexes)
	}
	type part struct{ name, parent, bound, key string }
	want := []part{
		{"arch.orders_old", "shop.orders", "FOR VALUES FROM (MINVALUE) TO ('2023-01-01')", ""},
		{"shop.orders_2023", "shop.orders", "FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')", ""},
		{"shop.orders_2024", "shop.orders", "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')", "LIST (region)"},
		{"shop.orders_other", "shop.orders", "DEFAULT", ""},
		{"shop.orders_2024_eu", "shop.orders_2024", "FOR VALUES IN ('eu')", ""},
		{"shop.orders_2024_rest", "shop.orders_2024", "DEFAULT", ""},
	}
	var got []part
	for _, p := range orders.Partitioning.Partitions {
		got = append(got, part{p.QualifiedName(), p.ParentSchema + "." + p.ParentName, p.Bound, p.Key})
	}
	if len(got) != len(want) {
		t.Fatalf("orders partitions = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("partition %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	p2023 := orders.Partitioning.Partitions[1]
	var cons []string
	for _, c := range p2023.Constraints {
		cons = append(cons, c.Name+":"+c.Kind)
	}
	if got := strings.Join(cons, " "); got != "orders_2023_customer:f orders_2023_note:c orders_2023_small:c" {
		t.Errorf("orders_2023 own constraints = %s (inherited ones and the key's clone must not be listed)", got)
	}
	if len(p2023.Indexes) != 1 || p2023.Indexes[0].Name != "orders_2023_note_idx" {
		t.Errorf("orders_2023 own indexes = %+v", p2023.Indexes)
	}
	if p2023.KeyIndex != "orders_2023_pkey" || p2023.ReplicaIdentity != "d" {
		t.Errorf("orders_2023 key index %q, replica identity %q", p2023.KeyIndex, p2023.ReplicaIdentity)
	}
	events := tb["shop.events"]
	if events.KeyIndex != "events_k_at_key" || len(events.Partitioning.Partitions) != 2 || events.Partitioning.Partitions[0].KeyIndex != "events_1_k_at_key" {
		t.Errorf("events key index %q, partitions %+v", events.KeyIndex, events.Partitioning.Partitions)
	}
	var fks int
	for _, c := range tb["shop.refunds"].Constraints {
		if c.Kind == "f" {
			fks++
			if c.RefTable != "shop.orders" {
				t.Errorf("refunds foreign key %s references %s, want shop.orders", c.Name, c.RefTable)
			}
		}
	}
	if fks != 1 {
		t.Errorf("refunds has %d foreign keys, want 1 (not PostgreSQL's clones for each partition)", fks)
	}
	if tb["shop.customers"].Partitioning != nil {
		t.Error("a plain table is marked partitioned")
	}

	// Selecting the root alone brings its partitions; a partition without its
	// root, or excluded while its root is migrated, is refused.
	if only, err := src.Tables(ctx, schema.Filter{Include: []string{"shop.orders"}}); err != nil || len(only) != 1 || len(only[0].Partitioning.Partitions) != 6 {
		t.Errorf("--include shop.orders: %v, %v", only, err)
	}
	// Excluding the table excludes its partitions.
	if rest, err := src.Tables(ctx, schema.Filter{Exclude: []string{"shop.orders", "shop.refunds"}}); err != nil || len(rest) != 2 {
		t.Errorf("--exclude shop.orders: %v, %v (want customers and events)", rest, err)
	}
	for _, f := range []schema.Filter{
		{Include: []string{"shop.orders_2023"}},
		{Include: []string{"arch.*"}},
		{Exclude: []string{"shop.orders_2024_*"}},
	} {
		_, err := src.Tables(ctx, f)
		if err == nil || !strings.Contains(err.Error(), "shop.orders") || strings.Contains(err.Error(), "\n") {
			t.Errorf("filter %+v: error %v, want one line naming shop.orders", f, err)
			continue
		}
		t.Logf("filter %+v: %v", f, err)
	}
}

// TestPartitionedPGToPG creates, copies, captures and replays partitioned
// tables through the engine's own calls, and compares both sides.
func TestPartitionedPGToPG(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	sconn := testutil.Connect(t, srcURL)
	exec(t, sconn, partitionFixture)
	const migration = "part-pgpg"
	src, err := OpenSource(ctx, srcURL, migration, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := OpenTarget(ctx, dstURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	tables, err := src.Tables(ctx, schema.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.CheckCapture(ctx, tables); err != nil {
		t.Fatal(err)
	}
	start, err := src.StartCapture(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.DropCapture(context.Background(), tables) })

	var viaRoot bool
	if err := sconn.QueryRow(ctx, "SELECT pubviaroot FROM pg_publication WHERE pubname = $1", ObjectName(migration)).Scan(&viaRoot); err != nil || !viaRoot {
		t.Fatalf("publication publish_via_partition_root = %v (%v), want true", viaRoot, err)
	}
	identities := func() string {
		var s string
		if err := sconn.QueryRow(ctx, `SELECT string_agg(relname || '=' || relreplident::text, ' ' ORDER BY relname) FROM pg_class
			WHERE relname IN ('events', 'events_1', 'events_2', 'orders_2023')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := identities(); got != "events=i events_1=i events_2=i orders_2023=d" {
		t.Errorf("replica identities after StartCapture: %s (the partitions of a table keyed by a unique index need it too)", got)
	}

	if _, err := dst.Prepare(ctx, migration); err != nil {
		t.Fatal(err)
	}
	var chunks []engine.Chunk
	for _, tb := range tables {
		cs, err := src.PlanChunks(ctx, tb, 700)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, cs...)
	}
	if err := dst.CreateTables(ctx, migration, tables, chunks, start, false); err != nil {
		t.Fatal(err)
	}
	tb := byName(tables)
	var rows int64
	for _, c := range chunks {
		n := copyChunk(t, ctx, src, dst, migration, tb[c.Table], c)
		if c.Table == "shop.orders" {
			rows += n
		}
	}
	if rows != 3000 {
		t.Errorf("copied %d rows of shop.orders in %d chunks, want 3000", rows, len(chunks))
	}
	migrated := map[string]bool{}
	for _, tb := range tables {
		migrated[tb.QualifiedName()] = true
	}
	for _, tb := range tables {
		if err := dst.CreateKeyIndex(ctx, tb); err != nil {
			t.Fatal(err)
		}
		if err := dst.CreateSecondary(ctx, tb); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range tables {
		if err := dst.CreateForeignKeys(ctx, tb, migrated); err != nil {
			t.Fatal(err)
		}
	}
	dconn := testutil.Connect(t, dstURL)
	for _, q := range []string{treeSQL, indexesOfSQL, constraintsOfSQL} {
		if s, d := queryText(t, sconn, q), queryText(t, dconn, q); s != d {
			t.Errorf("source and target differ:\n%s\nsource:\n%s\ntarget:\n%s", q, s, d)
		}
	}

	// Changes in several partitions, a row moving between partitions, a
	// truncate: they arrive as changes of the partitioned tables.
	exec(t, sconn, `
INSERT INTO shop.orders VALUES (5001, '2024-03-01', 'eu', 1, 1, 'new eu'), (5002, '2021-01-01', 'us', 2, 2, 'new old');
UPDATE shop.orders SET note = 'changed' WHERE id IN (10, 400, 900);
UPDATE shop.orders SET placed = '2024-07-01', region = 'eu' WHERE id = 11;
UPDATE shop.orders SET region = 'us' WHERE id = 5001;
UPDATE shop.orders SET placed = placed + 1 WHERE id = 20;
DELETE FROM shop.orders WHERE id IN (12, 401);
UPDATE shop.events SET k = 2, v = 'moved' WHERE k = 1 AND at = 4;
DELETE FROM shop.events WHERE at = 3;
TRUNCATE shop.refunds;`)
	changes, end := applyStream(t, ctx, src, dst, migration, tables, start)
	ops := map[string]int{}
	for _, ch := range changes {
		switch {
		case ch.Op == engine.Truncate:
			ops["truncate "+ch.Truncated[0].Name]++
		case ch.Key != nil && engine.IsPartial(ch.New):
			ops[ch.Table.Name+" key change without TOAST"]++
		default:
			ops[ch.Table.Name+" "+string(rune(ch.Op))]++
		}
	}
	// Moves between partitions come as a delete and an insert.
	want := map[string]int{"orders I": 4, "orders U": 3, "orders key change without TOAST": 1, "orders D": 4, "events I": 1, "events D": 2, "truncate refunds": 1}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("changes by table and kind = %v, want %v", ops, want)
	}
	t.Logf("replayed %d changes: %v", len(changes), ops)
	// A partition added on both sides during the migration takes its rows.
	for _, conn := range []*pgx.Conn{sconn, dconn} {
		exec(t, conn, "CREATE TABLE shop.orders_2026 PARTITION OF shop.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
	}
	exec(t, sconn, "INSERT INTO shop.orders VALUES (7001, '2026-05-01', 'eu', 3, 3, 'in a new partition')")
	if more, _ := applyStream(t, ctx, src, dst, migration, tables, end); len(more) != 1 {
		t.Errorf("changes in a partition added during the migration: %+v, want 1", more)
	}
	for _, tb := range tables {
		sn, sh, err := src.ChunkHash(ctx, tb, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		dn, dh, err := dst.ChunkHash(ctx, tb, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sn != dn || sh != dh {
			t.Errorf("%s: source %d rows (hash %s), target %d rows (hash %s)", tb.QualifiedName(), sn, sh, dn, dh)
		}
	}
	// A key change within a partition that leaves a TOASTed value out of the
	// change: the key, first in the table but last in its columns, moved.
	var moved int
	if err := dconn.QueryRow(ctx, "SELECT count(*) FROM shop.orders WHERE id = 20 AND placed = '2022-06-22' AND length(note) = 9600").Scan(&moved); err != nil || moved != 1 {
		t.Errorf("row 20 with its unchanged TOASTed note moved to its new key %d times (%v), want 1", moved, err)
	}
	var where string
	if err := dconn.QueryRow(ctx, "SELECT tableoid::regclass::text FROM shop.orders WHERE id = 11").Scan(&where); err != nil || where != "shop.orders_2024_eu" {
		t.Errorf("moved row 11 is in %q (%v) on the target, want shop.orders_2024_eu", where, err)
	}

	if _, err := src.DropCapture(ctx, tables); err != nil {
		t.Fatal(err)
	}
	if got := identities(); got != "events=d events_1=d events_2=d orders_2023=d" {
		t.Errorf("replica identities after DropCapture: %s, want all back to DEFAULT", got)
	}
}

// The partition trees, indexes and constraints of the fixture's tables.
const (
	treeSQL = `SELECT c.relnamespace::regnamespace || '.' || c.relname, coalesce(t.parentrelid::regclass::text, ''),
  coalesce(pg_get_expr(c.relpartbound, c.oid), ''), coalesce(pg_get_partkeydef(c.oid), '')
FROM pg_partition_tree('shop.orders') t JOIN pg_class c ON c.oid = t.relid
UNION ALL SELECT relid::regclass::text, coalesce(parentrelid::regclass::text, ''), '', '' FROM pg_partition_tree('shop.events')
ORDER BY 1`
	indexesOfSQL = `SELECT i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace IN ('shop'::regnamespace, 'arch'::regnamespace) ORDER BY 1, 2`
	// godwit adds foreign keys NOT VALID: the source checked their rows.
	constraintsOfSQL = `SELECT conrelid::regclass::text, conname, CASE contype WHEN 'f' THEN replace(pg_get_constraintdef(oid), ' NOT VALID', '') ELSE pg_get_constraintdef(oid) END, conislocal, coninhcount
FROM pg_constraint WHERE connamespace IN ('shop'::regnamespace, 'arch'::regnamespace)
ORDER BY 1, 2`
)

func queryText(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%v | ", v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// copyChunk copies one chunk from src to dst as the copier does.
func copyChunk(t *testing.T, ctx context.Context, src *Source, dst *Target, migration string, tb *schema.Table, c engine.Chunk) int64 {
	t.Helper()
	pr, pw := io.Pipe()
	type result struct {
		pos position.Position
		err error
	}
	done := make(chan result, 1)
	go func() {
		pos, err := src.ReadChunk(ctx, tb, c, pw)
		pw.CloseWithError(err)
		done <- result{pos, err}
	}()
	n, err := dst.WriteChunk(ctx, migration, tb, c, src.CopyFormat(), pr, func() (position.Position, error) {
		r := <-done
		return r.pos, r.err
	})
	if err != nil {
		t.Fatalf("copying %s chunk %d: %v", tb.QualifiedName(), c.Seq, err)
	}
	return n
}

// applyStream streams the source's changes from start up to its current
// position and applies each change on its own, as barrier-free segments.
func applyStream(t *testing.T, ctx context.Context, src *Source, dst *Target, migration string, tables []*schema.Table, start position.Position) ([]engine.Change, position.Position) {
	t.Helper()
	until, err := src.CurrentPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	out := make(chan engine.Txn, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- src.Stream(sctx, start, tables, out, func() position.Position { return start }, nil)
	}()
	var changes []engine.Change
	var end position.Position
	for end == nil || end.(position.LSN) < until.(position.LSN) {
		select {
		case txn := <-out:
			if txn.End != nil {
				end = txn.End
			}
			if len(txn.Changes) == 0 {
				continue
			}
			tx, err := dst.BeginApply(ctx, migration)
			if err != nil {
				t.Fatal(err)
			}
			for i := range txn.Changes {
				ch := &txn.Changes[i]
				seg := engine.Segment{Ops: []*engine.TableOps{engine.OpsOf(ch)}}
				if ch.Op == engine.Truncate || ch.Key != nil && engine.IsPartial(ch.New) {
					seg = engine.Segment{Barrier: ch} // as the replicator does
				}
				if err := tx.Apply(ctx, seg); err != nil {
					tx.Rollback(ctx)
					t.Fatalf("applying %+v: %v", ch, err)
				}
			}
			changes = append(changes, txn.Changes...)
			if err := tx.Commit(ctx, txn.End); err != nil {
				t.Fatal(err)
			}
		case err := <-errc:
			t.Fatalf("stream ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("changes up to %v did not arrive (last %v)", until, end)
		}
	}
	for _, ch := range changes {
		if ch.Op != engine.Truncate && ch.Table.Partitioning == nil {
			t.Errorf("change of %s: want changes of the partitioned tables only", ch.Table.QualifiedName())
		}
	}
	return changes, end
}

func TestPartitionDDL(t *testing.T) {
	tb := &schema.Table{Schema: "shop", Name: "orders", Columns: []schema.Column{{Name: "id", Type: "bigint", NotNull: true}, {Name: "placed", Type: "date"}},
		Partitioning: &schema.Partitioning{Key: "RANGE (placed)"}}
	if got, want := CreateTableSQL(tb), "CREATE TABLE \"shop\".\"orders\" (\n  \"id\" bigint NOT NULL,\n  \"placed\" date\n) PARTITION BY RANGE (placed)"; got != want {
		t.Errorf("CreateTableSQL =\n%s\nwant\n%s", got, want)
	}
	if got := only(tb); got != `"shop"."orders"` {
		t.Errorf("only(partitioned) = %s: a partitioned table's rows are its partitions'", got)
	}
	if got := only(&schema.Table{Schema: "s", Name: "t"}); got != `ONLY "s"."t"` {
		t.Errorf("only(plain) = %s", got)
	}
	if got := CopyOutSQL(tb, nil, nil); strings.Contains(got, "ONLY") {
		t.Errorf("CopyOutSQL of a partitioned table reads with ONLY: %s", got)
	}
	cases := []struct {
		p    schema.Partition
		want string
	}{
		{schema.Partition{Schema: "arch", Name: "o 1", ParentSchema: "shop", ParentName: "orders", Bound: "FOR VALUES FROM (MINVALUE) TO ('2023-01-01')"},
			`CREATE TABLE "arch"."o 1" PARTITION OF "shop"."orders" FOR VALUES FROM (MINVALUE) TO ('2023-01-01')`},
		{schema.Partition{Schema: "shop", Name: "o2", ParentSchema: "shop", ParentName: "orders", Bound: "DEFAULT", Key: "LIST (region)",
			Constraints: []schema.Constraint{{Name: "small", Kind: "c", Def: "CHECK ((id < 10))"}, {Name: "later", Kind: "c", Def: "CHECK ((id > 0)) NOT VALID"},
				{Name: "fk", Kind: "f", Def: "FOREIGN KEY (id) REFERENCES t(id)"}}},
			"CREATE TABLE \"shop\".\"o2\" PARTITION OF \"shop\".\"orders\" (\n  CONSTRAINT \"small\" CHECK ((id < 10))\n) DEFAULT PARTITION BY LIST (region)"},
	}
	for _, c := range cases {
		if got := CreatePartitionSQL(&c.p); got != c.want {
			t.Errorf("CreatePartitionSQL =\n%s\nwant\n%s", got, c.want)
		}
	}
	for in, want := range map[string]string{
		"CREATE INDEX i ON ONLY public.t USING btree (a)":                          "CREATE INDEX i ON public.t USING btree (a)",
		`CREATE UNIQUE INDEX "ON ONLY x" ON ONLY "S"."T" USING btree (a)`:          `CREATE UNIQUE INDEX "ON ONLY x" ON "S"."T" USING btree (a)`,
		"CREATE INDEX i ON public.only USING btree (a)":                            "CREATE INDEX i ON public.only USING btree (a)",
		`CREATE INDEX i ON public.t USING btree (a) WHERE (b = 'ON ONLY x'::text)`: `CREATE INDEX i ON public.t USING btree (a) WHERE (b = 'ON ONLY x'::text)`,
	} {
		if got := onlyIndex.ReplaceAllString(in, "$1"); got != want {
			t.Errorf("index %s became %s, want %s", in, got, want)
		}
	}
}

func typeMsg(id uint32, ns, name string) []byte { return cstr(cstr(u32([]byte{'Y'}, id), ns), name) }

func TestDecoderPartitions(t *testing.T) {
	orders := &schema.Table{Schema: "public", Name: "orders", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "at"}},
		Partitioning: &schema.Partitioning{Key: "RANGE (at)", Partitions: []schema.Partition{{Schema: "public", Name: "orders_1"}}}}
	plain := &schema.Table{Schema: "public", Name: "plain", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}}}
	d := newDecoder([]*schema.Table{orders, plain}, 0)
	feed := func(m []byte) ([]engine.Txn, error) { return d.decode(m) }
	must := func(m []byte) []engine.Txn {
		t.Helper()
		out, err := feed(m)
		if err != nil {
			t.Fatalf("decode %q: %v", m[0], err)
		}
		return out
	}
	// pgoutput describes the table, then the partition the change was made in
	// (its types first): a known partition, then one added since the start.
	must(relMsg(1, "public", "orders", "id", "at"))
	must(typeMsg(9, "public", "mood"))
	must(relMsg(2, "public", "orders_1", "id", "at"))
	must(relMsg(1, "public", "orders", "id", "at"))
	must(relMsg(3, "public", "orders_2", "at", "id"))
	must(begin())
	must(insert(1, tuple("1", "2024-01-01")))
	must(update(1, tuple("1", nil), tuple("2", "2024-02-01")))
	must(relMsg(4, "public", "plain", "id"))
	txns := must(commit(10, time.Now()))
	if len(txns) != 1 || len(txns[0].Changes) != 2 || txns[0].Changes[0].Table != orders || txns[0].Changes[1].Key[0].Text != "1" {
		t.Fatalf("changes of a partitioned table: %+v", txns)
	}
	// An unknown name after a plain table is a renamed table.
	if _, err := feed(relMsg(5, "public", "plain_renamed", "id")); err == nil {
		t.Fatal("a renamed table after a plain table's description was taken for a partition")
	}
	// So is one after the partitioned table whose columns are not its columns.
	must(relMsg(1, "public", "orders", "id", "at"))
	if _, err := feed(relMsg(6, "public", "plain_renamed", "id")); err == nil || !strings.Contains(err.Error(), "renamed or moved") {
		t.Fatalf("a renamed table after a partitioned table's description: %v, want the rename error", err)
	}
	// Changes or truncates under a partition's own name must stop replay.
	must(begin())
	for _, m := range [][]byte{insert(2, tuple("1", "2024-01-01")), del(3, tuple("1", nil)), truncate(2)} {
		var perm *engine.PermanentError
		if _, err := feed(m); !asPermanent(err, &perm) || !strings.Contains(err.Error(), "publish_via_partition_root") {
			t.Errorf("change %q under a partition's name: %v, want a permanent error", m[0], err)
		}
	}
}
