package e2e

import (
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestCompareTablesDetectsDifferences checks the comparison used by the
// migration tests: equal data compares equal, and each kind of difference is
// reported. It needs the databases but not the godwit binary.
func TestCompareTablesDetectsDifferences(t *testing.T) {
	a := testutil.NewPGDatabase(t, "source")
	b := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	sc := scale{accounts: 500, docs: 20, items: 100, members: 50, orderLines: 50, ev: 50}
	createSourceSchema(t, a, seed, sc)
	createSourceSchema(t, b, seed, sc) // same seed: same data
	ca, cb := connect(t, a), connect(t, b)
	for _, ts := range allTables {
		if msg := compareTable(t, ca, cb, ts); msg != "" {
			t.Fatalf("identical data of %s compares unequal:\n%s", ts, msg)
		}
	}

	exec1(t, cb, `
delete from accounts where id = 7;
insert into accounts values (999999, 'x', 1, null, null);
update accounts set note = note || '!' where id = 8;
update docs set body = body || 'x' where id = 3;
alter table members replica identity default;
alter table members drop constraint members_email_key;
insert into members select * from members where email = 'm1@example.com';
update items set tags = tags || '{z}' where region = 2 and sku = 'sku-2';
update "Sales"."Order Lines" set "Qty" = -1 where id = 5;
update ev set payload = null where id = 9`)
	for _, c := range []struct {
		table string
		want  []string
	}{
		{"accounts", []string{"1 rows missing", "key (7)", "1 extra rows", "key (999999)", "1 rows that differ", "key (8)"}},
		{"docs", []string{"1 rows that differ", "key (3)"}},
		{"members", []string{"row count: source 50, target 51", "1 rows with a duplicate key"}},
		{"items", []string{"key (2,sku-2)"}},
		{"Order Lines", []string{"key (5)", `target: (5,-1,"line 5")`}},
		{"ev", []string{"key (9)"}},
	} {
		var ts tableSpec
		for _, x := range allTables {
			if x.name == c.table {
				ts = x
			}
		}
		msg := compareTable(t, ca, cb, ts)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("report for %s lacks %q:\n%s", c.table, w, msg)
			}
		}
	}
}
