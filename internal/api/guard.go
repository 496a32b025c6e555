package api

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Guard refuses what a hostile web page in the user's own browser can send to
// serve: cross-site requests that change something (a form post, a no-cors
// fetch) and requests under a foreign Host name (DNS rebinding, through which
// such a page could also read the answers). It knows nothing of tokens: it
// holds even when serve has none.
type Guard struct {
	// listenHost is the host of --listen ("127.0.0.1", "::", "db1.example").
	listenHost string
	// hosts are the names --allow-host added, lower case.
	hosts []string
	// origins are the --allow-origin origins ("https://ops.example:8443"):
	// they may change migrations and get CORS answers.
	origins []string
}

// NewGuard returns the guard for serve listening on listen, answering to the
// extra host names allowHosts and trusting the pages of allowOrigins.
func NewGuard(listen string, allowHosts, allowOrigins []string) (*Guard, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q is not host:port", listen)
	}
	g := &Guard{listenHost: strings.ToLower(host)}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
			return nil, fmt.Errorf("--allow-host %q is not a host name (give the name alone, without scheme or port)", h)
		}
		g.hosts = append(g.hosts, h)
	}
	for _, o := range allowOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("--allow-origin %q is not an origin: give scheme://host[:port], e.g. https://ops.example.com", o)
		}
		g.origins = append(g.origins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return g, nil
}

// Wrap puts the guard in front of next; each refusal is logged (a web page
// trying its luck, or a proxy name to allow). /healthz stays open to any
// Host: it says nothing but "ok" and load balancers probe it under names of
// their own.
func (g *Guard) Wrap(next http.Handler, log *slog.Logger) http.Handler {
	refuse := func(w http.ResponseWriter, r *http.Request, code int, msg string) {
		if log != nil {
			log.Warn("refused a request", "method", r.Method, "path", r.URL.Path, "host", r.Host, "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr, "code", code, "why", msg)
		}
		writeError(w, code, errors.New(msg))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			if msg := g.foreignHost(r.Host); msg != "" {
				refuse(w, r, http.StatusMisdirectedRequest, msg)
				return
			}
		}
		origin := r.Header.Get("Origin")
		trusted := origin != "" && slices.Contains(g.origins, strings.ToLower(origin))
		if trusted {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if !safeMethod(r.Method) {
			if msg := crossSite(r, trusted); msg != "" {
				refuse(w, r, http.StatusForbidden, msg)
				return
			}
			if msg := notJSON(r); msg != "" {
				refuse(w, r, http.StatusForbidden, msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// foreignHost returns why serve does not answer under the Host header host,
// or "" when it does. A page that rebinds its own name to 127.0.0.1 sends its
// own name, so names are allowed only when they are the listen host,
// localhost or --allow-host ones. An IP address is allowed when serve listens
// on it or on every address: the browser then treats that address as the
// page's origin, so the same-origin rules protect it.
func (g *Guard) foreignHost(host string) string {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"))
	if g.answersTo(name) {
		return ""
	}
	return fmt.Sprintf("serve does not answer to Host %q (a defence against DNS rebinding): use the address serve listens on, or start serve with --allow-host %s", host, name)
}

func (g *Guard) answersTo(name string) bool {
	if name == "" {
		return false
	}
	if name == g.listenHost || name == "localhost" || slices.Contains(g.hosts, name) {
		return true
	}
	ip := net.ParseIP(name)
	if ip == nil {
		return false
	}
	listen := net.ParseIP(g.listenHost)
	switch {
	case listen != nil && listen.IsUnspecified():
		return true
	case ip.IsLoopback():
		// serve on one loopback address answers under the others too.
		return g.listenHost == "localhost" || listen != nil && listen.IsLoopback()
	default:
		return listen != nil && listen.Equal(ip)
	}
}

// crossSite returns why a request that changes something comes from another
// site's page, or "" when it does not. Browsers say so in Sec-Fetch-Site
// (every browser since 2023) and in Origin; requests with neither come from
// programs, which cannot borrow the user's browser and are held by the token.
func crossSite(r *http.Request, trusted bool) string {
	if trusted {
		return ""
	}
	origin := r.Header.Get("Origin")
	refuse := func(from string) string {
		return fmt.Sprintf("cross-origin request refused (%s): only serve's own dashboard and programs may change migrations; start serve with --allow-origin ORIGIN to trust another page", from)
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return refuse("Sec-Fetch-Site: " + site + originNote(origin))
	}
	if origin == "" {
		return ""
	}
	if u, err := url.Parse(origin); err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return refuse("Origin " + origin)
	}
	return ""
}

func originNote(origin string) string {
	if origin == "" {
		return ""
	}
	return ", Origin " + origin
}

// notJSON returns why a request that changes something is not a JSON one, or
// "" when it is. A web page can send a form or text/plain to any address
// without asking; application/json needs the server's CORS consent first.
func notJSON(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return ""
	}
	if ct == "" {
		ct = "none"
	}
	return fmt.Sprintf("%s %s needs Content-Type: application/json (got %s): other content types are what cross-site forms send", r.Method, r.URL.Path, ct)
}
