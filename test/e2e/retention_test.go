package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRetentionWarning: while a MySQL migration copies, the binlog written
// since its start is what the source must keep for it; over the threshold
// (--warn-retained-mb) status and metrics say so and the log warns.
func TestRetentionWarning(t *testing.T) {
	srcBase, dstBase := myURL(t, "GODWIT_TEST_MY_SOURCE"), myURL(t, "GODWIT_TEST_MY_TARGET")
	db := newMyDB(t, "ret", srcBase, dstBase)
	src := openMy(t, srcBase, db)
	mustExec(t, src, "CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(100))")
	mustExec(t, src, "INSERT INTO items SELECT seq, REPEAT('x', 100) FROM seq_1_to_20000")
	mustExec(t, src, "CREATE TABLE other (id INT AUTO_INCREMENT PRIMARY KEY, v LONGTEXT)")
	g := newGodwit(t)
	r := g.start("start", "ret", "--source", myDBURL(t, srcBase, db), "--target", myDBURL(t, dstBase, db),
		"--include", db+".items", "--max-copy-rate", "1500", "--chunk-rows", "1000", "--warn-retained-mb", "1")
	g.waitFor("ret", r, "copying", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Phase == "COPYING" })
	for i := 0; i < 3; i++ { // 3 MB of binlog in a table the migration does not copy
		mustExec(t, src, "INSERT INTO other (v) VALUES (REPEAT('y', 1048576))")
	}
	g.waitFor("ret", r, "the retention warning", 30*time.Second, func(st status) bool {
		res := g.run("status", "ret", "--json")
		var full struct {
			Retained int64 `json:"retained_bytes"`
			Warning  bool  `json:"retained_warning"`
		}
		return json.Unmarshal([]byte(res.stdout), &full) == nil && full.Warning && full.Retained > 3<<20
	})
	if res := g.run("status", "ret"); !strings.Contains(res.stdout, "WARNING: over the threshold") {
		t.Fatalf("status does not show the warning: %v", res)
	}
	r.terminate(30 * time.Second)
	if log, _ := os.ReadFile(g.logPath); !strings.Contains(string(log), "over the warning threshold") {
		t.Fatal("the runner log has no retention warning")
	}
	if res := g.run("cancel", "ret"); res.code != 0 {
		t.Fatalf("cancel: %v", res)
	}
}
