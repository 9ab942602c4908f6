package wild

// m1Miner is the inert XMRig-like stand-in (src/m1_miner.c) compiled to out
// under the program name name and version version; extra are further -D
// defines (M1_POOL, M1_WALLET, M1_LENIENT, ...).
func m1Miner(out, name, version string, extra ...string) Program {
	defines := append([]string{`M1_NAME="` + name + `"`, `M1_VERSION="` + version + `"`}, extra...)
	return Program{Source: "m1_miner.c", Out: out, Defines: defines}
}
