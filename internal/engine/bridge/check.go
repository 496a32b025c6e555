package bridge

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/types"
)

// checker is one side's engine.Checksummer in a migration between engines.
// Keys and row values cross the interface in canonical form, and hashes are
// computed here from canonical values, so the two sides compare exactly
// whatever each engine's own text looks like. It reads rows through the
// side's RangeReader. Keys of integer columns sort alike on every engine, so
// such tables are checked in ranges; other keys sort by each engine's
// collation, so such a table is one range.
type checker struct {
	d        engine.Dialect
	zeroNull bool                              // zero dates read as NULL
	table    func(*schema.Table) *schema.Table // the migration's (source) table -> this side's table
	sums     engine.Checksummer                // this side's own, for NextBound and Rows
	open     func(ctx context.Context) (engine.RangeReader, error)
	// kept are the columns of this side's table the migration moves, with
	// their index in its CopyColumns.
	kept func(*schema.Table) ([]schema.Column, []int)

	mu     sync.Mutex
	reader engine.RangeReader
}

func (c *checker) rangeReader(ctx context.Context) (engine.RangeReader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reader == nil {
		r, err := c.open(ctx)
		if err != nil {
			return nil, err
		}
		c.reader = r
	}
	return c.reader, nil
}

// intKey reports whether rows sort by their key alike on every engine: a key
// of integer columns (text keys sort by each engine's collation).
func intKey(t *schema.Table) bool {
	for _, k := range t.Key {
		if c := t.Column(k); c == nil || c.Neutral == nil || c.Neutral.Kind != types.Int {
			return false
		}
	}
	return len(t.Key) > 0
}

// keyText turns canonical key values into this side's key text.
func (c *checker) keyText(t *schema.Table, canon []string) ([]string, error) {
	if canon == nil {
		return nil, nil
	}
	out := make([]string, len(canon))
	for j, k := range t.Key {
		v, err := c.d.FromCanon(t.Column(k), engine.Value{Text: canon[j]})
		if err != nil {
			return nil, fmt.Errorf("key of %s: %w", t.QualifiedName(), err)
		}
		out[j] = v.Text
	}
	return out, nil
}

func (c *checker) NextBound(ctx context.Context, src *schema.Table, lo []string, rows int64) ([]string, error) {
	t := c.table(src)
	if !intKey(t) {
		return nil, nil
	}
	l, err := c.keyText(t, lo)
	if err != nil {
		return nil, err
	}
	hi, err := c.sums.NextBound(ctx, t, l, rows)
	if err != nil || hi == nil {
		return nil, err
	}
	out := make([]string, len(hi))
	for j, k := range t.Key {
		v, err := c.d.ToCanon(t.Column(k), engine.Value{Text: hi[j]})
		if err != nil {
			return nil, err
		}
		out[j] = v.Text
	}
	return out, nil
}

// scan reads the rows with lo < key <= hi as canonical values.
func (c *checker) scan(ctx context.Context, src *schema.Table, lo, hi []string, fn func(key []string, row []engine.Value) error) error {
	t := c.table(src)
	if !intKey(t) && (lo != nil || hi != nil) {
		return fmt.Errorf("verifying %s: ranges of a key that is not of integer columns are not comparable across engines", src.QualifiedName())
	}
	l, err := c.keyText(t, lo)
	if err != nil {
		return err
	}
	h, err := c.keyText(t, hi)
	if err != nil {
		return err
	}
	rr, err := c.rangeReader(ctx)
	if err != nil {
		return err
	}
	all := t.CopyColumns()
	cols, idx := c.kept(t)
	var keyPos []int
	for _, k := range t.Key {
		keyPos = append(keyPos, colIndex(cols, k))
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 256<<10)
		err := rr.ReadRange(ctx, t, l, h, bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	canon := make([]engine.Value, len(cols))
	err = c.d.DecodeRows(pr, all, func(row []engine.Value) error {
		for i, j := range idx {
			v := row[j]
			if v.Null {
				canon[i] = engine.Value{Null: true}
				continue
			}
			cv, err := c.canon(&cols[i], v)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", t.QualifiedName(), cols[i].Name, err)
			}
			canon[i] = cv
		}
		key := make([]string, len(keyPos))
		for j, p := range keyPos {
			key[j] = canon[p].Text
		}
		return fn(key, canon)
	})
	pr.CloseWithError(err)
	if rerr := <-done; err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("verifying %s: %w", t.QualifiedName(), err)
	}
	return nil
}

// rowHash hashes canonical values: each value is length-prefixed, NULL is
// its own marker, so no two different rows hash from the same bytes.
func rowHash(row []engine.Value) (uint64, uint64) {
	h := fnv.New128a()
	var buf [binary.MaxVarintLen64 + 1]byte
	for _, v := range row {
		if v.Null {
			h.Write([]byte{0xff})
			continue
		}
		n := binary.PutUvarint(buf[1:], uint64(len(v.Text)))
		buf[0] = 0
		h.Write(buf[:n+1])
		io.WriteString(h, v.Text)
	}
	s := h.Sum(nil)
	return binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:])
}

func (c *checker) ChunkHash(ctx context.Context, src *schema.Table, lo, hi []string) (int64, string, error) {
	var n int64
	var a, b uint64
	err := c.scan(ctx, src, lo, hi, func(_ []string, row []engine.Value) error {
		x, y := rowHash(row)
		n, a, b = n+1, a+x, b+y
		return nil
	})
	return n, fmt.Sprintf("%016x%016x", a, b), err
}

func (c *checker) RowHashes(ctx context.Context, src *schema.Table, lo, hi []string) ([]engine.RowHash, error) {
	var out []engine.RowHash
	err := c.scan(ctx, src, lo, hi, func(key []string, row []engine.Value) error {
		x, y := rowHash(row)
		var s [16]byte
		binary.BigEndian.PutUint64(s[:8], x)
		binary.BigEndian.PutUint64(s[8:], y)
		out = append(out, engine.RowHash{Key: key, Hash: hex.EncodeToString(s[:])})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i].Key, "\x00") < strings.Join(out[j].Key, "\x00") })
	return out, err
}

func (c *checker) Rows(ctx context.Context, src *schema.Table, keys [][]string) ([][]*string, error) {
	t := c.table(src)
	texts := make([][]string, len(keys))
	for i, k := range keys {
		kt, err := c.keyText(t, k)
		if err != nil {
			return nil, err
		}
		texts[i] = kt
	}
	rows, err := c.sums.Rows(ctx, t, texts)
	if err != nil {
		return nil, err
	}
	cols, idx := c.kept(t)
	for n, all := range rows {
		if all == nil {
			continue // no row
		}
		r := make([]*string, len(idx))
		for i, j := range idx {
			v := all[j]
			if v == nil {
				continue
			}
			cv, err := c.canon(&cols[i], engine.Value{Text: *v})
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.QualifiedName(), cols[i].Name, err)
			}
			if cv.Null {
				r[i] = nil
				continue
			}
			s := cv.Text
			r[i] = &s
		}
		rows[n] = r
	}
	return rows, nil
}

// canon is ToCanon with zero dates as NULL when the migration allows it, as
// the copy wrote them.
func (c *checker) canon(col *schema.Column, v engine.Value) (engine.Value, error) {
	out, err := c.d.ToCanon(col, v)
	if err != nil && c.zeroNull && errors.Is(err, types.ErrZeroDate) {
		return engine.Value{Null: true}, nil
	}
	return out, err
}
