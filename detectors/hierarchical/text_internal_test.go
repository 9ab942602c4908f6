package hierarchical

import (
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// findWalletsNaive is the plain token-by-token scan findWallets replaced; the
// skipping version must return exactly the same.
func findWalletsNaive(b []byte, first, last bool) []string {
	var out []string
	for i := 0; i < len(b); {
		if !isTokenByte(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isTokenByte(b[j]) {
			j++
		}
		n := j - i
		if (n == 95 || n == 106) && (i > 0 || first) && (j < len(b) || last) {
			tok := b[i:j]
			ok := (tok[0] == '4' || (tok[0] == '8' && n == 95)) && (tok[1] >= '0' && tok[1] <= '9' || tok[1] == 'A' || tok[1] == 'B')
			for k := 0; ok && k < n; k++ {
				ok = isBase58[tok[k]]
			}
			if ok {
				out = append(out, string(tok))
			}
		}
		i = j
	}
	return out
}

// differentialInputs mixes random token runs of the interesting lengths with
// separators, plus real files of this machine.
func differentialInputs(t *testing.T) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	const alpha = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0+/"
	var ins [][]byte
	for range 300 {
		var sb strings.Builder
		for sb.Len() < 2000 {
			n := []int{1, 5, 94, 95, 96, 105, 106, 107, 200}[r.IntN(9)]
			c := "48"[r.IntN(2)]
			sb.WriteByte(c)
			for k := 1; k < n; k++ {
				sb.WriteByte(alpha[r.IntN(len(alpha))])
			}
			sb.WriteString([]string{" ", "\x00", ".", "\n", "github.com/xmrig/xmrig ", "stratum+tcp://pool.x:3333 "}[r.IntN(6)])
		}
		ins = append(ins, []byte(sb.String()))
	}
	for _, p := range []string{"/bin/sh", "/usr/bin/git", "testdata/monero-README.md", "testdata/python-stratum-PKG-INFO"} {
		if b, err := os.ReadFile(p); err == nil {
			ins = append(ins, b)
		}
	}
	return ins
}

func TestFindWalletsMatchesNaiveScan(t *testing.T) {
	for k, in := range differentialInputs(t) {
		for _, fl := range [][2]bool{{true, true}, {false, false}, {true, false}} {
			got, want := findWallets(in, fl[0], fl[1]), findWalletsNaive(in, fl[0], fl[1])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("input %d first/last %v: findWallets = %q, naive = %q", k, fl, got, want)
			}
		}
	}
}

func TestAnchoredRegexpsMatchFindAll(t *testing.T) {
	for k, in := range differentialInputs(t) {
		lower := make([]byte, len(in))
		asciiLower(lower, in)
		var stratumPos, repoPos []int
		literals.each(lower, func(l literal, pos int) {
			switch l.kind {
			case litStratum:
				stratumPos = append(stratumPos, pos)
			case litRepoHost:
				repoPos = append(repoPos, pos)
			}
		})
		if got, want := allAt(stratumAt, lower, stratumPos), stratumRe.FindAllSubmatchIndex(lower, -1); !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d: stratum allAt = %v, FindAll = %v", k, got, want)
		}
		if got, want := allAt(repoAt, lower, repoPos), repoRe.FindAllSubmatchIndex(lower, -1); !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d: repo allAt = %v, FindAll = %v", k, got, want)
		}
	}
}
