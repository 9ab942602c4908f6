package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// childRun is one timed child process.
type childRun struct {
	WallNS int64
	// MaxRSS is the child's peak resident set in bytes, from the rusage
	// wait4 returns (ru_maxrss, KiB on Linux): the largest of the child and
	// the descendants it waited for, never the bench process.
	MaxRSS int64
	Exit   int
	// Stderr is the tail of the child's standard error, for error notes.
	Stderr string
}

// stderrTail bounds what runChild keeps of a child's standard error.
const stderrTail = 2048

// runChild runs name with args, standard output discarded, and returns its
// wall time and peak RSS. A non-zero exit is not an error (scanners exit 1
// for a match); failing to start is.
func runChild(ctx context.Context, env []string, name string, args ...string) (childRun, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var se bytes.Buffer
	cmd.Stderr = &se
	start := time.Now()
	err := cmd.Run()
	r := childRun{WallNS: time.Since(start).Nanoseconds()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, fmt.Errorf("run %s: %w", name, err)
	}
	if ps := cmd.ProcessState; ps != nil {
		r.Exit = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss * 1024
		}
	}
	s := se.String()
	if len(s) > stderrTail {
		s = s[len(s)-stderrTail:]
	}
	r.Stderr = strings.TrimSpace(s)
	return r, nil
}
