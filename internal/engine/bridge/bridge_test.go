package bridge

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// fakeDialect is a pure stand-in for an engine's dialect: source values are
// "s:<canonical>", target values "t:<canonical>", so every conversion shows.
type fakeDialect struct{ name string }

func (d fakeDialect) Engine() string { return d.name }
func (d fakeDialect) Neutral(t *schema.Table, c *schema.Column) (types.Type, error) {
	switch c.Type {
	case "int":
		return types.Type{Kind: types.Int, Bits: 32, Native: c.Type}, nil
	case "text":
		return types.Type{Kind: types.Text, Native: c.Type}, nil
	case "date":
		return types.Type{Kind: types.Date, Native: c.Type}, nil
	case "geometry":
		return types.Type{}, fmt.Errorf("spatial")
	}
	return types.Type{Kind: types.Other, Native: c.Type}, nil
}
func (d fakeDialect) ColumnType(nt types.Type, key bool) (string, types.Loss, error) {
	switch nt.Kind {
	case types.Int:
		return "INTEGER", "", nil
	case types.Text:
		if key {
			return "VARCHAR(10)", "", nil
		}
		return "TEXT", "", nil
	case types.Date:
		return "DATE", "", nil
	}
	return "TEXT", types.LossAsText, nil
}
func (d fakeDialect) Default(c *schema.Column) (types.Default, bool) {
	if c.Default == "expr()" {
		return types.Default{}, false
	}
	return types.Default{Value: c.Default}, c.Default != ""
}
func (d fakeDialect) DefaultSQL(nt types.Type, def types.Default) string {
	return "'" + def.Value + "'"
}
func (d fakeDialect) FinishTable(t *schema.Table) error {
	t.CreateSQL = "CREATE " + t.QualifiedName()
	return nil
}
func (d fakeDialect) ReadFormat() string { return "fake" }
func (d fakeDialect) Probes(c *schema.Column) []engine.Probe {
	if c.Type == "date" {
		return []engine.Probe{{Special: types.ZeroDate, Where: c.Name + " = 0"}, {Special: types.DateBC, Where: c.Name + " < 1"}}
	}
	return nil
}
func (d fakeDialect) Holds(c *schema.Column, s types.Special) bool { return s == types.DateBC }
func (d fakeDialect) DecodeRows(r io.Reader, cols []schema.Column, fn func([]engine.Value) error) error {
	b, _ := io.ReadAll(r)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var row []engine.Value
		for _, f := range strings.Split(line, ",") {
			row = append(row, engine.Value{Text: f, Null: f == "NULL"})
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}
func (d fakeDialect) NewEncoder(w io.Writer, cols []schema.Column) engine.RowEncoder {
	return &fakeEncoder{w: w}
}
func (d fakeDialect) ToCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	if v.Text == "s:0000-00-00" {
		return v, fmt.Errorf("%q: %w", v.Text, types.ErrZeroDate)
	}
	s, ok := strings.CutPrefix(v.Text, "s:")
	if !ok {
		return v, fmt.Errorf("not a source value: %q", v.Text)
	}
	return engine.Value{Text: s}, nil
}
func (d fakeDialect) FromCanon(c *schema.Column, v engine.Value) (engine.Value, error) {
	if v.Null || v.Unchanged {
		return v, nil
	}
	if c.Neutral == nil {
		return v, fmt.Errorf("no neutral type on %s", c.Name)
	}
	return engine.Value{Text: "t:" + v.Text}, nil
}

type fakeEncoder struct{ w io.Writer }

func (e *fakeEncoder) Encode(row []engine.Value) error {
	var parts []string
	for _, v := range row {
		if v.Null {
			parts = append(parts, "NULL")
		} else {
			parts = append(parts, v.Text)
		}
	}
	_, err := fmt.Fprintln(e.w, strings.Join(parts, ","))
	return err
}
func (e *fakeEncoder) Close() error   { return nil }
func (e *fakeEncoder) Format() string { return "fake-out" }

func chinook() []*schema.Table {
	album := &schema.Table{Schema: "Chinook", Name: "Album", Key: []string{"AlbumId"},
		Columns: []schema.Column{{Name: "AlbumId", Type: "int", NotNull: true, AutoIncrement: true}, {Name: "Title", Type: "text", Default: "untitled"},
			{Name: "ArtistId", Type: "int"}, {Name: "TitleLen", Type: "int", Generated: "length(Title)"}},
		Constraints: []schema.Constraint{{Name: "PRIMARY", Kind: "p", Columns: []string{"AlbumId"}},
			{Name: "FK_AlbumArtistId", Kind: "f", Columns: []string{"ArtistId"}, RefTable: "Chinook.Artist", RefColumns: []string{"ArtistId"}, OnDelete: "CASCADE"},
			{Name: "FK_Elsewhere", Kind: "f", Columns: []string{"ArtistId"}, RefTable: "Other.Thing", RefColumns: []string{"Id"}},
			{Name: "chk", Kind: "c", Def: "CHECK (AlbumId > 0)"}},
		Indexes: []schema.Index{{Name: "IFK_ArtistId", Columns: []string{"ArtistId"}}, {Name: "expr", Def: "lower(Title)"}}}
	artist := &schema.Table{Schema: "Chinook", Name: "Artist", Key: []string{"ArtistId"},
		Columns: []schema.Column{{Name: "ArtistId", Type: "int", NotNull: true}, {Name: "Name", Type: "text", Default: "expr()"}},
		Indexes: []schema.Index{{Name: "IFK_ArtistId", Columns: []string{"Name"}, Unique: true}}}
	return []*schema.Table{album, artist}
}

func TestMap(t *testing.T) {
	tables := chinook()
	m, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, Options{Names: NamesSnake}, "")
	if err != nil {
		t.Fatal(err)
	}
	album, artist := m.Targets[0], m.Targets[1]
	if album.QualifiedName() != "chinook.album" || artist.QualifiedName() != "chinook.artist" {
		t.Fatalf("names: %s, %s", album.QualifiedName(), artist.QualifiedName())
	}
	var cols []string
	for _, c := range album.Columns {
		cols = append(cols, c.Name+" "+c.Type)
	}
	if got := strings.Join(cols, ", "); got != "album_id INTEGER, title TEXT, artist_id INTEGER" {
		t.Errorf("columns: %s", got) // the generated column is left behind
	}
	if !album.Columns[0].AutoIncrement || album.Columns[1].Default != "'untitled'" || album.Columns[0].Neutral == nil || tables[0].Columns[0].Neutral == nil {
		t.Errorf("column details lost: %+v", album.Columns)
	}
	if strings.Join(album.Key, ",") != "album_id" {
		t.Errorf("key %v", album.Key)
	}
	var cons []string
	for _, c := range album.Constraints {
		cons = append(cons, fmt.Sprintf("%s %s %v %s %v %s", c.Kind, c.Name, c.Columns, c.RefTable, c.RefColumns, c.OnDelete))
	}
	want := "p album_pkey [album_id]  [] |f fk_album_artist_id [artist_id] chinook.artist [artist_id] CASCADE"
	if got := strings.Join(cons, "|"); got != want {
		t.Errorf("constraints:\n got %s\nwant %s", got, want)
	}
	// Index names are per schema on PostgreSQL: the second IFK_ArtistId is renamed.
	if len(album.Indexes) != 1 || album.Indexes[0].Name != "ifk_artist_id" || len(artist.Indexes) != 1 || artist.Indexes[0].Name != "artist_ifk_artist_id" || !artist.Indexes[0].Unique {
		t.Errorf("indexes: %+v / %+v", album.Indexes, artist.Indexes)
	}
	notes := strings.Join(m.Notes, "\n")
	for _, want := range []string{"generated column Chinook.Album.TitleLen", "Other.Thing, which is not migrated", "chk", "index expr on Chinook.Album is not on plain columns", "default of Chinook.Artist.Name"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if album.CreateSQL != "CREATE chinook.album" {
		t.Errorf("FinishTable not called: %q", album.CreateSQL)
	}
}

func TestMapSchemas(t *testing.T) {
	for _, c := range []struct {
		src, tgt, def, target string
		opts                  Options
		want                  string
	}{
		{"mysql", "postgres", "", "", Options{}, "Chinook.Album"},
		{"mysql", "postgres", "", "", Options{TargetSchema: "music"}, "music.Album"},
		{"sqlite", "postgres", "", "", Options{}, "public.Album"},
		{"sqlite", "mysql", "app", "", Options{}, "app.Album"},
		{"postgres", "mysql", "app", "", Options{Names: NamesLower}, "app.album"},
		{"postgres", "sqlite", "main", "", Options{}, "main.Album"},
	} {
		m, err := Map(fakeDialect{c.src}, fakeDialect{c.tgt}, chinook()[:1], c.opts, c.def)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Targets[0].QualifiedName(); got != c.want {
			t.Errorf("%s -> %s %+v default %q: %s, want %s", c.src, c.tgt, c.opts, c.def, got, c.want)
		}
	}
}

func TestMapRefusals(t *testing.T) {
	tables := chinook()
	tables[1].Columns = append(tables[1].Columns, schema.Column{Name: "Extra", Type: "interval"})
	_, err := Map(fakeDialect{"postgres"}, fakeDialect{"mysql"}, tables, Options{}, "")
	if err == nil || !strings.Contains(err.Error(), "Chinook.Artist.Extra interval -> TEXT (as-text)") || !strings.Contains(err.Error(), "--allow-lossy as-text") {
		t.Fatalf("lossy mapping: %v", err)
	}
	if _, err := Map(fakeDialect{"postgres"}, fakeDialect{"mysql"}, tables, Options{AllowLossy: []string{"as-text"}}, ""); err != nil {
		t.Fatalf("allowed loss refused: %v", err)
	}
	tables = chinook()
	tables[1].Columns = append(tables[1].Columns, schema.Column{Name: "Shape", Type: "geometry"})
	if _, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, Options{}, ""); err == nil || !strings.Contains(err.Error(), "column Chinook.Artist.Shape: spatial") {
		t.Fatalf("unmappable column: %v", err)
	}
	two := chinook()
	two[1].Name = "album"
	if _, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, two, Options{Names: NamesLower}, ""); err == nil || !strings.Contains(err.Error(), "would both become chinook.album") {
		t.Fatalf("name clash: %v", err)
	}
}

func TestConvert(t *testing.T) {
	tables := chinook()
	opts := Options{Names: NamesSnake}
	m, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, opts, "")
	if err != nil {
		t.Fatal(err)
	}
	cv, err := newConverter(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, m.Targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	v := func(s string) engine.Value { return engine.Value{Text: s} }
	ch := &engine.Change{Table: tables[0], Op: engine.Update, Key: []engine.Value{v("s:1")},
		New: []engine.Value{v("s:2"), {Unchanged: true}, {Null: true}}}
	out, err := cv.change(ch)
	if err != nil {
		t.Fatal(err)
	}
	if out.Table != m.Targets[0] || out.Key[0].Text != "t:1" || out.New[0].Text != "t:2" || !out.New[1].Unchanged || !out.New[2].Null {
		t.Fatalf("change: %+v", out)
	}
	ops, err := cv.ops(&engine.TableOps{Table: tables[0], Deletes: [][]engine.Value{{v("s:9")}},
		Partials: []engine.Partial{{Key: []engine.Value{v("s:3")}, Cols: []string{"Title"}, Vals: []engine.Value{v("s:x")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ops.Deletes[0][0].Text != "t:9" || ops.Partials[0].Cols[0] != "title" || ops.Partials[0].Vals[0].Text != "t:x" {
		t.Fatalf("ops: %+v", ops)
	}
	tr, err := cv.change(&engine.Change{Op: engine.Truncate, Truncated: tables})
	if err != nil || tr.Truncated[1] != m.Targets[1] {
		t.Fatalf("truncate: %+v %v", tr, err)
	}
	// A zero date is an error naming the option, or NULL when the loss is allowed.
	if _, err := cv.value(cv.pairs["Chinook.Album"], 1, v("s:0000-00-00")); err == nil || !strings.Contains(err.Error(), "--allow-lossy zero-dates") {
		t.Fatalf("zero date: %v", err)
	}
	cv.zeroNull = true
	if z, err := cv.value(cv.pairs["Chinook.Album"], 1, v("s:0000-00-00")); err != nil || !z.Null {
		t.Fatalf("zero date allowed: %+v %v", z, err)
	}
	if _, err := cv.value(cv.pairs["Chinook.Album"], 0, v("garbage")); err == nil || !strings.Contains(err.Error(), "Chinook.Album.AlbumId") {
		t.Fatalf("bad value: %v", err)
	}
}

func TestRowHash(t *testing.T) {
	a1, b1 := rowHash([]engine.Value{{Text: "ab"}, {Text: "c"}})
	a2, b2 := rowHash([]engine.Value{{Text: "a"}, {Text: "bc"}})
	a3, b3 := rowHash([]engine.Value{{Text: ""}, {Null: true}})
	a4, b4 := rowHash([]engine.Value{{Null: true}, {Text: ""}})
	if a1 == a2 && b1 == b2 || a3 == a4 && b3 == b4 {
		t.Fatal("different rows hash alike")
	}
	if x, y := rowHash([]engine.Value{{Text: "ab"}, {Text: "c"}}); x != a1 || y != b1 {
		t.Fatal("hash not deterministic")
	}
}

// The spec's choices: a table renamed and moved, a column renamed, one given
// a type, one excluded (with the index and foreign key on it).
func TestMapTableOptions(t *testing.T) {
	tables := chinook()
	tables[1].Columns = append(tables[1].Columns, schema.Column{Name: "Shape", Type: "geometry"})
	tables[1].Indexes = append(tables[1].Indexes, schema.Index{Name: "shape_idx", Columns: []string{"Shape"}})
	opts := Options{Names: NamesSnake, Tables: map[string]TableOptions{
		"Chinook.Artist": {Name: "performers", Schema: "music", Columns: map[string]ColumnOptions{
			"Shape": {Exclude: true}, "Name": {Name: "full_name", Type: "date"}}},
		"Chinook.Album": {Columns: map[string]ColumnOptions{"ArtistId": {Name: "performer"}}},
	}}
	m, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, opts, "")
	if err != nil {
		t.Fatal(err)
	}
	album, artist := m.Targets[0], m.Targets[1]
	if artist.QualifiedName() != "music.performers" {
		t.Errorf("table name: %s", artist.QualifiedName())
	}
	var cols []string
	for _, c := range artist.Columns {
		cols = append(cols, c.Name+" "+c.Type+" "+string(c.Neutral.Kind))
	}
	if got := strings.Join(cols, ", "); got != "artist_id INTEGER int, full_name date date" {
		t.Errorf("columns: %s", got)
	}
	if len(artist.Indexes) != 1 || artist.Indexes[0].Columns[0] != "full_name" {
		t.Errorf("indexes: %+v", artist.Indexes)
	}
	fk := album.Constraints[1]
	if fk.Kind != "f" || fk.Columns[0] != "performer" || fk.RefTable != "music.performers" || fk.RefColumns[0] != "artist_id" {
		t.Errorf("foreign key: %+v", fk)
	}
	if notes := strings.Join(m.Notes, "\n"); !strings.Contains(notes, "Chinook.Artist.Shape is excluded by the spec") || !strings.Contains(notes, "index shape_idx on Chinook.Artist is on a column the spec excludes") {
		t.Errorf("notes:\n%s", notes)
	}

	// Rows lose the excluded column; keys and partial updates map by name.
	cv, err := newConverter(fakeDialect{"mysql"}, fakeDialect{"postgres"}, tables, m.Targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	v := func(s string) engine.Value { return engine.Value{Text: s} }
	ch, err := cv.change(&engine.Change{Table: tables[1], Op: engine.Insert, Key: []engine.Value{v("s:7")}, New: []engine.Value{v("s:7"), v("s:2020-01-02"), v("raw-geometry")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.New) != 2 || ch.New[1].Text != "t:2020-01-02" || ch.Key[0].Text != "t:7" {
		t.Errorf("row: %+v", ch)
	}
	ops, err := cv.ops(&engine.TableOps{Table: tables[1], Partials: []engine.Partial{{Key: []engine.Value{v("s:7")}, Cols: []string{"Shape", "Name"}, Vals: []engine.Value{v("raw"), v("s:2021-01-01")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if p := ops.Partials[0]; len(p.Cols) != 1 || p.Cols[0] != "full_name" || p.Vals[0].Text != "t:2021-01-01" {
		t.Errorf("partial: %+v", p)
	}
	// A partial update of the excluded column alone sets nothing on the target.
	ops, err = cv.ops(&engine.TableOps{Table: tables[1], Partials: []engine.Partial{{Key: []engine.Value{v("s:7")}, Cols: []string{"Shape"}, Vals: []engine.Value{v("raw")}}}})
	if err != nil || len(ops.Partials) != 0 {
		t.Errorf("partial of an excluded column: %+v, %v", ops, err)
	}

	// The source's checksums leave the excluded column out too.
	cols2, idx := opts.KeptColumns(tables[1])
	if len(cols2) != 2 || idx[1] != 1 {
		t.Errorf("kept columns: %v %v", cols2, idx)
	}
}

func TestMapTableOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Tables: map[string]TableOptions{"Chinook.Nope": {}}}, "table Chinook.Nope, which is not among the migrated tables"},
		{Options{Tables: map[string]TableOptions{"Chinook.Album": {Columns: map[string]ColumnOptions{"Nope": {Name: "x"}}}}}, "column Chinook.Album.Nope, which table Chinook.Album does not have"},
		{Options{Tables: map[string]TableOptions{"Chinook.Album": {Columns: map[string]ColumnOptions{"AlbumId": {Exclude: true}}}}}, "part of the table's key"},
		{Options{Tables: map[string]TableOptions{"Chinook.Album": {Columns: map[string]ColumnOptions{"AlbumId": {Type: "text"}}}}}, "must be of the same kind"},
		{Options{Tables: map[string]TableOptions{"Chinook.Album": {Columns: map[string]ColumnOptions{"Title": {Name: "ArtistId"}}}}}, "would both be named ArtistId"},
		{Options{Tables: map[string]TableOptions{"Chinook.Album": {Name: "Artist"}}}, "would both become Chinook.Artist"},
	} {
		if _, err := Map(fakeDialect{"mysql"}, fakeDialect{"postgres"}, chinook(), c.opts, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
}

func TestMapPartitioned(t *testing.T) {
	tables := chinook()
	tables[0].Partitioning = &schema.Partitioning{Key: "RANGE (AlbumId)", Partitions: []schema.Partition{{Name: "a1"}, {Name: "a2"}}}
	m, err := Map(fakeDialect{"postgres"}, fakeDialect{"mysql"}, tables, Options{}, "app")
	if err != nil {
		t.Fatal(err)
	}
	if m.Targets[0].Partitioning != nil || !strings.Contains(strings.Join(m.Notes, "\n"), "Chinook.Album is partitioned (RANGE (AlbumId), 2 partitions): it becomes one plain table") {
		t.Errorf("partitioned table: %+v, notes %q", m.Targets[0].Partitioning, m.Notes)
	}
}

func TestMapEnumTypes(t *testing.T) {
	tables := chinook()
	tables[1].Columns = append(tables[1].Columns, schema.Column{Name: "Mood", Type: "enum"})
	src := enumDialect{fakeDialect{"mysql"}}
	m, err := Map(src, fakeDialect{"postgres"}, tables, Options{EnumTypes: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Targets[1].Column("Mood"); c.Type != EnumType || c.Neutral.Kind != types.Enum {
		t.Errorf("with --enum-types: %+v", c)
	}
	if m, err = Map(src, fakeDialect{"postgres"}, tables, Options{AllowLossy: []string{"as-text"}}, ""); err != nil || m.Targets[1].Column("Mood").Type == EnumType {
		t.Errorf("without: %v %+v", err, m)
	}
	for _, c := range []struct {
		tgt  string
		col  string
		want string
	}{{"mysql", "Mood", "makes a PostgreSQL enum type, and the target is mysql"}, {"postgres", "Name", "needs an enum column"},
		{"postgres", "ArtistId", "needs an enum column"}} {
		opts := Options{Tables: map[string]TableOptions{"Chinook.Artist": {Columns: map[string]ColumnOptions{c.col: {Type: "enum"}}}}}
		if _, err := Map(src, fakeDialect{c.tgt}, tables, opts, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("type enum for %s to %s: %v, want %q", c.col, c.tgt, err, c.want)
		}
	}
}

// Enum type names clash with each other and with tables (a table has a row
// type of its name); labels PostgreSQL cannot hold are refused.
func TestMapEnumTypeClashes(t *testing.T) {
	src := enumDialect{fakeDialect{"mysql"}}
	tables := chinook()
	tables[1].Columns = append(tables[1].Columns, schema.Column{Name: "Mood", Type: "enum"})
	tables[0].Name = "Artist_Mood" // the table the type Artist_Mood would shadow
	if _, err := Map(src, fakeDialect{"postgres"}, tables, Options{EnumTypes: true}, ""); err == nil || !strings.Contains(err.Error(), "the name of a migrated table") {
		t.Errorf("type named as a table: %v", err)
	}
	two := chinook()
	two[0].Name = "Artist_A"
	two[0].Columns = append(two[0].Columns, schema.Column{Name: "Mood", Type: "enum"})   // Artist_A + Mood
	two[1].Columns = append(two[1].Columns, schema.Column{Name: "A_Mood", Type: "enum"}) // Artist + A_Mood
	if _, err := Map(src, fakeDialect{"postgres"}, two, Options{EnumTypes: true}, ""); err == nil || !strings.Contains(err.Error(), "would both get the PostgreSQL enum type Chinook.Artist_A_Mood") {
		t.Errorf("two columns, one type: %v", err)
	}
	bad := chinook()
	bad[1].Columns = append(bad[1].Columns, schema.Column{Name: "Mood", Type: "enum-empty"})
	if _, err := Map(src, fakeDialect{"postgres"}, bad, Options{EnumTypes: true}, ""); err == nil || !strings.Contains(err.Error(), `label "" cannot be a PostgreSQL enum label`) {
		t.Errorf("empty label: %v", err)
	}
}

// enumDialect reads columns of type "enum" as enums.
type enumDialect struct{ fakeDialect }

func (d enumDialect) Neutral(t *schema.Table, c *schema.Column) (types.Type, error) {
	switch c.Type {
	case "enum":
		return types.Type{Kind: types.Enum, Labels: []string{"sad", "ok"}, Native: "enum('sad','ok')"}, nil
	case "enum-empty":
		return types.Type{Kind: types.Enum, Labels: []string{"", "ok"}, Native: "enum('','ok')"}, nil
	}
	return d.fakeDialect.Neutral(t, c)
}

func TestIntKey(t *testing.T) {
	i, s := &types.Type{Kind: types.Int}, &types.Type{Kind: types.Text}
	tb := func(key []string, cols ...schema.Column) *schema.Table {
		return &schema.Table{Key: key, Columns: cols}
	}
	for _, c := range []struct {
		t    *schema.Table
		want bool
	}{
		{tb([]string{"a"}, schema.Column{Name: "a", Neutral: i}), true},
		{tb([]string{"a", "b"}, schema.Column{Name: "a", Neutral: i}, schema.Column{Name: "b", Neutral: i}), true}, // checked in ranges too
		{tb([]string{"a", "b"}, schema.Column{Name: "a", Neutral: i}, schema.Column{Name: "b", Neutral: s}), false},
		{tb([]string{"b"}, schema.Column{Name: "b", Neutral: s}), false},
		{tb(nil), false},
	} {
		if got := intKey(c.t); got != c.want {
			t.Errorf("intKey(%v) = %v", c.t.Key, got)
		}
	}
}

// Names may hold dots: a table and the table its foreign key references keep
// their schema and name apart, whatever characters they hold.
func TestMapDottedNames(t *testing.T) {
	parent := &schema.Table{Schema: "a.b", Name: "p.q", Key: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: "int", NotNull: true}}}
	child := &schema.Table{Schema: "a.b", Name: "c", Key: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: "int", NotNull: true}, {Name: "p", Type: "int"}}}
	fk := schema.Constraint{Name: "c_p_fkey", Kind: "f", Columns: []string{"p"}, RefColumns: []string{"id"}}
	fk.SetRef("a.b", "p.q")
	child.Constraints = []schema.Constraint{fk}
	m, err := Map(fakeDialect{"postgres"}, fakeDialect{"mysql"}, []*schema.Table{parent, child}, Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Targets[0]; p.Schema != "a.b" || p.Name != "p.q" {
		t.Errorf("parent became schema %q table %q", p.Schema, p.Name)
	}
	c := m.Targets[1]
	if c.Schema != "a.b" || c.Name != "c" || len(c.Constraints) != 2 || c.Constraints[1].Kind != "f" {
		t.Fatalf("child became %q.%q with %+v", c.Schema, c.Name, c.Constraints)
	}
	if s, n := c.Constraints[1].Ref(); s != "a.b" || n != "p.q" {
		t.Errorf("the foreign key references schema %q table %q", s, n)
	}
}
