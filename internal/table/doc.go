// Package table is the one table type strata's reports are made of, rendered
// three ways from the same cells: aligned text for the terminal (via
// tablewriter), GitHub-flavoured Markdown for results/*.md, and CSV for
// spreadsheets and plotting. Keeping one type means the three views can never
// disagree about a number.
package table
