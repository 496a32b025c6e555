package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestBudget(t *testing.T) {
	b := Budget{For: time.Minute}
	t0 := time.Unix(1000, 0)
	var waits []time.Duration
	now := t0
	for {
		w, ok := b.Fail(now)
		if !ok {
			break
		}
		waits = append(waits, w)
		now = now.Add(w)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 29} // the last pause ends at the budget
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v seconds", waits, want)
	}
	for i, w := range want {
		if waits[i] != w*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	if now.Sub(t0) != time.Minute {
		t.Errorf("gave up after %v, want 1m", now.Sub(t0))
	}
	b.Progress()
	if w, ok := b.Fail(now.Add(time.Hour)); !ok || w != time.Second {
		t.Errorf("a new outage starts over: wait %v, ok %v", w, ok)
	}
	var zero Budget
	if _, ok := zero.Fail(t0.Add(DefaultFor - time.Second)); !ok {
		t.Error("the zero budget refused its first try")
	}
	msg := (&Budget{tries: 3, For: 20 * time.Second}).GaveUp(io.EOF).Error()
	if msg != "gave up after 3 tries over 20s (--retry-for): EOF; 'godwit resume' continues from the last checkpoint" {
		t.Errorf("GaveUp: %s", msg)
	}
}

func TestTransient(t *testing.T) {
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("value too long"), false},
		{fmt.Errorf("copying: %w", opErr), true},
		{fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		{syscall.EPIPE, true},
		{mysql.ErrInvalidConn, true},
		{&mysql.MySQLError{Number: 1053}, true},
		{&mysql.MySQLError{Number: 1062}, false}, // duplicate key
		{fmt.Errorf("writing: %w", &mysql.MySQLError{Number: 1213}), true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{context.DeadlineExceeded, false},
		{fmt.Errorf("w: %w", context.Canceled), false},
		{&NoAnswerError{Role: "target", After: 10 * time.Second, Err: context.DeadlineExceeded}, true},
	}
	for _, c := range cases {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
