package e2e

// Migrations between engines, end to end, on the Chinook sample database: a
// live migration of each pair of engines under a concurrent write workload,
// killed with SIGKILL once while copying and once while replicating, resumed,
// verified by godwit, completed, and then compared row by row by this file's
// own reading of both databases (not godwit's code).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/godwit-db/godwit/internal/testutil"
)

// crossPair is one direction between two engines, with the --names style that
// makes the target look like the target engine's own Chinook.
type crossPair struct {
	src, dst string // "postgres", "mysql", "sqlite"
	names    string // "" (keep), "snake", "pascal"
}

// The pairs; each runs alone with -run, all with -run TestCross.

func TestCrossMySQLToPostgreSQL(t *testing.T) {
	runCross(t, crossPair{"mysql", "postgres", "snake"})
}

func TestCrossPostgreSQLToMySQL(t *testing.T) {
	runCross(t, crossPair{"postgres", "mysql", "pascal"})
}

func TestCrossSQLiteToPostgreSQL(t *testing.T) {
	runCross(t, crossPair{"sqlite", "postgres", "snake"})
}

func TestCrossSQLiteToMySQL(t *testing.T) {
	runCross(t, crossPair{"sqlite", "mysql", ""})
}

func TestCrossPostgreSQLToSQLite(t *testing.T) {
	runCross(t, crossPair{"postgres", "sqlite", "pascal"})
}

func TestCrossMySQLToSQLite(t *testing.T) {
	runCross(t, crossPair{"mysql", "sqlite", ""})
}

// chinookTables are Chinook's tables in PostgreSQL's spelling (snake_case)
// with their primary keys; MySQL and SQLite spell them in PascalCase.
var chinookTables = []struct {
	name string
	key  []string
}{
	{"album", []string{"album_id"}},
	{"artist", []string{"artist_id"}},
	{"customer", []string{"customer_id"}},
	{"employee", []string{"employee_id"}},
	{"genre", []string{"genre_id"}},
	{"invoice", []string{"invoice_id"}},
	{"invoice_line", []string{"invoice_line_id"}},
	{"media_type", []string{"media_type_id"}},
	{"playlist", []string{"playlist_id"}},
	{"playlist_track", []string{"playlist_id", "track_id"}},
	{"track", []string{"track_id"}},
}

// chinookRows is the number of rows of the sample in every engine.
const chinookRows = 15607

// Value kinds of Chinook's columns, by their snake_case name: numbers (ints
// and NUMERIC(10,2)), timestamps, text.
const (
	kindNum  = 'n'
	kindTime = 't'
	kindText = 's'
)

func chinookKind(col string) byte {
	switch {
	case col == "unit_price" || col == "total" || col == "milliseconds" || col == "bytes" ||
		col == "quantity" || col == "reports_to" || strings.HasSuffix(col, "_id"):
		return kindNum
	case col == "birth_date" || col == "hire_date" || col == "invoice_date":
		return kindTime
	}
	return kindText
}

// toSnake and toPascal are this test's own renderings of the --names rules,
// enough for Chinook's identifiers: InvoiceLineId <-> invoice_line_id.
func toSnake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])) {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func toPascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		r := []rune(part)
		if len(r) > 0 {
			r[0] = unicode.ToUpper(r[0])
		}
		b.WriteString(string(r))
	}
	return b.String()
}

func renameStyle(style, s string) string {
	switch style {
	case "snake":
		return toSnake(s)
	case "pascal":
		return toPascal(s)
	}
	return s
}

// crossSide is one database of a pair.
type crossSide struct {
	engine string
	url    string  // for godwit
	db     *sql.DB // for this test (opened lazily for a SQLite target)
	schema string  // PostgreSQL schema, MySQL database or "main"
	pascal bool    // Chinook's names are PascalCase (MySQL, SQLite)
	path   string  // SQLite file
	myBase string  // MySQL server URL without a database
	myDB   string  // MySQL database
}

// ident is the side's spelling of a snake_case Chinook name.
func (s *crossSide) ident(logical string) string {
	if s.pascal {
		return toPascal(logical)
	}
	return logical
}

func (s *crossSide) quote(name string) string {
	if s.engine == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (s *crossSide) table(name string) string {
	if s.engine == "sqlite" {
		return s.quote(name)
	}
	return s.quote(s.schema) + "." + s.quote(name)
}

var identRE, placeholderRE = regexp.MustCompile(`@[a-z_]+`), regexp.MustCompile(`\?`)

// sql renders a statement written with @snake_case identifiers and ?
// placeholders in the side's dialect and names.
func (s *crossSide) sql(tmpl string) string {
	out := identRE.ReplaceAllStringFunc(tmpl, func(m string) string { return s.quote(s.ident(m[1:])) })
	if s.engine == "postgres" {
		n := 0
		out = placeholderRE.ReplaceAllStringFunc(out, func(string) string { n++; return "$" + strconv.Itoa(n) })
	}
	return out
}

// open returns a new handle on the side's database, closed when the test ends.
func (s *crossSide) open(t *testing.T) *sql.DB {
	t.Helper()
	var db *sql.DB
	switch s.engine {
	case "mysql":
		return openMy(t, s.myBase, s.myDB)
	case "sqlite":
		return openSQLite(t, s.path)
	default:
		var err error
		if db, err = sql.Open("pgx", s.url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	return db
}

// newCrossSource creates and loads the source database of an engine.
func newCrossSource(t *testing.T, engine string) *crossSide {
	t.Helper()
	switch engine {
	case "postgres":
		url := testutil.NewPGDatabase(t, "source")
		b := testutil.Dataset(t, "chinook/postgresql/Chinook_PostgreSql.sql")
		var keep []string
		for _, line := range strings.Split(string(b), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "DROP DATABASE") || strings.HasPrefix(l, "CREATE DATABASE") || strings.HasPrefix(l, `\c`) {
				continue
			}
			keep = append(keep, line)
		}
		exec1(t, connect(t, url), strings.Join(keep, "\n")) // no arguments: simple protocol, many statements
		s := &crossSide{engine: engine, url: url, schema: "public"}
		s.db = s.open(t)
		return s
	case "mysql":
		base := myURL(t, "GODWIT_TEST_MY_SOURCE")
		name := newMyDB(t, "xsrc", base)
		b := testutil.Dataset(t, "chinook/mysql/Chinook_MySql.sql")
		var keep []string
		for _, line := range strings.Split(string(b), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "DROP DATABASE") || strings.HasPrefix(l, "CREATE DATABASE") {
				continue // newMyDB made it
			}
			keep = append(keep, strings.ReplaceAll(line, "`Chinook`", "`"+name+"`"))
		}
		s := &crossSide{engine: engine, url: myDBURL(t, base, name), schema: name, pascal: true, myBase: base, myDB: name}
		s.db = s.open(t)
		mustExec(t, s.db, strings.Join(keep, "\n"))
		return s
	default:
		path := filepath.Join(t.TempDir(), "chinook-source.db")
		if err := os.WriteFile(path, testutil.Dataset(t, "chinook/sqlite/Chinook_Sqlite.sqlite"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := &crossSide{engine: engine, url: "sqlite://" + path, schema: "main", pascal: true, path: path}
		s.db = s.open(t) // switches the file to WAL, as an application sharing it would
		return s
	}
}

// newCrossTarget prepares the target of a pair: an empty database (MySQL,
// PostgreSQL) or a file path (SQLite); schema is where the tables will be.
func newCrossTarget(t *testing.T, p crossPair, src *crossSide) *crossSide {
	t.Helper()
	switch p.dst {
	case "postgres":
		url := testutil.NewPGDatabase(t, "target")
		s := &crossSide{engine: p.dst, url: url, schema: "public"}
		if src.engine == "mysql" { // a MySQL database becomes a schema of that name
			s.schema = renameStyle(p.names, src.schema)
		}
		s.pascal = p.names == "pascal" || (p.names == "" && src.pascal)
		s.db = s.open(t)
		return s
	case "mysql":
		base := myURL(t, "GODWIT_TEST_MY_TARGET")
		name := newMyDB(t, "xdst", base)
		s := &crossSide{engine: p.dst, url: myDBURL(t, base, name), schema: name, myBase: base, myDB: name}
		s.pascal = p.names == "pascal" || (p.names == "" && src.pascal)
		s.db = s.open(t)
		return s
	default:
		path := filepath.Join(t.TempDir(), "chinook-target.db")
		s := &crossSide{engine: p.dst, url: "sqlite:" + path, schema: "main", path: path}
		s.pascal = p.names == "pascal" || (p.names == "" && src.pascal)
		return s // opened after the migration: opening would create the file
	}
}

// countChinook counts the rows of the Chinook tables of a side.
func countChinook(t *testing.T, s *crossSide) (int, map[string]int) {
	t.Helper()
	total, per := 0, map[string]int{}
	for _, tb := range chinookTables {
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM " + s.table(s.ident(tb.name))).Scan(&n); err != nil {
			t.Fatalf("count %s on the %s side: %v", tb.name, s.engine, err)
		}
		per[tb.name], total = n, total+n
	}
	return total, per
}

// crossWorkload writes to the source as an application would: new artists,
// albums and tracks, price, name and invoice updates, deletes of invoice
// lines and playlist entries, and key changes.
type crossWorkload struct {
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	began   time.Time
	commits atomic.Int64
	ops     atomic.Int64
	errs    atomic.Int64
	mu      sync.Mutex
	first   []string
	changed map[string]int64 // rows changed by committed statements, by kind
}

var crossWords = []string{"Ünïcødé", "São Paulo", "Ærøskøbing", "日本語", "Straße", "Ελληνικά", "Привет", "✓", "naïve", "Zoë", "Ñandú", "Kraków", "ß"}

func crossText(r *rand.Rand, emoji bool, k, n int) string {
	var b strings.Builder
	for i := 1 + r.IntN(3); i > 0; i-- {
		b.WriteString(crossWords[r.IntN(len(crossWords))])
		b.WriteByte(' ')
	}
	if emoji && r.IntN(3) == 0 {
		b.WriteString("🦆 ")
	}
	fmt.Fprintf(&b, "w%d-%d", k, n)
	return b.String()
}

func crossPrice(r *rand.Rand, max int) string {
	if r.IntN(10) == 0 {
		return fmt.Sprintf("%d.00", r.IntN(max)) // stored as an integer by SQLite's NUMERIC affinity
	}
	return fmt.Sprintf("%d.%02d", r.IntN(max), r.IntN(100))
}

func startCrossWorkload(t *testing.T, src *crossSide, seed int64, workers int) *crossWorkload {
	w := &crossWorkload{stop: make(chan struct{}), began: time.Now(), changed: map[string]int64{}}
	emoji := src.engine != "mysql" // Chinook's MySQL NVARCHAR columns are utf8mb3
	q := func(s string) string { return src.sql(s) }
	var (
		insArtist   = q(`INSERT INTO @artist (@artist_id, @name) VALUES (?, ?)`)
		insAlbum    = q(`INSERT INTO @album (@album_id, @title, @artist_id) VALUES (?, ?, ?)`)
		insTrack    = q(`INSERT INTO @track (@track_id, @name, @album_id, @media_type_id, @genre_id, @composer, @milliseconds, @bytes, @unit_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		updPrice    = q(`UPDATE @track SET @unit_price = ? WHERE @track_id = ?`)
		updName     = q(`UPDATE @track SET @name = ?, @composer = ? WHERE @track_id = ?`)
		updInvoice  = q(`UPDATE @invoice SET @total = ?, @invoice_date = ? WHERE @invoice_id = ?`)
		delLine     = q(`DELETE FROM @invoice_line WHERE @invoice_line_id = ?`)
		delPT       = q(`DELETE FROM @playlist_track WHERE @playlist_id = ? AND @track_id = ?`)
		movePT      = q(`UPDATE @playlist_track SET @track_id = ? WHERE @playlist_id = ? AND @track_id = ?`)
		moveTrack   = q(`UPDATE @track SET @track_id = ?, @unit_price = ? WHERE @track_id = ?`)
		moveArtist  = q(`UPDATE @artist SET @artist_id = ? WHERE @artist_id = ?`)
		delArtist   = q(`DELETE FROM @artist WHERE @artist_id = ?`)
		updCustomer = q(`UPDATE @customer SET @company = ?, @fax = NULL WHERE @customer_id = ?`)
	)
	t.Cleanup(func() { w.halt(nil) })
	for k := 0; k < workers; k++ {
		db := src.open(t)
		r := rand.New(rand.NewPCG(uint64(seed), uint64(200+k)))
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			next := int64(k+1) * 1_000_000
			var tracks, artists []int64 // ids this worker inserted (committed)
			pick := func(ids []int64) int64 {
				if len(ids) == 0 {
					return -1
				}
				return ids[r.IntN(len(ids))]
			}
			ctx := context.Background()
			for n := 0; ; n++ {
				select {
				case <-w.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					w.fail(err)
					continue
				}
				var newTracks, newArtists []int64
				movedTracks, movedArtists := map[int64]int64{}, map[int64]int64{}
				changed := map[string]int64{}
				for i := 1 + r.IntN(3); i > 0 && err == nil; i-- {
					w.ops.Add(1)
					var res sql.Result
					var kind string
					switch p := r.IntN(100); {
					case p < 8:
						next++
						kind = "insert artist"
						res, err = tx.Exec(insArtist, next, crossText(r, emoji, k, n))
						newArtists = append(newArtists, next)
					case p < 14:
						next++
						kind = "insert album"
						res, err = tx.Exec(insAlbum, next, crossText(r, emoji, k, n), 1+r.IntN(275))
					case p < 26:
						next++
						var album, genre, composer, bytes any = 1 + r.IntN(347), 1 + r.IntN(25), crossText(r, emoji, k, n), 100000 + r.IntN(1e7)
						if r.IntN(5) == 0 {
							album, genre, composer, bytes = nil, nil, nil, nil
						}
						kind = "insert track"
						res, err = tx.Exec(insTrack, next, crossText(r, emoji, k, n), album, 1+r.IntN(5), genre, composer, 1000+r.IntN(1e6), bytes, crossPrice(r, 3))
						newTracks = append(newTracks, next)
					case p < 42:
						kind = "update track price"
						res, err = tx.Exec(updPrice, crossPrice(r, 3), 1+r.IntN(3503))
					case p < 52:
						var composer any = crossText(r, emoji, k, n)
						if r.IntN(4) == 0 {
							composer = nil
						}
						kind = "update track name"
						res, err = tx.Exec(updName, crossText(r, emoji, k, n), composer, 1+r.IntN(3503))
					case p < 62:
						at := time.Date(2021+r.IntN(5), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
						kind = "update invoice"
						res, err = tx.Exec(updInvoice, crossPrice(r, 30), at.Format("2006-01-02 15:04:05"), 1+r.IntN(412))
					case p < 72:
						kind = "delete invoice line"
						res, err = tx.Exec(delLine, 1+r.IntN(2240))
					case p < 82: // playlists 1 and 8 hold most of the 8,715 entries
						kind = "delete playlist track"
						res, err = tx.Exec(delPT, []int{1, 8, 1 + r.IntN(18)}[r.IntN(3)], 1+r.IntN(3503))
					case p < 86: // composite key change (a clash with an existing entry fails the transaction)
						kind = "playlist track key change"
						res, err = tx.Exec(movePT, 1+r.IntN(3503), []int{1, 8, 1 + r.IntN(18)}[r.IntN(3)], 1+r.IntN(3503))
					case p < 92: // key change of a track nothing refers to
						if id := pick(tracks); id > 0 && movedTracks[id] == 0 {
							next++
							kind = "track key change"
							res, err = tx.Exec(moveTrack, next, crossPrice(r, 3), id)
							movedTracks[id] = next
						}
					case p < 95: // key change of an artist nothing refers to
						if id := pick(artists); id > 0 && movedArtists[id] == 0 {
							next++
							kind = "artist key change"
							res, err = tx.Exec(moveArtist, next, id)
							movedArtists[id] = next
						}
					case p < 97:
						if id := pick(artists); id > 0 && movedArtists[id] == 0 {
							kind = "delete artist"
							res, err = tx.Exec(delArtist, id)
							movedArtists[id] = -1
						}
					default:
						kind = "update customer"
						res, err = tx.Exec(updCustomer, crossText(r, emoji, k, n), 1+r.IntN(59))
					}
					if err == nil && res != nil {
						n, _ := res.RowsAffected()
						changed[kind] += n
					}
				}
				if err != nil || r.IntN(20) == 0 {
					tx.Rollback()
					if err != nil {
						w.fail(err)
					}
					continue
				}
				if err := tx.Commit(); err != nil {
					w.fail(err)
					continue
				}
				w.commits.Add(1)
				w.mu.Lock()
				for k, n := range changed {
					w.changed[k] += n
				}
				w.mu.Unlock()
				tracks, artists = remap(append(tracks, newTracks...), movedTracks), remap(append(artists, newArtists...), movedArtists)
			}
		}()
	}
	return w
}

// remap applies committed key changes (-1: deleted) to a list of ids.
func remap(ids []int64, moved map[int64]int64) []int64 {
	out := ids[:0]
	for _, id := range ids {
		if to, ok := moved[id]; ok {
			if to < 0 {
				continue
			}
			id = to
		}
		out = append(out, id)
	}
	return out
}

func (w *crossWorkload) fail(err error) {
	w.errs.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.first) < 3 {
		w.first = append(w.first, err.Error())
	}
}

func (w *crossWorkload) halt(t *testing.T) {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
	if t != nil {
		secs := time.Since(w.began).Seconds()
		w.mu.Lock()
		defer w.mu.Unlock()
		var kinds []string
		for k, n := range w.changed {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		t.Logf("workload: %d commits (%.0f/s over %.1fs), %d statements, %d failed transactions (key clashes, deadlocks, busy); first errors: %q",
			w.commits.Load(), float64(w.commits.Load())/secs, secs, w.ops.Load(), w.errs.Load(), w.first)
		t.Logf("workload: rows changed by committed statements: %s", strings.Join(kinds, ", "))
	}
}

// waitCrossCaughtUp waits until the migration applied everything the source
// holds now that the workload has stopped.
func waitCrossCaughtUp(t *testing.T, g *godwit, name string, r *runner, src *crossSide) {
	t.Helper()
	start := time.Now()
	switch src.engine {
	case "mysql":
		waitCaughtUp(t, g, name, r, src.db)
	case "postgres":
		lsnText, lsn := currentLSN(t, src.url)
		g.waitFor(name, r, "consistent with applied_position >= "+lsnText, 2*time.Minute, func(st status) bool {
			applied, err := parseLSN(st.AppliedPosition)
			return st.Consistent && err == nil && applied >= lsn
		})
	default:
		g.waitFor(name, r, "caught up (source_position == applied_position)", 2*time.Minute, func(st status) bool {
			return st.Consistent && st.SourcePosition != "" && st.SourcePosition == st.AppliedPosition
		})
	}
	t.Logf("caught up in %v", time.Since(start).Round(time.Millisecond))
}

// liveCross runs the migration's live part: start (the workload already
// runs), one SIGKILL while copying, resume, one SIGKILL while replicating,
// resume, stop the workload, catch up, verify with zero differences, complete.
// It reports whether the migration completed.
func liveCross(t *testing.T, g *godwit, name string, start []string, src *crossSide, wl *crossWorkload, seed int64, lap func(string)) bool {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5a))
	r := g.start(append([]string{"start", name}, start...)...)
	st := g.waitFor(name, r, "phase COPYING", 90*time.Second, func(st status) bool {
		return st.State == "RUNNING" && (st.Phase == "COPYING" || st.Phase == "REPLICATING")
	})
	if st.Phase != "COPYING" {
		t.Errorf("the copy was over before the kill meant for phase COPYING (seed %d): %v", seed, st)
	} else {
		waited, phase := g.sleepDuringCopy(name, r, time.Duration(300+rng.IntN(1500))*time.Millisecond)
		r.kill9()
		st, _ := g.status(name)
		copied, est := st.rows()
		t.Logf("SIGKILL after %v in phase %s (%.0f of about %.0f rows copied)", waited.Round(time.Millisecond), phase, copied, est)
		if phase != "COPYING" {
			t.Errorf("the kill meant for phase COPYING came in phase %s (seed %d)", phase, seed)
		}
	}
	lap("start and the kill while copying")
	r = g.start("resume", name)
	g.waitFor(name, r, "phase REPLICATING after the resume", 2*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING" && livePID(g, name) == r.cmd.Process.Pid
	})
	delay := time.Duration(500+rng.IntN(1500)) * time.Millisecond
	sleepRunning(t, r, delay)
	r.kill9()
	st, _ = g.status(name)
	t.Logf("SIGKILL after %v in phase %s (%v)", delay, st.Phase, st)
	if st.Phase != "REPLICATING" {
		t.Errorf("the kill meant for phase REPLICATING came in phase %s (seed %d)", st.Phase, seed)
	}
	lap("resume, rest of the copy and the kill while replicating")
	r = g.start("resume", name)
	g.waitFor(name, r, "consistent and replicating after the last resume", 2*time.Minute, func(st status) bool {
		return st.State == "RUNNING" && st.Phase == "REPLICATING" && st.Consistent && livePID(g, name) == r.cmd.Process.Pid
	})
	sleepRunning(t, r, 1500*time.Millisecond) // the last runner replays live writes too
	wl.halt(t)
	if wl.commits.Load() == 0 {
		t.Fatalf("the workload committed nothing: %q", wl.first)
	}
	waitLiveCaughtUp(t, g, name, r, src)
	lap("last resume, replay and catching up")

	res := g.runTimeout(2*time.Minute, "verify", name, "--json")
	var v verifyJSON
	jsonErr := json.Unmarshal([]byte(res.stdout), &v)
	switch {
	case res.code != 0 || jsonErr != nil || v.State != "passed" || v.Differences != 0:
		var found []string
		for i, f := range v.Found {
			if i == 10 {
				break
			}
			found = append(found, fmt.Sprintf("%s key %v %s columns %v source %v target %v", f.Table, f.Key, f.Kind, f.Columns, derefAll(f.Source), derefAll(f.Target)))
		}
		t.Errorf("verify (seed %d): want exit 0, state passed and 0 differences; got %d differences, state %q (json: %v)\n%s\n%s",
			seed, v.Differences, v.State, jsonErr, strings.Join(found, "\n"), res)
	case v.RowsChecked == 0:
		t.Errorf("verify checked no rows: %v", res)
	default:
		t.Logf("verify passed: %d rows checked", v.RowsChecked)
	}
	lap("verify")

	if res := g.runTimeout(2*time.Minute, "complete", name); res.code != 0 {
		t.Errorf("complete (seed %d): %v", seed, res)
		return false
	}
	if st := g.mustStatus(name); st.State != "COMPLETED" {
		t.Errorf("state after complete = %s, want COMPLETED (%v)", st.State, st)
		return false
	}
	r.wait(time.Minute)
	lap("complete")
	return true
}

// waitLiveCaughtUp waits until the migration applied everything the source
// holds now that the workload has stopped. Unlike waitCaughtUp it does not
// wait for source_position == applied_position, which writes of other tests
// to the same MySQL server can put off for long.
func waitLiveCaughtUp(t *testing.T, g *godwit, name string, r *runner, src *crossSide) {
	t.Helper()
	if src.engine != "mysql" {
		waitCrossCaughtUp(t, g, name, r, src)
		return
	}
	start := time.Now()
	want := masterPos(t, src.db)
	g.waitFor(name, r, "consistent with applied_position >= "+want, 2*time.Minute, func(st status) bool {
		atLeast, ok := posAtLeast(st.AppliedPosition, want)
		if st.AppliedPosition != "" && !ok {
			t.Fatalf("applied_position %q is not a binlog position file:pos", st.AppliedPosition)
		}
		return st.Consistent && atLeast
	})
	t.Logf("caught up with %s in %v", want, time.Since(start).Round(time.Millisecond))
}

func runCross(t *testing.T, p crossPair) {
	began := time.Now()
	seed := testutil.Seed(t)
	t.Logf("seed %d", seed)
	src := newCrossSource(t, p.src)
	if n, per := countChinook(t, src); n != chinookRows {
		t.Fatalf("the %s source holds %d Chinook rows, want %d: %v", p.src, n, chinookRows, per)
	}
	dst := newCrossTarget(t, p, src)
	t.Logf("%s -> %s (--names %s): source %s loaded in %v", p.src, p.dst, orKeep(p.names), testutil.RedactURL(src.url), time.Since(began).Round(time.Millisecond))

	last := time.Now()
	lap := func(what string) { // step timings, for the suite's time budget
		t.Logf("[%6.1fs] %s took %v", time.Since(began).Seconds(), what, time.Since(last).Round(10*time.Millisecond))
		last = time.Now()
	}
	g := newGodwit(t)
	name := migrationName("x" + p.src[:2] + p.dst[:2])
	deleted := false
	t.Cleanup(func() { // after the runners are killed: the bookkeeping on shared servers goes too
		if !deleted {
			if res := g.run("delete", name); res.code != 0 {
				t.Logf("cleanup: %v", res)
			}
		}
	})
	var opts []string
	if p.names != "" {
		opts = append(opts, "--names", p.names)
	}
	if res := g.runTimeout(2*time.Minute, append([]string{"check", "--source", src.url, "--target", dst.url}, opts...)...); res.code != 0 {
		t.Errorf("check: %v", res)
	} else {
		t.Cleanup(func() { // the type mapping, to read with a failure
			if t.Failed() {
				t.Logf("godwit check said:\n%s", clip(res.stdout, 8000))
			}
		})
	}
	lap("check")

	wl := startCrossWorkload(t, src, seed, 2)
	liveCross(t, g, name, append([]string{"--source", src.url, "--target", dst.url, "--chunk-rows", "500", "--max-copy-rate", "2500"}, opts...), src, wl, seed, lap)

	if dst.db == nil {
		dst.db = openSQLiteRO(t, dst.path)
	}
	compareCross(t, src, dst, p.names)
	lap("independent comparison")
	if res := g.run("delete", name); res.code != 0 {
		t.Errorf("delete: %v", res)
	}
	deleted = true
	t.Logf("%s -> %s took %v", p.src, p.dst, time.Since(began).Round(100*time.Millisecond))
}

func orKeep(s string) string {
	if s == "" {
		return "keep (default)"
	}
	return s
}

func derefAll(m map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v == nil {
			out[k] = "NULL"
		} else {
			out[k] = strconv.Quote(*v)
		}
	}
	return out
}

// openSQLiteRO opens a SQLite file read-only.
func openSQLiteRO(t *testing.T, path string) *sql.DB {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the SQLite target file: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// listTables lists the tables of a side's schema, without godwit's own.
func listTables(t *testing.T, s *crossSide) []string {
	t.Helper()
	var q string
	var args []any
	switch s.engine {
	case "postgres":
		q, args = `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, []any{s.schema}
	case "mysql":
		q, args = `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`, []any{s.schema}
	default:
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		t.Fatalf("list the tables of %s: %v", s.engine, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(strings.ToLower(n), "_godwit") {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// readAll reads every row of a table with its column names.
func readAll(t *testing.T, s *crossSide, table string) ([]string, [][]any, error) {
	t.Helper()
	rows, err := s.db.Query("SELECT * FROM " + s.table(table))
	if err != nil {
		return nil, nil, err
	}
	return scanAll(rows)
}

// scanAll reads every row of rows, each value as the driver gives it, and
// closes rows.
func scanAll(rows *sql.Rows) ([]string, [][]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006/1/2 15:04:05",
	"2006/1/2",
	"2006-01-02",
}

// normalize turns a value read by a driver into comparable text by this
// test's own rules: numbers as exact rationals (a REAL through its shortest
// decimal text), timestamps as their wall-clock time, text exactly.
func normalize(v any, kind byte) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	var text string
	isText := false
	switch x := v.(type) {
	case []byte:
		text, isText = string(x), true
	case string:
		text, isText = x, true
	}
	switch kind {
	case kindNum:
		var r big.Rat
		var s string
		switch x := v.(type) {
		case int64:
			s = strconv.FormatInt(x, 10)
		case int32:
			s = strconv.FormatInt(int64(x), 10)
		case int:
			s = strconv.Itoa(x)
		case uint64:
			s = strconv.FormatUint(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case float32:
			s = strconv.FormatFloat(float64(x), 'g', -1, 32)
		default:
			if !isText {
				return "", fmt.Errorf("number of Go type %T: %v", v, v)
			}
			s = strings.TrimSpace(text)
		}
		if _, ok := r.SetString(s); !ok {
			return "", fmt.Errorf("%q (%T) is not a number", s, v)
		}
		return "num " + r.RatString(), nil
	case kindTime:
		if tm, ok := v.(time.Time); ok {
			return "time " + tm.UTC().Format("2006-01-02 15:04:05.999999999"), nil
		}
		if !isText {
			return "", fmt.Errorf("timestamp of Go type %T: %v", v, v)
		}
		for _, l := range timeLayouts {
			if tm, err := time.Parse(l, text); err == nil {
				return "time " + tm.UTC().Format("2006-01-02 15:04:05.999999999"), nil
			}
		}
		return "", fmt.Errorf("%q is not a timestamp", text)
	default:
		if !isText {
			return "", fmt.Errorf("text of Go type %T: %v", v, v)
		}
		return "text " + strconv.Quote(text), nil
	}
}

// compareCross reads every Chinook table from both sides with the engines'
// drivers, maps the names by the --names rule and compares every row.
func compareCross(t *testing.T, src, dst *crossSide, style string) {
	t.Helper()
	var want []string
	for _, tb := range chinookTables {
		want = append(want, renameStyle(style, src.ident(tb.name)))
	}
	sort.Strings(want)
	if have := listTables(t, dst); strings.Join(have, ",") != strings.Join(want, ",") {
		t.Errorf("target %s %s holds tables %v, want %v", dst.engine, dst.schema, have, want)
	}
	total := 0
	for _, tb := range chinookTables {
		srcName := src.ident(tb.name)
		dstName := renameStyle(style, srcName)
		what := fmt.Sprintf("table %s -> %s", srcName, dstName)
		scols, srows, err := readAll(t, src, srcName)
		if err != nil {
			t.Fatalf("%s: read the source: %v", what, err)
		}
		dcols, drows, err := readAll(t, dst, dstName)
		if err != nil {
			t.Errorf("%s: read the target: %v", what, err)
			continue
		}
		// Columns: target index and kind of each source column.
		dpos := map[string]int{}
		for i, c := range dcols {
			dpos[c] = i
		}
		idx, kinds, logical := make([]int, len(scols)), make([]byte, len(scols)), make([]string, len(scols))
		ok := len(scols) == len(dcols)
		for i, c := range scols {
			logical[i] = c
			if src.pascal {
				logical[i] = toSnake(c)
			}
			kinds[i] = chinookKind(logical[i])
			j, found := dpos[renameStyle(style, c)]
			idx[i], ok = j, ok && found
		}
		if !ok {
			t.Errorf("%s: source columns %v, target columns %v; want the target's to be the source's renamed by --names %s", what, scols, dcols, orKeep(style))
			continue
		}
		var keyCols []int
		for _, k := range tb.key {
			for i := range logical {
				if logical[i] == k {
					keyCols = append(keyCols, i)
				}
			}
		}
		type normRow struct {
			vals []string
			raw  []any
		}
		norm := func(side string, rows [][]any, pos func(int) int) (map[string]normRow, []string) {
			out := map[string]normRow{}
			var errs []string
			for _, row := range rows {
				vals := make([]string, len(scols))
				for i := range scols {
					s, err := normalize(row[pos(i)], kinds[i])
					if err != nil {
						s = "UNREADABLE " + err.Error()
						if len(errs) < 3 {
							errs = append(errs, fmt.Sprintf("%s column %s: %v", side, scols[i], err))
						}
					}
					vals[i] = s
				}
				var key []string
				for _, k := range keyCols {
					key = append(key, vals[k])
				}
				out[strings.Join(key, ", ")] = normRow{vals, row}
			}
			return out, errs
		}
		a, errsA := norm("source", srows, func(i int) int { return i })
		b, errsB := norm("target", drows, func(i int) int { return idx[i] })
		for _, e := range append(errsA, errsB...) {
			t.Errorf("%s: %s", what, e)
		}
		if len(srows) != len(drows) {
			t.Errorf("%s: %d rows on the source, %d on the target", what, len(srows), len(drows))
		}
		var keys []string
		for k := range a {
			keys = append(keys, k)
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		reported := 0
		for _, k := range keys {
			if reported == 5 {
				t.Errorf("%s: more differences not shown", what)
				break
			}
			ra, inA := a[k]
			rb, inB := b[k]
			switch {
			case !inB:
				t.Errorf("%s: row with key %s is missing on the target (source row %q)", what, k, ra.vals)
				reported++
			case !inA:
				t.Errorf("%s: row with key %s exists only on the target (target row %q)", what, k, rb.vals)
				reported++
			default:
				for i := range ra.vals {
					if ra.vals[i] != rb.vals[i] {
						t.Errorf("%s: row with key %s, column %s -> %s differs:\n source %s (read as %T %v)\n target %s (read as %T %v)",
							what, k, scols[i], dcols[idx[i]], ra.vals[i], ra.raw[i], showRaw(ra.raw[i]), rb.vals[i], rb.raw[idx[i]], showRaw(rb.raw[idx[i]]))
						reported++
						break
					}
				}
			}
		}
		total += len(srows)
		t.Logf("%s: %d rows compared", what, len(srows))
	}
	t.Logf("%d rows compared in %d tables", total, len(chinookTables))
}

// showRaw prints a driver value for messages (bytes as text).
func showRaw(v any) string {
	switch x := v.(type) {
	case []byte:
		return strconv.Quote(string(x))
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprintf("%v", v)
}
