package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
)

func tuple(vals ...any) *pglogrepl.TupleData {
	td := &pglogrepl.TupleData{ColumnNum: uint16(len(vals))}
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			td.Columns = append(td.Columns, &pglogrepl.TupleDataColumn{DataType: 'n'})
		case byte:
			td.Columns = append(td.Columns, &pglogrepl.TupleDataColumn{DataType: x})
		case string:
			td.Columns = append(td.Columns, &pglogrepl.TupleDataColumn{DataType: 't', Data: []byte(x)})
		}
	}
	return td
}

func rel(id uint32, ns, name string, cols ...string) *pglogrepl.RelationMessage {
	m := &pglogrepl.RelationMessage{RelationID: id, Namespace: ns, RelationName: name}
	for _, c := range cols {
		m.Columns = append(m.Columns, &pglogrepl.RelationMessageColumn{Name: c})
	}
	return m
}

func TestDecoder(t *testing.T) {
	docs := &schema.Table{Schema: "public", Name: "docs", Key: []string{"id"},
		Columns: []schema.Column{{Name: "id"}, {Name: "title"}, {Name: "body"}, {Name: "g", Generated: "x"}}}
	d := newDecoder([]*schema.Table{docs}, position.LSN(100))
	feed := func(m pglogrepl.Message) []engine.Txn {
		t.Helper()
		out, err := d.decode(m)
		if err != nil {
			t.Fatalf("decode %T: %v", m, err)
		}
		return out
	}
	feed(rel(1, "public", "docs", "id", "title", "body"))
	feed(rel(2, "public", "other", "x"))
	feed(&pglogrepl.BeginMessage{})
	feed(&pglogrepl.InsertMessage{RelationID: 1, Tuple: tuple("1", "t", "body")})
	feed(&pglogrepl.InsertMessage{RelationID: 2, Tuple: tuple("x")}) // not migrated: ignored
	feed(&pglogrepl.UpdateMessage{RelationID: 1, NewTuple: tuple("1", "t2", byte('u'))})
	feed(&pglogrepl.UpdateMessage{RelationID: 1, OldTupleType: 'K', OldTuple: tuple("1", nil, nil), NewTuple: tuple("5", "t3", byte('u'))})
	feed(&pglogrepl.DeleteMessage{RelationID: 1, OldTupleType: 'K', OldTuple: tuple("5", nil, nil)})
	feed(&pglogrepl.TruncateMessage{RelationIDs: []uint32{1, 2}})
	now := time.Now()
	txns := feed(&pglogrepl.CommitMessage{TransactionEndLSN: 200, CommitTime: now})
	if len(txns) != 1 {
		t.Fatalf("want 1 txn, got %d", len(txns))
	}
	txn := txns[0]
	if txn.End != position.LSN(200) || !txn.CommitTime.Equal(now) || txn.More {
		t.Fatalf("txn meta wrong: %+v", txn)
	}
	ch := txn.Changes
	if len(ch) != 5 {
		t.Fatalf("want 5 changes, got %d", len(ch))
	}
	if ch[0].Op != engine.Insert || ch[0].New[2].Text != "body" {
		t.Errorf("insert: %+v", ch[0])
	}
	if ch[1].Op != engine.Update || ch[1].Key != nil || !ch[1].New[2].Unchanged {
		t.Errorf("partial update: %+v", ch[1])
	}
	if ch[2].Key == nil || ch[2].Key[0].Text != "1" || ch[2].New[0].Text != "5" {
		t.Errorf("key move: %+v", ch[2])
	}
	if ch[3].Op != engine.Delete || ch[3].Key[0].Text != "5" {
		t.Errorf("delete: %+v", ch[3])
	}
	if ch[4].Op != engine.Truncate || len(ch[4].Truncated) != 1 || ch[4].Truncated[0] != docs {
		t.Errorf("truncate: %+v", ch[4])
	}

	// Transactions at or before skipTo were applied already.
	feed(&pglogrepl.BeginMessage{})
	feed(&pglogrepl.InsertMessage{RelationID: 1, Tuple: tuple("9", "t", "b")})
	if got := feed(&pglogrepl.CommitMessage{TransactionEndLSN: 100}); len(got) != 0 {
		t.Fatalf("applied transaction replayed: %+v", got)
	}

	// Large transactions come in parts.
	d.partSize = 2
	feed(&pglogrepl.BeginMessage{})
	var parts []engine.Txn
	for i := 0; i < 5; i++ {
		parts = append(parts, feed(&pglogrepl.InsertMessage{RelationID: 1, Tuple: tuple("1", "t", "b")})...)
	}
	parts = append(parts, feed(&pglogrepl.CommitMessage{TransactionEndLSN: 300})...)
	if len(parts) != 3 || !parts[0].More || !parts[1].More || parts[2].More || len(parts[2].Changes) != 1 || parts[2].End != position.LSN(300) || parts[0].End != nil {
		t.Fatalf("parts wrong: %+v", parts)
	}
}

func TestDecoderRefusesChangedTable(t *testing.T) {
	tb := &schema.Table{Schema: "public", Name: "t", Key: []string{"id"}, Columns: []schema.Column{{Name: "id"}, {Name: "a"}}}
	d := newDecoder([]*schema.Table{tb}, 0)
	_, err := d.decode(rel(1, "public", "t", "id", "a", "b"))
	if err == nil || !strings.Contains(err.Error(), "changed on the source") {
		t.Fatalf("want schema change error, got %v", err)
	}
	if _, err := d.decode(&pglogrepl.InsertMessage{RelationID: 7}); err == nil {
		t.Fatal("change before relation accepted")
	}
}
