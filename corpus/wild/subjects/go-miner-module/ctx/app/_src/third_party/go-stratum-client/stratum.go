// Package stratum is an inert look-alike of a cryptonight stratum client:
// the same Connect/Authorize/Jobs/Submit surface and JSON-RPC method names
// (login, job, submit, keepalived), but Connect refuses any pool that is
// not a loopback literal before resolving it, and Submit is never reached.
package stratum

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
)

// Job is a unit of work sent by the pool.
type Job struct {
	JobID  string `json:"job_id"`
	Blob   string `json:"blob"`
	Target string `json:"target"`
}

// StratumContext is one pool connection.
type StratumContext struct {
	conn net.Conn
	jobs chan Job
	id   int
}

// New returns an unconnected client.
func New() *StratumContext { return &StratumContext{jobs: make(chan Job, 1)} }

// Connect dials the pool (loopback literals only).
func (sc *StratumContext) Connect(pool string) error {
	addr := pool
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("stratum: refusing pool %s (loopback only)", pool)
	}
	sc.conn, err = net.Dial("tcp", addr)
	return err
}

func (sc *StratumContext) call(method string, params any) error {
	sc.id++
	return json.NewEncoder(sc.conn).Encode(map[string]any{"id": sc.id, "jsonrpc": "2.0", "method": method, "params": params})
}

// Authorize sends the login request and starts reading jobs.
func (sc *StratumContext) Authorize(wallet, pass string) error {
	if err := sc.call("login", map[string]any{"login": wallet, "pass": pass, "agent": "go-stratum-client"}); err != nil {
		return err
	}
	go sc.read()
	return nil
}

// Submit sends a share.
func (sc *StratumContext) Submit(jobID, nonce, result string) error {
	return sc.call("submit", map[string]string{"job_id": jobID, "nonce": nonce, "result": result})
}

// Jobs delivers the pool's jobs.
func (sc *StratumContext) Jobs() <-chan Job { return sc.jobs }

func (sc *StratumContext) read() {
	defer close(sc.jobs)
	r := bufio.NewScanner(sc.conn)
	for r.Scan() {
		var msg struct {
			Method string `json:"method"`
			Params Job    `json:"params"`
		}
		if json.Unmarshal(r.Bytes(), &msg) == nil && msg.Method == "job" {
			sc.jobs <- msg.Params
		}
	}
}
