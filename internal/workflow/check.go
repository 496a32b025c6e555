package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/godwit-db/godwit/internal/engine"
	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/schema"
)

// copyRate is the copy speed check's estimate assumes: about what the
// benchmarks measure on 2 cores (docs/performance.md); real servers differ.
const copyRate = 50 << 20

// CheckReport is the assessment before a migration: what the databases are,
// what would be copied, and what blocks it.
type CheckReport struct {
	Ready    bool               `json:"ready"`
	Source   *engine.ServerInfo `json:"source,omitempty"`
	Target   *engine.ServerInfo `json:"target,omitempty"`
	Tables   []CheckTable       `json:"tables"`
	Blocking []string           `json:"blocking"`
	Warnings []string           `json:"warnings"`
	// Rows and Bytes sum the source's estimates; CopySeconds assumes copyRate.
	Rows        int64   `json:"rows_estimate"`
	Bytes       int64   `json:"bytes_estimate"`
	CopySeconds float64 `json:"copy_seconds_estimate"`
}

// CheckTable is one selected table.
type CheckTable struct {
	Name string `json:"name"`
	// Target and Columns show a migration between engines: the target table
	// and how each column maps.
	Target  string        `json:"target,omitempty"`
	Columns []CheckColumn `json:"columns,omitempty"`
	Rows    int64         `json:"rows_estimate"`
	Bytes   int64         `json:"bytes_estimate"`
	Key     []string      `json:"key,omitempty"`
	Note    string        `json:"note,omitempty"`
}

// CheckColumn is one column's mapping between engines.
type CheckColumn struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Neutral    string `json:"neutral"`
	Target     string `json:"target"`
	TargetType string `json:"target_type"`
}

// Check assesses a migration of spec without creating anything anywhere: it
// runs every check `start` runs, collecting what blocks instead of stopping at
// the first. The error is for a malformed request only.
func Check(ctx context.Context, eng Engines, spec Spec) (*CheckReport, error) {
	rep, _, err := assess(ctx, eng, spec, "godwit-check")
	return rep, err
}

// assessed is what an assessment read of the source: its tables, and their
// target tables for a bridged migration.
type assessed struct {
	tables []*schema.Table
	mapped *bridge.Mapped
}

// assess is Check for migration name: `check` and `start` run this one
// function, so that what check passes start does not refuse, and what check
// blocks on start refuses before it creates anything.
func assess(ctx context.Context, eng Engines, spec Spec, name string) (*CheckReport, *assessed, error) {
	rep := &CheckReport{Tables: []CheckTable{}, Blocking: []string{}, Warnings: []string{}}
	got := &assessed{}
	block := func(err error) { rep.Blocking = append(rep.Blocking, oneLine(err.Error())) }
	f := schema.Filter{Include: spec.Include, Exclude: spec.Exclude}
	if err := f.Validate(); err != nil {
		return nil, nil, err
	}
	for _, e := range []error{eng.Check("source", spec.Source), eng.Check("target", spec.Target), eng.Pair(spec.Source, spec.Target)} {
		if e != nil {
			block(e)
			return rep, got, nil
		}
	}
	if eng.SameDatabase(spec.Source, spec.Target) {
		block(fmt.Errorf("source and target are the same database (%s): the target must be another database", eng.Redact(spec.Target)))
		return rep, got, nil
	}
	src, err := eng.OpenSource(ctx, spec.Source, name, 1)
	if err != nil {
		block(err)
		return rep, got, nil
	}
	defer src.Close()
	if info, err := src.Describe(ctx); err != nil {
		block(err)
	} else {
		rep.Source = &info
	}
	tables, err := src.Tables(ctx, f)
	if err != nil {
		block(err)
		return rep, got, nil
	}
	if len(tables) == 0 {
		block(fmt.Errorf("no tables matched the selection in the source database: check the patterns (they match schema.table, e.g. 'public.*')"))
	}
	got.tables = tables
	mapped, err := mapTables(eng, spec, tables)
	if err != nil {
		block(err)
	}
	got.mapped = mapped
	if mapped != nil {
		rep.Warnings = append(rep.Warnings, mapped.Notes...)
	}
	if mapped != nil {
		// Values the target columns cannot hold, looked for on the source.
		if rc, ok := src.(engine.RowCounter); ok {
			found, err := bridge.ScanValues(ctx, rc, eng.Dialect(spec.Source), eng.Dialect(spec.Target), tables, mapped, spec.Bridge)
			if err != nil {
				block(err)
			}
			for _, f := range found {
				block(errors.New(f))
			}
		}
	}
	rep.Warnings = append(rep.Warnings, triggerWarnings(tables)...)
	var keyed []*schema.Table
	for i, t := range tables {
		ct := CheckTable{Name: t.QualifiedName(), Rows: max(0, t.Rows), Bytes: t.Bytes, Key: t.Key}
		if mapped != nil {
			tt := mapped.Targets[i]
			ct.Target = tt.QualifiedName()
			cols, _ := spec.Bridge.KeptColumns(t)
			for j, c := range tt.CopyColumns() {
				ct.Columns = append(ct.Columns, CheckColumn{Name: cols[j].Name, Type: cols[j].Type, Neutral: cols[j].Neutral.String(), Target: c.Name, TargetType: c.Type})
			}
		}
		if !t.HasKey() {
			switch {
			case spec.Once:
			case replays(eng, spec, t):
				ct.Note = "no key: replicated by its whole row (REPLICA IDENTITY FULL)"
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("table %s has no key: its changes are replayed one by one, each update and delete matching a row on every column (a scan of the target table, %d rows): add a primary key if it takes many", t.QualifiedName(), max(0, t.Rows)))
				keyed = append(keyed, t)
			case t.RowIdentity() && !spec.AllowNoKey:
				ct.Note = "no key: blocks (REPLICA IDENTITY FULL replays into PostgreSQL only)"
				block(fmt.Errorf("table %s has no key; its changes (REPLICA IDENTITY FULL) are replayed by whole row into PostgreSQL only, with no type mapping: add a key, --exclude it, or pass --allow-no-key to copy it once", t.QualifiedName()))
			case spec.AllowNoKey:
				ct.Note = "no key: copied once, its changes not replayed (--allow-no-key)"
				rep.Warnings = append(rep.Warnings, "table "+t.QualifiedName()+" has no key: it is copied once and later changes to it are lost (--allow-no-key)")
			default:
				ct.Note = "no key: blocks (add a key, --exclude it, or --allow-no-key)"
				block(fmt.Errorf("table %s has no primary key or non-null unique key, so its changes cannot be replayed: add a key, --exclude it, or pass --allow-no-key", t.QualifiedName()))
			}
		} else {
			keyed = append(keyed, t)
		}
		rep.Rows += ct.Rows
		rep.Bytes += ct.Bytes
		rep.Tables = append(rep.Tables, ct)
	}
	rep.CopySeconds = float64(rep.Bytes) / copyRate
	if !spec.Once {
		if err := src.CheckCapture(ctx, keyed); err != nil {
			block(err)
		}
		rep.Warnings = append(rep.Warnings, captureWarnings(src, keyed)...)
	}
	probe := tables // the tables as the target would create them
	if mapped != nil {
		probe = mapped.Targets
	}
	reached := true
	if eng.TargetExists != nil && !eng.TargetExists(spec.Target) {
		rep.Warnings = append(rep.Warnings, "the target "+eng.Redact(spec.Target)+" does not exist yet: start creates it")
	} else if tgt, err := eng.OpenTarget(ctx, spec.Target, 1); err != nil {
		block(err)
		reached = false
	} else {
		defer tgt.Close()
		if info, err := tgt.Describe(ctx); err != nil {
			block(err)
		} else {
			rep.Target = &info
		}
		full, err := tgt.NonEmpty(ctx, probe)
		switch {
		case err != nil:
			block(err)
		case len(full) > 0 && spec.TruncateTarget:
			rep.Warnings = append(rep.Warnings, "target tables "+strings.Join(full, ", ")+" hold rows and will be emptied (--truncate-target)")
		case len(full) > 0:
			block(fmt.Errorf("target tables %s already exist and hold rows: drop them, or pass --truncate-target to empty them first", strings.Join(full, ", ")))
		}
	}
	// A dry run of what start creates on the target, kept by nothing: every
	// definition the target would refuse is found here, not half-way.
	if reached && eng.TryCreate != nil && len(probe) > 0 && (mapped != nil || !bridged(eng, spec)) {
		if note, err := eng.TryCreate(ctx, spec.Target, probe); err != nil {
			block(fmt.Errorf("%w (found by trying the tables on the target; nothing was kept)", err))
		} else if note != "" {
			rep.Warnings = append(rep.Warnings, note)
		}
	}
	rep.Ready = len(rep.Blocking) == 0
	return rep, got, nil
}

// triggerWarnings name the tables with triggers, in one warning: godwit
// creates none on the target, and ones created there before the migration is
// over would fire on the rows it writes.
func triggerWarnings(tables []*schema.Table) []string {
	var with []string
	for _, t := range tables {
		if len(t.Triggers) > 0 {
			with = append(with, fmt.Sprintf("%s (%s)", t.QualifiedName(), strings.Join(t.Triggers, ", ")))
		}
	}
	if len(with) == 0 {
		return nil
	}
	return []string{"godwit does not create triggers on the target; create them there once the migration is COMPLETED (before, they would fire on the copied and replayed rows): " +
		strings.Join(with, ", ")}
}

// captureWarnings are what the source's change capture does not see of the
// tables (MySQL: rows changed by foreign key actions).
func captureWarnings(src engine.Source, tables []*schema.Table) []string {
	if w, ok := src.(captureWarner); ok {
		return w.CaptureWarnings(tables)
	}
	return nil
}

type captureWarner interface {
	CaptureWarnings([]*schema.Table) []string
}
