package gate

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedNATS is a single NATS server with JetStream, run inside the strata
// process so `strata serve` needs nothing else installed. Its streams (the
// job queue and the verdict bucket) live in a directory and survive a
// restart.
type EmbeddedNATS struct {
	srv *server.Server
}

// StartNATS starts an embedded NATS server with JetStream storing under
// dir, listening for clients on listen ("host:port"; port 0 picks a free
// one). Workers on other machines connect to ClientURL; keep listen on
// loopback unless the network between them is trusted, since the embedded
// server has no authentication.
func StartNATS(dir, listen string) (*EmbeddedNATS, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("NATS listen address %q: %w (want host:port, e.g. 127.0.0.1:4222)", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("NATS listen address %q: bad port: %w", listen, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create NATS data dir: %w", err)
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "strata-gate",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
		// The HTTP monitoring port stays off: /metrics of strata serve
		// reports what matters.
		HTTPPort: 0,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s did not start within 30s: is the port taken? pick another with --nats-listen", listen)
	}
	return &EmbeddedNATS{srv: srv}, nil
}

// ClientURL is the nats:// URL workers connect to.
func (e *EmbeddedNATS) ClientURL() string { return e.srv.ClientURL() }

// Connect opens an in-process client connection (no TCP).
func (e *EmbeddedNATS) Connect() (*nats.Conn, error) {
	nc, err := nats.Connect(e.srv.ClientURL(), nats.InProcessServer(e.srv), nats.Name("strata serve"))
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server and waits until its files are closed.
func (e *EmbeddedNATS) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// Connect connects to an existing NATS server or cluster (URLs separated
// by commas) that has JetStream enabled. It keeps reconnecting forever,
// since a gate process outlives a NATS restart.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w (is the server up with JetStream enabled? strata serve embeds one; give its URL with --nats)", url, err)
	}
	return nc, nil
}
