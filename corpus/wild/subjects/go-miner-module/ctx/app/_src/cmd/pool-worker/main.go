// Command pool-worker logs in to a cryptonight stratum pool and prints the
// jobs it is sent. Inert: the client library refuses non-loopback pools and
// nothing here hashes.
package main

import (
	"flag"
	"fmt"
	"os"

	stratum "github.com/gurupras/go-stratum-client"
)

func main() {
	pool := flag.String("pool", "", "stratum+tcp://HOST:PORT")
	wallet := flag.String("wallet", "", "wallet address")
	worker := flag.String("worker", "x", "worker name (pool password)")
	flag.Parse()
	sc := stratum.New()
	if err := sc.Connect(*pool); err != nil {
		fmt.Fprintln(os.Stderr, "pool-worker:", err)
		os.Exit(2)
	}
	if err := sc.Authorize(*wallet, *worker); err != nil {
		fmt.Fprintln(os.Stderr, "pool-worker:", err)
		os.Exit(2)
	}
	for job := range sc.Jobs() {
		fmt.Printf("job %s target %s\n", job.JobID, job.Target)
	}
}
