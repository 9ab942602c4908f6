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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "strata:", err)
		}
		os.Exit(exitCode(err))
	}
}
