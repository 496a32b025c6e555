package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestCrossEnumTypes: with --enum-types, a MySQL ENUM becomes a PostgreSQL
// enum type of the same labels in the same order (so it sorts as on MySQL),
// rows copied and replayed into it, verified, cut over; cancelling with
// --drop-target would drop the type with the table.
func TestCrossEnumTypes(t *testing.T) {
	base := myURL(t, "GODWIT_TEST_MY_SOURCE")
	db := newMyDB(t, "enum", base)
	src := openMy(t, base, db)
	mustExec(t, src, "CREATE TABLE films (id int PRIMARY KEY, rating enum('PG','G','R','NC-17') NOT NULL DEFAULT 'G', title varchar(50))")
	for i := 1; i <= 40; i++ {
		mustExec(t, src, "INSERT INTO films VALUES (?, ?, ?)", i, []string{"PG", "G", "R", "NC-17"}[i%4], fmt.Sprintf("film %d", i))
	}
	dstURL := testutil.NewPGDatabase(t, "target")
	g := newGodwit(t)
	name := migrationName("enum")
	t.Cleanup(func() { g.run("delete", name) })
	r := g.start("start", name, "--source", myDBURL(t, base, db), "--target", dstURL, "--enum-types")
	g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" && st.Consistent })
	mustExec(t, src, "INSERT INTO films (id, title) VALUES (41, 'default rating')")
	mustExec(t, src, "UPDATE films SET rating = 'NC-17' WHERE id = 2")
	waitCaughtUp(t, g, name, r, src)
	if res := g.runTimeout(2*time.Minute, "verify", name); res.code != 0 {
		t.Fatalf("verify: %v", res)
	}
	if res := g.runTimeout(2*time.Minute, "complete", name); res.code != 0 {
		t.Fatalf("complete: %v", res)
	}

	pg := connect(t, dstURL)
	ctx := context.Background()
	var typ, labels string
	if err := pg.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod), (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = atttypid)
		FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'rating'`, db+".films").Scan(&typ, &labels); err != nil {
		t.Fatal(err)
	}
	if typ != db+".films_rating" || labels != "PG,G,R,NC-17" {
		t.Errorf("rating is %s with labels %s, want %s.films_rating with PG,G,R,NC-17", typ, labels, db)
	}
	// Sorted by label position, as MySQL sorts an ENUM.
	var order, def string
	if err := pg.QueryRow(ctx, `SELECT string_agg(id::text, ',' ORDER BY rating, id) FROM (SELECT * FROM `+db+`.films WHERE id IN (1, 2, 3, 4, 41)) f`).Scan(&order); err != nil {
		t.Fatal(err)
	}
	if order != "4,1,41,2,3" { // PG: 4; G: 1, 41; NC-17: 2 (updated from R), 3
		t.Errorf("order by rating on the target: %s, want 4,1,41,2,3", order)
	}
	if err := pg.QueryRow(ctx, `SELECT rating::text FROM `+db+`.films WHERE id = 41`).Scan(&def); err != nil || def != "G" {
		t.Errorf("row 41 rating = %q, %v; want G", def, err)
	}
	if _, err := pg.Exec(ctx, `INSERT INTO `+db+`.films (id, rating) VALUES (100, 'X')`); err == nil || !strings.Contains(err.Error(), "invalid input value for enum") {
		t.Errorf("a label the enum lacks: %v", err)
	}
}
