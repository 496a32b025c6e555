package testutil

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// Every file SHA256SUMS lists is vendored and matches, compressed or not.
func TestDatasets(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(filepath.Join(root, DatasetsDir))
	sums, err := readSums(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) < 20 {
		t.Fatalf("SHA256SUMS lists %d files, want the 23 of the four sample databases", len(sums))
	}
	for rel := range sums {
		if _, err := ReadDataset(fsys, rel); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	for _, lic := range []string{"chinook/LICENSE.md", "pagila/LICENSE.txt", "northwind/postgresql/LICENSE", "northwind/sqlite/LICENSE", "debezium/LICENSE"} {
		if _, ok := sums[lic]; !ok {
			t.Errorf("licence %s is not vendored", lic)
		}
	}
	if b, err := ReadDataset(fsys, "sakila-mysql/sakila-mv-schema.sql"); err != nil || !bytes.Contains(b, []byte("Redistributions of source code must retain the above copyright notice")) {
		t.Errorf("Sakila's licence (BSD) is in its SQL header: %v", err)
	}
}

func TestReadDatasetRefusesChanges(t *testing.T) {
	good := []byte("CREATE TABLE t (id int);\n")
	sum := sha256.Sum256(good)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(good)
	w.Close()
	sums := hex.EncodeToString(sum[:]) + "  ./a.sql\n" + hex.EncodeToString(sum[:]) + "  ./b.sql\n"
	fsys := fstest.MapFS{
		"SHA256SUMS": {Data: []byte(sums)},
		"a.sql":      {Data: good},
		"b.sql.gz":   {Data: z.Bytes()},
		"c.sql":      {Data: good},
	}
	for _, rel := range []string{"a.sql", "./b.sql"} {
		if b, err := ReadDataset(fsys, rel); err != nil || !bytes.Equal(b, good) {
			t.Errorf("%s: %q %v", rel, b, err)
		}
	}
	if _, err := ReadDataset(fsys, "c.sql"); err == nil || !strings.Contains(err.Error(), "not listed") {
		t.Errorf("an unlisted file: %v", err)
	}
	// One byte changed, in a plain and in a compressed file.
	fsys["a.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE t (id INT);\n")}
	if _, err := ReadDataset(fsys, "a.sql"); err == nil || !strings.Contains(err.Error(), "damaged or was changed") {
		t.Errorf("a changed file: %v", err)
	}
	z.Reset()
	w = gzip.NewWriter(&z)
	w.Write([]byte("CREATE TABLE t (id int);\r\n"))
	w.Close()
	fsys["b.sql.gz"] = &fstest.MapFile{Data: z.Bytes()}
	if _, err := ReadDataset(fsys, "b.sql"); err == nil || !strings.Contains(err.Error(), "damaged or was changed") {
		t.Errorf("a changed compressed file: %v", err)
	}
}
