package postgres

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://app:s3cret@db1:5432/shop":             "postgres://app:***@db1:5432/shop",
		"postgres://app@db1/shop":                         "postgres://app@db1/shop",
		"postgres://app:p%40ss@db1/shop?sslmode=off":      "postgres://app:***@db1/shop?sslmode=off",
		"postgres://app:s3cret@[bad":                      "postgres://***@[bad",
		"postgres://app:p@ss:w/rd@127.0.0.1:5432/x":       "postgres://***@127.0.0.1:5432/x", // unencoded @ : / in the password
		"mysql://app:s3cret@x:y/z@db:3306/shop":           "mysql://***@db:3306/shop",
		"host=db1 password=s3cret user=app":               "host=db1 password=*** user=app",
		"host=db1 password='s3 cret' user=app":            "host=db1 password=*** user=app",
		"postgres://app@db1/shop?password=s3cret":         "postgres://app@db1/shop?password=***",
		"postgres://db1/shop?sslmode=off&password=s3cret": "postgres://db1/shop?password=***&sslmode=off",
	}
	for in, want := range cases {
		got := Redact(in)
		if got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") || strings.Contains(got, "ss:w") {
			t.Errorf("Redact(%q) leaks the password: %q", in, got)
		}
	}
}

func TestParseConfigErrorsHideSecrets(t *testing.T) {
	for _, in := range []string{"postgres://app:s3cret@[bad", "mysql://app:s3cret@h/db", "postgres://app:s3cret@h:notaport/db", "postgres://app:s3c@ret:x/y@h/db"} {
		_, err := parseConfig("source", in)
		if err == nil {
			t.Errorf("parseConfig(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "ret:x") || strings.Contains(err.Error(), "\n") {
			t.Errorf("parseConfig(%q) error %q leaks the password or spans lines", in, err)
		}
	}
}

func TestSameDatabase(t *testing.T) {
	if !SameDatabase("postgres://a@localhost:5432/x", "postgres://b:pw@127.0.0.1:5432/x") {
		t.Error("same server and database not detected")
	}
	if SameDatabase("postgres://a@localhost:5432/x", "postgres://a@localhost:5433/x") {
		t.Error("different ports taken as same")
	}
	if SameDatabase("postgres://a@h/x", "postgres://a@h/y") {
		t.Error("different databases taken as same")
	}
}
