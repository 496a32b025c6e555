// Package mysql is godwit's MySQL/MariaDB engine: catalog from
// information_schema, change capture by reading the binary log as a replica,
// chunk copy through LOAD DATA streams, batched replay and a trigger fence.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/godwit-db/godwit/internal/engine/postgres"
)

// Redact hides the password of a MySQL URL.
func Redact(s string) string { return postgres.Redact(s) }

// IsURL reports whether s names a MySQL or MariaDB server.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "mysql://") || strings.HasPrefix(s, "mariadb://")
}

// sqlMode is every session's sql_mode: values are written exactly as read
// (zero dates and invalid dates the source accepted, explicit 0 in an
// AUTO_INCREMENT column), and anything that would be truncated is an error.
const sqlMode = "NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION"

// Conn is a parsed MySQL URL.
type Conn struct {
	Raw      string
	Host     string
	Port     uint16
	User     string
	Password string
	Database string // the database named in the URL path, or ""
	ServerID uint32 // the replica server_id to read the binlog with (0: derived)
}

const urlHelp = "use mysql://user[:password]@host[:port]/[database][?server_id=N]"

// ParseURL validates a mysql:// URL.
func ParseURL(role, raw string) (*Conn, error) {
	if !IsURL(raw) {
		return nil, fmt.Errorf("%s URL %s is not a MySQL URL: %s", role, Redact(raw), urlHelp)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s URL %s is malformed: %s", role, Redact(raw), urlHelp)
	}
	c := &Conn{Raw: raw, Host: u.Hostname(), Port: 3306, Database: strings.Trim(u.Path, "/")}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%s URL %s has an invalid port: %s", role, Redact(raw), urlHelp)
		}
		c.Port = uint16(n)
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.User == "" {
		c.User = "root"
	}
	for k, v := range u.Query() {
		switch k {
		case "server_id":
			n, err := strconv.ParseUint(v[0], 10, 32)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("%s URL %s: server_id must be a number from 1 to 4294967295", role, Redact(raw))
			}
			c.ServerID = uint32(n)
		default:
			return nil, fmt.Errorf("%s URL %s: unknown parameter %q (supported: server_id)", role, Redact(raw), k)
		}
	}
	if strings.Contains(c.Database, "/") {
		return nil, fmt.Errorf("%s URL %s: the path must be one database name: %s", role, Redact(raw), urlHelp)
	}
	return c, nil
}

// Addr is host:port.
func (c *Conn) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))) }

// config is the driver configuration every godwit session uses: UTC, text
// values, exact sql_mode, parameters interpolated client side.
func (c *Conn) config() *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = c.User, c.Password, "tcp", c.Addr()
	cfg.InterpolateParams = true
	cfg.ParseTime = false
	cfg.Loc = time.UTC
	cfg.MaxAllowedPacket = 0 // ask the server
	cfg.Timeout = connectTimeout
	cfg.Collation = "utf8mb4_general_ci"
	cfg.Params = map[string]string{
		"time_zone":            "'+00:00'",
		"sql_mode":             "'" + sqlMode + "'",
		"group_concat_max_len": "1073741824",
		"foreign_key_checks":   "0",
		"unique_checks":        "1",
	}
	return cfg
}

// connectTimeout bounds connecting, handshake included: a host that drops
// packets gives no error, only silence.
const connectTimeout = 10 * time.Second

// open opens a pool and checks it answers, with one actionable error line.
func (c *Conn) open(ctx context.Context, role string, conns int) (*sql.DB, error) {
	connector, err := mysql.NewConnector(c.config())
	if err != nil {
		return nil, fmt.Errorf("%s URL %s: %v", role, Redact(c.Raw), err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(conns + 4)
	db.SetMaxIdleConns(conns + 4)
	db.SetConnMaxLifetime(time.Hour)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("cannot connect to %s %s: the server did not answer within %s: check the host, the port and the network: %w",
				role, Redact(c.Raw), connectTimeout, err)
		}
		return nil, fmt.Errorf("cannot connect to %s %s: %w", role, Redact(c.Raw), describe(err))
	}
	return db, nil
}

// describe turns a driver error into a short reason without secrets, which
// still unwraps to the driver's error (for retry.Transient and errNumber).
func describe(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return &described{fmt.Sprintf("%s (error %d)", me.Message, me.Number), err}
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return &described{"the server does not answer (" + err.Error() + "); check host and port", err}
	}
	return err
}

type described struct {
	msg string
	err error
}

func (d *described) Error() string { return d.msg }
func (d *described) Unwrap() error { return d.err }

// errNumber is the MySQL error number of err, or 0.
func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// SameServer reports whether two URLs name the same server (host and port).
func SameServer(a, b string) bool {
	ca, err1 := ParseURL("source", a)
	cb, err2 := ParseURL("target", b)
	if err1 != nil || err2 != nil {
		return false
	}
	norm := func(h string) string {
		if h == "localhost" || h == "::1" {
			return "127.0.0.1"
		}
		return strings.ToLower(h)
	}
	return norm(ca.Host) == norm(cb.Host) && ca.Port == cb.Port
}

// replicaID is the server_id godwit reads the binlog with: set in the URL, or
// derived from the migration name in a range replicas rarely use.
func (c *Conn) replicaID(migration string) uint32 {
	if c.ServerID != 0 {
		return c.ServerID
	}
	h := fnv.New32a()
	h.Write([]byte(migration))
	return 0x70000000 + h.Sum32()%0x0fffffff
}

// QuoteIdent quotes an identifier with backticks.
func QuoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// QuoteString quotes a string literal (sessions keep backslash escapes on).
func QuoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}
