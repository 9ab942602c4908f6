package experiments

import (
	"fmt"

	"github.com/strata-sec/strata/internal/progress"
)

// phase starts the progress of a phase of n steps. On a terminal it is a
// bar (counts, rate, ETA) redrawn in place; with Verbose one line per step;
// otherwise (a log, CI, make piped to a file) one summary line when the
// phase ends.
func (e *Env) phase(label string, n int) *progress.Tracker {
	if e.Config.Verbose || progress.IsTerminal(e.Config.Log) {
		return progress.New(e.Config.Log, label, n)
	}
	return progress.NewQuiet(e.Config.Log, label, n)
}

// logf writes one line to the run's log.
func (e *Env) logf(format string, a ...any) { fmt.Fprintf(e.Config.Log, format+"\n", a...) }

// vlogf writes one line to the run's log with Verbose only.
func (e *Env) vlogf(format string, a ...any) {
	if e.Config.Verbose {
		e.logf(format, a...)
	}
}
