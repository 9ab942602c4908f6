// Package bench is the performance harness behind `strata bench`: on the
// same images it times the walker floor (decompress and tar walk), the
// hierarchical detector cold and warm, and clamscan/yara through the
// multiengine baseline, optionally experiment 2's BuildKit builds, and
// checks the results against the performance targets (PASS/FAIL lines in
// bench.md, every run in bench.json).
package bench
