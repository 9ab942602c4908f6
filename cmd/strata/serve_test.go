package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeWorkerUsage: flag errors fail before anything starts, and say
// what to do.
func TestServeWorkerUsage(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	token, badPolicy := filepath.Join(dir, "token"), filepath.Join(dir, "policy.json")
	if err := os.WriteFile(token, []byte("t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badPolicy, []byte(`{"default":"delete"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no registry", []string{"serve", "--token-file", token}, "give --registry HOST:PORT"},
		{"no token", []string{"serve", "--registry", "r.example:5000"}, "--token-file FILE (or set $STRATA_GATE_TOKEN)"},
		{"empty token file", []string{"serve", "--registry", "r.example:5000", "--token-file", empty}, "is empty"},
		{"argument", []string{"serve", "extra"}, "serve takes no arguments"},
		{"bad policy", []string{"serve", "--registry", "r.example:5000", "--token-file", token, "--policy", badPolicy}, `action "delete": want "record" or "quarantine"`},
		{"half TLS", []string{"serve", "--registry", "r.example:5000", "--token-file", token, "--tls-cert", "c.pem"}, "both --tls-cert and --tls-key"},
		{"negative workers", []string{"serve", "--registry", "r.example:5000", "--token-file", token, "--workers", "-1"}, "--workers must be >= 0"},
		{"worker without NATS", []string{"worker"}, "strata worker --nats nats://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
		})
	}
}
