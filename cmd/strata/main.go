package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/strata-sec/strata/internal/scanreport"
)

func main() {
	// containerd's content store logs harmless start-up warnings (no
	// fsverity on this file system) through logrus; strata reports its own
	// errors.
	logrus.SetLevel(logrus.ErrorLevel)
	// BuildKit's session transport logs every closed HTTP/2 stream through
	// the standard logger ("error reading preface ... after CloseSend"),
	// which is noise after each build; strata writes progress explicitly.
	log.SetOutput(io.Discard)
	// SIGINT or SIGTERM cancels ctx: scans stop at the next layer entry or
	// registry read and exit 130 without output. Once cancelled, the
	// default signal behaviour is back, so a second signal kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "strata: %v: stopped\n", context.Cause(ctx))
		os.Exit(scanreport.ExitInterrupted)
	}
	stop()
	if err != nil {
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "strata:", err)
		}
		os.Exit(exitCode(err))
	}
}
