package workflow

import (
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/schema"
)

func TestTriggerWarnings(t *testing.T) {
	if w := triggerWarnings([]*schema.Table{{Schema: "s", Name: "plain"}}); w != nil {
		t.Errorf("no triggers, warnings %q", w)
	}
	w := triggerWarnings([]*schema.Table{{Schema: "s", Name: "a", Triggers: []string{"t1", "t2"}}, {Schema: "s", Name: "b"}, {Schema: "s", Name: "c", Triggers: []string{"t3"}}})
	if len(w) != 1 || !strings.HasSuffix(w[0], ": s.a (t1, t2), s.c (t3)") || !strings.Contains(w[0], "once the migration is COMPLETED") {
		t.Errorf("warnings %q", w)
	}
}
