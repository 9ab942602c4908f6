package experiments

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/strata-sec/strata/internal/progress"
)

// phase is the progress of one phase of a run (a build, a scan pass).
type phase interface {
	Step(detail string)
	Done()
}

// phase starts the progress of a phase of n steps. On a terminal it is a
// bar (counts, rate, ETA) redrawn in place; with Verbose one line per step;
// otherwise (a log, CI, make piped to a file) one summary line when the
// phase ends.
func (e *Env) phase(label string, n int) phase {
	if e.Config.Verbose || isTerminal(e.Config.Log) {
		return verbosePhase{progress.New(e.Config.Log, label, n)}
	}
	return &quietPhase{w: e.Config.Log, label: label, total: n, start: time.Now()}
}

type verbosePhase struct{ *progress.Tracker }

func (verbosePhase) Done() {}

// quietPhase counts steps and writes one line when the phase ends.
type quietPhase struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int
	done  int
	start time.Time
	ended bool
}

func (q *quietPhase) Step(string) {
	q.mu.Lock()
	q.done++
	q.mu.Unlock()
}

func (q *quietPhase) Done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ended || q.total == 0 {
		return
	}
	q.ended = true
	d := time.Since(q.start)
	fmt.Fprintf(q.w, "%s: %d/%d in %s (%.1f/s)\n", q.label, q.done, q.total, d.Round(100*time.Millisecond), float64(q.done)/max(d.Seconds(), 0.001))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// logf writes one line to the run's log.
func (e *Env) logf(format string, a ...any) { fmt.Fprintf(e.Config.Log, format+"\n", a...) }

// vlogf writes one line to the run's log with Verbose only.
func (e *Env) vlogf(format string, a ...any) {
	if e.Config.Verbose {
		e.logf(format, a...)
	}
}
