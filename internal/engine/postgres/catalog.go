package postgres

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-db/godwit/internal/schema"
)

// tablesSQL lists every user table, with the root of the partition tree of
// each partition.
const tablesSQL = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispartition, c.relreplident::text,
       coalesce((SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), ''),
       c.reltuples::bigint, pg_table_size(c.oid),
       coalesce(rn.nspname || '.' || r.relname, '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON c.relispartition AND r.oid = pg_partition_root(c.oid)
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_godwit')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND c.relpersistence = 'p'
ORDER BY n.nspname, c.relname`

// partitionsSQL lists the partitions below a partitioned table ($1), parents
// first, each with its index that belongs to the table's key index: the
// primary key's, or the unique index named $2.
const partitionsSQL = `
WITH key AS (
  SELECT i.indexrelid FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
  WHERE i.indrelid = $1 AND CASE WHEN $2 = '' THEN i.indisprimary ELSE ic.relname = $2 END)
SELECT c.oid, n.nspname, c.relname, pn.nspname, p.relname, c.relkind::text, c.relpersistence::text,
       coalesce(pg_get_expr(c.relpartbound, c.oid), ''),
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) ELSE '' END,
       c.relreplident::text,
       coalesce((SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), ''),
       coalesce((SELECT ic.relname FROM key CROSS JOIN LATERAL pg_partition_tree(key.indexrelid) k
                 JOIN pg_index i ON i.indexrelid = k.relid JOIN pg_class ic ON ic.oid = k.relid
                 WHERE i.indrelid = c.oid), ''),
       c.reltuples::bigint, pg_table_size(c.oid)
FROM pg_partition_tree($1::oid::regclass) t
JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class p ON p.oid = t.parentrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE t.level > 0
ORDER BY t.level, n.nspname, c.relname`

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

// constraintsSQL reads a table's constraints, leaving out the clones
// PostgreSQL makes of a partitioned table's (and, unless $2, the inherited ones).
const constraintsSQL = `
SELECT co.conname, co.contype::text, pg_get_constraintdef(co.oid),
       coalesce((SELECT rn.nspname FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = co.confrelid), ''),
       coalesce((SELECT r.relname FROM pg_class r WHERE r.oid = co.confrelid), ''),
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(co.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.num), '{}'),
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(co.confkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.num), '{}'),
       CASE co.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE '' END,
       CASE co.confupdtype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE '' END
FROM pg_constraint co
WHERE co.conrelid = $1 AND co.contype IN ('p', 'u', 'c', 'f', 'x')
  AND co.conparentid = 0 AND ($2 OR co.conislocal)
ORDER BY co.contype = 'p' DESC, co.conname`

// Indexes that back no constraint and are no partition of a parent's index
// (a partitioned table's index covers those); key candidates are unique, total, plain-column
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
WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
ORDER BY ic.relname`

const sequencesSQL = `
SELECT format('%I.%I', sn.nspname, s.relname)
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
ORDER BY 1`

// readTables reads the catalog of every user table f selects. A partitioned
// table is one table, its partitions included; a partition is never a table of
// its own.
func readTables(ctx context.Context, conn *pgx.Conn, f schema.Filter) ([]*schema.Table, error) {
	type rel struct {
		oid       uint32
		t         *schema.Table
		kind      string
		partition bool
		root      string // qualified root of a partition's tree
	}
	rows, err := conn.Query(ctx, tablesSQL)
	if err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	var rels []rel
	for rows.Next() {
		var r rel
		r.t = &schema.Table{}
		if err := rows.Scan(&r.oid, &r.t.Schema, &r.t.Name, &r.kind, &r.partition, &r.t.ReplicaIdentity, &r.t.ReplicaIdentityIndex, &r.t.Rows, &r.t.Bytes, &r.root); err != nil {
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
		if r.partition {
			if !f.Match(r.root) && excludedBy(f, r.root) == "" {
				return nil, fmt.Errorf("table %s is a partition of %s, and godwit migrates a partitioned table whole: select %s instead (e.g. --include %s)",
					r.t.QualifiedName(), r.root, r.root, r.root)
			}
			continue // migrated with its root, or excluded with it
		}
		if err := describeTable(ctx, conn, r.oid, r.t); err != nil {
			return nil, fmt.Errorf("reading table %s: %w", r.t.QualifiedName(), err)
		}
		if r.kind == "p" {
			if err := readPartitions(ctx, conn, r.oid, r.t, f); err != nil {
				return nil, err
			}
		}
		if r.t.Rows < 0 { // never analyzed: count, so progress has a real denominator
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+only(r.t)).Scan(&r.t.Rows); err != nil {
				return nil, fmt.Errorf("counting the rows of %s: %w", r.t.QualifiedName(), err)
			}
		}
		out = append(out, r.t)
	}
	return out, nil
}

// readPartitions fills t.Partitioning, and t's rows and bytes with the sums
// over its partitions. A partition f excludes is an error: it cannot be left out.
func readPartitions(ctx context.Context, conn *pgx.Conn, oid uint32, t *schema.Table, f schema.Filter) error {
	t.Partitioning = &schema.Partitioning{}
	if err := conn.QueryRow(ctx, "SELECT pg_get_partkeydef($1)", oid).Scan(&t.Partitioning.Key); err != nil {
		return fmt.Errorf("reading the partition key of %s: %w", t.QualifiedName(), err)
	}
	rows, err := conn.Query(ctx, partitionsSQL, oid, t.KeyIndex)
	if err != nil {
		return fmt.Errorf("reading the partitions of %s: %w", t.QualifiedName(), err)
	}
	type part struct {
		oid               uint32
		kind, persistence string
		rows, bytes       int64
	}
	var parts []part
	for rows.Next() {
		var p part
		var sp schema.Partition
		if err := rows.Scan(&p.oid, &sp.Schema, &sp.Name, &sp.ParentSchema, &sp.ParentName, &p.kind, &p.persistence,
			&sp.Bound, &sp.Key, &sp.ReplicaIdentity, &sp.ReplicaIdentityIndex, &sp.KeyIndex, &p.rows, &p.bytes); err != nil {
			rows.Close()
			return err
		}
		parts = append(parts, p)
		t.Partitioning.Partitions = append(t.Partitioning.Partitions, sp)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the partitions of %s: %w", t.QualifiedName(), err)
	}
	t.Rows, t.Bytes = 0, 0
	for i, p := range parts {
		sp := &t.Partitioning.Partitions[i]
		name := sp.QualifiedName()
		switch {
		case p.kind == "f":
			return fmt.Errorf("partition %s of %s is a foreign table, which godwit cannot migrate: detach it first, or --exclude %s", name, t.QualifiedName(), t.QualifiedName())
		case p.persistence != "p":
			return fmt.Errorf("partition %s of %s is UNLOGGED, so its changes cannot be captured: run ALTER TABLE %s SET LOGGED first, or --exclude %s",
				name, t.QualifiedName(), partQual(sp), t.QualifiedName())
		}
		if pat := excludedBy(f, name); pat != "" {
			return fmt.Errorf("partition %s matches --exclude %s, but its table %s is migrated with all its partitions: exclude %s as well, or narrow the pattern",
				name, pat, t.QualifiedName(), t.QualifiedName())
		}
		if t.Rows >= 0 && p.kind == "r" {
			if p.rows < 0 { // never analyzed: readTables counts
				t.Rows = -1
			} else {
				t.Rows += p.rows
			}
		}
		t.Bytes += p.bytes
		if sp.Constraints, _, err = readConstraints(ctx, conn, p.oid, false); err != nil {
			return fmt.Errorf("reading partition %s: %w", name, err)
		}
		if sp.Indexes, _, err = readIndexes(ctx, conn, p.oid); err != nil {
			return fmt.Errorf("reading partition %s: %w", name, err)
		}
	}
	return nil
}

// excludedBy returns the exclude pattern of f that name matches, or "".
func excludedBy(f schema.Filter, name string) string {
	for _, pat := range f.Exclude {
		if ok, _ := path.Match(pat, name); ok {
			return pat
		}
	}
	return ""
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

	if t.Constraints, t.Key, err = readConstraints(ctx, conn, oid, true); err != nil {
		return err
	}
	var candidates []keyCandidate
	if t.Indexes, candidates, err = readIndexes(ctx, conn, oid); err != nil {
		return err
	}
	if len(t.Key) == 0 && len(candidates) > 0 {
		// Fewest columns first, then by name: a stable, cheap key.
		sort.SliceStable(candidates, func(i, j int) bool { return len(candidates[i].cols) < len(candidates[j].cols) })
		t.Key, t.KeyIndex = candidates[0].cols, candidates[0].name
	}
	// A single-column key filled by nextval on a sequence it does not own (as
	// in dumps that leave out OWNED BY) is a counter too, so that another
	// engine makes it auto-increment and carries the sequence's value over.
	if len(t.Key) == 1 {
		if c := t.Column(t.Key[0]); c != nil && !c.AutoIncrement && strings.HasPrefix(c.Default, "nextval(") && isIntType(c.Type) &&
			!slices.ContainsFunc(t.Columns, func(o schema.Column) bool { return o.AutoIncrement }) {
			c.AutoIncrement = true
		}
	}

	// A type without send/receive has no binary COPY form (a domain's or an
	// array's is its base's or element's).
	if err := conn.QueryRow(ctx, `SELECT coalesce(bool_or(b.typsend = 0 OR b.typreceive = 0), false)
FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype WHEN ty.typelem <> 0 AND ty.typlen = -1 THEN ty.typelem ELSE ty.oid END
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, oid).Scan(&t.TextCopy); err != nil {
		return err
	}

	rows, err = conn.Query(ctx, sequencesSQL, oid)
	if err != nil {
		return err
	}
	if t.Sequences, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	// The user's triggers (godwit's fence is godwit_..._fence).
	rows, err = conn.Query(ctx, `SELECT tgname FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal AND tgname NOT LIKE 'godwit\_%' ORDER BY tgname`, oid)
	if err != nil {
		return err
	}
	t.Triggers, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}

// readConstraints reads a table's constraints (with inherited ones or only its
// own) and the columns of its primary key.
func readConstraints(ctx context.Context, conn *pgx.Conn, oid uint32, inherited bool) ([]schema.Constraint, []string, error) {
	rows, err := conn.Query(ctx, constraintsSQL, oid, inherited)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []schema.Constraint
	var key []string
	for rows.Next() {
		var c schema.Constraint
		var cols []string
		var refSchema, refName string
		if err := rows.Scan(&c.Name, &c.Kind, &c.Def, &refSchema, &refName, &cols, &c.RefColumns, &c.OnDelete, &c.OnUpdate); err != nil {
			return nil, nil, err
		}
		if refName != "" {
			c.SetRef(refSchema, refName)
		}
		if c.Kind == "p" {
			key = cols
		}
		switch c.Kind {
		case "p", "u", "f":
			c.Columns = cols
		}
		if c.Kind != "f" {
			c.RefColumns, c.OnDelete, c.OnUpdate = nil, "", ""
		}
		out = append(out, c)
	}
	return out, key, rows.Err()
}

type keyCandidate struct {
	name string
	cols []string
}

// onlyIndex matches the ONLY of a partitioned table's index definition, which
// would build the index on that table alone.
var onlyIndex = regexp.MustCompile(`^(CREATE (?:UNIQUE )?INDEX (?:"(?:[^"]|"")+"|\S+) ON )ONLY `)

// readIndexes reads the indexes that back no constraint, and the unique
// indexes that could serve as the row key.
func readIndexes(ctx context.Context, conn *pgx.Conn, oid uint32) ([]schema.Index, []keyCandidate, error) {
	rows, err := conn.Query(ctx, indexesSQL, oid)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []schema.Index
	var candidates []keyCandidate
	for rows.Next() {
		var ix schema.Index
		var keyable, backsConstraint bool
		var cols []string
		if err := rows.Scan(&ix.Name, &ix.Def, &keyable, &cols, &backsConstraint, &ix.Columns, &ix.Unique); err != nil {
			return nil, nil, err
		}
		// Rebuilt on a partitioned table, the index must cover its partitions.
		ix.Def = onlyIndex.ReplaceAllString(ix.Def, "$1")
		if keyable {
			candidates = append(candidates, keyCandidate{ix.Name, cols})
		}
		if !backsConstraint {
			out = append(out, ix)
		}
	}
	return out, candidates, rows.Err()
}
