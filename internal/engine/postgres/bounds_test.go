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
