// Package sqlite is godwit's SQLite engine: change capture with triggers into
// change log tables in the source file, chunked copy by key, replay, a trigger
// fence for cutover, and verification. It uses the pure-Go driver (no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
)

// IsURL reports whether s names a SQLite database.
func IsURL(s string) bool { return strings.HasPrefix(s, "sqlite:") }

// Path returns the file a sqlite URL names: sqlite:///abs/path.db or sqlite:rel/path.db.
func Path(raw string) (string, error) {
	if !IsURL(raw) {
		return "", fmt.Errorf("%q is not a SQLite URL: use sqlite:///absolute/path.db or sqlite:relative/path.db", raw)
	}
	rest := strings.TrimPrefix(raw, "sqlite:")
	switch {
	case strings.HasPrefix(rest, "///"):
		rest = rest[2:]
	case strings.HasPrefix(rest, "//"):
		return "", fmt.Errorf("SQLite URL %q names a host: use sqlite:///absolute/path.db or sqlite:relative/path.db", raw)
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	p, err := url.PathUnescape(rest)
	if err != nil || p == "" {
		return "", fmt.Errorf("SQLite URL %q has no file path: use sqlite:///absolute/path.db or sqlite:relative/path.db", raw)
	}
	return filepath.Clean(p), nil
}

// open opens a database file; a source must exist (a missing file is an error,
// not an empty database).
// immediateTx makes every transaction take the write lock at once (a target,
// the only writer); a source keeps deferred transactions so reads never block
// the application's writers.
func open(ctx context.Context, role, raw string, mustExist, immediateTx bool) (*sql.DB, string, error) {
	path, err := Path(raw)
	if err != nil {
		return nil, "", err
	}
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("%s database file %s does not exist: check the path in the URL", role, path)
		}
	} else if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, "", fmt.Errorf("%s directory %s does not exist: create it first", role, dir)
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(0)"
	if immediateTx {
		dsn += "&_txlock=immediate"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(4)
	for attempt := 0; ; attempt++ {
		err = db.PingContext(ctx)
		if err == nil {
			_, err = db.ExecContext(ctx, "SELECT count(*) FROM sqlite_master")
		}
		if err == nil || !isBusy(err) || attempt == 100 {
			break
		}
		time.Sleep(time.Duration(5+attempt) * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, "", fmt.Errorf("%s database %s cannot be opened: %v", role, path, err)
	}
	return db, path, nil
}

func isBusy(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6)
}

// writable reports whether the file can be written by this process.
func writable(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("the file is not writable (%v)", err)
	}
	return f.Close()
}

// SameFile reports whether two SQLite URLs name the same file.
func SameFile(a, b string) bool {
	pa, err1 := Path(a)
	pb, err2 := Path(b)
	if err1 != nil || err2 != nil {
		return false
	}
	aa, _ := filepath.Abs(pa)
	bb, _ := filepath.Abs(pb)
	if aa == bb {
		return true
	}
	sa, err1 := os.Stat(aa)
	sb, err2 := os.Stat(bb)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// QuoteIdent quotes an SQLite identifier.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// rawList selects columns as expressions (+"col", a no-op): the driver then sees
// no declared type and returns each value as stored, instead of turning text in
// DATETIME columns into time values.
func rawList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "+" + QuoteIdent(n)
	}
	return strings.Join(q, ", ")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteIdent(n)
	}
	return strings.Join(q, ", ")
}
