// Package scanreport turns detector verdicts on images into the scan report
// of `strata scan`: per target the decision, the layers bottom up with their
// findings and the reasons content was not scanned or failed an integrity
// check, and the exit code the report asks for. It renders the report as a
// terminal table (control characters escaped), JSON (schema Schema) and
// SARIF 2.1.0.
package scanreport
