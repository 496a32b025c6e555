package workflow

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/replicator"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/store"
)

func TestTrackerTablesAndLag(t *testing.T) {
	a := &schema.Table{Schema: "public", Name: "a", Key: []string{"id"}, Rows: 100}
	b := &schema.Table{Schema: "public", Name: "b", Rows: 10} // no key
	chunks := []engine.Chunk{{Table: "public.a", Seq: 0, Done: true, Rows: 40}, {Table: "public.a", Seq: 1}, {Table: "public.b"}}
	clock := time.Unix(1000, 0)
	tr := newTracker([]*schema.Table{a, b}, chunks, func(t *schema.Table) bool { return !t.HasKey() })
	tr.now = func() time.Time { return clock }

	p := tr.snapshot()
	if p.Tables[0].Phase != "COPYING" || p.Tables[0].RowsCopied != 40 || p.Tables[0].ChunksTotal != 2 || p.Tables[1].Phase != "PENDING" {
		t.Fatalf("tables after load: %+v", p.Tables)
	}
	tr.setPhase(Copying)
	tr.chunkDone(engine.Chunk{Table: "public.a", Seq: 1, Done: true, Rows: 61})
	tr.chunkDone(engine.Chunk{Table: "public.b", Done: true, Rows: 10})
	p = tr.snapshot()
	if p.Tables[0].Phase != "COPIED" || p.Tables[0].RowsCopied != 101 || p.Tables[1].Phase != "COPY_ONLY" {
		t.Fatalf("tables after copy: %+v", p.Tables)
	}

	tr.setPositions(position.LSN(100), nil, position.LSN(500))
	tr.setPhase(Replicating)
	if p := tr.snapshot(); p.Tables[0].Phase != "REPLICATING" || p.Tables[1].Phase != "COPY_ONLY" || p.Consistent {
		t.Fatalf("replicating: %+v", p)
	}
	// The source moves on while nothing is applied: lag grows from the first sample.
	tr.observeSource(position.LSN(600), 0)
	clock = clock.Add(3 * time.Second)
	tr.observeSource(position.LSN(700), 0)
	p = tr.snapshot()
	if p.LagBytes != 600 || p.LagSeconds != 3 {
		t.Fatalf("lag before apply = %d bytes %.1fs, want 600 bytes 3s", p.LagBytes, p.LagSeconds)
	}
	// Applying past the first sample: the target holds what the source had 3s ago.
	if became := tr.commit(replicator.Commit{Applied: position.LSN(650), Changes: 5}); !became {
		t.Fatal("passing the consistency point not reported")
	}
	p = tr.snapshot()
	if !p.Consistent || p.LagBytes != 50 || p.LagSeconds != 3 || p.ChangesApplied != 5 || p.AppliedPosition != "0/28A" {
		t.Fatalf("after apply: %+v", p)
	}
	clock = clock.Add(time.Second)
	if became := tr.commit(replicator.Commit{Applied: position.LSN(700)}); became {
		t.Fatal("consistency reported twice")
	}
	if p := tr.snapshot(); p.LagSeconds != 0 || p.LagBytes != 0 {
		t.Fatalf("caught up but lag %v s %d bytes", p.LagSeconds, p.LagBytes)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"orders", "orders-2026", "a", "x_1"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Orders", "-x", "a b", "a;drop", strings.Repeat("a", 41)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestStatusOfRedactsAndFillsTables(t *testing.T) {
	spec := Spec{Source: "postgres://app:s3cret@db1/shop", Target: "postgres://app:s3cret@db2/shop",
		Tables: []*schema.Table{{Schema: "public", Name: "orders", Rows: 7}}}
	b, _ := json.Marshal(spec)
	m := &store.Migration{Name: "m", Spec: b, State: string(Created), Error: ""}
	st, err := StatusOf(m, func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") }, "host")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(st)
	if strings.Contains(string(out), "s3cret") {
		t.Fatalf("status leaks the password: %s", out)
	}
	if st.Error != nil || len(st.Tables) != 1 || st.Tables[0].Phase != "PENDING" || st.Tables[0].RowsEstimate != 7 {
		t.Fatalf("status: %s", out)
	}
	for _, field := range []string{`"name"`, `"state"`, `"phase"`, `"consistent"`, `"lag_seconds"`, `"lag_bytes"`, `"error":null`, `"tables"`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("status JSON lacks %s: %s", field, out)
		}
	}
}

// While the stream is down, the progress says since when and why, and the
// lag grows from then; the next commit clears it.
func TestTrackerStreamDown(t *testing.T) {
	a := &schema.Table{Schema: "public", Name: "a", Key: []string{"id"}}
	clock := time.Unix(1000, 0)
	tr := newTracker([]*schema.Table{a}, nil, func(*schema.Table) bool { return false })
	tr.now = func() time.Time { return clock }
	p1 := position.LSN(100)
	tr.observeSource(p1, 0)
	tr.commit(replicator.Commit{Applied: p1})
	if p := tr.snapshot(); p.Retrying != nil || p.LagSeconds != 0 {
		t.Fatalf("caught up: %+v %v", p.Retrying, p.LagSeconds)
	}
	tr.streamDown("connection refused")
	clock = clock.Add(5 * time.Second)
	tr.streamDown("connection refused again")
	p := tr.snapshot()
	if p.Retrying == nil || p.Retrying.Attempts != 2 || !p.Retrying.Since.Equal(time.Unix(1000, 0)) || p.Retrying.Reason != "connection refused again" || p.LagSeconds != 5 {
		t.Fatalf("down: %+v lag %v", p.Retrying, p.LagSeconds)
	}
	tr.commit(replicator.Commit{Applied: p1})
	if p := tr.snapshot(); p.Retrying != nil {
		t.Fatalf("after a commit: %+v", p.Retrying)
	}
}
