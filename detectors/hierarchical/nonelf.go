package hierarchical

// Miners that are not ELF programs: a Node.js, Python, Go or Java miner
// names its mining library in its dependency manifest; a browser miner is a
// loader script and a WebAssembly module in a web root. And the files whose
// mining indicators are data, not code: rule sets and dashboards.

import (
	"bytes"
	"path"
	"strings"
)

// manifestEcosystem returns the package ecosystem of a dependency manifest
// by its file name ("" if it is none).
func manifestEcosystem(p string) string {
	base := path.Base(p)
	switch {
	case base == "package.json" || base == "package-lock.json" || base == "npm-shrinkwrap.json" || base == "yarn.lock":
		return "npm"
	case base == "requirements.txt" || (strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt")) ||
		base == "pyproject.toml" || base == "setup.py" || base == "setup.cfg" || base == "Pipfile" || base == "Pipfile.lock" || base == "poetry.lock":
		return "pypi"
	case base == "go.mod" || base == "go.sum":
		return "go"
	case base == "pom.xml" || p == "META-INF/MANIFEST.MF" || strings.HasSuffix(p, "/META-INF/MANIFEST.MF") || base == "build.gradle":
		return "maven"
	}
	return ""
}

// manifestHits names the miner packages a manifest depends on: every token
// (a run of name characters) that is a listed package of the ecosystem, or
// a miner program's name (an npm or PyPI package called xmrig).
func manifestHits(eco, where string, text []byte) []hit {
	var out []hit
	seen := map[string]bool{}
	isName := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@/._-", r)
	}
	for _, tok := range bytes.FieldsFunc(text, func(r rune) bool { return !isName(r) }) {
		name := strings.ToLower(strings.Trim(string(tok), "./"))
		name = strings.TrimPrefix(name, "node_modules/")
		if name == "" || seen[name] || len(out) >= maxHitsPerFile {
			continue
		}
		if minerPackages[eco+":"+name] || (eco != "go" && minerBinaries[name]) {
			seen[name] = true
			out = append(out, hit{RuleMinerDependency, where + " depends on " + eco + " package " + name})
		}
	}
	return out
}

// webExt are the files a web server serves as pages and scripts.
var webExt = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".html": true, ".htm": true, ".php": true, ".vue": true, ".jsx": true, ".tsx": true, ".ts": true}

// isWebFile: a page or script a browser would run (browser-miner loaders
// count only there, and not in a rule set or blocklist).
func isWebFile(p string) bool {
	return webExt[strings.ToLower(path.Ext(p))] && !inDataDir(p)
}

func inDataDir(p string) bool {
	lp := strings.ToLower(p)
	for _, d := range dataDirs {
		if strings.Contains(lp, d) {
			return true
		}
	}
	return false
}

// dataDirs and dataExt mark files whose mining indicators are data: IDS,
// YARA, Falco, Sigma and ClamAV rule sets, blocklists, pool-statistics
// dashboards' tables. An indicator there says "this image knows about
// miners", not "this image mines".
var dataDirs = []string{"suricata/", "snort/", "falco/", "yara/", "yara-rules/", "sigma/", "clamav/", "rules/", "signatures/",
	"blocklist", "blacklist", "adblock", "nocoin", "coinblocker", "ossec/", "wazuh/", "zeek/", "bro/", "dashboard/", "stats/"}

var dataExt = map[string]bool{".rules": true, ".yar": true, ".yara": true, ".yml": true, ".yaml": true, ".ndb": true, ".hsb": true,
	".ldb": true, ".csv": true, ".tsv": true, ".sql": true, ".html": true, ".htm": true, ".json": true, ".txt": true, ".list": true, ".xml": true}

// isDataPath: a file whose indicators are data rather than code. A JSON
// file that a program on the start graph reads (XMRig's config.json) is on
// the graph instead; scripts, programs and manifests are never data.
func isDataPath(p string) bool {
	lp := strings.ToLower(p)
	if isDoc(p) {
		return true
	}
	if manifestEcosystem(p) != "" {
		return false
	}
	ext := path.Ext(lp)
	if inDataDir(p) && (dataExt[ext] || ext == "" || ext == ".conf") {
		return true
	}
	return ext == ".rules" || ext == ".yar" || ext == ".yara" || ruleDBExt[ext] ||
		ext == ".csv" || ext == ".tsv" || ext == ".html" || ext == ".htm" || ext == ".json" || ext == ".sql"
}

// ruleDBExt are compiled or packaged rule databases: yarac's output
// (.yarc, .yc: YARA documentation, "Compiling rules"), ClamAV's signature
// databases (.cvd, .cld, .cud and the .ndb/.hsb/.ldb/.hdb/.mdb/.msb/.ndu
// /.ldu/.fp/.sfp/.ign2/.ftm formats of its signature manual). They hold
// the same indicators as the rule sources they were built from: data,
// like the sources, wherever they lie.
var ruleDBExt = map[string]bool{".yarc": true, ".yc": true, ".cvd": true, ".cld": true, ".cud": true, ".ndb": true, ".hsb": true,
	".ldb": true, ".hdb": true, ".mdb": true, ".msb": true, ".ndu": true, ".ldu": true, ".fp": true, ".sfp": true, ".ign2": true, ".ftm": true}

// wasmMagic starts every WebAssembly binary module.
var wasmMagic = []byte("\x00asm\x01\x00\x00\x00")
