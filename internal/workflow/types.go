// Package workflow drives one migration through its states and phases: it
// creates the capture, copies chunks, replays changes, tracks progress and
// obeys control requests. It speaks to databases only through the engine
// interfaces and to the world only through the store.
package workflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/schema"
	"github.com/godwit-db/godwit/internal/store"
)

// State is where a migration stands.
type State string

const (
	Created     State = "CREATED"
	Running     State = "RUNNING"
	Paused      State = "PAUSED"
	CuttingOver State = "CUTTING_OVER"
	Completed   State = "COMPLETED"
	Cancelled   State = "CANCELLED"
	Failed      State = "FAILED"
)

func (s State) String() string { return string(s) }

// Finished reports whether nothing more will happen to the migration.
func (s State) Finished() bool { return s == Completed || s == Cancelled }

// Phase is what a RUNNING migration is doing.
type Phase string

const (
	NoPhase     Phase = ""
	Copying     Phase = "COPYING"
	Replicating Phase = "REPLICATING"
)

func (p Phase) String() string { return string(p) }

// Spec is what the user asked for. Tables is fixed by the first run, so a
// resumed migration moves exactly what it started with.
type Spec struct {
	Source         string   `json:"source"`
	Target         string   `json:"target"`
	Include        []string `json:"include,omitempty"`
	Exclude        []string `json:"exclude,omitempty"`
	Once           bool     `json:"once,omitempty"`
	ChunkRows      int64    `json:"chunk_rows"`
	Jobs           int      `json:"jobs"`
	TruncateTarget bool     `json:"truncate_target,omitempty"`
	AllowNoKey     bool     `json:"allow_no_key,omitempty"`
	// RetainedWarnMB is how much change log (WAL, binlog) the source may keep
	// for the migration before status, metrics and the log warn (0: 10 GiB).
	RetainedWarnMB int64   `json:"retained_warn_mb,omitempty"`
	MaxCopyRate    float64 `json:"max_copy_rate,omitempty"` // rows per second, 0 for no limit
	Verify         bool    `json:"verify,omitempty"`        // verify once consistent
	// RetryForSeconds is how long a lost source or target is retried before
	// the migration fails (0: retry.DefaultFor).
	RetryForSeconds float64         `json:"retry_for_seconds,omitempty"`
	Tables          []*schema.Table `json:"tables,omitempty"`
	// Bridge holds the choices for a migration between engines, and
	// TargetTables the target tables mapped from Tables (index-aligned; nil
	// within one engine).
	Bridge       bridge.Options  `json:"bridge,omitempty"`
	TargetTables []*schema.Table `json:"target_tables,omitempty"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ValidateName checks a migration name: it names objects on the source too.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid migration name %q: use 1-40 lowercase letters, digits, '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// TableStatus is one table's progress.
type TableStatus struct {
	Name         string `json:"name"`
	Phase        string `json:"phase"` // PENDING, COPYING, COPIED, REPLICATING, COPY_ONLY
	RowsCopied   int64  `json:"rows_copied"`
	RowsEstimate int64  `json:"rows_estimate"`
	ChunksDone   int    `json:"chunks_done"`
	ChunksTotal  int    `json:"chunks_total"`
}

// Progress is the snapshot the runner writes every second and every reader
// (status, list, later the API and dashboard) shows.
type Progress struct {
	Consistent          bool    `json:"consistent"`
	LagSeconds          float64 `json:"lag_seconds"`
	LagBytes            int64   `json:"lag_bytes"`
	SourcePosition      string  `json:"source_position"`
	AppliedPosition     string  `json:"applied_position"`
	StartPosition       string  `json:"start_position"`
	ConsistencyPosition string  `json:"consistency_position"`
	ChangesApplied      int64   `json:"changes_applied"`
	ApplyRate           float64 `json:"changes_per_second"`
	CopyRate            float64 `json:"rows_per_second"`
	RetainedBytes       int64   `json:"retained_bytes"`
	// RetainedWarning is set while RetainedBytes is over the warning threshold.
	RetainedWarning bool    `json:"retained_warning"`
	CopySeconds     float64 `json:"copy_seconds,omitempty"`
	// Cutover is the step a cutover is at (fencing, draining, verifying,
	// sequences, hook) or "" when none runs; FreezeMS the write freeze of the
	// completed cutover, from fence to switch.
	Cutover  string `json:"cutover,omitempty"`
	FreezeMS *int64 `json:"freeze_ms"`
	// Retrying is set while the change stream is down and being retried:
	// since when, how many tries, and the last reason (null otherwise).
	Retrying *Retrying     `json:"retrying"`
	Tables   []TableStatus `json:"tables"`
}

// Retrying describes a change stream that is down and being retried.
type Retrying struct {
	Since    time.Time `json:"since"`
	Attempts int       `json:"attempts"`
	Reason   string    `json:"reason"`
}

// Runner describes the process running a migration.
type RunnerInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Alive     bool      `json:"alive"`
	Heartbeat time.Time `json:"heartbeat"`
}

// Status is what `godwit status --json` prints.
type Status struct {
	Name   string  `json:"name"`
	State  State   `json:"state"`
	Phase  Phase   `json:"phase"`
	Error  *string `json:"error"`
	Source string  `json:"source"`
	Target string  `json:"target"`
	Once   bool    `json:"once"`
	Progress
	Runner    *RunnerInfo  `json:"runner"`
	Verify    *VerifyState `json:"verify"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// StatusOf builds the status of a stored migration; redact hides passwords.
func StatusOf(m *store.Migration, redact func(string) string, host string) (Status, error) {
	var spec Spec
	if err := json.Unmarshal(m.Spec, &spec); err != nil {
		return Status{}, fmt.Errorf("migration %s has an unreadable spec: %v", m.Name, err)
	}
	st := Status{Name: m.Name, State: State(m.State), Phase: Phase(m.Phase), Source: redact(spec.Source), Target: redact(spec.Target),
		Once: spec.Once, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	if len(m.Progress) > 0 {
		if err := json.Unmarshal(m.Progress, &st.Progress); err != nil {
			return Status{}, fmt.Errorf("migration %s has unreadable progress: %v", m.Name, err)
		}
	}
	if st.Tables == nil {
		for _, t := range spec.Tables {
			st.Tables = append(st.Tables, TableStatus{Name: t.QualifiedName(), Phase: "PENDING", RowsEstimate: t.Rows})
		}
	}
	if st.Tables == nil {
		st.Tables = []TableStatus{}
	}
	if m.Error != "" {
		e := m.Error
		st.Error = &e
	}
	if vs := loadVerify(m); vs != nil {
		vs.Found, vs.Unsettled, vs.Resume = nil, nil, nil // status shows the summary; verify --json the rows
		st.Verify = vs
	}
	if m.RunnerPID != 0 {
		st.Runner = &RunnerInfo{PID: m.RunnerPID, Host: m.RunnerHost, Heartbeat: m.Heartbeat, Alive: alive(m, host)}
	}
	return st, nil
}
