package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/godwit-db/godwit/internal/engine/bridge"
)

// specFile is a spec file (--spec godwit.yaml): every flag of start and check
// under its name with '_' for '-', and per-table choices, which only the file
// carries. A flag given on the command line wins over the file.
type specFile struct {
	Source         *string  `yaml:"source"`
	Target         *string  `yaml:"target"`
	Include        []string `yaml:"include"`
	Exclude        []string `yaml:"exclude"`
	Once           *bool    `yaml:"once"`
	ChunkRows      *int64   `yaml:"chunk_rows"`
	Jobs           *int     `yaml:"jobs"`
	TruncateTarget *bool    `yaml:"truncate_target"`
	MaxCopyRate    *float64 `yaml:"max_copy_rate"`
	Verify         *bool    `yaml:"verify"`
	AllowNoKey     *bool    `yaml:"allow_no_key"`
	WarnRetainedMB *int64   `yaml:"warn_retained_mb"`
	RetryFor       *string  `yaml:"retry_for"`
	Names          *string  `yaml:"names"`
	TargetSchema   *string  `yaml:"target_schema"`
	AllowLossy     []string `yaml:"allow_lossy"`
	TinyIntBool    *bool    `yaml:"tinyint1_as_boolean"`
	EnumTypes      *bool    `yaml:"enum_types"`
	// Tables are choices by source table (schema.table): target name and
	// schema, and by column: target name, target type, or exclude.
	Tables map[string]bridge.TableOptions `yaml:"tables"`
}

// specFlag registers --spec.
func specFlag(f *pflag.FlagSet, path *string) {
	f.StringVar(path, "spec", "", "read the migration's options from this YAML file (docs/spec.md): every flag, plus per-table renames, column types and excluded columns; flags given on the command line win")
}

// applySpec reads the spec file at path and sets every flag it names that the
// command line did not, then returns the per-table choices. Keys of flags the
// command does not have (start's --jobs for check) are ignored.
func applySpec(path string, f *pflag.FlagSet) (map[string]bridge.TableOptions, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the spec file: %w", err)
	}
	sf, err := parseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("spec file %s: %w", path, err)
	}
	given := map[string]bool{}
	f.Visit(func(fl *pflag.Flag) { given[fl.Name] = true })
	set := func(name string, vals ...string) error {
		if given[name] || f.Lookup(name) == nil {
			return nil
		}
		for _, v := range vals {
			if err := f.Set(name, v); err != nil {
				return fmt.Errorf("spec file %s: %s: %w", path, strings.ReplaceAll(name, "-", "_"), err)
			}
		}
		return nil
	}
	str := func(p *string) []string {
		if p == nil {
			return nil
		}
		return []string{*p}
	}
	boolean := func(p *bool) []string {
		if p == nil {
			return nil
		}
		return []string{strconv.FormatBool(*p)}
	}
	integer := func(p *int64) []string {
		if p == nil {
			return nil
		}
		return []string{strconv.FormatInt(*p, 10)}
	}
	var jobs, rate []string
	if sf.Jobs != nil {
		jobs = []string{strconv.Itoa(*sf.Jobs)}
	}
	if sf.MaxCopyRate != nil {
		rate = []string{strconv.FormatFloat(*sf.MaxCopyRate, 'g', -1, 64)}
	}
	for _, s := range []struct {
		flag string
		vals []string
	}{
		{"source", str(sf.Source)}, {"target", str(sf.Target)},
		{"include", sf.Include}, {"exclude", sf.Exclude},
		{"once", boolean(sf.Once)}, {"chunk-rows", integer(sf.ChunkRows)}, {"jobs", jobs},
		{"truncate-target", boolean(sf.TruncateTarget)}, {"max-copy-rate", rate}, {"verify", boolean(sf.Verify)},
		{"allow-no-key", boolean(sf.AllowNoKey)}, {"warn-retained-mb", integer(sf.WarnRetainedMB)}, {"retry-for", str(sf.RetryFor)},
		{"names", str(sf.Names)}, {"target-schema", str(sf.TargetSchema)}, {"allow-lossy", sf.AllowLossy},
		{"tinyint1-as-boolean", boolean(sf.TinyIntBool)}, {"enum-types", boolean(sf.EnumTypes)},
	} {
		if err := set(s.flag, s.vals...); err != nil {
			return nil, err
		}
	}
	return sf.Tables, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): (.*)$`)

// parseSpec decodes a spec file strictly: an unknown key is an error naming
// its line, so a typo does not silently change the migration.
func parseSpec(data []byte) (*specFile, error) {
	var sf specFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sf); err != nil && !errors.Is(err, io.EOF) {
		// yaml lists every problem on its own line; the first one is enough.
		msg, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:")), "\n")
		if m := yamlLine.FindStringSubmatch(strings.TrimSpace(msg)); m != nil {
			msg = "line " + m[1] + ": " + unknownField.ReplaceAllString(m[2], "$1 is not a key here (docs/spec.md lists them)")
		}
		return nil, errors.New(msg)
	}
	for table, to := range sf.Tables {
		if !strings.Contains(table, ".") {
			return nil, fmt.Errorf("tables: %q: name each table as the source's schema.table (MySQL: database.table, SQLite: main.table)", table)
		}
		for col, co := range to.Columns {
			if co.Exclude && (co.Name != "" || co.Type != "") {
				return nil, fmt.Errorf("tables: %s: columns: %s: an excluded column takes no name or type", table, col)
			}
		}
	}
	return &sf, nil
}
