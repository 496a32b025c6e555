package workflow

import (
	"context"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/schema"
)

// bridged reports whether the migration goes through the bridge: between
// engines, or within one with mapping options (names, types, renames,
// excluded columns), where the target's tables are built from the neutral
// model rather than copied as the source defines them.
func bridged(eng Engines, spec Spec) bool {
	return eng.Dialect != nil && (spec.Bridge.Set() || eng.Dialect(spec.Source).Engine() != eng.Dialect(spec.Target).Engine())
}

// replays tells whether a table's changes are replayed: it has a key, or it
// is identified by its whole row and goes to the same engine unmapped (the
// row-matching replay is PostgreSQL's own).
func replays(eng Engines, spec Spec, t *schema.Table) bool {
	return t.HasKey() || (t.RowIdentity() && !bridged(eng, spec))
}

// mapTables maps the source tables to target tables for a bridged migration
// (setting their neutral types); nil, nil otherwise.
func mapTables(eng Engines, spec Spec, tables []*schema.Table) (*bridge.Mapped, error) {
	if !bridged(eng, spec) {
		return nil, nil
	}
	return bridge.Map(eng.Dialect(spec.Source), eng.Dialect(spec.Target), tables, spec.Bridge, eng.DefaultSchema(spec.Target))
}

// openSource opens the migration's source, bridged when mapped.
func (r *Runner) openSource(ctx context.Context, spec Spec, name string, jobs int) (engine.Source, error) {
	src, err := r.Engines.OpenSource(ctx, spec.Source, name, jobs)
	if err != nil || spec.TargetTables == nil {
		return src, err
	}
	b, err := bridge.NewSource(src, r.Engines.Dialect(spec.Source), spec.Bridge)
	if err != nil {
		src.Close()
		return nil, err
	}
	return b, nil
}

// openTarget opens the migration's target, bridged when mapped: it then
// takes the source's tables and works on their target tables.
func (r *Runner) openTarget(ctx context.Context, spec Spec, name string, jobs int) (engine.Target, error) {
	tgt, err := r.Engines.OpenTarget(ctx, spec.Target, jobs)
	if err != nil || spec.TargetTables == nil {
		return tgt, err
	}
	b, err := bridge.NewTarget(tgt, r.Engines.Dialect(spec.Source), r.Engines.Dialect(spec.Target), spec.Tables, spec.TargetTables, spec.Bridge,
		func(ctx context.Context) (engine.Source, error) {
			return r.Engines.OpenSource(ctx, spec.Target, name, 1)
		})
	if err != nil {
		tgt.Close()
		return nil, err
	}
	return b, nil
}

// ownSource is the engine's own source behind the bridge of a migration
// between engines (whose Checksummer speaks canonical values), else src.
func ownSource(src engine.Source) engine.Source {
	if u, ok := src.(interface{ Unwrap() engine.Source }); ok {
		return u.Unwrap()
	}
	return src
}

// sourceAs finds an optional ability on a source, looking through the bridge
// of a migration between engines to the engine's own source.
func sourceAs[T any](src engine.Source) (T, bool) {
	if t, ok := src.(T); ok {
		return t, true
	}
	t, ok := ownSource(src).(T)
	return t, ok
}

// targetAs finds an optional ability on a target, looking through the bridge
// of a migration between engines to the engine's own target.
func targetAs[T any](tgt engine.Target) (T, bool) {
	if t, ok := tgt.(T); ok {
		return t, true
	}
	if u, ok := tgt.(interface{ Unwrap() engine.Target }); ok {
		t, ok := u.Unwrap().(T)
		return t, ok
	}
	var zero T
	return zero, false
}
