package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// paperArgs is the sample's ENTRYPOINT after /bin/minerd.
var paperArgs = []string{"-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"}

func TestParseArgs(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgFile, []byte(`{"url": "stratum+tcp://127.0.0.1:3333", "user": "w", "pass": "x", "algo": "cryptonight", "threads": 2, "background": true, "bogus": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*config)) config {
		c := defaultConfig()
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr error // errors.Is target; nil = no error
		usage   bool  // want a *usageError
	}{
		{name: "paper entrypoint", args: paperArgs, want: with(func(c *config) {
			c.Algo, c.URL, c.User, c.Pass, c.Threads = "cryptonight", "stratum+tcp://xmr.pool.minergate.com:45560", "trudly@outlook.com", "x", 1
		})},
		{name: "long forms with =", args: []string{"--algo=sha256d", "--url=stratum+tcp://127.0.0.1:1", "--userpass=a:b", "--threads=3", "--retries=2", "--retry-pause=5", "--timeout=9", "--scantime=7"},
			want: with(func(c *config) {
				c.Algo, c.URL, c.User, c.Pass, c.Threads, c.Retries, c.RetryPause, c.Timeout, c.Scantime = "sha256d", "stratum+tcp://127.0.0.1:1", "a", "b", 3, 2, 5, 9, 7
			})},
		{name: "long forms separate", args: []string{"--algo", "x11", "--url", "127.0.0.1:8332", "--proxy", "socks5://127.0.0.1:1080"},
			want: with(func(c *config) { c.Algo, c.URL, c.Proxy = "x11", "http://127.0.0.1:8332", "socks5://127.0.0.1:1080" })},
		{name: "clustered and attached short options", args: []string{"-qDPBS", "-acryptonight", "-ostratum+tcp://localhost:3333", "-t4", "-x", "127.0.0.1:1080"},
			want: with(func(c *config) {
				c.Quiet, c.Debug, c.ProtocolDump, c.Background, c.Syslog = true, true, true, true, true
				c.Algo, c.URL, c.Threads, c.Proxy = "cryptonight", "stratum+tcp://localhost:3333", 4, "127.0.0.1:1080"
			})},
		{name: "switches", args: []string{"--benchmark", "--no-stratum", "--no-longpoll", "--no-redirect", "--cert", "c.pem", "-r", "-1", "-R", "1", "-T", "2", "-s", "3"},
			want: with(func(c *config) {
				c.Benchmark, c.NoStratum, c.NoLongpoll, c.NoRedirect, c.Cert = true, true, true, true, "c.pem"
				c.Retries, c.RetryPause, c.Timeout, c.Scantime = -1, 1, 2, 3
			})},
		{name: "scrypt:N", args: []string{"-a", "scrypt:2048", "--benchmark"}, want: with(func(c *config) { c.Algo, c.Benchmark = "scrypt:2048", true })},
		{name: "config file, later flag wins", args: []string{"-c", cfgFile, "-t", "1"}, want: with(func(c *config) {
			c.URL, c.User, c.Pass, c.Algo, c.Threads, c.Background, c.ConfigFiles = "stratum+tcp://127.0.0.1:3333", "w", "x", "cryptonight", 1, true, []string{cfgFile}
		})},
		{name: "help", args: []string{"-h"}, wantErr: errHelp},
		{name: "help long", args: []string{"-o", "127.0.0.1:1", "--help"}, wantErr: errHelp},
		{name: "version", args: []string{"-V"}, wantErr: errVersion},
		{name: "no URL", args: []string{"-a", "cryptonight"}, usage: true},
		{name: "unknown algo", args: []string{"-a", "randomx", "--benchmark"}, usage: true},
		{name: "scrypt:N not power of two", args: []string{"-a", "scrypt:1000", "--benchmark"}, usage: true},
		{name: "param on non-scrypt", args: []string{"-a", "sha256d:4", "--benchmark"}, usage: true},
		{name: "unknown protocol", args: []string{"-o", "ftp://127.0.0.1"}, usage: true},
		{name: "missing argument", args: []string{"-o"}, usage: true},
		{name: "unknown short", args: []string{"-z"}, usage: true},
		{name: "unknown long", args: []string{"--donate-level=1"}, usage: true},
		{name: "bad threads", args: []string{"--benchmark", "-t", "zero"}, usage: true},
		{name: "bad userpass", args: []string{"--benchmark", "-O", "nopass"}, usage: true},
		{name: "switch with value", args: []string{"--benchmark=1"}, usage: true},
		{name: "non-option argument", args: []string{"--benchmark", "apache2-foreground"}, usage: true},
		{name: "missing config file", args: []string{"-c", filepath.Join(t.TempDir(), "none.json")}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args)
			var ue *usageError
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.usage:
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config mismatch\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestUsageListsAlgorithms(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, a := range algorithms {
		if !strings.Contains(out.String(), "  "+a.name+" ") {
			t.Errorf("usage text does not list algorithm %q", a.name)
		}
	}
	for _, o := range options {
		if !strings.Contains(out.String(), "--"+o.long) {
			t.Errorf("usage text does not list --%s", o.long)
		}
	}
}

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		host string
		want string // "" = refused
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.8.9.10", "127.8.9.10"},
		{"localhost", "127.0.0.1"},
		{"LOCALHOST.", "127.0.0.1"},
		{"::1", "::1"},
		{"[::1]", "::1"},
		{"::ffff:127.0.0.1", "127.0.0.1"},
		{"xmr.pool.minergate.com", ""},
		{"localhost.example.com", ""},
		{"127.0.0.1.nip.io", ""},
		{"10.0.0.1", ""},
		{"0.0.0.0", ""},
		{"169.254.1.1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, err := loopbackAddr(tt.host)
			if tt.want == "" {
				if !errors.Is(err, ErrNotLoopback) {
					t.Fatalf("loopbackAddr(%q) = %v, %v; want ErrNotLoopback", tt.host, got, err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("loopbackAddr(%q) = %v, %v; want %s", tt.host, got, err, tt.want)
			}
		})
	}
}

// TestRefusesNonLoopback runs the paper's ENTRYPOINT: the MinerGate host must
// be refused without a connection attempt, so the test also holds offline.
func TestRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"paper pool", paperArgs},
		{"bitcoin dialect", []string{"-a", "sha256d", "-o", "stratum+tcp://pool.example.org:3333", "-u", "w", "-p", "x"}},
		{"http getwork", []string{"-o", "http://192.0.2.1:8332"}},
		{"non-loopback proxy", []string{"-a", "cryptonight", "-o", "stratum+tcp://127.0.0.1:1", "-x", "socks5://192.0.2.7:1080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whatever this host's resolver: no name may be looked up.
			useResolvConf(t, "nameserver 192.0.2.53\n")
			var out bytes.Buffer
			start := time.Now()
			err := run(context.Background(), tt.args, &out, &out)
			if !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("err = %v, want ErrNotLoopback; output:\n%s", err, out.String())
			}
			if strings.Contains(out.String(), "Starting Stratum") {
				t.Errorf("refused host reached the connect step:\n%s", out.String())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %v; it must not wait for the network", d)
			}
		})
	}
}

// fakePool accepts one connection on 127.0.0.1, answers with script (one
// reply per received line, keyed by method) and records the lines it got.
func fakePool(t *testing.T, reply func(method string) []string) (addr string, got <-chan []map[string]any) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []map[string]any, 1)
	go func() {
		var reqs []map[string]any
		defer func() { ch <- reqs }()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("pool got invalid JSON %q: %v", sc.Text(), err)
				return
			}
			reqs = append(reqs, m)
			method, _ := m["method"].(string)
			for _, line := range reply(method) {
				if _, err := c.Write([]byte(line + "\n")); err != nil {
					return
				}
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestHandshakeRPC2(t *testing.T) {
	blob := strings.Repeat("07", 76)
	addr, got := fakePool(t, func(method string) []string {
		if method != "login" {
			return nil
		}
		// Target ffffffff: every stand-in hash is a "share", so the
		// not-submitted path runs too.
		return []string{`{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"sess-1","job":{"blob":"` + blob + `","job_id":"job-1","target":"ffffffff"},"status":"OK"}}`}
	})
	var out bytes.Buffer
	args := []string{"-a", "cryptonight", "-o", "stratum+tcp://" + addr, "-u", "trudly@outlook.com", "-p", "x", "-t", "2", "-P"}
	if err := run(context.Background(), args, &out, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	reqs := <-got
	if len(reqs) != 1 {
		t.Fatalf("pool got %d requests, want exactly the login (no submit): %v", len(reqs), reqs)
	}
	want := map[string]any{"method": "login", "id": float64(1), "params": map[string]any{
		"login": "trudly@outlook.com", "pass": "x", "agent": "cpuminer-multi/0.1"}}
	if !reflect.DeepEqual(reqs[0], want) {
		t.Errorf("login request = %v, want %v", reqs[0], want)
	}
	for _, s := range []string{"thread 0: 4096 hashes", "thread 1: 4096 hashes", "not submitted", `(not sent) {"method": "submit"`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

func TestHandshakeBitcoin(t *testing.T) {
	addr, got := fakePool(t, func(method string) []string {
		switch method {
		case "mining.subscribe":
			return []string{`{"id":1,"result":[[["mining.set_difficulty","1"],["mining.notify","1"]],"08000002",4],"error":null}`}
		case "mining.authorize":
			return []string{
				`{"id":2,"result":true,"error":null}`,
				`{"id":null,"method":"mining.set_difficulty","params":[0.5]}`,
				`{"id":null,"method":"mining.notify","params":["bf","4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000","01000000010000","072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",[],"00000002","1c2ac4af","504e86b9",false]}`,
			}
		}
		return nil
	})
	var out bytes.Buffer
	args := []string{"-a", "sha256d", "-o", "stratum+tcp://" + addr, "-O", "worker:pw", "-t", "1", "-P", "-D"}
	if err := run(context.Background(), args, &out, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	reqs := <-got
	var methods []string
	for _, r := range reqs {
		methods = append(methods, r["method"].(string))
	}
	if want := []string{methodSubscribe, methodAuthorize}; !reflect.DeepEqual(methods, want) {
		t.Fatalf("pool got methods %v, want %v (no %s)", methods, want, methodSubmit)
	}
	if p := reqs[1]["params"]; !reflect.DeepEqual(p, []any{"worker", "pw"}) {
		t.Errorf("authorize params = %v", p)
	}
	for _, s := range []string{"Stratum difficulty set to 0.5", "thread 0: 4096 hashes", "job bf"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

func TestAuthFailure(t *testing.T) {
	addr, _ := fakePool(t, func(string) []string {
		return []string{`{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Unauthenticated"},"result":null}`}
	})
	var out bytes.Buffer
	err := run(context.Background(), []string{"-a", "cryptonight", "-o", "stratum+tcp://" + addr, "-u", "u", "-p", "x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("err = %v, want authentication failure", err)
	}
}

func TestBenchmark(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--benchmark", "-t", "64"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), " hashes, "); n != maxThreads {
		t.Errorf("got %d hashmeter lines, want threads capped at %d:\n%s", n, maxThreads, out.String())
	}
}
