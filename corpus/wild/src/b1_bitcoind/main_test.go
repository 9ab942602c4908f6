package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "bitcoin.conf")
	if err := os.WriteFile(conf, []byte("# comment\nserver=1\nrpcpassword=secret\nprune=550\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		prog     string
		args     []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{name: "version", prog: "bitcoind", args: []string{"-version"}, want: []string{"Bitcoin Core daemon version v25.1.0"}},
		{name: "cli usage", prog: "bitcoin-cli", args: []string{"-getinfo"}, want: []string{"Usage:  bitcoin-cli"}},
		{name: "conf read, password hidden", prog: "bitcoind", args: []string{"-conf=" + conf}, want: []string{`server="1"`, `prune="550"`}, notWant: []string{"secret"}},
		{name: "datadir default conf", prog: "bitcoind", args: []string{"-datadir=" + dir}, want: []string{`server="1"`}},
		{name: "missing conf", prog: "bitcoind", args: []string{"-conf=" + filepath.Join(dir, "nope")}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tt.prog, tt.args, &out, &errb); got != tt.wantCode {
				t.Fatalf("exit code %d, want %d (stderr %q)", got, tt.wantCode, errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output contains %q:\n%s", w, out.String())
				}
			}
		})
	}
}
