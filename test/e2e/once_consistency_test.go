package e2e

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// TestPGOnceCopyIsOneSnapshot runs a one-time copy while transfers move money
// between accounts in other chunks. Every transfer keeps the total, so a copy
// taken from one consistent view has exactly the starting total; a copy whose
// chunks saw different moments almost never does.
func TestPGOnceCopyIsOneSnapshot(t *testing.T) {
	srcURL := testutil.NewPGDatabase(t, "source")
	dstURL := testutil.NewPGDatabase(t, "target")
	seed := testutil.Seed(t)
	g := newGodwit(t)
	const rows, each = 60000, 100
	src := connect(t, srcURL)
	exec1(t, src, `create table ledger(id int primary key, balance bigint not null)`)
	exec1(t, src, `insert into ledger select i, $1 from generate_series(1, $2::int) i`, each, rows)
	exec1(t, src, `analyze ledger`)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var transfers atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn := connect(t, srcURL)
			r := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for ctx.Err() == nil {
				a, b := 1+r.IntN(rows), 1+r.IntN(rows)
				amount := 1 + r.IntN(50)
				// Lock in key order so the two workers never deadlock.
				if a > b {
					a, b, amount = b, a, -amount
				}
				if a == b {
					continue
				}
				_, err := conn.Exec(ctx, `update ledger set balance = balance + case id when $1 then -$3::bigint else $3::bigint end where id in ($1, $2)`, a, b, amount)
				if err == nil {
					transfers.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
		}(w)
	}
	name := migrationName("snap")
	res := g.runTimeout(3*time.Minute, "start", name, "--source", srcURL, "--target", dstURL, "--once", "--chunk-rows", "2000", "--max-copy-rate", "30000")
	stop()
	wg.Wait()
	if res.code != 0 {
		t.Fatalf("start --once: %v", res)
	}
	if transfers.Load() < 100 {
		t.Fatalf("only %d transfers ran during the copy: the test did not exercise concurrency", transfers.Load())
	}
	var total, count int64
	dst := connect(t, dstURL)
	if err := dst.QueryRow(context.Background(), "select sum(balance), count(*) from ledger").Scan(&total, &count); err != nil {
		t.Fatal(err)
	}
	if count != rows || total != rows*each {
		t.Fatalf("target ledger has %d rows summing to %d, want %d rows summing to %d: the copy mixed moments (%d transfers ran meanwhile)",
			count, total, rows, rows*each, transfers.Load())
	}
	t.Logf("%d transfers ran during the copy; the copy is one consistent view", transfers.Load())
}
