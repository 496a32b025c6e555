// Package netfault is a TCP proxy for fault tests: it forwards connections to
// a database server and, on demand, resets them or black-holes them, as a
// network that drops a connection or stops answering would.
package netfault

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards every connection accepted on its address to one upstream
// address. Its zero value is not usable: call Listen.
type Proxy struct {
	ln       net.Listener
	upstream string

	mu     sync.Mutex
	conns  map[*pair]struct{}
	holed  bool
	healed chan struct{} // closed when the black hole ends
	closed bool
}

// pair is one proxied connection: the client's and the upstream's side.
type pair struct {
	client, server net.Conn
}

// Listen starts a proxy on 127.0.0.1 (a free port) to upstream (host:port).
func Listen(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[*pair]struct{}{}, healed: make(chan struct{})}
	close(p.healed)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	// A black-holed network answers no new connection either: the client's
	// connect completes (the kernel accepts it) but nothing comes back.
	p.waitHealed()
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	pr := &pair{client: client, server: server}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[pr] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
	pr.close()
	<-done
	p.mu.Lock()
	delete(p.conns, pr)
	p.mu.Unlock()
}

// pipe copies from src to dst, holding every read while the hole is open.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitHealed()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// A close is a packet too: the hole holds it.
			p.waitHealed()
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
					return
				}
			}
			return
		}
	}
}

func (p *Proxy) waitHealed() {
	p.mu.Lock()
	h := p.healed
	p.mu.Unlock()
	<-h
}

func (pr *pair) close() {
	pr.client.Close()
	pr.server.Close()
}

// reset closes c with a TCP reset rather than an orderly close.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// Reset cuts every open connection with a TCP reset, on both sides; new
// connections are forwarded as before.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	for pr := range p.conns {
		reset(pr.client)
		reset(pr.server)
	}
	return n
}

// BlackHole stops every byte in both directions, on open connections and on
// new ones, until Heal: bytes read meanwhile are held, not lost, as TCP would
// retransmit them once the network answers again.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holed {
		p.holed = true
		p.healed = make(chan struct{})
	}
}

// Heal ends a black hole.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holed {
		p.holed = false
		close(p.healed)
	}
}

// Conns is the number of open proxied connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.Heal()
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for pr := range p.conns {
		pr.close()
	}
	p.mu.Unlock()
	return err
}
