package engine

import (
	"reflect"
	"testing"
)

func TestSplitIntRange(t *testing.T) {
	cs := SplitIntRange("t", 1, 1000, 1000, 300)
	if len(cs) != 4 {
		t.Fatalf("want 4 chunks, got %+v", cs)
	}
	if cs[0].Lo != nil || cs[0].Hi[0] != "250" || cs[1].Lo[0] != "250" || cs[3].Hi != nil || cs[3].Lo[0] != "750" {
		t.Fatalf("bounds wrong: %+v", cs)
	}
	for i, c := range cs {
		if c.Seq != i {
			t.Fatalf("seq wrong: %+v", cs)
		}
	}
	if cs := SplitIntRange("t", 5, 5, 10, 3); len(cs) != 1 || cs[0].Lo != nil || cs[0].Hi != nil {
		t.Fatalf("single value range: %+v", cs)
	}
}

func TestBoundEncoding(t *testing.T) {
	vals := []string{"plain", "", "nul\x00byte", "\xff\xfe not utf-8", "\x01hex:looks encoded", "ünïcødé"}
	enc := EncodeBound(vals)
	if enc[0] != "plain" || enc[5] != "ünïcødé" || enc[2] == vals[2] || enc[4] == vals[4] {
		t.Errorf("encoded: %q", enc)
	}
	if dec, err := DecodeBound(enc); err != nil || !reflect.DeepEqual(dec, vals) {
		t.Errorf("decoded %q, %v; want %q", dec, err, vals)
	}
	if EncodeBound(nil) != nil {
		t.Error("nil bound (unbounded) must stay nil")
	}
	if _, err := DecodeBound([]string{"\x01hex:zz"}); err == nil {
		t.Error("bad hex accepted")
	}
}
