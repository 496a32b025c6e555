// Package copier copies chunks from a source to a target in parallel. Each chunk
// streams from the source's read straight into the target's write (no buffering
// of whole chunks), and the target records the chunk as done in the same
// transaction as its rows, so a killed copy resumes chunk by chunk.
package copier

import (
	"bufio"
	"context"
	"errors"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/position"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/throttle"
)

// Run copies the chunks with jobs parallel workers, paced by limit. onDone is
// called after each chunk commits on the target, with its rows and end position.
func Run(ctx context.Context, src engine.Source, tgt engine.Target, migration string, tables map[string]*schema.Table,
	chunks []engine.Chunk, jobs int, limit throttle.Throttler, onDone func(c engine.Chunk)) error {
	if jobs < 1 {
		jobs = 1
	}
	g, ctx := errgroup.WithContext(ctx)
	todo := make(chan engine.Chunk)
	g.Go(func() error {
		defer close(todo)
		for _, c := range chunks {
			select {
			case todo <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for i := 0; i < jobs; i++ {
		g.Go(func() error {
			for c := range todo {
				done, err := One(ctx, src, tgt, migration, tables[c.Table], c)
				if err != nil {
					return err
				}
				onDone(done)
				if err := limit.Wait(ctx, done.Rows); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// One copies a single chunk and returns it marked done.
func One(ctx context.Context, src engine.Source, tgt engine.Target, migration string, t *schema.Table, c engine.Chunk) (engine.Chunk, error) {
	pr, pw := io.Pipe()
	var end position.Position
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		// Sources write one small message per row; hand the pipe large blocks.
		bw := bufio.NewWriterSize(pw, 256<<10)
		end, readErr = src.ReadChunk(ctx, t, c, bw)
		if readErr == nil {
			readErr = bw.Flush()
		}
		pw.CloseWithError(readErr)
	}()
	rows, err := tgt.WriteChunk(ctx, migration, t, c, src.CopyFormat(), pr, func() (position.Position, error) {
		<-readDone
		return end, readErr
	})
	if err != nil {
		pr.CloseWithError(err) // unblock the reader if the writer gave up early
		<-readDone
		if readErr != nil && !errors.Is(readErr, err) {
			// The read failed first: the target's error only echoes it.
			return c, readErr
		}
		return c, err
	}
	c.Done, c.Rows = true, rows
	if end != nil {
		c.End = end.Encode()
	}
	return c, nil
}
