package loopback

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:80", ":0", "example.invalid:80"} {
		if s, err := Serve(t.TempDir(), addr); err == nil {
			s.Close()
			t.Errorf("Serve(%q) succeeded, want refusal", addr)
		}
	}
}

func TestServeFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Serve(dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %s", s.URL)
	}
	resp, err := http.Get(s.URL + "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "payload" || s.Requests() != 1 {
		t.Errorf("got %q after %d requests", b, s.Requests())
	}
}
