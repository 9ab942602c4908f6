// Command strata builds the polymorphic-image benchmark, runs detectors on
// it, renders the results, and scans images: subcommands experiment, report,
// corpus, mutations, scan and buildkit (`strata help` lists them). main stays
// tiny; each subcommand is one file that registers itself, and run(ctx, args,
// stdout, stderr) makes the CLI testable.
package main
