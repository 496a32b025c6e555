// Package position holds typed, comparable, serialisable source positions.
//
// A position is where a change stream stands: a PostgreSQL LSN, a MySQL binlog
// coordinate or a SQLite change sequence. Positions are stored in the target (with the
// rows they cover) and in the workflow store, so their text form is versioned:
// "pg1:16/B374D848". Parse refuses forms it does not know rather than guess.
package position

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in a source's change stream.
type Position interface {
	// Encode returns the versioned text form accepted by Parse.
	Encode() string
	// String returns the form a user of that engine knows (e.g. "16/B374D848").
	String() string
	// Covers reports whether every change at or before other is also at or before p.
	Covers(other Position) bool
}

// LSN is a PostgreSQL write-ahead-log position.
type LSN uint64

// ParseLSN parses the PostgreSQL text form "XXXXXXXX/XXXXXXXX".
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("invalid LSN %q: want the form 16/B374D848", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("invalid LSN %q: want hexadecimal parts like 16/B374D848", s)
	}
	return LSN(h<<32 | l), nil
}

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l)) }

const walPageSize = 8192

// RecordBoundary moves a WAL insert position just past a page header back to
// the page start, the position the server reports: no record ends inside a
// header. segSize is the server's wal_segment_size.
func (l LSN) RecordBoundary(segSize int64) LSN {
	off := uint64(l) % walPageSize
	switch {
	case off == 24: // short page header
		return l - 24
	case off == 40 && segSize > 0 && (uint64(l)-40)%uint64(segSize) == 0: // long header, first page of a segment
		return l - 40
	}
	return l
}

// Encode implements Position.
func (l LSN) Encode() string { return "pg1:" + l.String() }

// Covers implements Position. An LSN covers positions of other engines never.
func (l LSN) Covers(other Position) bool {
	o, ok := other.(LSN)
	return ok && l >= o
}

// Seq is a change sequence number: SQLite's change log numbers every change,
// in commit order.
type Seq int64

func (q Seq) String() string { return strconv.FormatInt(int64(q), 10) }

// Encode implements Position.
func (q Seq) Encode() string { return "sq1:" + q.String() }

// Covers implements Position.
func (q Seq) Covers(other Position) bool {
	o, ok := other.(Seq)
	return ok && q >= o
}

// Binlog is a MySQL/MariaDB binary log coordinate: the file and the byte offset
// just after an event. One server's coordinates are totally ordered: files by
// their numeric suffix, offsets within a file. (GTIDs would survive a failover of
// the source, but their formats differ between MySQL and MariaDB; a migration
// reads one server, and coordinates mean the same on both.)
type Binlog struct {
	File string
	Pos  uint32
}

func (b Binlog) String() string { return b.File + ":" + strconv.FormatUint(uint64(b.Pos), 10) }

// Encode implements Position.
func (b Binlog) Encode() string { return "my1:" + b.String() }

// fileSeq is the numeric suffix of a binlog file name ("binlog.000012" -> 12).
func (b Binlog) fileSeq() uint64 {
	i := strings.LastIndexByte(b.File, '.')
	n, err := strconv.ParseUint(b.File[i+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// Covers implements Position.
func (b Binlog) Covers(other Position) bool {
	o, ok := other.(Binlog)
	if !ok {
		return false
	}
	if bs, os := b.fileSeq(), o.fileSeq(); bs != os {
		return bs > os
	}
	return b.Pos >= o.Pos
}

// ParseBinlog parses "file:offset".
func ParseBinlog(s string) (Binlog, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return Binlog{}, fmt.Errorf("invalid binlog position %q: want file:offset like binlog.000003:1234", s)
	}
	n, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return Binlog{}, fmt.Errorf("invalid binlog position %q: want file:offset like binlog.000003:1234", s)
	}
	return Binlog{File: s[:i], Pos: uint32(n)}, nil
}

// ErrEmpty is returned by Parse for the empty string: no position recorded yet.
var ErrEmpty = errors.New("no position")

// Parse decodes a position written by Encode.
func Parse(s string) (Position, error) {
	if s == "" {
		return nil, ErrEmpty
	}
	kind, val, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("invalid position %q: missing engine prefix", s)
	}
	switch kind {
	case "pg1":
		return ParseLSN(val)
	case "my1":
		return ParseBinlog(val)
	case "sq1":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid position %q: want a change sequence number", s)
		}
		return Seq(n), nil
	default:
		return nil, fmt.Errorf("invalid position %q: unknown kind %q (written by a newer godwit?)", s, kind)
	}
}

// Max returns the position that covers both; nil counts as "nothing yet".
func Max(a, b Position) Position {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.Covers(b):
		return a
	default:
		return b
	}
}

// Bytes is how far ahead a is of b in bytes of change log, for positions that
// have a byte distance (LSNs, binlog offsets in one file); 0 when a does not lie
// ahead or cannot be measured.
func Bytes(a, b Position) int64 {
	if ba, ok := a.(Binlog); ok {
		if bb, ok := b.(Binlog); ok && ba.File == bb.File && ba.Pos > bb.Pos {
			return int64(ba.Pos - bb.Pos)
		}
		return 0
	}
	if qa, ok := a.(Seq); ok {
		if qb, ok := b.(Seq); ok && qa > qb {
			return int64(qa - qb) // changes, for engines whose log is counted in changes
		}
		return 0
	}
	la, ok1 := a.(LSN)
	lb, ok2 := b.(LSN)
	if !ok1 || !ok2 || la <= lb {
		return 0
	}
	return int64(la - lb)
}
