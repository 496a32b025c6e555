package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godwit-db/godwit/internal/testutil"
)

// rawRequest sends one request to serve exactly as given: method, path, Host,
// headers and body, and nothing added.
func rawRequest(t *testing.T, addr, method, path, host string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("%s %s answered with Access-Control-Allow-Origin %q though serve trusts no origin", method, path, v)
	}
	return resp.StatusCode, string(b)
}

// sqliteUntouched fails the test if godwit left anything in the SQLite
// source at path (capture triggers, bookkeeping tables).
func sqliteUntouched(t *testing.T, path string) {
	t.Helper()
	var n int
	if err := openSQLiteRO(t, path).QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE '%godwit%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the source %s holds %d godwit objects after refused requests", path, n)
	}
}

// TestServeRefusesCrossSite sends serve the requests a hostile web page (or a
// DNS-rebinding one) can make, each carrying the right token too, so that the
// guard is shown to hold on its own; none may create, change or run
// anything. Then the same-origin and program requests still work.
func TestServeRefusesCrossSite(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	createSQLiteSource(t, src, testutil.Seed(t), 300)
	g := newGodwit(t)
	addr := freeAddr(t)
	_, c := startServe(t, g, addr, "--hook", "ok=true")
	pwned := filepath.Join(dir, "pwned")
	create := fmt.Sprintf(`{"name":"m1","source":"sqlite://%s","target":"sqlite://%s"}`, src, dst)
	self := "http://" + addr
	auth := "Bearer " + c.token
	type shape struct {
		what, method, path, host string
		hdr                      map[string]string
		body                     string
		code                     int
		says                     string
	}
	h := func(kv ...string) map[string]string {
		m := map[string]string{"Authorization": auth}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	try := func(shapes []shape) {
		t.Helper()
		for _, s := range shapes {
			code, body := rawRequest(t, addr, s.method, s.path, s.host, s.hdr, s.body)
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal([]byte(body), &e) != nil || !oneLine(e.Error) || !strings.Contains(e.Error, s.says) || code != s.code {
				t.Errorf("%s: %s %s answered %d %s, want %d saying %q on one line", s.what, s.method, s.path, code, strings.TrimSpace(body), s.code, s.says)
			} else {
				t.Logf("%s: %d %s", s.what, code, strings.TrimSpace(body))
			}
		}
	}
	const mig = "/api/v1/migrations"
	try([]shape{
		{"the issue's curl (no token, text/plain, Origin evil)", "POST", mig, addr, map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, create, 403, "cross-origin"},
		{"text/plain from another origin", "POST", mig, addr, h("Origin", "http://evil.example", "Content-Type", "text/plain"), create, 403, "cross-origin"},
		{"text/plain, no Origin", "POST", mig, addr, h("Content-Type", "text/plain"), create, 403, "application/json"},
		{"form-encoded", "POST", mig, addr, h("Content-Type", "application/x-www-form-urlencoded"), "name=m1&source=sqlite://" + src + "&target=sqlite://" + dst, 403, "application/json"},
		{"multipart form", "POST", mig, addr, h("Content-Type", "multipart/form-data; boundary=b"), "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nm1\r\n--b--\r\n", 403, "application/json"},
		{"no Content-Type", "POST", mig, addr, h(), create, 403, "got none"},
		{"JSON from another origin", "POST", mig, addr, h("Origin", "http://evil.example", "Content-Type", "application/json"), create, 403, "Origin http://evil.example"},
		{"JSON from a sandboxed page (Origin null)", "POST", mig, addr, h("Origin", "null", "Content-Type", "application/json"), create, 403, "cross-origin"},
		{"JSON, Sec-Fetch-Site cross-site", "POST", mig, addr, h("Sec-Fetch-Site", "cross-site", "Content-Type", "application/json"), create, 403, "cross-site"},
		{"JSON from another port of this host", "POST", mig, addr, h("Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1", "Content-Type", "application/json"), create, 403, "same-site"},
		{"JSON under a rebound name", "POST", mig, "evil.example:" + strings.Split(addr, ":")[1], h("Content-Type", "application/json"), create, 421, "DNS rebinding"},
		{"reading the list under a rebound name", "GET", mig, "evil.example", h(), "", 421, "--allow-host evil.example"},
		{"the dashboard under a rebound name", "GET", "/", "evil.example", nil, "", 421, "DNS rebinding"},
		{"metrics under a rebound name", "GET", "/metrics", "evil.example", h(), "", 421, "DNS rebinding"},
	})
	if res := g.run("list", "--json"); res.code != 0 || strings.TrimSpace(res.stdout) != "[]" {
		t.Fatalf("after refused creates the store lists: %v", res)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatalf("a refused create made the target %s", dst)
	}
	sqliteUntouched(t, src)
	// A preflight from another origin gets no CORS consent.
	if code, _ := rawRequest(t, addr, "OPTIONS", mig, addr, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}, ""); code < 400 {
		t.Errorf("a cross-origin preflight answered %d", code)
	}

	// What the dashboard sends: created, then attacked while it runs.
	if code, body := rawRequest(t, addr, "POST", mig, addr, h("Origin", self, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json"), create); code != 201 {
		t.Fatalf("a same-origin create: %d %s", code, body)
	}
	c.waitFor("m1", "consistent", time.Minute, func(st status) bool { return st.State == "RUNNING" && st.Consistent })
	hook := `{"timeout":"30s","hook":"touch ` + pwned + `"}`
	try([]shape{
		{"complete with a hook command, same origin", "POST", mig + "/m1/complete", addr, h("Origin", self, "Content-Type", "application/json"), hook, 400, `no hook named "touch`},
		{"complete with a hook command, text/plain", "POST", mig + "/m1/complete", addr, h("Content-Type", "text/plain"), hook, 403, "application/json"},
		{"complete from another origin", "POST", mig + "/m1/complete", addr, h("Origin", "http://evil.example", "Content-Type", "application/json"), `{"hook":"ok"}`, 403, "cross-origin"},
		{"cancel and drop the target, text/plain", "POST", mig + "/m1/cancel", addr, h("Content-Type", "text/plain"), `{"drop_target":true}`, 403, "application/json"},
		{"cancel and drop the target, from another origin", "POST", mig + "/m1/cancel", addr, h("Origin", "http://evil.example", "Content-Type", "application/json"), `{"drop_target":true}`, 403, "cross-origin"},
		{"verify, form-encoded", "POST", mig + "/m1/verify", addr, h("Content-Type", "application/x-www-form-urlencoded"), "", 403, "application/json"},
		{"delete without Content-Type", "DELETE", mig + "/m1", addr, h(), "", 403, "application/json"},
		{"delete from another origin", "DELETE", mig + "/m1", addr, h("Origin", "http://evil.example", "Content-Type", "application/json"), "", 403, "cross-origin"},
		{"reading a migration under a rebound name", "GET", mig + "/m1", "rebind.example", h(), "", 421, "DNS rebinding"},
	})
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a hook command sent over the API ran")
	}
	st := c.status("m1")
	if st.State != "RUNNING" || st.Verify != nil {
		t.Fatalf("after refused requests m1 is %v (verify %+v), want RUNNING and never verified", st, st.Verify)
	}
	if n := countSQLiteRows(t, dst, "items"); n != 300 {
		t.Fatalf("the target holds %d items after refused cancels, want 300", n)
	}
	// The hook serve was given, picked by name, in a same-origin request.
	code, body := rawRequest(t, addr, "POST", mig+"/m1/complete", addr, h("Origin", self, "Content-Type", "application/json"), `{"timeout":"30s","hook":"ok"}`)
	if code != 200 || !strings.Contains(body, `"state":"COMPLETED"`) {
		t.Fatalf("same-origin complete with serve's hook: %d %s", code, body)
	}
}

func countSQLiteRows(t *testing.T, path, table string) int {
	t.Helper()
	var n int
	if err := openSQLiteRO(t, path).QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s in %s: %v", table, path, err)
	}
	return n
}

// attackPage is what a hostile site serves: it tries, against the serve
// named in its query, every request a page can send without asking first
// (no-cors fetches, a beacon, a text/plain form whose body is JSON, a
// form-encoded form) and one that needs CORS consent, then sets its title to
// "done". Only the text/plain ones would create a migration if serve took
// them.
const attackPage = `<!doctype html><html><head><title>loading</title></head><body>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="f1" method="POST" enctype="text/plain" target="sink1"><input id="f1i"></form>
<form id="f2" method="POST" target="sink2"><input name="name"><input name="source"><input name="target"></form>
<script>
const q = new URLSearchParams(location.search);
const serve = q.get("serve"), src = q.get("src"), dst = q.get("dst");
const api = serve + "/api/v1/migrations";
const body = n => JSON.stringify({name: n, source: src, target: dst});
const log = [];
window.attackLog = log;
const loaded = name => new Promise(r => document.querySelector("iframe[name=" + name + "]").addEventListener("load", r, {once: true}));
(async () => {
  for (const [what, init] of [
    ["no-cors fetch of a text/plain JSON body", {method: "POST", mode: "no-cors", body: body("evil1")}],
    ["no-cors fetch, form-encoded", {method: "POST", mode: "no-cors", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "name=evil2&source=" + encodeURIComponent(src) + "&target=" + encodeURIComponent(dst)}],
    ["cors fetch of application/json (needs a preflight)", {method: "POST", headers: {"Content-Type": "application/json"}, body: body("evil3")}],
  ]) {
    try { const r = await fetch(api, init); log.push(what + ": answered " + (r.type === "opaque" ? "opaquely" : r.status)); }
    catch (e) { log.push(what + ": " + e.name); }
  }
  log.push("beacon queued: " + navigator.sendBeacon(api, body("evil4")));
  // A text/plain form sends name=value: a name that opens a JSON object and a
  // value that closes it make the body valid JSON, the '=' inside a string.
  const f1 = document.getElementById("f1"), i = document.getElementById("f1i");
  f1.action = api;
  const j = JSON.stringify({name: "evil5", source: src, target: dst.replace(/\.db$/, "")});
  i.name = j.slice(0, -2);
  i.value = '5.db"}';
  let p = loaded("sink1"); f1.submit(); await p; log.push("text/plain form submitted");
  const f2 = document.getElementById("f2");
  f2.action = api; f2.elements.name.value = "evil6"; f2.elements.source.value = src; f2.elements.target.value = dst;
  p = loaded("sink2"); f2.submit(); await p; log.push("form-encoded form submitted");
})().catch(e => log.push("error " + e)).finally(() => { document.title = "done"; });
</script></body></html>`

// TestServeCrossSiteBrowser: pages of another local HTTP server (another
// port of 127.0.0.1, and localhost: same site and cross site) attack two
// serves in headless Chromium: one with --no-token, held by the guard alone,
// and one with its token. Every attempt must reach serve and be refused, and
// no migration may exist afterwards. Then the dashboard opens through its
// token link (/#token=...), which leaves the address bar clean.
func TestServeCrossSiteBrowser(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	createSQLiteSource(t, src, testutil.Seed(t), 100)
	open, closed := newGodwit(t), newGodwit(t)
	openAddr, closedAddr := freeAddr(t), freeAddr(t)
	_, openAPI := startServe(t, open, openAddr, "--no-token")
	_, closedAPI := startServe(t, closed, closedAddr)
	if closedAPI.token == "" || openAPI.token != "" {
		t.Fatalf("tokens: --no-token serve %q, default serve %q", openAPI.token, closedAPI.token)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, attackPage)
	}))
	defer evil.Close()
	evilPort := strings.TrimPrefix(evil.URL, "http://127.0.0.1:")
	var pages []string
	for _, serve := range []string{openAddr, closedAddr} {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			q := url.Values{"serve": {"http://" + serve}, "src": {"sqlite://" + src}, "dst": {"sqlite://" + dst}}
			pages = append(pages, "http://"+host+":"+evilPort+"/?"+q.Encode())
		}
	}
	args, _ := json.Marshal(map[string]any{"pages": pages, "dashboard": "http://" + closedAddr + "/#token=" + closedAPI.token})
	script, err := filepath.Abs("testdata/crosssite.mjs")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(args))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("browser:\n%s", strings.ReplaceAll(out.String(), closedAPI.token, "***"))
	if err != nil {
		t.Fatalf("the cross-site test in Chromium failed: %v", err)
	}
	// Each page load sends five requests that change something without
	// asking (two no-cors fetches, a beacon, two forms); each must have
	// reached serve and been refused. The beacon may land last.
	for _, s := range []struct {
		g   *godwit
		api apiClient
	}{{open, openAPI}, {closed, closedAPI}} {
		want := 5 * 2
		deadline := time.Now().Add(15 * time.Second)
		for {
			log, _ := os.ReadFile(s.g.logPath)
			n := strings.Count(string(log), `msg="refused a request" method=POST path=/api/v1/migrations`)
			if n >= want {
				t.Logf("%s: %d requests refused", s.api.base, n)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s refused %d of the %d requests the pages sent (the rest never arrived?)\n%s", s.api.base, n, want, log)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code, b := s.api.do("GET", "/api/v1/migrations", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Fatalf("after the attacks %s lists: %d %s", s.api.base, code, b)
		}
	}
	for _, p := range []string{dst, filepath.Join(dir, "dst=5.db")} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("an attack created the target %s", p)
		}
	}
	sqliteUntouched(t, src)
	if !strings.Contains(out.String(), "dashboard opened by its token link") {
		t.Fatalf("the dashboard did not open through its token link:\n%s", out.String())
	}
}
