package hierarchical

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

//go:embed data/*.txt
var dataFS embed.FS

// Data lists, loaded once. Each file starts with a comment header naming its
// public source; see data/.
var (
	minerBinaries = loadSet("data/miner_binaries.txt")
	poolDomains   = loadList("data/pool_domains.txt")
	minerRepos    = loadSet("data/miner_repos.txt")
	// minerPackages maps "ecosystem:name" (npm, pypi, go, maven) to true.
	minerPackages = loadSet("data/miner_packages.txt")
	browserMiners = loadList("data/browser_miners.txt")
	minerPorts    = func() map[int]bool {
		m := map[int]bool{}
		for _, s := range loadList("data/miner_ports.txt") {
			p, err := strconv.Atoi(s)
			if err != nil {
				panic(fmt.Sprintf("hierarchical: data/miner_ports.txt: %v", err))
			}
			m[p] = true
		}
		return m
	}()
)

// sampleMarker tags an entry that comes from the paper's sample
// (pumevnezdiroorg/drupal): its binary name, pool, port and repository.
// WithSampleBlind drops the findings these entries produce.
const sampleMarker = "# sample"

// sampleEntries are the entries of every list tagged with sampleMarker,
// lower-cased, by list file name.
var sampleEntries = map[string][]string{}

// loadList reads one lower-cased entry per line, skipping comments and blank
// lines; an entry may end with a comment, and one ending in sampleMarker is
// also recorded in sampleEntries. The files are embedded, so a failure is a
// build defect: panic.
func loadList(name string) []string {
	f, err := dataFS.Open(name)
	if err != nil {
		panic(fmt.Sprintf("hierarchical: open %s: %v", name, err))
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entry, comment, _ := strings.Cut(line, "#")
		entry = strings.ToLower(strings.TrimSpace(entry))
		if strings.TrimSpace(comment) == strings.TrimPrefix(sampleMarker, "# ") {
			sampleEntries[name] = append(sampleEntries[name], entry)
		}
		out = append(out, entry)
	}
	if err := sc.Err(); err != nil {
		panic(fmt.Sprintf("hierarchical: read %s: %v", name, err))
	}
	return out
}

func loadSet(name string) map[string]bool {
	m := map[string]bool{}
	for _, s := range loadList(name) {
		m[s] = true
	}
	return m
}

// isMinerName reports whether a file or program base name is a known miner,
// allowing a version suffix ("xmrig-6.21.0").
func isMinerName(base string) bool {
	b := strings.ToLower(base)
	if minerBinaries[b] {
		return true
	}
	for j := 1; j+1 < len(b); j++ {
		if b[j] == '-' && b[j+1] >= '0' && b[j+1] <= '9' && minerBinaries[b[:j]] {
			return true
		}
	}
	return false
}

// dataDigest identifies the embedded data lists and the rule table; it is part
// of the layer cache key.
var dataDigest = func() string {
	h := sha256.New()
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		panic(fmt.Sprintf("hierarchical: read data: %v", err))
	}
	for _, e := range entries {
		b, err := dataFS.ReadFile("data/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("hierarchical: read data/%s: %v", e.Name(), err))
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	for _, r := range rules {
		fmt.Fprintf(h, "%s %s\n", r.ID, r.Category)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}()
