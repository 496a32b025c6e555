package engine

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/godwit-db/godwit/internal/schema"
)

// WalkChunks plans a table's chunks by walking its key every rows rows
// (NextBound), for keys a value range cannot split evenly. The first and last
// chunks are open-ended.
func WalkChunks(ctx context.Context, c Checksummer, t *schema.Table, rows int64) ([]Chunk, error) {
	var chunks []Chunk
	var prev []string
	for {
		hi, err := c.NextBound(ctx, t, prev, rows)
		if err != nil {
			return nil, fmt.Errorf("planning chunks: %w", err)
		}
		if hi == nil {
			break
		}
		chunks = append(chunks, Chunk{Table: t.QualifiedName(), Seq: len(chunks), Lo: prev, Hi: hi})
		prev = hi
	}
	return append(chunks, Chunk{Table: t.QualifiedName(), Seq: len(chunks), Lo: prev}), nil
}

// SplitIntRange cuts the integer key range [lo, hi] into ranges of about
// rowsPer rows each, assuming rows are spread evenly; the first and last
// ranges are open-ended.
func SplitIntRange(table string, lo, hi, rows, rowsPer int64) []Chunk {
	n := (rows + rowsPer - 1) / rowsPer
	span := float64(hi) - float64(lo) + 1
	if n < 2 || span < 2 {
		return []Chunk{{Table: table}}
	}
	if float64(n) > span {
		n = int64(span)
	}
	step := int64(math.Ceil(span / float64(n)))
	var out []Chunk
	var prev []string
	for b := lo - 1 + step; b < hi; b += step {
		cur := []string{fmt.Sprint(b)}
		out = append(out, Chunk{Table: table, Seq: len(out), Lo: prev, Hi: cur})
		prev = cur
	}
	return append(out, Chunk{Table: table, Seq: len(out), Lo: prev})
}

// boundMark starts a chunk bound value a target keeps in hex: a key may hold
// bytes that text columns (PostgreSQL text) or JSON cannot keep (NUL, invalid
// UTF-8: MySQL binary keys). Other values are kept as they are.
const boundMark = "\x01hex:"

// EncodeBound is a chunk bound as targets store it (nil stays nil: unbounded).
func EncodeBound(vals []string) []string {
	if vals == nil {
		return nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) || strings.HasPrefix(v, "\x01") {
			v = boundMark + hex.EncodeToString([]byte(v))
		}
		out[i] = v
	}
	return out
}

// DecodeBound reverses EncodeBound, in place.
func DecodeBound(vals []string) ([]string, error) {
	for i, v := range vals {
		if h, ok := strings.CutPrefix(v, boundMark); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("chunk bound %q: %w", v, err)
			}
			vals[i] = string(b)
		}
	}
	return vals, nil
}
