package workflow

import (
	"context"
	"fmt"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/schema"
)

// crossEngine reports whether source and target are different engines.
func crossEngine(eng Engines, spec Spec) bool {
	return eng.Dialect != nil && eng.Dialect(spec.Source).Engine() != eng.Dialect(spec.Target).Engine()
}

// mapTables maps the source tables to target tables for a migration between
// engines (setting their neutral types); nil, nil within one engine.
func mapTables(eng Engines, spec Spec, tables []*schema.Table) (*bridge.Mapped, error) {
	if !crossEngine(eng, spec) {
		if spec.Bridge.Names != "" || spec.Bridge.TargetSchema != "" || len(spec.Bridge.AllowLossy) > 0 || spec.Bridge.TinyIntBool {
			return nil, fmt.Errorf("--names, --target-schema, --allow-lossy and --tinyint1-as-boolean apply to migrations between engines; source and target are both %s", eng.Dialect(spec.Source).Engine())
		}
		return nil, nil
	}
	return bridge.Map(eng.Dialect(spec.Source), eng.Dialect(spec.Target), tables, spec.Bridge, eng.DefaultSchema(spec.Target))
}

// openSource opens the migration's source; between engines, bridged.
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

// openTarget opens the migration's target; between engines, bridged: it then
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
