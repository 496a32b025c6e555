package postgres

import (
	"testing"

	"github.com/godwit-db/godwit/internal/schema"
)

func TestCreateTableSQL(t *testing.T) {
	tb := &schema.Table{Schema: "Sales", Name: "Order Lines", Columns: []schema.Column{
		{Name: "id", Type: "integer", NotNull: true, Default: `nextval('"Sales"."Order Lines_id_seq"'::regclass)`},
		{Name: "ev", Type: "bigint", NotNull: true, Identity: "ALWAYS"},
		{Name: "name", Type: "text", Collation: `pg_catalog."C"`},
		{Name: "twice", Type: "integer", Generated: "(id * 2)"},
	}, Constraints: []schema.Constraint{
		{Name: "pk", Kind: "p", Def: "PRIMARY KEY (id)"},
		{Name: "positive", Kind: "c", Def: "CHECK ((id > 0)) NOT VALID"},
	}}
	want := `CREATE TABLE "Sales"."Order Lines" (
  "id" integer DEFAULT nextval('"Sales"."Order Lines_id_seq"'::regclass) NOT NULL,
  "ev" bigint GENERATED ALWAYS AS IDENTITY,
  "name" text COLLATE pg_catalog."C",
  "twice" integer GENERATED ALWAYS AS ((id * 2)) STORED
)`
	if got := CreateTableSQL(tb); got != want {
		t.Errorf("CreateTableSQL =\n%s\nwant\n%s", got, want)
	}
	names, cols := SequencesUsed(tb)
	if len(names) != 1 || names[0] != `"Sales"."Order Lines_id_seq"` || cols[0] != "id" {
		t.Errorf("SequencesUsed = %v %v", names, cols)
	}
}
