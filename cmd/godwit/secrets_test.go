package main

import (
	"strings"
	"testing"

	"github.com/godwit-db/godwit/internal/workflow"
)

func TestServerURLs(t *testing.T) {
	cases := []struct {
		name           string
		source, target string
		env            map[string]string
		wantSrc        string
		wantDst        string
		wantErr        string
	}{
		{name: "flags alone", source: "postgres://u@h/db", target: "mysql://r@h/db",
			wantSrc: "postgres://u@h/db", wantDst: "mysql://r@h/db"},
		{name: "URLs from the environment", env: map[string]string{"GODWIT_SOURCE": "postgres://u:p@h/db", "GODWIT_TARGET": "sqlite:///tmp/x.db"},
			wantSrc: "postgres://u:p@h/db", wantDst: "sqlite:///tmp/x.db"},
		{name: "a flag wins", source: "postgres://a@h/db", env: map[string]string{"GODWIT_SOURCE": "postgres://b@h/db"},
			wantSrc: "postgres://a@h/db"},
		{name: "passwords per role", source: "postgres://u@h:5432/db?sslmode=disable", target: "mysql://root@h:3306/db",
			env:     map[string]string{"GODWIT_SOURCE_PASSWORD": "p@ss:/w?rd", "GODWIT_TARGET_PASSWORD": "x y"},
			wantSrc: "postgres://u:p%40ss%3A%2Fw%3Frd@h:5432/db?sslmode=disable", wantDst: "mysql://root:x%20y@h:3306/db"},
		{name: "keyword/value", source: "host=/run/postgresql dbname=db user=u", env: map[string]string{"GODWIT_SOURCE_PASSWORD": `it's\\`},
			wantSrc: `host=/run/postgresql dbname=db user=u password='it\'s\\\\'`},
		{name: "two passwords", source: "postgres://u:old@h/db", env: map[string]string{"GODWIT_SOURCE_PASSWORD": "new"},
			wantErr: "GODWIT_SOURCE_PASSWORD is set, but the URL has a password too: keep one of them"},
		{name: "two passwords, keyword/value", source: "host=h password=old", env: map[string]string{"GODWIT_SOURCE_PASSWORD": "new"},
			wantErr: "GODWIT_SOURCE_PASSWORD is set, but the connection string has a password too"},
		{name: "sqlite", target: "sqlite:///tmp/x.db", env: map[string]string{"GODWIT_TARGET_PASSWORD": "pw"},
			wantErr: "GODWIT_TARGET_PASSWORD is set, but a SQLite database has no password"},
		{name: "no URL at all", env: map[string]string{"GODWIT_SOURCE_PASSWORD": "pw"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := workflow.Spec{Source: c.source, Target: c.target}
			err := serverURLs(&spec, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				for _, v := range c.env {
					if strings.HasSuffix(v, "pw") || v == "new" || v == "old" {
						if strings.Contains(err.Error(), v) {
							t.Errorf("the error shows a password: %v", err)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Source != c.wantSrc || spec.Target != c.wantDst {
				t.Errorf("source %q target %q, want %q and %q", spec.Source, spec.Target, c.wantSrc, c.wantDst)
			}
		})
	}
}
