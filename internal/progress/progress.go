package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Tracker counts finished steps out of a known total. It is safe for
// concurrent use by worker goroutines.
type Tracker struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int
	done  int
	start time.Time
	bar   *progressbar.ProgressBar
	now   func() time.Time
	// quiet writes no line per step: a line at most every QuietEvery
	// (so a long phase in a log still shows it is moving), and Done one
	// summary line.
	quiet    bool
	lastLine time.Time
	ended    bool
}

// QuietEvery is how often a quiet tracker writes a progress line.
const QuietEvery = time.Minute

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewQuiet tracks total steps without a line per step (for logs and CI):
// at most one line per QuietEvery with the count, elapsed time and ETA,
// and Done one line with the count, the time taken and the rate.
func NewQuiet(w io.Writer, label string, total int) *Tracker {
	now := time.Now()
	return &Tracker{w: w, label: label, total: total, start: now, lastLine: now, now: time.Now, quiet: true}
}

// Done ends the phase: a quiet tracker writes its summary line once; the
// others have already shown every step.
func (t *Tracker) Done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.quiet || t.ended || t.total == 0 {
		return
	}
	t.ended = true
	d := t.now().Sub(t.start)
	fmt.Fprintf(t.w, "%s: %d/%d in %s (%.1f/s)\n", t.label, t.done, t.total, d.Round(100*time.Millisecond), float64(t.done)/max(d.Seconds(), 0.001))
}

// New starts tracking total steps; output goes to w.
func New(w io.Writer, label string, total int) *Tracker {
	t := &Tracker{w: w, label: label, total: total, start: time.Now(), now: time.Now}
	if IsTerminal(w) {
		t.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
	}
	return t
}

// Step marks one step done; detail says what it was.
func (t *Tracker) Step(detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done++
	if t.quiet {
		if now := t.now(); now.Sub(t.lastLine) >= QuietEvery && t.done < t.total {
			t.lastLine = now
			fmt.Fprintf(t.w, "%s: %d/%d (elapsed %s, ETA %s)\n", t.label, t.done, t.total, fmtDur(now.Sub(t.start)), t.etaLocked())
		}
		return
	}
	if t.bar != nil {
		t.bar.Describe(t.label + " " + detail)
		_ = t.bar.Add(1)
		if t.done == t.total {
			fmt.Fprintln(t.w)
		}
		return
	}
	fmt.Fprintf(t.w, "%s [%d/%d] %s (elapsed %s, ETA %s)\n", t.label, t.done, t.total, detail,
		fmtDur(t.now().Sub(t.start)), t.etaLocked())
}

// ETA estimates the remaining time from the mean step time so far.
func (t *Tracker) etaLocked() string {
	if t.done == 0 || t.done >= t.total {
		return "0s"
	}
	per := t.now().Sub(t.start) / time.Duration(t.done)
	return fmtDur(per * time.Duration(t.total-t.done))
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if d >= time.Minute {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
