package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "Try `%s --help' for more information.\n", programName)
		}
		os.Exit(1)
	}
}

// run is minerd without the process around it, so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		_, err = io.WriteString(stdout, usageText)
		return err
	case errors.Is(err, errVersion):
		_, err = io.WriteString(stdout, versionText)
		return err
	case err != nil:
		return err
	}
	if cfg.Threads == 0 {
		cfg.Threads = runtime.NumCPU()
	}
	log := &logger{w: stderr, quiet: cfg.Quiet, debugOn: cfg.Debug, dump: cfg.ProtocolDump}
	if cfg.Background {
		// cpuminer forks and detaches here; the stand-in stays in the
		// foreground so it can never linger unseen.
		log.info("background mode (-B) ignored by the inert stand-in")
	}
	log.info("%d miner threads started, using '%s' algorithm.", cfg.Threads, cfg.Algo)
	if cfg.Benchmark {
		j := job{ID: "benchmark", Blob: make([]byte, 76), Target: 0}
		for _, r := range hashJob(ctx, j, cfg.Threads) {
			log.hashmeter(r)
		}
		return nil
	}
	if err := mineOnce(ctx, cfg, log); err != nil {
		return fmt.Errorf("%s: %w", programName, err)
	}
	return nil
}

// logger prints like cpuminer's applog: "[YYYY-MM-DD hh:mm:ss] message".
type logger struct {
	w                    io.Writer
	quiet, debugOn, dump bool
}

func (l *logger) printf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(l.w, "[%s] %s\n", time.Now().Format("2006-01-02 15:04:05"), strings.TrimRight(msg, "\n"))
}

func (l *logger) info(format string, a ...any) { l.printf(format, a...) }

func (l *logger) debug(format string, a ...any) {
	if l.debugOn {
		l.printf("DEBUG: "+format, a...)
	}
}

func (l *logger) protocol(format string, a ...any) {
	if l.dump {
		l.printf(format, a...)
	}
}

func (l *logger) hashmeter(r hashResult) {
	if l.quiet {
		return
	}
	rate := 0.0
	if s := r.elapsed.Seconds(); s > 0 {
		rate = float64(r.hashes) / s / 1000
	}
	l.printf("thread %d: %d hashes, %.2f khash/s", r.thread, r.hashes, rate)
}
