// Package stats holds the small amount of statistics the reports need: a
// binomial proportion with its exact (Clopper-Pearson) confidence interval,
// and clusters of dependent trials (variants of one subject) counted once.
// Every rate strata prints carries its interval and its numerator and
// denominator, because with 7 or 8 images a bare percentage hides how little
// the data can tell apart.
package stats
