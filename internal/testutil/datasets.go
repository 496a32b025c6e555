package testutil

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// DatasetsDir is where the vendored sample databases live, relative to the
// module root (see its VENDORED.md).
const DatasetsDir = "test/testdata/datasets"

// Dataset returns the content of one vendored sample database file, rel
// relative to DatasetsDir ("pagila/pagila-data.sql"). A file stored as
// rel+".gz" is decompressed. The content is checked against SHA256SUMS, so a
// damaged or edited fixture fails here instead of testing something else.
func Dataset(t testing.TB, rel string) []byte {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadDataset(os.DirFS(filepath.Join(root, DatasetsDir)), rel)
	if err != nil {
		t.Fatalf("sample database file %s: %v", rel, err)
	}
	return b
}

// ReadDataset reads rel from the datasets tree fsys (rel or rel.gz) and
// checks it against the tree's SHA256SUMS.
func ReadDataset(fsys fs.FS, rel string) ([]byte, error) {
	rel = path.Clean(strings.TrimPrefix(rel, "./"))
	sums, err := readSums(fsys)
	if err != nil {
		return nil, err
	}
	want, ok := sums[rel]
	if !ok {
		return nil, fmt.Errorf("not listed in %s/SHA256SUMS", DatasetsDir)
	}
	b, err := fs.ReadFile(fsys, rel)
	if errors.Is(err, fs.ErrNotExist) {
		var z []byte
		if z, err = fs.ReadFile(fsys, rel+".gz"); err == nil {
			b, err = gunzip(z)
		}
	}
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
		return nil, fmt.Errorf("its SHA-256 is %x, SHA256SUMS says %s: the fixture is damaged or was changed", got, want)
	}
	return b, nil
}

func gunzip(z []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// readSums parses a sha256sum listing: "HEX  ./path" per line.
func readSums(fsys fs.FS) (map[string]string, error) {
	f, err := fsys.Open("SHA256SUMS")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("SHA256SUMS line %d is not \"HEX  PATH\"", n)
		}
		sums[path.Clean(strings.TrimPrefix(name, "./"))] = sum
	}
	return sums, sc.Err()
}
