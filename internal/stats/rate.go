package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Rate is a binomial proportion K/N with a two-sided confidence interval
// [Lo, Hi]. When N is 0 the proportion is undefined and P, Lo and Hi are NaN.
type Rate struct {
	K, N      int
	P, Lo, Hi float64
}

// ClopperPearson returns k/n with its exact two-sided confidence interval at
// level conf (0.95 for 95%).
//
// The exact interval is used rather than Wald or Wilson because the samples
// here are tiny and often at the boundary (7/7, 0/8), where the normal
// approximation collapses to a zero-width interval. At k=0 the lower bound is
// 0 and at k=n the upper bound is 1 by definition (the Beta quantile there is
// undefined because one shape parameter would be 0).
//
// It panics if n < 0, k is outside [0, n] or conf is outside (0, 1): those
// are programming errors, not data problems.
func ClopperPearson(k, n int, conf float64) Rate {
	if n < 0 || k < 0 || k > n {
		panic(fmt.Sprintf("stats: ClopperPearson(%d, %d): need 0 <= k <= n", k, n))
	}
	if !(conf > 0 && conf < 1) {
		panic(fmt.Sprintf("stats: ClopperPearson confidence %v not in (0, 1)", conf))
	}
	if n == 0 {
		nan := math.NaN()
		return Rate{K: k, N: n, P: nan, Lo: nan, Hi: nan}
	}
	alpha := 1 - conf
	r := Rate{K: k, N: n, P: float64(k) / float64(n), Lo: 0, Hi: 1}
	if k > 0 {
		r.Lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(alpha / 2)
	}
	if k < n {
		r.Hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha/2)
	}
	return r
}

// Defined reports whether the rate has a denominator.
func (r Rate) Defined() bool { return r.N > 0 }

// String formats the rate as "100.0% [59.0–100.0] (7/7)", or "n/a (0/0)"
// when there is nothing to divide by.
func (r Rate) String() string {
	if !r.Defined() {
		return fmt.Sprintf("n/a (%d/%d)", r.K, r.N)
	}
	return fmt.Sprintf("%.1f%% [%.1f–%.1f] (%d/%d)", 100*r.P, 100*r.Lo, 100*r.Hi, r.K, r.N)
}
