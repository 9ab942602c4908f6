// Package gatebench is `strata bench gate`: it pushes N images from the
// experiment store to a private docker-registry on loopback that notifies
// an in-process gate (embedded NATS), scans them with 1 and 2 `strata
// worker` processes, and reports scans per minute, queue latency, peak RSS
// and whether every pushed image got exactly one verdict.
package gatebench
