package postgres

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/schema"
)

const tablesSQL = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispartition, c.relreplident::text,
       coalesce((SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), ''),
       c.reltuples::bigint, pg_table_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_godwit')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND c.relpersistence = 'p'
ORDER BY n.nspname, c.relname`

// columnsSQL reads each column with, for domains, the base type under every
// domain level, the labels of an enum (or of an array's enum elements), and
// whether a counter fills it (identity, or a default on a sequence it owns).
const columnsSQL = `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' ELSE '' END,
       CASE WHEN a.attgenerated <> '' THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
            ELSE '' END,
       a.attidentity <> '' OR (a.attgenerated = '' AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' AND EXISTS (
         SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
         WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
           AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a')),
       bt.typtext, bt.labels
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
CROSS JOIN LATERAL (
  WITH RECURSIVE base(oid, typmod, typtype, depth) AS (
    SELECT a.atttypid, a.atttypmod, t.typtype, 0
    UNION ALL
    SELECT b.typbasetype, b.typtypmod, bb.typtype, base.depth + 1
    FROM base JOIN pg_type b ON b.oid = base.oid JOIN pg_type bb ON bb.oid = b.typbasetype
    WHERE base.typtype = 'd')
  SELECT format_type(base.oid, base.typmod) AS typtext,
         (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
          WHERE e.enumtypid = CASE WHEN bt.typcategory = 'A' THEN bt.typelem ELSE base.oid END) AS labels
  FROM base JOIN pg_type bt ON bt.oid = base.oid
  ORDER BY base.depth DESC LIMIT 1) bt
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

const constraintsSQL = `
SELECT co.conname, co.contype::text, pg_get_constraintdef(co.oid),
       CASE WHEN co.confrelid <> 0 THEN (SELECT rn.nspname || '.' || r.relname FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = co.confrelid) ELSE '' END,
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(co.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.num), '{}'),
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(co.confkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.num), '{}'),
       CASE co.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE '' END,
       CASE co.confupdtype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE '' END
FROM pg_constraint co
WHERE co.conrelid = $1 AND co.contype IN ('p', 'u', 'c', 'f', 'x')
ORDER BY co.contype = 'p' DESC, co.conname`

// Indexes that back no constraint; key candidates are unique, total, plain-column
// indexes over NOT NULL columns. The last columns are the key columns of a
// plain index (btree or hash, on columns, not partial), which another engine
// can rebuild, and whether it is unique.
const indexesSQL = `
SELECT ic.relname, pg_get_indexdef(i.indexrelid),
       i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indimmediate
         AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) k(num) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num WHERE NOT a.attnotnull)
         AND 0 <> ALL (i.indkey::int2[]),
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num), '{}'),
       EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid),
       CASE WHEN i.indexprs IS NULL AND i.indpred IS NULL AND am.amname IN ('btree', 'hash')
                 AND 0 <> ALL ((i.indkey::int2[])[0:i.indnkeyatts - 1])
            THEN coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY k(num, ord)
                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num), '{}')
            ELSE '{}' END,
       i.indisunique
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
WHERE i.indrelid = $1
ORDER BY ic.relname`

const sequencesSQL = `
SELECT format('%I.%I', sn.nspname, s.relname)
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
ORDER BY 1`

// readTables reads the catalog of every user table f selects.
func readTables(ctx context.Context, conn *pgx.Conn, f schema.Filter) ([]*schema.Table, error) {
	type rel struct {
		oid       uint32
		t         *schema.Table
		kind      string
		partition bool
	}
	rows, err := conn.Query(ctx, tablesSQL)
	if err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	var rels []rel
	for rows.Next() {
		var r rel
		r.t = &schema.Table{}
		if err := rows.Scan(&r.oid, &r.t.Schema, &r.t.Name, &r.kind, &r.partition, &r.t.ReplicaIdentity, &r.t.ReplicaIdentityIndex, &r.t.Rows, &r.t.Bytes); err != nil {
			return nil, err
		}
		if f.Match(r.t.QualifiedName()) {
			rels = append(rels, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	var out []*schema.Table
	for _, r := range rels {
		if r.kind == "p" || r.partition {
			return nil, fmt.Errorf("table %s is partitioned (or a partition): not supported yet; exclude it with --exclude %q", r.t.QualifiedName(), r.t.QualifiedName())
		}
		if err := describeTable(ctx, conn, r.oid, r.t); err != nil {
			return nil, fmt.Errorf("reading table %s: %w", r.t.QualifiedName(), err)
		}
		out = append(out, r.t)
	}
	return out, nil
}

func describeTable(ctx context.Context, conn *pgx.Conn, oid uint32, t *schema.Table) error {
	rows, err := conn.Query(ctx, columnsSQL, oid)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c schema.Column
		var base string
		var labels []string
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.Default, &c.Identity, &c.Generated, &c.Collation, &c.AutoIncrement, &base, &labels); err != nil {
			return err
		}
		if base != c.Type || labels != nil {
			// A domain or an enum: its neutral type needs the catalog (Neutral returns it).
			nt := parseType(base, labels)
			nt.Native = c.Type
			c.Neutral = &nt
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = conn.Query(ctx, constraintsSQL, oid)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c schema.Constraint
		var cols []string
		if err := rows.Scan(&c.Name, &c.Kind, &c.Def, &c.RefTable, &cols, &c.RefColumns, &c.OnDelete, &c.OnUpdate); err != nil {
			return err
		}
		if c.Kind == "p" {
			t.Key = cols
		}
		switch c.Kind {
		case "p", "u", "f":
			c.Columns = cols
		}
		if c.Kind != "f" {
			c.RefColumns, c.OnDelete, c.OnUpdate = nil, "", ""
		}
		t.Constraints = append(t.Constraints, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	type candidate struct {
		name string
		cols []string
	}
	var candidates []candidate
	rows, err = conn.Query(ctx, indexesSQL, oid)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ix schema.Index
		var keyable, backsConstraint bool
		var cols []string
		if err := rows.Scan(&ix.Name, &ix.Def, &keyable, &cols, &backsConstraint, &ix.Columns, &ix.Unique); err != nil {
			return err
		}
		if keyable {
			candidates = append(candidates, candidate{ix.Name, cols})
		}
		if !backsConstraint {
			t.Indexes = append(t.Indexes, ix)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(t.Key) == 0 && len(candidates) > 0 {
		// Fewest columns first, then by name: a stable, cheap key.
		sort.SliceStable(candidates, func(i, j int) bool { return len(candidates[i].cols) < len(candidates[j].cols) })
		t.Key, t.KeyIndex = candidates[0].cols, candidates[0].name
	}

	rows, err = conn.Query(ctx, sequencesSQL, oid)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		t.Sequences = append(t.Sequences, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if t.Rows < 0 { // never analyzed: count, so progress has a real denominator
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+only(t)).Scan(&t.Rows); err != nil {
			return err
		}
	}
	return nil
}
