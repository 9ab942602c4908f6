package xmrigish_test

import (
	"fmt"
	"github.com/strata-sec/strata/internal/testenv"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The test copy of the stand-in reads its resolv.conf from testResolvConf and
// sends its queries to port dnsConn's port; the image copy reads
// /etc/resolv.conf and port 53.
var (
	testBin        string
	testResolvConf string
	dnsConn        net.PacketConn
	dnsState       struct {
		mu     sync.Mutex
		answer [4]byte
	}
	dnsQueries atomic.Int32
)

// compileTestCopy opens the fake resolver on 127.0.0.11 and compiles a copy
// of the stand-in pointed at it.
func compileTestCopy(dir string) error {
	var err error
	if dnsConn, err = net.ListenPacket("udp4", "127.0.0.11:0"); err != nil {
		return fmt.Errorf("fake resolver: %w", err)
	}
	go serveDNS()
	testResolvConf = filepath.Join(dir, "resolv.conf")
	port := dnsConn.LocalAddr().(*net.UDPAddr).Port
	testBin, _, err = compile(dir, "xmrigish-test",
		fmt.Sprintf(`-DXMRIGISH_RESOLV_CONF="%s"`, testResolvConf), fmt.Sprintf("-DXMRIGISH_DNS_PORT=%d", port))
	return err
}

func testCopy(t *testing.T) string {
	t.Helper()
	if binErr != nil {
		t.Fatalf("build the C stand-in: %v", binErr)
	}
	return testBin
}

// serveDNS answers every A question with dnsState.answer.
func serveDNS() {
	testenv.ServeDNS(dnsConn, func() [4]byte {
		dnsState.mu.Lock()
		defer dnsState.mu.Unlock()
		return dnsState.answer
	}, func() { dnsQueries.Add(1) })
}

type resolverUse struct{ queries *atomic.Int32 }

// useResolver writes the test copy's resolv.conf and sets the fake
// resolver's answer; the query count restarts at 0.
func useResolver(t *testing.T, resolvConf, answer string) resolverUse {
	t.Helper()
	if testResolvConf == "" {
		t.Fatalf("build the C stand-in: %v", binErr)
	}
	writeFile(t, testResolvConf, []byte(resolvConf), 0o644)
	dnsState.mu.Lock()
	dnsState.answer = netip.MustParseAddr(answer).As4()
	dnsState.mu.Unlock()
	dnsQueries.Store(0)
	t.Cleanup(func() { os.Remove(testResolvConf) })
	return resolverUse{queries: &dnsQueries}
}

// TestStandInResolution: a pool name is resolved only through a loopback
// nameserver, and connected to only if the answer is loopback.
func TestStandInResolution(t *testing.T) {
	tests := []struct {
		name       string
		resolvConf string
		answer     string
		host       string
		wantLogin  bool
		wantErr    string
		wantDNS    bool
	}{
		{name: "no loopback nameserver: refused without a lookup", resolvConf: "nameserver 192.0.2.53\n", answer: "127.0.0.1",
			host: "pool.example.com", wantErr: "refusing to resolve pool.example.com: no loopback resolver"},
		{name: "loopback resolver answers loopback: logs in", resolvConf: "search example.net\nnameserver 198.51.100.53\nnameserver 127.0.0.11\n", answer: "127.0.0.1",
			host: "pool.example.com", wantLogin: true, wantDNS: true},
		{name: "loopback resolver answers TEST-NET: refused", resolvConf: "nameserver 127.0.0.11\n", answer: "203.0.113.9",
			host: "pool.example.com", wantErr: "resolves to 203.0.113.9", wantDNS: true},
		{name: "literal TEST-NET address: refused before any socket", resolvConf: "nameserver 127.0.0.11\n", answer: "127.0.0.1",
			host: "198.51.100.7", wantErr: "refusing non-loopback pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := useResolver(t, tt.resolvConf, tt.answer)
			pool := newFakePool(t)
			_, port, _ := net.SplitHostPort(pool.ln.Addr().String())
			cfg := filepath.Join(t.TempDir(), "config.json")
			writeFile(t, cfg, []byte(configJSON(tt.host+":"+port)), 0o644)
			_, stderr, code, _ := run(t, "-c", cfg, "--max-time=5")
			pool.ln.Close()
			var methods []string
			for req := range pool.reqs {
				m, _ := req["method"].(string)
				methods = append(methods, m)
			}
			if tt.wantLogin {
				if code != 0 || len(methods) == 0 || methods[0] != "login" {
					t.Fatalf("exit %d, methods %v; want a login. stderr:\n%s", code, methods, stderr)
				}
			} else {
				if code != 2 || !strings.Contains(stderr, tt.wantErr) || len(methods) != 0 {
					t.Fatalf("exit %d, methods %v, stderr %q; want exit 2, no connection and %q", code, methods, stderr, tt.wantErr)
				}
			}
			if n := dns.queries.Load(); tt.wantDNS != (n > 0) {
				t.Errorf("the resolver got %d queries; want some: %v", n, tt.wantDNS)
			}
		})
	}
}
