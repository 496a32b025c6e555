package postgres

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

// Encoders for pgoutput protocol 1 messages, as the walsender sends them.

func u16(b []byte, v uint16) []byte  { return binary.BigEndian.AppendUint16(b, v) }
func u32(b []byte, v uint32) []byte  { return binary.BigEndian.AppendUint32(b, v) }
func u64(b []byte, v uint64) []byte  { return binary.BigEndian.AppendUint64(b, v) }
func cstr(b []byte, s string) []byte { return append(append(b, s...), 0) }

const pgEpochMicros = 946684800 * 1_000_000

func relMsg(id uint32, ns, name string, cols ...string) []byte {
	b := cstr(cstr(u32([]byte{'R'}, id), ns), name)
	b = append(b, 'd')
	b = u16(b, uint16(len(cols)))
	for _, c := range cols {
		b = u32(u32(cstr(append(b, 0), c), 25), 0xFFFFFFFF)
	}
	return b
}

// tuple encodes values: a string is text, nil is NULL, 'u' is unchanged TOAST.
func tuple(vals ...any) []byte {
	b := u16(nil, uint16(len(vals)))
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 'n')
		case byte:
			b = append(b, x)
		case string:
			b = append(u32(append(b, 't'), uint32(len(x))), x...)
		}
	}
	return b
}

func begin() []byte { return u32(u64(u64([]byte{'B'}, 1), 0), 7) }

func commit(end uint64, at time.Time) []byte {
	return u64(u64(u64(append([]byte{'C'}, 0), end-8), end), uint64(at.UnixMicro()-pgEpochMicros))
}

func insert(rel uint32, t []byte) []byte { return append(append(u32([]byte{'I'}, rel), 'N'), t...) }

func update(rel uint32, key, t []byte) []byte {
	b := u32([]byte{'U'}, rel)
	if key != nil {
		b = append(append(b, 'K'), key...)
	}
	return append(append(b, 'N'), t...)
}

func del(rel uint32, key []byte) []byte { return append(append(u32([]byte{'D'}, rel), 'K'), key...) }

func truncate(rels ...uint32) []byte {
	b := append(u32([]byte{'T'}, uint32(len(rels))), 0)
	for _, r := range rels {
		b = u32(b, r)
	}
	return b
}

func TestDecoder(t *testing.T) {
	docs := &schema.Table{Schema: "public", Name: "docs", Key: []string{"id"},
		Columns: []schema.Column{{Name: "id"}, {Name: "title"}, {Name: "body"}, {Name: "g", Generated: "x"}}}
	d := newDecoder([]*schema.Table{docs}, position.LSN(100))
	feed := func(m []byte) []engine.Txn {
		t.Helper()
		out, err := d.decode(m)
		if err != nil {
			t.Fatalf("decode %q: %v", m[0], err)
		}
		return out
	}
	feed(relMsg(1, "public", "docs", "id", "title", "body"))
	feed(begin())
	feed(insert(1, tuple("1", "t", "body")))
	feed(update(1, nil, tuple("1", "t2", byte('u'))))
	feed(update(1, tuple("1", nil, nil), tuple("5", "t3", byte('u'))))
	feed(update(1, tuple("5", nil, nil), tuple("5", nil, "b"))) // an old key equal to the new one is no move
	feed(del(1, tuple("5", nil, nil)))
	feed(truncate(1))
	now := time.Now().Truncate(time.Microsecond)
	txns := feed(commit(200, now))
	if len(txns) != 1 {
		t.Fatalf("want 1 txn, got %d", len(txns))
	}
	txn := txns[0]
	if txn.End != position.LSN(200) || !txn.CommitTime.Equal(now) || txn.More {
		t.Fatalf("txn meta wrong: %+v (want commit time %v)", txn, now)
	}
	ch := txn.Changes
	if len(ch) != 6 {
		t.Fatalf("want 6 changes, got %d: %+v", len(ch), ch)
	}
	if ch[0].Op != engine.Insert || ch[0].New[2].Text != "body" || ch[0].Table != docs {
		t.Errorf("insert: %+v", ch[0])
	}
	if ch[1].Op != engine.Update || ch[1].Key != nil || !ch[1].New[2].Unchanged || ch[1].New[1].Text != "t2" {
		t.Errorf("partial update: %+v", ch[1])
	}
	if ch[2].Key == nil || ch[2].Key[0].Text != "1" || ch[2].New[0].Text != "5" {
		t.Errorf("key move: %+v", ch[2])
	}
	if ch[3].Key != nil || !ch[3].New[1].Null {
		t.Errorf("update with unchanged key: %+v", ch[3])
	}
	if ch[4].Op != engine.Delete || ch[4].Key[0].Text != "5" {
		t.Errorf("delete: %+v", ch[4])
	}
	if ch[5].Op != engine.Truncate || len(ch[5].Truncated) != 1 || ch[5].Truncated[0] != docs {
		t.Errorf("truncate: %+v", ch[5])
	}

	// Transactions at or before skipTo were applied already.
	feed(begin())
	feed(insert(1, tuple("9", "t", "b")))
	if got := feed(commit(100, now)); len(got) != 0 {
		t.Fatalf("applied transaction replayed: %+v", got)
	}

	// Large transactions come in parts.
	d.partSize = 2
	feed(begin())
	var parts []engine.Txn
	for i := 0; i < 5; i++ {
		parts = append(parts, feed(insert(1, tuple("1", "t", "b")))...)
	}
	parts = append(parts, feed(commit(300, now))...)
	if len(parts) != 3 || !parts[0].More || !parts[1].More || parts[2].More || len(parts[2].Changes) != 1 || parts[2].End != position.LSN(300) || parts[0].End != nil {
		t.Fatalf("parts wrong: %+v", parts)
	}
}

func TestDecoderErrors(t *testing.T) {
	tb := &schema.Table{Schema: "public", Name: "t", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "a"}}}
	d := newDecoder([]*schema.Table{tb}, 0)
	if _, err := d.decode(relMsg(1, "public", "t", "id", "a", "b")); err == nil || !strings.Contains(err.Error(), "changed on the source") {
		t.Fatalf("want schema change error, got %v", err)
	}
	var perm *engine.PermanentError
	if _, err := d.decode(relMsg(1, "public", "t", "id", "a", "b")); !asPermanent(err, &perm) {
		t.Fatalf("schema change is not permanent: %v", err)
	}
	if _, err := d.decode(relMsg(2, "public", "t_renamed", "id", "a")); !asPermanent(err, &perm) {
		t.Fatalf("a renamed table must stop the migration, got %v", err)
	}
	if _, err := d.decode(insert(1, tuple("1", "a"))); err == nil {
		t.Fatal("change outside a transaction accepted")
	}
	d.decode(relMsg(1, "public", "t", "id", "a"))
	d.decode(begin())
	if _, err := d.decode(insert(7, tuple("1", "a"))); err == nil {
		t.Fatal("change before its relation accepted")
	}
	for _, bad := range [][]byte{insert(1, tuple("1")), insert(1, tuple("1", "a")[:5]), []byte{'I', 0, 0}, del(1, []byte{0})} {
		if _, err := d.decode(bad); err == nil {
			t.Errorf("malformed message %q accepted", bad)
		}
	}
}

func asPermanent(err error, target **engine.PermanentError) bool {
	p, ok := err.(*engine.PermanentError)
	*target = p
	return ok
}

// FuzzDecode feeds arbitrary bytes after a valid relation: the decoder must
// return errors, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(insert(1, tuple("1", "a")))
	f.Add(update(1, tuple("1", nil), tuple("2", byte('u'))))
	f.Add(del(1, tuple("1", nil)))
	f.Fuzz(func(t *testing.T, msg []byte) {
		tb := &schema.Table{Schema: "public", Name: "t", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "a"}}}
		d := newDecoder([]*schema.Table{tb}, 0)
		if _, err := d.decode(relMsg(1, "public", "t", "id", "a")); err != nil {
			t.Fatal(err)
		}
		d.decode(begin())
		_, _ = d.decode(msg)
	})
}

// TestDecoderWholeRow: a table without a key but with REPLICA IDENTITY FULL
// gets whole old rows ('O'), and an update's unchanged TOAST values are taken
// from the old row; every part of a transaction carries its final LSN. An old
// row with a value missing means the identity is no longer FULL: permanent.
func TestDecoderWholeRow(t *testing.T) {
	logs := &schema.Table{Schema: "public", Name: "logs", ReplicaIdentity: "f",
		Columns: []schema.Column{{Name: "n"}, {Name: "body"}}}
	d := newDecoder([]*schema.Table{logs}, 0)
	d.partSize = 2
	feed := func(m []byte) []engine.Txn {
		t.Helper()
		out, err := d.decode(m)
		if err != nil {
			t.Fatalf("decode %q: %v", m[0], err)
		}
		return out
	}
	old := func(op byte, rel uint32, o, n []byte) []byte {
		b := append(append(u32([]byte{op}, rel), 'O'), o...)
		if n != nil {
			b = append(append(b, 'N'), n...)
		}
		return b
	}
	feed(relMsg(1, "public", "logs", "n", "body"))
	feed(begin())
	txns := feed(insert(1, tuple("1", "big")))
	txns = append(txns, feed(old('U', 1, tuple("1", "big"), tuple("2", byte('u'))))...)
	txns = append(txns, feed(old('D', 1, tuple("2", nil), nil))...)
	txns = append(txns, feed(commit(50, time.Now()))...)
	if len(txns) != 2 || txns[0].Final != position.LSN(1) || txns[1].Final != position.LSN(1) || txns[1].End != position.LSN(50) {
		t.Fatalf("parts: %+v", txns)
	}
	up, de := txns[0].Changes[1], txns[1].Changes[0]
	if up.Op != engine.Update || up.Old[0].Text != "1" || up.New[0].Text != "2" || up.New[1].Text != "big" || up.New[1].Unchanged || up.Key != nil {
		t.Errorf("update: %+v", up)
	}
	if de.Op != engine.Delete || de.Old[0].Text != "2" || !de.Old[1].Null || de.Key != nil {
		t.Errorf("delete: %+v", de)
	}
	feed(begin())
	var perm *engine.PermanentError
	if _, err := d.decode(old('D', 1, tuple("2", byte('u')), nil)); !asPermanent(err, &perm) || !strings.Contains(err.Error(), "REPLICA IDENTITY FULL") {
		t.Errorf("old row with a value missing: %v", err)
	}
	if _, err := d.decode(update(1, nil, tuple("3", "x"))); !asPermanent(err, &perm) {
		t.Errorf("update without its old row: %v", err)
	}
}
