package stats

import (
	"math"
	"testing"
)

func TestClopperPearson(t *testing.T) {
	// Reference values from R's binom.test(k, n)$conf.int (exact
	// Clopper-Pearson), rounded to 4 decimals.
	tests := []struct {
		name          string
		k, n          int
		conf          float64
		wantP, lo, hi float64
	}{
		{name: "all of 7", k: 7, n: 7, conf: 0.95, wantP: 1, lo: 0.5904, hi: 1},
		{name: "none of 8", k: 0, n: 8, conf: 0.95, wantP: 0, lo: 0, hi: 0.3694},
		{name: "half of 10", k: 5, n: 10, conf: 0.95, wantP: 0.5, lo: 0.1871, hi: 0.8129},
		{name: "7 of 8", k: 7, n: 8, conf: 0.95, wantP: 0.875, lo: 0.4735, hi: 0.9968},
		{name: "1 of 7", k: 1, n: 7, conf: 0.95, wantP: 1.0 / 7, lo: 0.0036, hi: 0.5787},
		{name: "one trial hit", k: 1, n: 1, conf: 0.95, wantP: 1, lo: 0.025, hi: 1},
		{name: "90 percent level", k: 5, n: 10, conf: 0.90, wantP: 0.5, lo: 0.2224, hi: 0.7776},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClopperPearson(tt.k, tt.n, tt.conf)
			if got.K != tt.k || got.N != tt.n {
				t.Errorf("K/N = %d/%d, want %d/%d", got.K, got.N, tt.k, tt.n)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"P", got.P, tt.wantP}, {"Lo", got.Lo, tt.lo}, {"Hi", got.Hi, tt.hi}} {
				if math.Abs(c.got-c.want) > 5e-5 {
					t.Errorf("%s = %.5f, want %.4f", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestClopperPearsonEmpty(t *testing.T) {
	got := ClopperPearson(0, 0, 0.95)
	if got.Defined() || !math.IsNaN(got.P) || !math.IsNaN(got.Lo) || !math.IsNaN(got.Hi) {
		t.Errorf("ClopperPearson(0, 0) = %+v, want undefined with NaN P, Lo, Hi", got)
	}
}

func TestClopperPearsonPanics(t *testing.T) {
	tests := []struct {
		name string
		k, n int
		conf float64
	}{
		{name: "k above n", k: 3, n: 2, conf: 0.95},
		{name: "negative k", k: -1, n: 2, conf: 0.95},
		{name: "negative n", k: 0, n: -1, conf: 0.95},
		{name: "conf 1", k: 1, n: 2, conf: 1},
		{name: "conf 0", k: 1, n: 2, conf: 0},
		{name: "conf NaN", k: 1, n: 2, conf: math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("ClopperPearson(%d, %d, %v) did not panic", tt.k, tt.n, tt.conf)
				}
			}()
			ClopperPearson(tt.k, tt.n, tt.conf)
		})
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		name string
		r    Rate
		want string
	}{
		{name: "all of 7", r: ClopperPearson(7, 7, 0.95), want: "100.0% [59.0–100.0] (7/7)"},
		{name: "none of 8", r: ClopperPearson(0, 8, 0.95), want: "0.0% [0.0–36.9] (0/8)"},
		{name: "half of 10", r: ClopperPearson(5, 10, 0.95), want: "50.0% [18.7–81.3] (5/10)"},
		{name: "empty", r: ClopperPearson(0, 0, 0.95), want: "n/a (0/0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
