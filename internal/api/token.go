package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/godwit-db/godwit/internal/store"
)

// TokenFile is the name of the file that keeps serve's API token, beside the
// state store (for a store in PostgreSQL: in this user's local state
// directory).
const TokenFile = "serve.token"

// TokenPath returns where serve keeps its token for the state store state.
func TokenPath(state string) (string, error) {
	if store.IsURL(state) {
		dir, err := store.LocalDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, TokenFile), nil
	}
	return filepath.Join(filepath.Dir(state), TokenFile), nil
}

// LoadOrCreateToken returns the token kept at path, creating the file
// (mode 0600, a new random token) when there is none. A file that other users
// can read or write is refused: the token is the key to every migration.
func LoadOrCreateToken(path string) (tok string, created bool, err error) {
	tok, err = ReadToken(path)
	if err == nil {
		return tok, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("cannot create %s for the API token: %v", dir, err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	tok = hex.EncodeToString(b)
	// Written whole under another name, then linked in place: a serve starting
	// at the same moment reads either no file or the whole token, and the
	// first one to link wins.
	tmp, err := os.CreateTemp(dir, ".serve-token-*")
	if err != nil {
		return "", false, fmt.Errorf("cannot write the API token in %s: %v", dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("cannot write the API token in %s: %v", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			tok, err = ReadToken(path)
			return tok, false, err
		}
		return "", false, fmt.Errorf("cannot write the API token to %s: %v", path, err)
	}
	return tok, true, nil
}

// ReadToken reads the token file at path.
func ReadToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("the API token file %s can be read or written by other users (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("the API token file %s does not hold a token (one line of at least 16 characters): remove it and restart serve to create a new one", path)
	}
	return tok, nil
}
