package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/workflow"
)

func copyingStatus() workflow.Status {
	st := workflow.Status{Name: "m", State: workflow.Running, Phase: workflow.Copying}
	st.CopyRate = 1000
	st.Tables = []workflow.TableStatus{
		{Name: "public.done", RowsCopied: 500, RowsEstimate: 480, ChunksDone: 2, ChunksTotal: 2},
		{Name: "public.half", RowsCopied: 1000, RowsEstimate: 2000, ChunksDone: 1, ChunksTotal: 2},
	}
	return st
}

func TestPlainLine(t *testing.T) {
	got := plainLine(copyingStatus())
	want := "progress: copying 60% (1,500 of ~2,500 rows), 1,000 rows/s, ETA 1s, 1/2 tables copied"
	if got != want {
		t.Fatalf("plainLine:\n got %q\nwant %q", got, want)
	}
	st := workflow.Status{Phase: workflow.Replicating}
	st.Consistent, st.LagSeconds, st.LagBytes, st.ApplyRate, st.ChangesApplied = true, 0.25, 2048, 1234.5, 1234567
	if got := plainLine(st); got != "progress: replicating, consistent, lag 0.2s (2.0 KiB), 1,234 changes/s, 1,234,567 applied" {
		t.Fatalf("replicating: %q", got)
	}
	if plainLine(workflow.Status{}) != "" {
		t.Fatal("a line for no phase")
	}
}

func TestFrame(t *testing.T) {
	f := frame(copyingStatus(), 80)
	if len(f) != 3 || !strings.HasPrefix(f[0], "copying 60%") {
		t.Fatalf("frame: %q", f)
	}
	// Unfinished tables first; a finished one shows full even under its estimate.
	if !strings.Contains(f[1], "public.half") || !strings.Contains(f[1], " 50%") || !strings.Contains(f[2], "[########################] 100%") {
		t.Fatalf("table lines: %q", f[1:])
	}
	many := copyingStatus()
	for i := 0; i < 20; i++ {
		many.Tables = append(many.Tables, workflow.TableStatus{Name: "public.t", RowsEstimate: 10, ChunksTotal: 1})
	}
	if f := frame(many, 80); len(f) != 12 || !strings.Contains(f[11], "and 12 more tables") {
		t.Fatalf("capped frame: %d lines, last %q", len(f), f[len(f)-1])
	}
}

func TestDisplayWritesLogsAboveTheDrawing(t *testing.T) {
	var out bytes.Buffer
	d := &display{out: &out, tty: true}
	d.show(copyingStatus())
	d.Write([]byte("a log line\n"))
	s := out.String()
	// The drawing (3 lines) is cleared, the log line written, the drawing redrawn.
	if !strings.Contains(s, "\x1b[3A\x1b[J"+"a log line\n"+"copying 60%") {
		t.Fatalf("output: %q", s)
	}
	if group(1234567) != "1,234,567" || group(12) != "12" || eta(100, 0) != "-" {
		t.Fatal("helpers")
	}
}
