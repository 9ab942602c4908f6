package mutations

// Random names and bytes the mutation types draw from their rng.

import "math/rand/v2"

const lower = "abcdefghijklmnopqrstuvwxyz"

// randName is lo..hi characters from alphabet.
func randName(rng *rand.Rand, alphabet string, lo, hi int) string {
	n := lo + rng.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// randBytes is n bytes from rng.
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// hiddenDir is a directory name an attacker hides files in:
// /usr/share/.<x>, /var/cache/.<x>, /var/lib/.<x>.
func hiddenDir(rng *rand.Rand) string {
	return pick(rng, []string{"/usr/share", "/var/cache", "/var/lib"}) + "/." + randName(rng, lower, 3, 8)
}

// runPath is the file a runtime-unpacking entrypoint writes and starts.
func runPath(rng *rand.Rand) string { return "/tmp/." + randName(rng, lower, 4, 9) }
