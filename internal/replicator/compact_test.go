package replicator

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

var tbl = &schema.Table{Schema: "s", Name: "t", Key: []string{"k"},
	Columns: []schema.Column{{Name: "k"}, {Name: "a"}, {Name: "g", Generated: "x"}, {Name: "b"}}}

func v(s string) engine.Value { return engine.Value{Text: s} }

var unchanged = engine.Value{Unchanged: true}

// model is a table: key -> full row [k, a, b].
type model map[string][3]string

func (m model) clone() model {
	out := model{}
	for k, r := range m {
		out[k] = r
	}
	return out
}

func rowOf(img []engine.Value) [3]string { return [3]string{img[0].Text, img[1].Text, img[2].Text} }

// applyOne is what an engine does with one change applied on its own.
func (m model) applyOne(ch engine.Change) {
	switch ch.Op {
	case engine.Truncate:
		for k := range m {
			delete(m, k)
		}
	case engine.Insert:
		m[ch.New[0].Text] = rowOf(ch.New)
	case engine.Delete:
		delete(m, ch.Key[0].Text)
	case engine.Update:
		nk := ch.New[0].Text
		old := nk
		if ch.Key != nil {
			old = ch.Key[0].Text
		}
		if !engine.IsPartial(ch.New) {
			delete(m, old)
			m[nk] = rowOf(ch.New)
			return
		}
		if old != nk {
			if _, ok := m[nk]; ok {
				delete(m, old)
			}
		}
		r, ok := m[old]
		if !ok {
			return
		}
		for i, val := range ch.New {
			if !val.Unchanged {
				r[i] = val.Text
			}
		}
		delete(m, old)
		m[nk] = r
	}
}

func (m model) applySegments(t *testing.T, segs []engine.Segment) {
	for _, seg := range segs {
		if seg.Barrier != nil {
			m.applyOne(*seg.Barrier)
			continue
		}
		seen := map[string]bool{}
		for _, ops := range seg.Ops {
			for _, k := range ops.Deletes {
				if seen[k[0].Text] {
					t.Fatalf("key %s twice in one segment", k[0].Text)
				}
				seen[k[0].Text] = true
				delete(m, k[0].Text)
			}
			for _, img := range ops.Upserts {
				if seen[img[0].Text] {
					t.Fatalf("key %s twice in one segment", img[0].Text)
				}
				seen[img[0].Text] = true
				m[img[0].Text] = rowOf(img)
			}
			for _, p := range ops.Partials {
				if seen[p.Key[0].Text] {
					t.Fatalf("key %s twice in one segment", p.Key[0].Text)
				}
				seen[p.Key[0].Text] = true
				r, ok := m[p.Key[0].Text]
				if !ok {
					continue
				}
				for i, c := range p.Cols {
					r[map[string]int{"k": 0, "a": 1, "b": 2}[c]] = p.Vals[i].Text
				}
				m[p.Key[0].Text] = r
			}
		}
	}
}

// history makes n valid source changes starting from src, updating src.
func history(r *rand.Rand, src model, n int, nextKey *int) []engine.Change {
	var out []engine.Change
	keys := func() []string {
		ks := make([]string, 0, len(src))
		for k := range src {
			ks = append(ks, k)
		}
		// deterministic order for a given seed
		for i := 1; i < len(ks); i++ {
			for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
				ks[j], ks[j-1] = ks[j-1], ks[j]
			}
		}
		return ks
	}
	for len(out) < n {
		ks := keys()
		op := r.Intn(100)
		val := func() string { return strconv.Itoa(r.Intn(1000)) }
		switch {
		case op < 2:
			out = append(out, engine.Change{Op: engine.Truncate, Truncated: []*schema.Table{tbl}})
			for k := range src {
				delete(src, k)
			}
		case op < 30 || len(ks) == 0:
			*nextKey++
			k := strconv.Itoa(*nextKey)
			img := []engine.Value{v(k), v(val()), v(val())}
			src[k] = rowOf(img)
			out = append(out, engine.Change{Table: tbl, Op: engine.Insert, New: img})
		case op < 45:
			k := ks[r.Intn(len(ks))]
			delete(src, k)
			out = append(out, engine.Change{Table: tbl, Op: engine.Delete, Key: []engine.Value{v(k)}})
		default:
			k := ks[r.Intn(len(ks))]
			row := src[k]
			nk := k
			var oldKey []engine.Value
			if r.Intn(4) == 0 {
				*nextKey++
				nk = strconv.Itoa(*nextKey)
				oldKey = []engine.Value{v(k)}
			}
			row[0], row[1] = nk, val()
			img := []engine.Value{v(nk), v(row[1]), unchanged}
			if r.Intn(2) == 0 {
				row[2] = val()
				img[2] = v(row[2])
			}
			delete(src, k)
			src[nk] = row
			out = append(out, engine.Change{Table: tbl, Op: engine.Update, Key: oldKey, New: img})
		}
	}
	for i := range out {
		if out[i].Op != engine.Truncate {
			out[i].Table = tbl
		}
	}
	return out
}

func TestCompactionEqualsSequentialReplay(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv("GODWIT_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed=%d (rerun with GODWIT_SEED=%d)", seed, seed)
	r := rand.New(rand.NewSource(seed))
	for round := 0; round < 300; round++ {
		src := model{}
		next := 0
		initial := history(r, src, r.Intn(30), &next) // build a starting state
		_ = initial
		start := src.clone()
		changes := history(r, src, 1+r.Intn(200), &next)

		target := start.clone()
		c := NewCompactor()
		batch := 1 + r.Intn(60)
		for i, ch := range changes {
			c.Add(ch)
			if (i+1)%batch == 0 {
				target.applySegments(t, c.Flush())
			}
		}
		if c.Len() == 0 && len(changes)%batch != 0 {
			t.Fatal("Len lost count")
		}
		target.applySegments(t, c.Flush())
		if diff := cmp.Diff(map[string][3]string(src), map[string][3]string(target)); diff != "" {
			t.Fatalf("round %d (batch %d): compacted replay differs from source (-source +target):\n%s", round, batch, diff)
		}
	}
}

func TestCompactionShapes(t *testing.T) {
	ins := func(k, a, b string) engine.Change {
		return engine.Change{Table: tbl, Op: engine.Insert, New: []engine.Value{v(k), v(a), v(b)}}
	}
	upd := func(old, k, a string, b engine.Value) engine.Change {
		ch := engine.Change{Table: tbl, Op: engine.Update, New: []engine.Value{v(k), v(a), b}}
		if old != "" {
			ch.Key = []engine.Value{v(old)}
		}
		return ch
	}
	del := func(k string) engine.Change {
		return engine.Change{Table: tbl, Op: engine.Delete, Key: []engine.Value{v(k)}}
	}
	cases := []struct {
		name    string
		changes []engine.Change
		want    string
	}{
		{"insert then partial update merges", []engine.Change{ins("1", "a", "b"), upd("", "1", "a2", unchanged)}, "ops[s.t D[] U[[1 a2 b]] P[]]"},
		{"insert then delete", []engine.Change{ins("1", "a", "b"), del("1")}, "ops[s.t D[[1]] U[] P[]]"},
		{"partials merge", []engine.Change{upd("", "1", "a", unchanged), upd("", "1", "a3", unchanged)}, "ops[s.t D[] U[] P[{[1] [a] [a3]}]]"},
		{"full key move", []engine.Change{upd("1", "2", "a", v("b"))}, "ops[s.t D[[1]] U[[2 a b]] P[]]"},
		{"partial key move is a barrier", []engine.Change{ins("9", "x", "y"), upd("1", "2", "a", unchanged), del("9")},
			"ops[s.t D[] U[[9 x y]] P[]] barrier[U] ops[s.t D[[9]] U[] P[]]"},
		{"truncate is a barrier", []engine.Change{ins("1", "a", "b"), {Op: engine.Truncate, Truncated: []*schema.Table{tbl}}},
			"ops[s.t D[] U[[1 a b]] P[]] barrier[T]"},
	}
	for _, tc := range cases {
		c := NewCompactor()
		for _, ch := range tc.changes {
			c.Add(ch)
		}
		if got := render(c.Flush()); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func render(segs []engine.Segment) string {
	texts := func(vals []engine.Value) []string {
		out := make([]string, len(vals))
		for i, x := range vals {
			out[i] = x.Text
		}
		return out
	}
	var parts []string
	for _, s := range segs {
		if s.Barrier != nil {
			parts = append(parts, fmt.Sprintf("barrier[%c]", s.Barrier.Op))
			continue
		}
		for _, o := range s.Ops {
			var d, u [][]string
			var p []string
			for _, k := range o.Deletes {
				d = append(d, texts(k))
			}
			for _, k := range o.Upserts {
				u = append(u, texts(k))
			}
			for _, x := range o.Partials {
				p = append(p, fmt.Sprintf("{%v %v %v}", texts(x.Key), x.Cols, texts(x.Vals)))
			}
			parts = append(parts, fmt.Sprintf("ops[%s D%v U%v P%v]", o.Table.QualifiedName(), d, u, p))
		}
	}
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " "
		}
		out += p
	}
	return out
}

// A key whose columns come in another order than the table's: the row's key
// from its image must be in the key's order, as Change.Key is, or an insert
// and the delete of the same row are two rows (the delete was lost).
func TestCompactionKeyOrder(t *testing.T) {
	pay := &schema.Table{Schema: "s", Name: "payment", Key: []string{"d", "id"},
		Columns: []schema.Column{{Name: "id"}, {Name: "amount"}, {Name: "d"}, {Name: "note"}}}
	c := NewCompactor()
	c.Add(engine.Change{Table: pay, Op: engine.Insert, New: []engine.Value{v("7"), v("1.00"), v("2022-01-05"), v("x")}})
	c.Add(engine.Change{Table: pay, Op: engine.Delete, Key: []engine.Value{v("2022-01-05"), v("7")}})
	c.Add(engine.Change{Table: pay, Op: engine.Update, New: []engine.Value{v("8"), v("2.00"), v("2022-02-01"), unchanged}})
	if got, want := render(c.Flush()), "ops[s.payment D[[2022-01-05 7]] U[] P[{[2022-02-01 8] [amount] [2.00]}]]"; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}
