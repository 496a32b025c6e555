package postgres

// The COPY text format ("pgtext"), which migrations between engines read and
// write: one row a line, values separated by tabs, \N for NULL, and backslash
// escapes for the characters that would break the layout. No I/O here beyond
// the reader and writer given.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
)

// Copy formats of the PostgreSQL engine.
const (
	formatBinary = "pgbinary"
	formatText   = "pgtext"
)

// copyOutTextSQL reads one chunk in text COPY format.
func copyOutTextSQL(t *schema.Table, lo, hi []string) string {
	return fmt.Sprintf("COPY (SELECT %s FROM %s WHERE %s) TO STDOUT (FORMAT text)",
		quoteList(copyColumnNames(t)), only(t), RangePredicate(t, lo, hi))
}

// copyInTextSQL loads text COPY data into the table's copied columns.
func copyInTextSQL(t *schema.Table) string {
	return fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT text)", QualName(t), quoteList(copyColumnNames(t)))
}

// decodeText reads rows in COPY text format and calls fn with each row's
// values as Value{Text} (Null for \N). The slice is reused between calls.
func decodeText(r io.Reader, cols []schema.Column, fn func([]engine.Value) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	row := make([]engine.Value, len(cols))
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // a row longer than the buffer
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if string(line) == `\.` { // end-of-data marker
			return nil
		}
		if err := splitTextRow(line, row); err != nil {
			return fmt.Errorf("COPY text row %d: %w", n, err)
		}
		if err := fn(row); err != nil {
			return err
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// splitTextRow splits one line into len(row) unescaped values.
func splitTextRow(line []byte, row []engine.Value) error {
	i := 0
	for field := range bytes.SplitSeq(line, []byte{'\t'}) {
		if i == len(row) {
			return fmt.Errorf("more than %d values", len(row))
		}
		if string(field) == `\N` {
			row[i] = engine.Value{Null: true}
		} else {
			row[i] = engine.Value{Text: unescapeText(field)}
		}
		i++
	}
	if i != len(row) {
		return fmt.Errorf("%d values, want %d", i, len(row))
	}
	return nil
}

// unescapeText undoes COPY text escapes: \b \f \n \r \t \v \\, \ooo (octal)
// and \xhh (hex); a backslash before any other character stands for it.
func unescapeText(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			v, digits := 0, 0
			for ; digits < 2 && i+1 < len(s) && hexVal(s[i+1]) >= 0; digits++ {
				i++
				v = v*16 + hexVal(s[i])
			}
			if digits == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// textEncoder writes rows in COPY text format.
type textEncoder struct {
	w   io.Writer
	buf []byte
}

func (e *textEncoder) Format() string { return formatText }
func (e *textEncoder) Close() error   { return nil }

// Encode writes one row: values in FromCanon form (Text), NULL as \N.
func (e *textEncoder) Encode(row []engine.Value) error {
	b := e.buf[:0]
	for i, v := range row {
		if i > 0 {
			b = append(b, '\t')
		}
		if v.Null {
			b = append(b, `\N`...)
			continue
		}
		b = appendEscaped(b, v.Text)
	}
	b = append(b, '\n')
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

// appendEscaped escapes the characters COPY text reads specially.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}
