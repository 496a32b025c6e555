package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Chunk bounds of binary keys (NUL, invalid UTF-8) survive the checkpoint a
// SQLite (or MySQL: the same sqlmeta code) target keeps: JSON alone would turn
// invalid bytes into U+FFFD, and a resumed copy would start at another key.
func TestChunkBoundsBinary(t *testing.T) {
	ctx := context.Background()
	tgt, err := OpenTarget(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if _, err := tgt.Prepare(ctx, "bounds"); err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Schema: "main", Name: "blobs", Key: []string{"k"}, Columns: []schema.Column{{Name: "k", Type: "BLOB", NotNull: true}},
		CreateSQL: `CREATE TABLE "blobs" ("k" BLOB NOT NULL PRIMARY KEY)`}
	bound := "a\x00\xff\xfe"
	chunks := []engine.Chunk{{Table: tb.QualifiedName(), Seq: 0, Hi: []string{bound}}, {Table: tb.QualifiedName(), Seq: 1, Lo: []string{bound}}}
	if err := tgt.CreateTables(ctx, "bounds", []*schema.Table{tb}, chunks, position.LSN(1), false); err != nil {
		t.Fatal(err)
	}
	cp, err := tgt.Prepare(ctx, "bounds")
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Chunks) != 2 || cp.Chunks[0].Hi[0] != bound || cp.Chunks[1].Lo[0] != bound || cp.Chunks[0].Lo != nil {
		t.Errorf("chunks read back: %+v", cp.Chunks)
	}
}
