package sandbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// fakes are the catch-all TCP listener and the DNS resolver, opened inside
// the container's network namespace (sockets keep the namespace they were
// made in, so strata serves them from the host side).
type fakes struct {
	rec     *recorder
	tcp     net.Listener
	udp     net.PacketConn
	port    int
	pidOf   func(peer string) string // executable owning a client socket
	wg      sync.WaitGroup
	mu      sync.Mutex
	next    uint32 // next address handed out by the resolver
	addrFor map[string]string
	conns   map[net.Conn]struct{}
}

// inNetns runs f on a thread moved into the network namespace at nsPath.
// The thread is discarded afterwards (not unlocked), so no goroutine ever
// runs in the container's namespace by accident.
func inNetns(nsPath string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", nsPath, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", nsPath, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// openFakes opens the listener and the resolver in the namespace at nsPath.
func openFakes(nsPath string, rec *recorder) (*fakes, error) {
	fk := &fakes{rec: rec, next: 0x7f010001, addrFor: map[string]string{}, conns: map[net.Conn]struct{}{}}
	err := inNetns(nsPath, func() error {
		var err error
		if fk.tcp, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("catch-all listener: %w", err)
		}
		if fk.udp, err = net.ListenPacket("udp4", "127.0.0.1:53"); err != nil {
			fk.tcp.Close()
			return fmt.Errorf("DNS resolver: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fk.port = fk.tcp.Addr().(*net.TCPAddr).Port
	fk.wg.Add(2)
	go fk.serveTCP()
	go fk.serveDNS()
	return fk, nil
}

// close stops both fakes and waits for their goroutines.
func (fk *fakes) close() {
	fk.tcp.Close()
	fk.udp.Close()
	fk.mu.Lock()
	for c := range fk.conns {
		c.Close()
	}
	fk.mu.Unlock()
	fk.wg.Wait()
}

func (fk *fakes) serveDNS() {
	defer fk.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := fk.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := fk.answer(buf[:n]); resp != nil {
			fk.udp.WriteTo(resp, from)
		}
	}
}

// answer records every question and answers A queries with an address of
// 127.1.0.0/16 kept per name (so a later connection names its host), and
// everything else with an empty NOERROR answer.
func (fk *fakes) answer(q []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) == 0 {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	b.StartQuestions()
	for _, qq := range qs {
		b.Question(qq)
	}
	b.StartAnswers()
	for _, qq := range qs {
		name := strings.TrimSuffix(strings.ToLower(qq.Name.String()), ".")
		d := DNSQuery{Name: name, Type: strings.TrimPrefix(qq.Type.String(), "Type")}
		if qq.Type == dnsmessage.TypeA {
			ip := fk.addressFor(name)
			d.Answer = ip.String()
			b.AResource(dnsmessage.ResourceHeader{Name: qq.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte(ip.To4())})
		}
		fk.rec.add(func(o *Observations) bool { return appendBounded(&o.DNS, d) })
	}
	resp, err := b.Finish()
	if err != nil {
		return nil
	}
	return resp
}

func (fk *fakes) addressFor(name string) net.IP {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	if a, ok := fk.addrFor[name]; ok {
		return net.ParseIP(a)
	}
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, fk.next)
	if fk.next < 0x7f01fffe {
		fk.next++
	}
	fk.addrFor[name] = ip.String()
	fk.rec.mu.Lock()
	fk.rec.names[ip.String()] = name
	fk.rec.mu.Unlock()
	return ip
}

func (fk *fakes) serveTCP() {
	defer fk.wg.Done()
	for {
		c, err := fk.tcp.Accept()
		if err != nil {
			return
		}
		fk.mu.Lock()
		fk.conns[c] = struct{}{}
		fk.mu.Unlock()
		fk.wg.Add(1)
		go func() {
			defer fk.wg.Done()
			defer func() {
				fk.mu.Lock()
				delete(fk.conns, c)
				fk.mu.Unlock()
				c.Close()
			}()
			fk.handle(c)
		}()
	}
}

// Per-connection bounds of the catch-all.
const (
	connIdle      = 3 * time.Second
	maxLineBytes  = 64 << 10
	maxStratumMsg = 32
)

// handle records one connection: its original destination, the owning
// executable, and what the client says, answering like a pool or a web
// server so the client says more.
func (fk *fakes) handle(c net.Conn) {
	conn := Connection{Dest: c.RemoteAddr().String(), Protocol: "none"}
	if dst, err := originalDst(c); err == nil {
		conn.Dest = dst
	}
	host, port, _ := net.SplitHostPort(conn.Dest)
	conn.Port, _ = strconv.Atoi(port)
	fk.rec.mu.Lock()
	conn.Host = fk.rec.names[host]
	fk.rec.mu.Unlock()
	if fk.pidOf != nil {
		conn.Exe = fk.pidOf(c.RemoteAddr().String())
	}
	dest := conn.Dest
	if conn.Host != "" {
		dest = net.JoinHostPort(conn.Host, port)
	}
	c.SetReadDeadline(time.Now().Add(connIdle))
	br := bufio.NewReaderSize(c, 4096)
	first, _ := br.Peek(1)
	if len(first) > 0 {
		peek, _ := br.Peek(min(br.Buffered(), 64))
		conn.FirstBytes = strconv.Quote(string(peek))
	}
	switch {
	case len(first) == 0:
	case first[0] == '{':
		conn.Protocol = "stratum"
	case first[0] == 0x16:
		conn.Protocol = "tls"
	case isHTTP(br):
		conn.Protocol = "http"
	default:
		conn.Protocol = "raw"
	}
	fk.rec.add(func(o *Observations) bool { return appendBounded(&o.Connections, conn) })
	switch conn.Protocol {
	case "stratum":
		fk.stratum(c, br, dest, conn.Exe)
	case "http":
		fk.http(c, br, dest, conn.Exe)
	}
}

func isHTTP(br *bufio.Reader) bool {
	peek, _ := br.Peek(min(br.Buffered(), 8))
	for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "CONNECT ", "DELETE ", "PATCH "} {
		if bytes.HasPrefix(peek, []byte(m)) {
			return true
		}
	}
	return false
}

// originalDst reads the destination a connection had before the nat
// redirect (SO_ORIGINAL_DST, netfilter's conntrack).
func originalDst(c net.Conn) (string, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return "", fmt.Errorf("not TCP")
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return "", err
	}
	var addr string
	var serr error
	err = raw.Control(func(fd uintptr) {
		mreq, err := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if err != nil {
			serr = err
			return
		}
		m := mreq.Multiaddr
		port := int(m[2])<<8 | int(m[3])
		addr = net.JoinHostPort(net.IPv4(m[4], m[5], m[6], m[7]).String(), strconv.Itoa(port))
	})
	if err != nil {
		return "", err
	}
	return addr, serr
}

// stratumRequest is a JSON-RPC request of either stratum dialect:
// XMRig's (method "login", params an object) or Stratum V1
// ("mining.subscribe" / "mining.authorize", params an array).
type stratumRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func (fk *fakes) stratum(c net.Conn, br *bufio.Reader, dest, exe string) {
	for range maxStratumMsg {
		c.SetReadDeadline(time.Now().Add(connIdle))
		line, err := br.ReadSlice('\n')
		if err != nil && len(line) == 0 {
			return
		}
		var req stratumRequest
		if json.Unmarshal(bytes.TrimSpace(line), &req) != nil || req.Method == "" {
			return
		}
		m := StratumMessage{Dest: dest, Method: req.Method, Exe: exe}
		var result any = true
		switch req.Method {
		case "login":
			var p struct {
				Login, Pass, Agent string
				Algo               []string
			}
			json.Unmarshal(req.Params, &p)
			m.User, m.Pass, m.Agent, m.Algo = p.Login, p.Pass, p.Agent, p.Algo
			// A job with a fixed blob: enough for a client to start
			// hashing and come back with a submit.
			result = map[string]any{"id": "strata", "status": "OK", "job": map[string]any{
				"blob": strings.Repeat("0", 152), "job_id": "1", "target": "ffffff00", "algo": "rx/0", "height": 1, "seed_hash": strings.Repeat("0", 64),
			}}
		case "mining.subscribe":
			var p []string
			json.Unmarshal(req.Params, &p)
			if len(p) > 0 {
				m.Agent = p[0]
			}
			result = []any{[][]string{{"mining.notify", "1"}}, "00000000", 4}
		case "mining.authorize":
			var p []string
			json.Unmarshal(req.Params, &p)
			if len(p) > 0 {
				m.User = p[0]
			}
			if len(p) > 1 {
				m.Pass = p[1]
			}
		case "keepalived":
			result = map[string]string{"status": "KEEPALIVED"}
		}
		fk.rec.add(func(o *Observations) bool { return appendBounded(&o.Stratum, m) })
		resp, _ := json.Marshal(map[string]any{"id": req.ID, "jsonrpc": "2.0", "error": nil, "result": result})
		c.SetWriteDeadline(time.Now().Add(connIdle))
		if _, err := c.Write(append(resp, '\n')); err != nil {
			return
		}
	}
}

func (fk *fakes) http(c net.Conn, br *bufio.Reader, dest, exe string) {
	for range maxStratumMsg {
		c.SetReadDeadline(time.Now().Add(connIdle))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		h := HTTPRequest{Dest: dest, Method: req.Method, Host: req.Host, Path: req.URL.RequestURI(), UserAgent: req.UserAgent(), Exe: exe}
		fk.rec.add(func(o *Observations) bool { return appendBounded(&o.HTTP, h) })
		io.Copy(io.Discard, io.LimitReader(req.Body, maxLineBytes))
		req.Body.Close()
		c.SetWriteDeadline(time.Now().Add(connIdle))
		if _, err := io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\nnot found\n"); err != nil {
			return
		}
	}
}

// netnsRules are the nft rules installed in the container's namespace:
// plain loopback (127.0.0.1) stays as it is, so a server the image starts
// still answers its own health check; every other TCP connect goes to the
// catch-all, every DNS datagram to the resolver.
func netnsRules(port int) string {
	return fmt.Sprintf(`table inet strata {
	chain output {
		type nat hook output priority -100; policy accept;
		ip daddr 127.0.0.1 accept
		meta l4proto tcp redirect to :%d
		udp dport 53 redirect to :53
	}
}
`, port)
}

// nsenterNet runs a command (nft, ip) inside the network namespace of pid.
func nsenterNetArgs(pid int, args ...string) []string {
	return append([]string{"--net=/proc/" + strconv.Itoa(pid) + "/ns/net", "--"}, args...)
}
