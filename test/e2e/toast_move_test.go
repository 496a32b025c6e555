package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestPGKeyMoveWithUnchangedToast: a row whose TOASTed value is unchanged
// moves, during the copy, from a key in a chunk not yet copied to a key in a
// chunk already copied. The copy sees it at neither key and its change carries
// no body: replay must fetch it rather than lose it.
func TestPGKeyMoveWithUnchangedToast(t *testing.T) {
	srcURL, dstURL := testutil.NewPGDatabase(t, "source"), testutil.NewPGDatabase(t, "target")
	g := newGodwit(t)
	src := connect(t, srcURL)
	exec1(t, src, `create table big(id int primary key, note text, body text)`)
	exec1(t, src, `insert into big select i, 'n' || i, (select string_agg(md5(i::text || g), '') from generate_series(1, 300) g) from generate_series(1, 2000) i`)
	exec1(t, src, `analyze big`)
	name := migrationName("tm")
	r := g.start("start", name, "--source", srcURL, "--target", dstURL, "--jobs", "1", "--chunk-rows", "100", "--max-copy-rate", "400")
	g.waitFor(name, r, "copying", time.Minute, func(st status) bool {
		return st.Phase == "COPYING" && len(st.Tables) == 1 && st.Tables[0].RowsCopied >= 200
	})
	// id 1900 is in a chunk not yet copied; -5 in the first chunk, copied already.
	if _, err := src.Exec(context.Background(), `update big set id = -5, note = 'moved' where id = 1900`); err != nil {
		t.Fatal(err)
	}
	st := g.waitFor(name, r, "consistent", 2*time.Minute, func(st status) bool { return st.Consistent })
	if st.Tables[0].Phase != "REPLICATING" {
		t.Fatalf("status: %v", st)
	}
	compareTables(t, srcURL, dstURL, []tableSpec{{"public", "big", []string{"id"}}})
}
