package postgres

import (
	"context"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/testutil"
)

// Chunk bounds from another engine's binary keys hold bytes PostgreSQL text
// cannot (engine.EncodeBound): they come back from the checkpoint as they were.
func TestChunkBounds(t *testing.T) {
	url := testutil.NewPGDatabase(t, "target")
	ctx := context.Background()
	tgt, err := OpenTarget(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if _, err := tgt.Prepare(ctx, "bounds"); err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Schema: "public", Name: "blobs", Key: []string{"k"}, Columns: []schema.Column{{Name: "k", Type: "bytea", NotNull: true}}}
	chunks := []engine.Chunk{{Table: tb.QualifiedName(), Seq: 0, Hi: []string{"a\x00\xff"}}, {Table: tb.QualifiedName(), Seq: 1, Lo: []string{"a\x00\xff"}}}
	start, _ := position.ParseLSN("0/16B3748")
	if err := tgt.CreateTables(ctx, "bounds", []*schema.Table{tb}, chunks, start, false); err != nil {
		t.Fatal(err)
	}
	cp, err := tgt.Prepare(ctx, "bounds")
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Chunks) != 2 || cp.Chunks[0].Hi[0] != "a\x00\xff" || cp.Chunks[1].Lo[0] != "a\x00\xff" || cp.Chunks[0].Lo != nil {
		t.Errorf("chunks read back: %+v", cp.Chunks)
	}
}

// Chunk bounds and row hashes follow the key's own order: a key read as text
// under its own name used to sort as text (ORDER BY takes the output column),
// so chunks came out of all sizes and each bound scanned the table.
func TestKeyOrder(t *testing.T) {
	url := testutil.NewPGDatabase(t, "target")
	ctx := context.Background()
	tgt, err := OpenTarget(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if _, err := tgt.pool.Exec(ctx, "CREATE TABLE n (id int PRIMARY KEY, v text); INSERT INTO n SELECT i, 'x' FROM generate_series(1, 2000) i"); err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Schema: "public", Name: "n", Key: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: "integer", NotNull: true}, {Name: "v", Type: "text"}}}
	var bounds []string
	var lo []string
	for {
		hi, err := tgt.NextBound(ctx, tb, lo, 500)
		if err != nil {
			t.Fatal(err)
		}
		if hi == nil {
			break
		}
		bounds, lo = append(bounds, hi[0]), hi
	}
	if len(bounds) != 4 || bounds[0] != "500" || bounds[1] != "1000" || bounds[3] != "2000" {
		t.Errorf("bounds every 500 rows: %v, want [500 1000 1500 2000]", bounds)
	}
	rh, err := tgt.RowHashes(ctx, tb, []string{"8"}, []string{"11"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rh) != 3 || rh[0].Key[0] != "9" || rh[1].Key[0] != "10" || rh[2].Key[0] != "11" {
		t.Errorf("row hashes of 8 < id <= 11 in key order: %+v", rh)
	}
}
