package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Stratum method names. The Bitcoin-style dialect (pooler/cpuminer) uses the
// mining.* methods; the CryptoNight "RPC2" dialect (Wolf0's and
// lucasjones' cpuminer-multi) uses login/getjob/submit and a "job" push.
const (
	methodSubscribe     = "mining.subscribe"
	methodAuthorize     = "mining.authorize"
	methodNotify        = "mining.notify"
	methodSetDifficulty = "mining.set_difficulty"
	methodSubmit        = "mining.submit"

	rpc2Login  = "login"
	rpc2GetJob = "getjob"
	rpc2Submit = "submit"
	rpc2Job    = "job"
)

// ErrNotLoopback is returned for a pool or proxy that is not on loopback:
// a literal address that is not loopback (before any socket), a name when
// resolv.conf has no loopback nameserver (before any lookup), or a name
// that resolves to anything but loopback (before any connect). It is what
// keeps the stand-in from ever talking to a real pool.
var ErrNotLoopback = errors.New("only loopback pools are allowed (127.0.0.0/8, ::1, localhost, or a name a loopback resolver maps to loopback)")

// loopbackAddr accepts only literal loopback IPs and the name "localhost",
// which is pinned to 127.0.0.1 rather than looked up.
func loopbackAddr(host string) (netip.Addr, error) {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(h, "localhost") {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	a, err := netip.ParseAddr(h)
	if err == nil && a.Unmap().IsLoopback() {
		return a.Unmap().WithZone(""), nil
	}
	return netip.Addr{}, fmt.Errorf("refusing pool host %q: %w", host, ErrNotLoopback)
}

// poolEndpoint splits a pool URL into scheme, host and port. A literal
// address that is not loopback is refused here, before anything else; a
// name is left for resolvePool.
func poolEndpoint(rawURL string) (scheme, host string, port uint16, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", 0, fmt.Errorf("parse pool URL %q: %w", rawURL, err)
	}
	host = u.Hostname()
	if _, err := loopbackAddr(host); err != nil {
		if _, perr := netip.ParseAddr(strings.Trim(host, "[]")); perr == nil || host == "" {
			return "", "", 0, err
		}
	}
	ps := u.Port()
	if ps == "" {
		switch u.Scheme {
		case "http":
			ps = "80"
		case "https":
			ps = "443"
		default:
			return "", "", 0, fmt.Errorf("pool URL %q has no port", rawURL)
		}
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", "", 0, fmt.Errorf("pool URL %q: bad port: %w", rawURL, err)
	}
	return u.Scheme, host, uint16(p), nil
}

// job is one unit of work as the pool sent it.
type job struct {
	ID     string
	Blob   []byte // header bytes to hash (RPC2 blob, or Bitcoin-style header parts)
	Target uint32 // compact share target: a hash word below it is a share
	// Bitcoin-style extras, kept to fill the would-be mining.submit.
	Extranonce2 string
	Ntime       string
	Session     string // RPC2 login id
}

// stratumConn is a line-delimited JSON-RPC connection with cpuminer's
// protocol dump (-P) and a deadline per exchange.
type stratumConn struct {
	conn    net.Conn
	r       *bufio.Reader
	log     *logger
	timeout time.Duration
}

func (s *stratumConn) send(line string) error {
	s.log.protocol("> %s", line)
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return err
	}
	_, err := io.WriteString(s.conn, line+"\n")
	return err
}

func (s *stratumConn) recv() (map[string]json.RawMessage, error) {
	if err := s.conn.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
		return nil, err
	}
	line, err := s.r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("stratum_recv_line failed: %w", err)
	}
	line = strings.TrimSpace(line)
	s.log.protocol("< %s", line)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return nil, fmt.Errorf("JSON decode failed: %w", err)
	}
	return m, nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// maxMessages bounds how many pool messages the stand-in reads while waiting
// for its one job, so a chatty fake pool cannot keep it running.
const maxMessages = 16

// rpc2Handshake logs in with cpuminer-multi's CryptoNight request and returns
// the first job, from the login result or a following "job" push.
func rpc2Handshake(s *stratumConn, cfg config) (job, error) {
	// Byte-for-byte the request cpuminer-multi's rpc2_login sends.
	req := fmt.Sprintf(`{"method": %q, "params": {"login": %s, "pass": %s, "agent": %q}, "id": 1}`,
		rpc2Login, jsonString(cfg.User), jsonString(cfg.Pass), userAgent)
	if err := s.send(req); err != nil {
		return job{}, fmt.Errorf("send login: %w", err)
	}
	var session string
	for range maxMessages {
		m, err := s.recv()
		if err != nil {
			return job{}, err
		}
		var rawJob json.RawMessage
		if method := rawString(m["method"]); method == rpc2Job {
			rawJob = m["params"]
		} else if rawString(m["id"]) == "1" {
			if e := m["error"]; len(e) > 0 && string(e) != "null" {
				//lint:ignore ST1005 the stand-in prints cpuminer's own messages
				return job{}, fmt.Errorf("Stratum authentication failed: %s", e)
			}
			var res struct {
				ID     string          `json:"id"`
				Job    json.RawMessage `json:"job"`
				Status string          `json:"status"`
			}
			if err := json.Unmarshal(m["result"], &res); err != nil {
				return job{}, fmt.Errorf("login result: %w", err)
			}
			session = res.ID
			rawJob = res.Job
		}
		if len(rawJob) == 0 || string(rawJob) == "null" {
			continue
		}
		j, err := parseRPC2Job(rawJob)
		if err != nil {
			return job{}, err
		}
		j.Session = session
		return j, nil
	}
	return job{}, errors.New("no job received from pool")
}

func parseRPC2Job(raw json.RawMessage) (job, error) {
	var p struct {
		Blob   string `json:"blob"`
		JobID  string `json:"job_id"`
		Target string `json:"target"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return job{}, fmt.Errorf("job: %w", err)
	}
	blob, err := hexDecode(p.Blob)
	if err != nil {
		return job{}, fmt.Errorf("job blob: %w", err)
	}
	t, err := hexDecode(p.Target)
	if err != nil || len(t) != 4 {
		return job{}, fmt.Errorf("job target %q: want 4 hex bytes", p.Target)
	}
	return job{ID: p.JobID, Blob: blob, Target: leUint32(t)}, nil
}

// bitcoinHandshake runs the mining.subscribe / mining.authorize exchange and
// waits for the first mining.notify.
func bitcoinHandshake(s *stratumConn, cfg config) (job, error) {
	if err := s.send(fmt.Sprintf(`{"id": 1, "method": %q, "params": [%q]}`, methodSubscribe, userAgent)); err != nil {
		return job{}, fmt.Errorf("send %s: %w", methodSubscribe, err)
	}
	var extranonce1 string
	extranonce2Size := 4
	authorizeSent, authorized := false, false
	var pending *job
	difficulty := 1.0
	for range maxMessages {
		m, err := s.recv()
		if err != nil {
			return job{}, err
		}
		switch id, method := string(m["id"]), rawString(m["method"]); {
		case id == "1":
			var res []json.RawMessage
			if err := json.Unmarshal(m["result"], &res); err != nil || len(res) < 3 {
				//lint:ignore ST1005 the stand-in prints cpuminer's own messages
				return job{}, fmt.Errorf("Stratum subscribe failed: %s", m["error"])
			}
			extranonce1 = rawString(res[1])
			_ = json.Unmarshal(res[2], &extranonce2Size)
			req := fmt.Sprintf(`{"id": 2, "method": %q, "params": [%s, %s]}`,
				methodAuthorize, jsonString(cfg.User), jsonString(cfg.Pass))
			if err := s.send(req); err != nil {
				return job{}, fmt.Errorf("send %s: %w", methodAuthorize, err)
			}
			authorizeSent = true
		case id == "2":
			if string(m["result"]) != "true" {
				//lint:ignore ST1005 the stand-in prints cpuminer's own messages
				return job{}, fmt.Errorf("Stratum authentication failed: %s", m["error"])
			}
			authorized = true
		case method == methodSetDifficulty:
			var p []float64
			if json.Unmarshal(m["params"], &p) == nil && len(p) > 0 && p[0] > 0 {
				difficulty = p[0]
				s.log.info("Stratum difficulty set to %g", difficulty)
			}
		case method == methodNotify:
			var p []json.RawMessage
			if err := json.Unmarshal(m["params"], &p); err != nil || len(p) < 8 {
				return job{}, fmt.Errorf("%s: bad params", methodNotify)
			}
			var blob []byte
			// job_id, prevhash, coinb1, extranonce1, coinb2: enough header
			// material for the stand-in hash; no real merkle root is built.
			for _, part := range []string{rawString(p[1]), rawString(p[2]), extranonce1, rawString(p[3])} {
				b, err := hexDecode(part)
				if err != nil {
					return job{}, fmt.Errorf("%s: %w", methodNotify, err)
				}
				blob = append(blob, b...)
			}
			pending = &job{
				ID:          rawString(p[0]),
				Blob:        blob,
				Target:      uint32(float64(0xffff0000) / difficulty / 65536),
				Extranonce2: strings.Repeat("00", extranonce2Size),
				Ntime:       rawString(p[7]),
			}
		}
		if authorizeSent && authorized && pending != nil {
			return *pending, nil
		}
	}
	return job{}, errors.New("no job received from pool")
}

// submitRequest is the share a real miner would send for nonce. The stand-in
// only shows it in the protocol dump (-P); it is never written to the pool.
func submitRequest(cfg config, rpc2 bool, j job, nonce uint32, hash []byte) string {
	n := fmt.Sprintf("%08x", nonce)
	if rpc2 {
		return fmt.Sprintf(`{"method": %q, "params": {"id": %s, "job_id": %s, "nonce": %q, "result": %q}, "id": 4}`,
			rpc2Submit, jsonString(j.Session), jsonString(j.ID), n, fmt.Sprintf("%x", hash))
	}
	return fmt.Sprintf(`{"method": %q, "params": [%s, %s, %q, %s, %q], "id": 4}`,
		methodSubmit, jsonString(cfg.User), jsonString(j.ID), j.Extranonce2, jsonString(j.Ntime), n)
}

// mineOnce connects to the pool (on loopback, see resolvePool), does the handshake of the
// algorithm's dialect, hashes the job a few rounds and closes.
func mineOnce(ctx context.Context, cfg config, log *logger) error {
	scheme, host, port, err := poolEndpoint(cfg.URL)
	if err != nil {
		return err
	}
	if cfg.Proxy != "" {
		pu, err := url.Parse(cfg.Proxy)
		proxy := cfg.Proxy
		if err == nil && pu.Host != "" {
			proxy = pu.Hostname()
		} else if h, _, err := net.SplitHostPort(cfg.Proxy); err == nil {
			proxy = h
		}
		// The proxy is never used, so it is never resolved either.
		if _, err := loopbackAddr(proxy); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		log.info("proxy %s ignored: the stand-in connects directly", cfg.Proxy)
	}
	if !strings.HasPrefix(scheme, "stratum") || cfg.NoStratum {
		return fmt.Errorf("%s: getwork/getblocktemplate over HTTP is not implemented by the inert stand-in", cfg.URL)
	}
	if scheme != "stratum+tcp" {
		return fmt.Errorf("%s: TLS stratum is not implemented by the inert stand-in", cfg.URL)
	}

	addr, err := resolvePool(ctx, host)
	if err != nil {
		return err
	}
	timeout := min(time.Duration(cfg.Timeout)*time.Second, 30*time.Second)
	log.info("Starting Stratum on %s", cfg.URL)
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", dialAddr(addr, port))
	if err != nil {
		//lint:ignore ST1005 the stand-in prints cpuminer's own messages
		return fmt.Errorf("Stratum connection failed: %w", err)
	}
	defer conn.Close()
	s := &stratumConn{conn: conn, r: bufio.NewReader(conn), log: log, timeout: timeout}

	algo := algoByName(strings.SplitN(cfg.Algo, ":", 2)[0])
	var j job
	if algo.rpc2 {
		j, err = rpc2Handshake(s, cfg)
	} else {
		j, err = bitcoinHandshake(s, cfg)
	}
	if err != nil {
		return err
	}
	log.info("Stratum requested work restart")
	log.debug("job %s: %d bytes, target %08x", j.ID, len(j.Blob), j.Target)
	for _, r := range hashJob(ctx, j, cfg.Threads) {
		log.hashmeter(r)
		if r.shareFound {
			log.info("thread %d: share found for job %s but not submitted (inert stand-in)", r.thread, j.ID)
			log.protocol("(not sent) %s", submitRequest(cfg, algo.rpc2, j, r.shareNonce, r.shareHash))
		}
	}
	log.info("inert stand-in: one job hashed, exiting")
	return nil
}

// rawString returns a JSON string's value, or the raw text for non-strings.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
