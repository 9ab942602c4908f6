// Command strata-sbom is the inventory baseline's SBOM helper: it reads
// inventory.Request lines on standard input and answers each with an
// inventory.Response line on standard output, cataloging the staged image
// with syft as a library (baselines/inventory/syftsbom). strata starts it
// (it looks next to its own executable, then on PATH; `make setup` builds
// bin/strata-sbom); it is not meant to be run by hand. It exits when its
// input ends.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/baselines/inventory/syftsbom"
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "version" || os.Args[1] == "--version") {
		fmt.Printf("strata-sbom protocol %d, syft %s\n", inventory.Protocol, syftsbom.SyftVersion())
		return
	}
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: strata-sbom (started by strata's inventory baseline; reads requests on stdin)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Responses are the only thing on standard output: anything a library
	// prints goes to standard error.
	out := os.Stdout
	os.Stdout = os.Stderr
	if err := syftsbom.Serve(ctx, os.Stdin, out); err != nil {
		fmt.Fprintln(os.Stderr, "strata-sbom:", err)
		os.Exit(1)
	}
}
