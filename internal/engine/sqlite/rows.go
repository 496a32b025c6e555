package sqlite

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/godwit-db/godwit/internal/engine"
)

// The "rows" copy format: each row is its values in column order, each value a
// tag byte and its payload. Types survive exactly: SQLite keeps a type per value.
const (
	tagNull  = 0
	tagInt   = 1
	tagFloat = 2
	tagText  = 3
	tagBlob  = 4
)

// Format is the name of the copy format this engine reads and writes.
const Format = "sqlite-rows"

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(b, tagInt), uint64(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case string:
		return append(binary.AppendUvarint(append(b, tagText), uint64(len(x))), x...), nil
	case []byte:
		return append(binary.AppendUvarint(append(b, tagBlob), uint64(len(x))), x...), nil
	case bool:
		if x {
			return appendValue(b, int64(1))
		}
		return appendValue(b, int64(0))
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

func readValue(r *bufio.Reader) (any, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNull:
		return nil, nil
	case tagInt, tagFloat:
		var buf [8]byte
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, noEOF(err)
		}
		u := binary.BigEndian.Uint64(buf[:])
		if tag == tagInt {
			return int64(u), nil
		}
		return math.Float64frombits(u), nil
	case tagText, tagBlob:
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, noEOF(err)
		}
		if n > 1<<30 {
			return nil, fmt.Errorf("value of %d bytes in the row stream", n)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, noEOF(err)
		}
		if tag == tagText {
			return string(buf), nil
		}
		return buf, nil
	}
	return nil, fmt.Errorf("corrupt row stream: value tag %d", tag)
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readRow reads ncols values; io.EOF before the first value means the stream ended.
func readRow(r *bufio.Reader, ncols int) ([]any, error) {
	row := make([]any, ncols)
	for i := range row {
		v, err := readValue(r)
		if err != nil {
			if i > 0 {
				return nil, noEOF(err)
			}
			return nil, err
		}
		row[i] = v
	}
	return row, nil
}

// canon is a value's identity as text: the type and the exact value, so that
// 1, 1.0, '1' and x'31' all differ.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int64:
		return "i:" + strconv.FormatInt(x, 10)
	case float64:
		return "f:" + strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return "t:" + x
	case []byte:
		return "b:" + fmt.Sprintf("%x", x)
	}
	return fmt.Sprintf("?:%v", v)
}

// value wraps a typed SQLite value for the engine.
func value(v any) engine.Value {
	if b, ok := v.([]byte); ok {
		// Copy (the driver may reuse its buffer) into a non-nil slice: the driver
		// reads an empty blob as a nil []byte but writes a nil []byte as NULL.
		v = append(make([]byte, 0, len(b)), b...)
	}
	return engine.Value{Raw: v, Null: v == nil, Text: canon(v)}
}
