package postgres

import (
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/schema"
)

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"a":          `"a"`,
		"Order":      `"Order"`,
		`we"ird`:     `"we""ird"`,
		"with space": `"with space"`,
		"":           `""`,
	}
	for in, want := range cases {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
	if got := QuoteLiteral("it's"); got != `'it''s'` {
		t.Errorf("QuoteLiteral = %s", got)
	}
	if got := QuoteLiteral(`back\slash`); got != `'back\slash'` {
		t.Errorf("QuoteLiteral backslash = %s", got)
	}
}

func FuzzQuoteIdent(f *testing.F) {
	f.Add(`a"b`)
	f.Fuzz(func(t *testing.T, s string) {
		q := QuoteIdent(s)
		if !strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`) || len(q) < 2 {
			t.Fatalf("not wrapped: %s", q)
		}
		inner := q[1 : len(q)-1]
		if strings.ReplaceAll(inner, `""`, "") != strings.ReplaceAll(s, `"`, "") {
			t.Fatalf("unbalanced quotes in %s", q)
		}
		if strings.ReplaceAll(inner, `""`, `"`) != s {
			t.Fatalf("does not unquote back: %s", q)
		}
	})
}

var singleKeyTable = &schema.Table{Schema: "public", Name: "accounts", Key: []string{"id"},
	Columns: []schema.Column{{Name: "id", Type: "bigint"}, {Name: "owner", Type: "text"}, {Name: "dbl", Type: "integer", Generated: "id*2"}}}

var composite = &schema.Table{Schema: "Sales", Name: "Order Lines", Key: []string{"region", "sku"},
	Columns: []schema.Column{{Name: "region", Type: "integer"}, {Name: "sku", Type: "text"}, {Name: "qty", Type: "integer", Identity: "ALWAYS"}}}

func TestRangePredicate(t *testing.T) {
	cases := []struct {
		t      *schema.Table
		lo, hi []string
		want   string
	}{
		{singleKeyTable, nil, nil, "true"},
		{singleKeyTable, []string{"10"}, nil, `"id" > '10'::bigint`},
		{singleKeyTable, nil, []string{"20"}, `"id" <= '20'::bigint`},
		{singleKeyTable, []string{"10"}, []string{"20"}, `"id" > '10'::bigint AND "id" <= '20'::bigint`},
		{composite, []string{"1", "a'b"}, nil, `("region", "sku") > ('1'::integer, 'a''b'::text)`},
	}
	for _, c := range cases {
		if got := RangePredicate(c.t, c.lo, c.hi); got != c.want {
			t.Errorf("RangePredicate(%v,%v) =\n %s\nwant\n %s", c.lo, c.hi, got, c.want)
		}
	}
}

func TestCopySQL(t *testing.T) {
	if got, want := CopyOutSQL(singleKeyTable, nil, []string{"5"}), `COPY (SELECT "id", "owner" FROM ONLY "public"."accounts" WHERE "id" <= '5'::bigint) TO STDOUT (FORMAT binary)`; got != want {
		t.Errorf("CopyOutSQL =\n %s\nwant\n %s", got, want)
	}
	if got, want := CopyInSQL(composite), `COPY "Sales"."Order Lines" ("region", "sku", "qty") FROM STDIN (FORMAT binary)`; got != want {
		t.Errorf("CopyInSQL = %s", got)
	}
}

func TestApplySQL(t *testing.T) {
	got := UpsertSQL(singleKeyTable)
	want := `INSERT INTO "public"."accounts" ("id", "owner") SELECT u."id"::bigint, u."owner"::text FROM unnest($1::text[], $2::text[]) AS u("id", "owner") ON CONFLICT ("id") DO UPDATE SET "owner" = EXCLUDED."owner"`
	if got != want {
		t.Errorf("UpsertSQL =\n %s\nwant\n %s", got, want)
	}
	got = UpsertSQL(composite)
	if !strings.Contains(got, "OVERRIDING SYSTEM VALUE") || !strings.HasSuffix(got, `ON CONFLICT ("region", "sku") DO NOTHING`) {
		t.Errorf("UpsertSQL composite = %s", got)
	}
	keyOnly := &schema.Table{Schema: "s", Name: "k", Key: []string{"a"}, Columns: []schema.Column{{Name: "a", Type: "int"}}}
	if got := UpsertSQL(keyOnly); !strings.HasSuffix(got, "ON CONFLICT (\"a\") DO NOTHING") {
		t.Errorf("UpsertSQL key-only = %s", got)
	}
	got = DeleteSQL(composite)
	want = `DELETE FROM "Sales"."Order Lines" AS t USING unnest($1::text[], $2::text[]) AS u("region", "sku") WHERE t."region" = u."region"::integer AND t."sku" = u."sku"::text`
	if got != want {
		t.Errorf("DeleteSQL =\n %s\nwant\n %s", got, want)
	}
	got = PartialUpdateSQL(singleKeyTable, []string{"owner"})
	want = `UPDATE "public"."accounts" AS t SET "owner" = u."owner"::text FROM unnest($1::text[], $2::text[]) AS u("id", "owner") WHERE t."id" = u."id"::bigint`
	if got != want {
		t.Errorf("PartialUpdateSQL =\n %s\nwant\n %s", got, want)
	}
	drop, move := MovedKeySQL(singleKeyTable, []string{"id", "owner"})
	if want := `DELETE FROM "public"."accounts" WHERE "id" = $1::bigint AND EXISTS (SELECT 1 FROM "public"."accounts" WHERE "id" = $2::bigint)`; drop != want {
		t.Errorf("MovedKeySQL drop =\n %s\nwant\n %s", drop, want)
	}
	if want := `UPDATE "public"."accounts" SET "id" = $2::bigint, "owner" = $3::text WHERE "id" = $1::bigint`; move != want {
		t.Errorf("MovedKeySQL move =\n %s\nwant\n %s", move, want)
	}
}
