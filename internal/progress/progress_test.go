package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLineMode(t *testing.T) {
	var buf bytes.Buffer
	tr := New(&buf, "build", 4)
	clock := tr.start
	tr.now = func() time.Time { return clock }
	clock = clock.Add(10 * time.Second)
	tr.Step("a")
	clock = clock.Add(10 * time.Second)
	tr.Step("b")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"build [1/4] a (elapsed 10s, ETA 30s)",
		"build [2/4] b (elapsed 20s, ETA 20s)",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %q", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second: "5s", 90 * time.Second: "1m30s", 2*time.Hour + 5*time.Minute: "2h05m",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestQuietMode(t *testing.T) {
	var buf bytes.Buffer
	tr := NewQuiet(&buf, "exp1 scan", 4)
	clock := tr.start
	tr.now = func() time.Time { return clock }
	for range 4 {
		tr.Step("x")
	}
	if buf.Len() != 0 {
		t.Fatalf("quiet tracker wrote per step: %q", buf.String())
	}
	clock = clock.Add(2 * time.Second)
	tr.Done()
	tr.Done()
	if got, want := buf.String(), "exp1 scan: 4/4 in 2s (2.0/s)\n"; got != want {
		t.Errorf("Done wrote %q, want %q", got, want)
	}
}

// A long quiet phase writes a progress line at most once per QuietEvery.
func TestQuietModeLongPhase(t *testing.T) {
	var buf bytes.Buffer
	tr := NewQuiet(&buf, "exp3 scan", 10)
	clock := tr.start
	tr.now = func() time.Time { return clock }
	for range 9 {
		clock = clock.Add(40 * time.Second) // steps at 40 s, 80 s, ...
		tr.Step("x")
	}
	// Lines at 80 s (2 steps), 160 s (4), 240 s (6) and 320 s (8); none
	// for the last step, which Done reports.
	want := "exp3 scan: 2/10 (elapsed 1m20s, ETA 5m20s)\n" +
		"exp3 scan: 4/10 (elapsed 2m40s, ETA 4m00s)\n" +
		"exp3 scan: 6/10 (elapsed 4m00s, ETA 2m40s)\n" +
		"exp3 scan: 8/10 (elapsed 5m20s, ETA 1m20s)\n"
	if got := buf.String(); got != want {
		t.Errorf("quiet long phase wrote\n%s\nwant\n%s", got, want)
	}
}
