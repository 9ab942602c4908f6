package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/strata-sec/strata/internal/testenv"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// useResolvConf points the stand-in at a resolv.conf with content for the
// rest of the test.
func useResolvConf(t *testing.T, content string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := resolvConf
	resolvConf = p
	t.Cleanup(func() { resolvConf = old })
}

// fakeResolver serves DNS on 127.0.0.11 (the stand-in's dnsPort for the rest
// of the test), answering every A question with answer, and counts queries.
func fakeResolver(t *testing.T, answer string) *atomic.Int32 {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.11:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	old := dnsPort
	dnsPort = pc.LocalAddr().(*net.UDPAddr).Port
	t.Cleanup(func() { dnsPort = old })
	a := netip.MustParseAddr(answer).As4()
	var n atomic.Int32
	go testenv.ServeDNS(pc, func() [4]byte { return a }, func() { n.Add(1) })
	return &n
}

// TestResolutionRules drives the whole stand-in against a fake pool on
// 127.0.0.1 through each resolution rule.
func TestResolutionRules(t *testing.T) {
	tests := []struct {
		name       string
		resolvConf string
		answer     string // the fake resolver's A answer
		host       string // pool host; the fake pool's port is appended
		wantLogin  bool
		wantErr    string // substring of the refusal
		wantDNS    bool   // whether the fake resolver may be asked
	}{
		{name: "no loopback nameserver: refused without a lookup", resolvConf: "nameserver 192.0.2.53\nnameserver 2001:db8::53\n", answer: "127.0.0.1",
			host: "pool.example.com", wantErr: "refusing to resolve pool.example.com: no loopback resolver"},
		{name: "no resolv.conf at all", answer: "127.0.0.1", host: "pool.example.com", wantErr: "no loopback resolver"},
		{name: "loopback resolver answers loopback: logs in", resolvConf: "search example.net\nnameserver 192.0.2.53\nnameserver 127.0.0.11\n", answer: "127.0.0.1",
			host: "pool.example.com", wantLogin: true, wantDNS: true},
		{name: "loopback resolver answers TEST-NET: refused", resolvConf: "nameserver 127.0.0.11\n", answer: "203.0.113.9",
			host: "pool.example.com", wantErr: "resolves to 203.0.113.9", wantDNS: true},
		{name: "literal TEST-NET address: refused before any socket", resolvConf: "nameserver 127.0.0.11\n", answer: "127.0.0.1",
			host: "198.51.100.7", wantErr: `refusing pool host "198.51.100.7"`},
		{name: "literal IPv6 documentation address", resolvConf: "nameserver 127.0.0.11\n", answer: "127.0.0.1",
			host: "[2001:db8::7]", wantErr: `refusing pool host`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.resolvConf != "" {
				useResolvConf(t, tt.resolvConf)
			} else {
				old := resolvConf
				resolvConf = filepath.Join(t.TempDir(), "missing")
				t.Cleanup(func() { resolvConf = old })
			}
			queries := fakeResolver(t, tt.answer)
			addr, got := fakePool(t, func(method string) []string {
				if method != "login" {
					return nil
				}
				return []string{`{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"s","job":{"blob":"` + strings.Repeat("07", 76) + `","job_id":"j","target":"00000001"},"status":"OK"}}`}
			})
			_, port, _ := net.SplitHostPort(addr)
			var out bytes.Buffer
			args := []string{"-a", "cryptonight", "-o", "stratum+tcp://" + tt.host + ":" + port, "-u", "trudly@outlook.com", "-p", "x", "-t", "1"}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, args, &out, &out)
			if tt.wantLogin {
				if err != nil {
					t.Fatalf("run: %v\n%s", err, out.String())
				}
				reqs := <-got
				if len(reqs) != 1 || reqs[0]["method"] != "login" {
					t.Fatalf("pool got %v, want one login", reqs)
				}
			} else {
				if !errors.Is(err, ErrNotLoopback) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrNotLoopback mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(out.String(), "Starting Stratum") {
					t.Errorf("refused pool reached the connect step:\n%s", out.String())
				}
			}
			if n := queries.Load(); !tt.wantDNS && n != 0 {
				t.Errorf("the resolver got %d queries; want none", n)
			} else if tt.wantDNS && n == 0 {
				t.Error("the loopback resolver was never asked")
			}
		})
	}
}

func TestLoopbackNameserver(t *testing.T) {
	tests := []struct {
		conf, want string // want "" = none
	}{
		{"nameserver 127.0.0.11\n", "127.0.0.11:53"},
		{"# nameserver 127.0.0.1\nnameserver 192.0.2.1\n", ""},
		{"nameserver 192.0.2.1\nnameserver ::1\n", "[::1]:53"},
		{"nameserver 127.0.0.53\noptions edns0\n", "127.0.0.53:53"},
		{"search example.com\n", ""},
		{"nameserver localhost\n", ""},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "resolv.conf")
		os.WriteFile(p, []byte(tt.conf), 0o644)
		got, err := loopbackNameserver(p)
		if tt.want == "" {
			if !errors.Is(err, errNoLoopbackResolver) {
				t.Errorf("%q: got %v, %v; want errNoLoopbackResolver", tt.conf, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%q: got %v, %v; want %s", tt.conf, got, err, tt.want)
		}
	}
}
