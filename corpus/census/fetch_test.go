package census

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeApt is an `apt-get` for the tests: `download NAME=VERSION...` writes
// NAME_VERSION_all.deb holding "deb NAME VERSION" (or other bytes for
// NAME tampered); a VERSION "gone" makes it fail as apt does, before
// downloading anything. Every call is logged, one line of arguments each.
const fakeApt = `#!/bin/sh
echo "$*" >> "$FAKE_APT_LOG"
for a in "$@"; do
  case "$a" in *=gone) echo "E: Version 'gone' for '${a%%=*}' was not found"; exit 100;; esac
done
for a in "$@"; do
  case "$a" in
  -*|download|APT::*) ;;
  tampered=*) echo "other bytes" > "${a%%=*}_${a#*=}_all.deb";;
  *=*) printf 'deb %s %s\n' "${a%%=*}" "${a#*=}" > "${a%%=*}_${a#*=}_all.deb";;
  esac
done
`

// withFakeApt puts fakeApt first on PATH and returns its call log.
func withFakeApt(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "apt-get"), []byte(fakeApt), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_APT_LOG", log)
	return log
}

func fakeEntry(name, version string) Entry {
	sum := sha256.Sum256([]byte(fmt.Sprintf("deb %s %s\n", name, version)))
	return Entry{Ecosystem: Debian, Name: name, Version: version, SHA256: fmt.Sprintf("%x", sum)}
}

func aptCalls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestFetchAllBatches: .debs come DebBatch to an apt-get call, are
// verified and cached, and a second run calls apt not at all.
func TestFetchAllBatches(t *testing.T) {
	log := withFakeApt(t)
	var es []Entry
	for i := range DebBatch + 5 {
		es = append(es, fakeEntry(fmt.Sprintf("pkg%02d", i), "1.0-1"))
	}
	dir := t.TempDir()
	var progress bytes.Buffer
	got, err := FetchAll(context.Background(), es, dir, 2, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if calls := aptCalls(t, log); len(calls) != 2 {
		t.Errorf("%d apt-get calls, want 2 (batches of %d and 5): %q", len(calls), DebBatch, calls)
	}
	for i, f := range got {
		if f.Cached || f.Bytes == 0 || f.Path != filepath.Join(dir, "debs", es[i].SHA256+".deb") {
			t.Errorf("%s: fetched %+v, want a new download at its sha256", es[i].Name, f)
		}
	}
	if !strings.Contains(progress.String(), fmt.Sprintf("fetch %d/%d", len(es), len(es))) {
		t.Errorf("progress %q: want a final line", progress.String())
	}
	got, err = FetchAll(context.Background(), es, dir, 2, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if calls := aptCalls(t, log); len(calls) != 2 {
		t.Errorf("a resumed run called apt-get again: %q", calls[2:])
	}
	for _, f := range got {
		if !f.Cached {
			t.Errorf("%s: not cached on the second run", f.Entry.Name)
		}
	}
}

func TestFetchDebsErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		wantErr error
		want    []string // in the error
		cached  []string // fetched despite the error
	}{
		{
			name:    "a gone version says what to do, the rest of its batch is kept",
			entries: []Entry{fakeEntry("a", "1"), fakeEntry("old", "gone"), fakeEntry("b", "2")},
			wantErr: ErrGone,
			want:    []string{"old=gone", "apt-get update", "snapshot", "strata census draw"},
			cached:  []string{"a"},
		},
		{
			name:    "bytes that are not the list's are refused",
			entries: []Entry{fakeEntry("tampered", "1")},
			wantErr: ErrIntegrity,
			want:    []string{"tampered 1: sha256"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFakeApt(t)
			dir := t.TempDir()
			_, err := FetchDebs(context.Background(), tt.entries, dir)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, e := range tt.entries {
				for _, c := range tt.cached {
					if e.Name == c && !cachedDeb(dir, e) {
						t.Errorf("%s was not kept in the cache", c)
					}
				}
			}
		})
	}
}
