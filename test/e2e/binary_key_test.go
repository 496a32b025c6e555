package e2e

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestCrossBinaryKey: a MySQL table keyed by BINARY(16) (UUIDs as bytes, with
// 0x00 and invalid UTF-8 in them) migrates to PostgreSQL in many chunks,
// whose bounds are such keys, and verifies equal.
func TestCrossBinaryKey(t *testing.T) {
	seed := testutil.Seed(t)
	r := rand.New(rand.NewPCG(uint64(seed), 16))
	base := myURL(t, "GODWIT_TEST_MY_SOURCE")
	db := newMyDB(t, "bkey", base)
	src := openMy(t, base, db)
	mustExec(t, src, "CREATE TABLE ids (id BINARY(16) PRIMARY KEY, n int)")
	for i := 0; i < 300; i++ {
		id := make([]byte, 16)
		for j := range id {
			id[j] = byte(r.IntN(256))
		}
		if i%3 == 0 {
			id[r.IntN(16)] = 0 // and a NUL in every third
		}
		mustExec(t, src, "INSERT IGNORE INTO ids VALUES (?, ?)", id, i)
	}
	dstURL := testutil.NewPGDatabase(t, "target")
	g := newGodwit(t)
	name := migrationName("bkey")
	t.Cleanup(func() { g.run("delete", name) })
	r1 := g.start("start", name, "--source", myDBURL(t, base, db), "--target", dstURL, "--chunk-rows", "25")
	g.waitFor(name, r1, "consistent", 2*time.Minute, func(st status) bool { return st.Phase == "REPLICATING" && st.Consistent })
	mustExec(t, src, "UPDATE ids SET n = n + 1000 ORDER BY id LIMIT 10")
	mustExec(t, src, "INSERT INTO ids VALUES (UNHEX('00000000000000000000000000000000'), -1)")
	waitCaughtUp(t, g, name, r1, src)
	if res := g.runTimeout(2*time.Minute, "verify", name); res.code != 0 {
		t.Fatalf("verify (seed %d): %v", seed, res)
	}
	var want, got int64
	if err := src.QueryRow("SELECT COUNT(*) + SUM(n) FROM ids").Scan(&want); err != nil {
		t.Fatal(err)
	}
	if err := connect(t, dstURL).QueryRow(context.Background(), "SELECT count(*) + sum(n) FROM "+db+".ids WHERE id IS NOT NULL").Scan(&got); err != nil || got != want {
		t.Errorf("target count+sum = %d (%v), source %d (seed %d)", got, err, want, seed)
	}
	if res := g.runTimeout(2*time.Minute, "complete", name); res.code != 0 {
		t.Errorf("complete: %v", res)
	}
}
