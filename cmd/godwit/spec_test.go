package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/godwit-db/godwit/internal/engine/bridge"
	"github.com/godwit-db/godwit/internal/workflow"
)

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "godwit.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplySpec(t *testing.T) {
	var spec workflow.Spec
	f := pflag.NewFlagSet("start", pflag.ContinueOnError)
	f.StringVar(&spec.Source, "source", "", "")
	f.StringVar(&spec.Target, "target", "", "")
	f.StringArrayVar(&spec.Exclude, "exclude", nil, "")
	f.IntVar(&spec.Jobs, "jobs", 2, "")
	f.BoolVar(&spec.Once, "once", false, "")
	bridgeFlags(f, &spec.Bridge)
	if err := f.Parse([]string{"--target", "postgres://cli/db", "--jobs", "3"}); err != nil {
		t.Fatal(err)
	}
	path := writeSpec(t, `
source: mysql://root@db1/sakila
target: postgres://file/db   # the command line's wins
exclude: [sakila.film_text, "sakila.staff*"]
jobs: 8                      # so does this
once: true
chunk_rows: 500              # not a flag of this command: ignored
names: snake
allow_lossy: [zero-dates, as-text]
tinyint1_as_boolean: true
enum_types: true
tables:
  sakila.address:
    name: addresses
    columns:
      location: {exclude: true}
      phone: {name: phone_number, type: "varchar(32)"}
`)
	tables, err := applySpec(path, f)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Source != "mysql://root@db1/sakila" || spec.Target != "postgres://cli/db" || spec.Jobs != 3 || !spec.Once {
		t.Errorf("scalars: %+v", spec)
	}
	if strings.Join(spec.Exclude, "|") != "sakila.film_text|sakila.staff*" {
		t.Errorf("exclude: %q", spec.Exclude)
	}
	b := spec.Bridge
	if b.Names != "snake" || strings.Join(b.AllowLossy, ",") != "zero-dates,as-text" || !b.TinyIntBool || !b.EnumTypes {
		t.Errorf("bridge options: %+v", b)
	}
	want := bridge.TableOptions{Name: "addresses", Columns: map[string]bridge.ColumnOptions{
		"location": {Exclude: true}, "phone": {Name: "phone_number", Type: "varchar(32)"}}}
	got := tables["sakila.address"]
	if got.Name != want.Name || got.Columns["location"] != want.Columns["location"] || got.Columns["phone"] != want.Columns["phone"] || len(tables) != 1 {
		t.Errorf("tables: %+v", tables)
	}
}

func TestApplySpecErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"source: x\njbos: 3\n", "line 2: jbos is not a key here"},
		{"tables:\n  a.b:\n    colums: {}\n", "line 3: colums is not a key here"},
		{"jobs: many\n", "line 1: cannot unmarshal"},
		{"tables:\n  address: {}\n", `"address": name each table as the source's schema.table`},
		{"tables:\n  a.b:\n    columns:\n      c: {exclude: true, type: int}\n", "an excluded column takes no name or type"},
		{"source: [\n", "yaml"},
	} {
		f := pflag.NewFlagSet("start", pflag.ContinueOnError)
		var jobs int
		f.IntVar(&jobs, "jobs", 2, "")
		path := writeSpec(t, c.text)
		_, err := applySpec(path, f)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q and the path", c.text, err, c.want)
		}
	}
	if _, err := applySpec("/nonexistent/godwit.yaml", pflag.NewFlagSet("x", pflag.ContinueOnError)); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}
