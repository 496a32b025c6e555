// Package postgres is godwit's PostgreSQL engine: catalog, change capture with a
// pgoutput logical replication slot, binary COPY chunks, and batched replay.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// sessionParams make every session read and write values the same way: text
// forms that round-trip exactly and do not depend on server defaults.
var sessionParams = map[string]string{
	"application_name":            "godwit",
	"DateStyle":                   "ISO, YMD",
	"IntervalStyle":               "postgres",
	"TimeZone":                    "UTC",
	"extra_float_digits":          "3",
	"bytea_output":                "hex",
	"standard_conforming_strings": "on",
	"client_encoding":             "UTF8",
}

var passwordInDSN = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact hides the password of a PostgreSQL URL or keyword/value string.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && (u.User != nil || u.RawQuery != "") {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "***")
			u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "***")
			}
		}
		return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
	}
	// A URL that does not parse (a password with an unencoded @ : or /)
	// shows none of its user part: everything up to its last @ is hidden.
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			s = s[:i+3] + "***@" + s[at+1:]
		}
	}
	return passwordInDSN.ReplaceAllString(s, "${1}***")
}

// IsURL reports whether s names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// parseConfig validates the URL and returns a pgx config with godwit's session settings.
func parseConfig(role, rawURL string) (*pgx.ConnConfig, error) {
	if !IsURL(rawURL) {
		return nil, fmt.Errorf("%s URL %s is not a PostgreSQL URL: use postgres://user[:password]@host[:port]/database", role, Redact(rawURL))
	}
	if _, err := url.Parse(rawURL); err != nil {
		return nil, fmt.Errorf("%s URL %s is malformed: use postgres://user[:password]@host[:port]/database", role, Redact(rawURL))
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s URL %s is malformed: use postgres://user[:password]@host[:port]/database", role, Redact(rawURL))
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	if cfg.ConnectTimeout == 0 {
		// A host that drops packets fails in seconds, not the kernel's minutes
		// (connect_timeout in the URL sets another).
		cfg.ConnectTimeout = 10 * time.Second
	}
	return cfg, nil
}

// connect opens a session and turns connection failures into one actionable line.
func connect(ctx context.Context, role, rawURL string) (*pgx.Conn, error) {
	cfg, err := parseConfig(role, rawURL)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, describeConnectError(role, cfg.Host, cfg.Port, cfg.User, cfg.Database, err)
	}
	return conn, nil
}

func describeConnectError(role, host string, port uint16, user, db string, err error) error {
	addr := fmt.Sprintf("%s:%d", host, port)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Errorf("%s %s: password authentication failed for user %q: check the password in the URL", role, addr, user)
		case "28000":
			return fmt.Errorf("%s %s: user %q may not connect to database %q (pg_hba.conf or role settings): %s", role, addr, user, db, pgErr.Message)
		case "3D000":
			return fmt.Errorf("%s %s: database %q does not exist: create it or fix the URL", role, addr, db)
		case "53300":
			return fmt.Errorf("%s %s: too many connections: raise max_connections or lower --jobs", role, addr)
		}
		return fmt.Errorf("%s %s: %s (SQLSTATE %s)", role, addr, pgErr.Message, pgErr.Code)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%s host %q not found: check the host name in the URL", role, host)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%s %s refused the connection: is PostgreSQL running there and the port right?", role, addr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s did not answer in time (connect_timeout in the URL sets how long to wait; 10 s by default): check the host, the port and the network", role, addr)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s %s: connecting was cancelled", role, addr)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("%s %s unreachable: %v", role, addr, netErr)
	}
	return fmt.Errorf("%s %s: cannot connect: %s", role, addr, strings.Join(strings.Fields(err.Error()), " "))
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// SameDatabase reports whether two URLs name the same database on the same server
// as far as their text tells (host, port and database name).
func SameDatabase(a, b string) bool {
	ca, err1 := pgx.ParseConfig(a)
	cb, err2 := pgx.ParseConfig(b)
	if err1 != nil || err2 != nil {
		return false
	}
	norm := func(h string) string {
		if h == "localhost" || h == "::1" {
			return "127.0.0.1"
		}
		return h
	}
	return norm(ca.Host) == norm(cb.Host) && ca.Port == cb.Port && ca.Database == cb.Database
}
