package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/godwit-db/godwit/internal/workflow"
)

// serverURLs completes a spec's source and target from the environment, so
// that no password has to be on a command line, where every local user reads
// it (ps, /proc/PID/cmdline): a URL not given comes from GODWIT_SOURCE or
// GODWIT_TARGET, and GODWIT_SOURCE_PASSWORD or GODWIT_TARGET_PASSWORD is the
// password of a URL that has none.
func serverURLs(spec *workflow.Spec, getenv func(string) string) error {
	for _, r := range []struct {
		role string
		url  *string
	}{{"source", &spec.Source}, {"target", &spec.Target}} {
		env := "GODWIT_" + strings.ToUpper(r.role)
		if *r.url == "" {
			*r.url = getenv(env)
		}
		pw := getenv(env + "_PASSWORD")
		if pw == "" || *r.url == "" {
			continue
		}
		u, err := withPassword(*r.url, pw)
		if err != nil {
			return fmt.Errorf("%s_PASSWORD is set, but %w", env, err)
		}
		*r.url = u
	}
	return nil
}

// withPassword sets the password of a database URL, or of a PostgreSQL
// keyword/value string, that has none.
func withPassword(raw, pw string) (string, error) {
	scheme, _, isURL := strings.Cut(raw, "://")
	switch {
	case isURL && (scheme == "sqlite" || scheme == "file"):
		return "", fmt.Errorf("a SQLite database has no password")
	case isURL:
		u, err := url.Parse(raw)
		if err != nil {
			// The parser's error quotes the URL: never print it.
			return "", fmt.Errorf("the URL does not parse")
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				return "", fmt.Errorf("the URL has a password too: keep one of them")
			}
		}
		u.User = url.UserPassword(u.User.Username(), pw)
		return u.String(), nil
	case keywordValue.MatchString(raw):
		if passwordInDSN.MatchString(raw) {
			return "", fmt.Errorf("the connection string has a password too: keep one of them")
		}
		return raw + " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'", nil
	default:
		return "", fmt.Errorf("a SQLite database has no password")
	}
}

var (
	keywordValue  = regexp.MustCompile(`^\s*[a-z_]+\s*=`)
	passwordInDSN = regexp.MustCompile(`(^|\s)password\s*=`)
)
