package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	type req struct {
		method, path, host string
		header             map[string]string
	}
	json := map[string]string{"Content-Type": "application/json"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	cases := []struct {
		name   string
		listen string
		hosts  []string
		trust  []string
		req    req
		code   int    // 0: passed to the handler
		says   string // in the error line
	}{
		{"program's JSON POST", "127.0.0.1:7070", nil, nil, req{"POST", "/api/v1/migrations", "127.0.0.1:7070", json}, 0, ""},
		{"JSON with charset", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", map[string]string{"Content-Type": "application/json; charset=utf-8"}}, 0, ""},
		{"dashboard's own POST", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Origin", "http://127.0.0.1:7070", "Sec-Fetch-Site", "same-origin")}, 0, ""},
		{"GET from anywhere", "127.0.0.1:7070", nil, nil, req{"GET", "/api/v1/migrations", "127.0.0.1:7070", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}}, 0, ""},
		{"localhost name", "127.0.0.1:7070", nil, nil, req{"GET", "/", "localhost:7070", nil}, 0, ""},
		{"other loopback address", "127.0.0.1:7070", nil, nil, req{"GET", "/", "[::1]:7070", nil}, 0, ""},
		{"issue's curl: text/plain, evil Origin", "127.0.0.1:7070", nil, nil, req{"POST", "/api/v1/migrations", "127.0.0.1:7070", map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}}, 403, "cross-origin"},
		{"text/plain without Origin", "127.0.0.1:7070", nil, nil, req{"POST", "/api/v1/migrations", "127.0.0.1:7070", map[string]string{"Content-Type": "text/plain"}}, 403, "Content-Type: application/json"},
		{"form post", "127.0.0.1:7070", nil, nil, req{"POST", "/api/v1/migrations", "127.0.0.1:7070", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 403, "application/json"},
		{"multipart form", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}, 403, "application/json"},
		{"no Content-Type", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", nil}, 403, "got none"},
		{"DELETE without Content-Type", "127.0.0.1:7070", nil, nil, req{"DELETE", "/api/v1/migrations/m", "127.0.0.1:7070", nil}, 403, "application/json"},
		{"JSON from a foreign Origin", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Origin", "http://evil.example")}, 403, "Origin http://evil.example"},
		{"Origin null", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Origin", "null")}, 403, "cross-origin"},
		{"same site, other port", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:8000")}, 403, "same-site"},
		{"cross-site without Origin", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Sec-Fetch-Site", "cross-site")}, 403, "cross-site"},
		{"same-origin claim with foreign Origin", "127.0.0.1:7070", nil, nil, req{"POST", "/x", "127.0.0.1:7070", with(json, "Sec-Fetch-Site", "same-origin", "Origin", "http://evil.example")}, 403, "evil.example"},
		{"trusted origin", "127.0.0.1:7070", nil, []string{"https://ops.example"}, req{"POST", "/x", "127.0.0.1:7070", with(json, "Origin", "https://ops.example", "Sec-Fetch-Site", "cross-site")}, 0, ""},
		{"trusted origin still needs JSON", "127.0.0.1:7070", nil, []string{"https://ops.example"}, req{"POST", "/x", "127.0.0.1:7070", map[string]string{"Content-Type": "text/plain", "Origin": "https://ops.example"}}, 403, "application/json"},
		{"rebinding name", "127.0.0.1:7070", nil, nil, req{"GET", "/api/v1/migrations", "evil.example:7070", nil}, 421, "--allow-host evil.example"},
		{"rebinding name on the dashboard", "127.0.0.1:7070", nil, nil, req{"GET", "/", "evil.example", nil}, 421, "DNS rebinding"},
		{"rebinding name on metrics", "127.0.0.1:7070", nil, nil, req{"GET", "/metrics", "evil.example", nil}, 421, ""},
		{"health under any name", "127.0.0.1:7070", nil, nil, req{"GET", "/healthz", "lb-probe.internal", nil}, 0, ""},
		{"another address of the machine", "127.0.0.1:7070", nil, nil, req{"GET", "/", "10.0.0.5:7070", nil}, 421, ""},
		{"allowed name", "127.0.0.1:7070", []string{"Godwit.Internal"}, nil, req{"GET", "/", "godwit.internal:443", nil}, 0, ""},
		{"every address: an IP", "0.0.0.0:7070", nil, nil, req{"GET", "/", "10.0.0.5:7070", nil}, 0, ""},
		{"every address: a name", "0.0.0.0:7070", nil, nil, req{"GET", "/", "evil.example:7070", nil}, 421, ""},
		{"listen name", "godwit.internal:7070", nil, nil, req{"GET", "/", "godwit.internal:7070", nil}, 0, ""},
		{"listen IP, other IP", "10.0.0.5:7070", nil, nil, req{"GET", "/", "10.0.0.6:7070", nil}, 421, ""},
		{"listen IP, loopback", "10.0.0.5:7070", nil, nil, req{"GET", "/", "127.0.0.1:7070", nil}, 421, ""},
		{"empty Host", "127.0.0.1:7070", nil, nil, req{"GET", "/", "", nil}, 421, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := NewGuard(c.listen, c.hosts, c.trust)
			if err != nil {
				t.Fatal(err)
			}
			reached := false
			h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }), nil)
			r := httptest.NewRequest(c.req.method, c.req.path, strings.NewReader(`{"name":"x"}`))
			r.Host = c.req.host
			for k, v := range c.req.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if c.code == 0 {
				if !reached {
					t.Fatalf("refused with %d %s, want passed", w.Code, w.Body)
				}
				return
			}
			if reached || w.Code != c.code {
				t.Fatalf("reached=%v code=%d, want refused with %d (%s)", reached, w.Code, c.code, w.Body)
			}
			body := w.Body.String()
			if !strings.Contains(body, c.says) || strings.Count(strings.TrimSpace(body), "\n") != 0 {
				t.Fatalf("error %q does not say %q on one line", body, c.says)
			}
			if len(c.trust) == 0 && w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("CORS header without --allow-origin: %v", w.Header())
			}
		})
	}
}

func TestGuardCORS(t *testing.T) {
	g, err := NewGuard("127.0.0.1:7070", nil, []string{"https://ops.example"})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	for _, c := range []struct {
		origin, want string
	}{{"https://ops.example", "https://ops.example"}, {"http://evil.example", ""}, {"", ""}} {
		r := httptest.NewRequest("OPTIONS", "/api/v1/migrations", nil)
		r.Host = "127.0.0.1:7070"
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != c.want {
			t.Errorf("preflight from %q: Access-Control-Allow-Origin %q, want %q", c.origin, got, c.want)
		}
		if c.want != "" && (w.Code != 204 || !strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization")) {
			t.Errorf("preflight from %q: %d %v", c.origin, w.Code, w.Header())
		}
	}
	for _, bad := range []string{"ops.example", "https://ops.example/path", "ftp://x", "https://u:p@x"} {
		if _, err := NewGuard("127.0.0.1:7070", nil, []string{bad}); err == nil {
			t.Errorf("--allow-origin %q accepted", bad)
		}
	}
	for _, bad := range []string{"http://x", "x:80", "a b"} {
		if _, err := NewGuard("127.0.0.1:7070", []string{bad}, nil); err == nil {
			t.Errorf("--allow-host %q accepted", bad)
		}
	}
}
