// Package retry is godwit's one policy for lost connections: which errors a
// reconnect may cure, how long to wait between tries, and when to give up.
package retry

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultFor is how long a migration keeps retrying by default.
const DefaultFor = 10 * time.Minute

// Budget tracks one outage: the tries since the migration last made
// progress, and whether the policy allows another. Its zero value is no
// outage with the default policy.
type Budget struct {
	// For is how long to keep retrying without progress (0: DefaultFor).
	For   time.Duration
	since time.Time
	tries int
}

// Fail records a failed try at now and returns the pause before the next
// one: 1 s, doubling up to 30 s. ok is false when the outage has lasted
// longer than the budget: then the caller gives up.
func (b *Budget) Fail(now time.Time) (wait time.Duration, ok bool) {
	if b.tries == 0 {
		b.since = now
	}
	b.tries++
	limit := b.For
	if limit <= 0 {
		limit = DefaultFor
	}
	if now.Sub(b.since) >= limit {
		return 0, false
	}
	wait = min(time.Second<<min(b.tries-1, 5), 30*time.Second)
	return min(wait, b.since.Add(limit).Sub(now)), true
}

// Progress ends the outage: the next failure starts a new one.
func (b *Budget) Progress() { b.tries = 0 }

// GaveUp describes the end of a budget.
func (b *Budget) GaveUp(err error) error {
	return &GaveUpError{Tries: b.tries, For: b.For, Err: err}
}

// GaveUpError ends a migration whose connection did not come back in time.
type GaveUpError struct {
	Tries int
	For   time.Duration
	Err   error
}

func (e *GaveUpError) Error() string {
	limit := e.For
	if limit <= 0 {
		limit = DefaultFor
	}
	return fmt.Sprintf("gave up after %d tries over %s (--retry-for): %v; 'godwit resume' continues from the last checkpoint", e.Tries, limit, e.Err)
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// NoAnswerError: a server did not answer a probe in time. Statements waiting
// on it are stopped so that the migration reconnects.
type NoAnswerError struct {
	Role  string // source or target
	After time.Duration
	Err   error
}

func (e *NoAnswerError) Error() string {
	if e.After < time.Second {
		return fmt.Sprintf("the %s is unreachable (%v): reconnecting", e.Role, e.Err)
	}
	return fmt.Sprintf("the %s did not answer for %s (%v): reconnecting", e.Role, e.After.Round(time.Second), e.Err)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

// Transient reports whether err is a lost or refused connection, a server
// going away, or a deadlock, which another try may cure. It classifies by type, SQLSTATE and
// error number, never by message text.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var na *NoAnswerError
	var ne net.Error
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &na):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// context's deadline error is a net.Error too: not a lost connection.
		return false
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, net.ErrClosed):
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.ETIMEDOUT):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exceptions; 57P01-57P03: the server shuts
		// down, crashed or is starting; 53300: too many connections.
		// 40001, 40P01: serialization failure, deadlock (another session's,
		// such as a killed runner's statement still running).
		return pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300" ||
			pe.Code == "40001" || pe.Code == "40P01"
	case errors.As(err, &me):
		switch me.Number {
		case 1205, 1213, // lock wait timeout, deadlock
			1040,                   // too many connections
			1053,                   // server shutdown in progress
			1152,                   // aborted connection
			1158, 1159, 1160, 1161, // network read/write errors and timeouts
			1927,       // MariaDB: connection killed
			2006, 2013: // server gone away, lost connection
			return true
		}
	}
	return pgconn.SafeToRetry(err)
}
