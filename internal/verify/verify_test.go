package verify

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

var tbl = &schema.Table{Schema: "s", Name: "t", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "v"}}}

// memTable is an in-memory side with integer keys; onRead runs before every
// read so a test can move rows between reads, as a live source does.
type memTable struct {
	rows   map[int]string
	onRead func()
}

func (m *memTable) keys(lo, hi []string) []int {
	var out []int
	for k := range m.rows {
		if lo != nil && k <= atoi(lo[0]) || hi != nil && k > atoi(hi[0]) {
			continue
		}
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (m *memTable) read() {
	if m.onRead != nil {
		m.onRead()
	}
}

func (m *memTable) NextBound(_ context.Context, _ *schema.Table, lo []string, rows int64) ([]string, error) {
	ks := m.keys(lo, nil)
	if int64(len(ks)) <= rows {
		return nil, nil
	}
	return []string{strconv.Itoa(ks[rows-1])}, nil
}

func (m *memTable) ChunkHash(_ context.Context, _ *schema.Table, lo, hi []string) (int64, string, error) {
	m.read()
	var parts []string
	for _, k := range m.keys(lo, hi) {
		parts = append(parts, fmt.Sprint(k, "=", m.rows[k]))
	}
	return int64(len(parts)), strings.Join(parts, ","), nil
}

func (m *memTable) RowHashes(_ context.Context, _ *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	m.read()
	var out []engine.RowHash
	for _, k := range m.keys(lo, hi) {
		out = append(out, engine.RowHash{Key: []string{strconv.Itoa(k)}, Hash: m.rows[k]})
	}
	return out, nil
}

func (m *memTable) Rows(_ context.Context, _ *schema.Table, keys [][]string) ([][]*string, error) {
	m.read()
	out := make([][]*string, len(keys))
	for i, k := range keys {
		if v, ok := m.rows[atoi(k[0])]; ok {
			id, val := k[0], v
			out[i] = []*string{&id, &val}
		}
	}
	return out, nil
}

func table(n int) map[int]string {
	m := map[int]string{}
	for i := 1; i <= n; i++ {
		m[i] = "v" + strconv.Itoa(i)
	}
	return m
}

func TestFindsEveryKindOfDifference(t *testing.T) {
	src, tgt := &memTable{rows: table(100)}, &memTable{rows: table(100)}
	tgt.rows[5] = "corrupt"
	delete(tgt.rows, 50)
	tgt.rows[1000] = "extra"
	var chunks int
	res, err := Run(context.Background(), src, tgt, []*schema.Table{tbl}, Options{ChunkRows: 10,
		OnChunk: func(string, []string, int64, []Difference) { chunks++ }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range res.Differences {
		got[d.Key["id"]] = d.Kind
		if d.Kind == "changed" && (len(d.Columns) != 1 || d.Columns[0] != "v") {
			t.Errorf("changed columns: %+v", d)
		}
	}
	want := map[string]string{"5": "changed", "50": "missing", "1000": "extra"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("differences %v, want %v", got, want)
	}
	if res.Rows != 100 || chunks != 10 {
		t.Fatalf("rows %d chunks %d, want 100 rows in 10 chunks", res.Rows, chunks)
	}
}

// A row the source changes between the confirmation's reads, with replay
// running ahead of the first read (as it does), is in flight: it is read again,
// never reported; once it settles it compares equal.
func TestRowsInFlightAreNotDifferences(t *testing.T) {
	src, tgt := &memTable{rows: table(20)}, &memTable{rows: table(20)}
	src.rows[3], tgt.rows[3] = "w0", "stale" // replay has not caught up with row 3 yet
	writes := 0
	tgt.onRead = func() {
		if writes < 4 { // the source moves row 3 again and replay applies it at once
			writes++
			src.rows[3] = "w" + strconv.Itoa(writes)
			tgt.rows[3] = src.rows[3]
		}
	}
	res, err := Run(context.Background(), src, tgt, []*schema.Table{tbl}, Options{ChunkRows: 100, Live: true, Rounds: 10,
		SourcePosition: func(context.Context) (position.Position, error) { return position.LSN(1), nil },
		WaitApplied:    func(context.Context, position.Position) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Differences) != 0 || len(res.Unsettled) != 0 || writes != 4 {
		t.Fatalf("moving row reported: %+v %+v (writes %d)", res.Differences, res.Unsettled, writes)
	}
}

// A row that never stops changing is reported as unsettled, not as a difference.
func TestUnsettledRows(t *testing.T) {
	src, tgt := &memTable{rows: table(5)}, &memTable{rows: table(5)}
	n := 0
	src.onRead = func() { n++; src.rows[2] = "w" + strconv.Itoa(n) }
	res, err := Run(context.Background(), src, tgt, []*schema.Table{tbl}, Options{ChunkRows: 100, Live: true, Rounds: 3,
		SourcePosition: func(context.Context) (position.Position, error) { return position.LSN(1), nil },
		WaitApplied:    func(context.Context, position.Position) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Differences) != 0 || len(res.Unsettled) != 1 || res.Unsettled[0].Key["id"] != "2" {
		t.Fatalf("want row 2 unsettled only: %+v %+v", res.Differences, res.Unsettled)
	}
}

func TestDiffKeys(t *testing.T) {
	a := []engine.RowHash{{Key: []string{"1"}, Hash: "x"}, {Key: []string{"2"}, Hash: "y"}, {Key: []string{"3"}, Hash: "z"}}
	b := []engine.RowHash{{Key: []string{"2"}, Hash: "y"}, {Key: []string{"3"}, Hash: "Z"}, {Key: []string{"4"}, Hash: "w"}}
	if got := fmt.Sprint(diffKeys(a, b)); got != "[[1] [3] [4]]" {
		t.Fatalf("diffKeys = %s", got)
	}
}

// A table without a key (identified by its whole row) is compared as one
// multiset: equal passes; a target that differs while the source stands still
// is a difference naming the table, live or not; one that differs while the
// source keeps changing is unsettled.
func TestWholeRowTable(t *testing.T) {
	logs := &schema.Table{Schema: "s", Name: "logs", ReplicaIdentity: "f", Columns: []schema.Column{{Name: "v"}}}
	live := Options{Live: true, Rounds: 3,
		SourcePosition: func(context.Context) (position.Position, error) { return position.LSN(1), nil },
		WaitApplied:    func(context.Context, position.Position) error { return nil }}
	run := func(src, tgt *memTable, opts Options) *Result {
		t.Helper()
		res, err := Run(context.Background(), src, tgt, []*schema.Table{logs}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(&memTable{rows: table(9)}, &memTable{rows: table(9)}, live); len(res.Differences)+len(res.Unsettled) != 0 || res.Rows != 9 {
		t.Fatalf("equal tables: %+v", res)
	}
	for _, opts := range []Options{{}, live} {
		tgt := &memTable{rows: table(9)}
		delete(tgt.rows, 4)
		res := run(&memTable{rows: table(9)}, tgt, opts)
		if len(res.Differences) != 1 || res.Differences[0].Kind != "rows differ" || !strings.Contains(res.Differences[0].String(), "s.logs: rows differ (no key: 9 rows on the source, 8 on the target") {
			t.Errorf("live %v: %+v", opts.Live, res)
		}
	}
	src := &memTable{rows: table(9)}
	n := 0
	src.onRead = func() { n++; src.rows[2] = "w" + strconv.Itoa(n) }
	if res := run(src, &memTable{rows: table(9)}, live); len(res.Differences) != 0 || len(res.Unsettled) != 1 {
		t.Errorf("a table that keeps changing: %+v", res)
	}
}
