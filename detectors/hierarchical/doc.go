// Package hierarchical is strata's content-based cryptominer detector. It
// walks an image layer by layer (whiteouts applied, deleted files kept as
// hidden evidence), collects findings in the paper's categories (behavior,
// domain/IP, shell script) plus binary, wallet and cross-layer hierarchy
// evidence, each with the layer, diffID, created_by and path it came from,
// and scores them with the rule table in rules.go. Because the evidence is
// about content and commands rather than digests, it survives layer
// reshaping (dummy layers, squashing) that defeats hash signatures.
//
// Every rule belongs to a signal (behavior, network, shell, binary, hash,
// wallet, hierarchy) that WithSignals can switch off after the walk, so one
// layer cache serves every setting. The hash signal matches TLSH and sha256
// digests against known samples (WithKnownSamples, LearnKnownSamples).
// Payloads that hide their content are followed: base64 literals,
// archives and compressed files unpacked recursively within bounds
// (archive.go: gzip, bzip2, xz, zstd, tar, zip), packed ELF files, and
// wrapper scripts that start renamed programs.
//
// Since 0.4.0 it builds a start graph (startgraph.go) of what the image
// runs: config commands (ENTRYPOINT, CMD, HEALTHCHECK, ONBUILD), cron,
// systemd, supervisord, s6/runit and rc/profile entries, the scripts,
// programs, configs and archives they reach. Findings say whether they lie
// on it or in data files (Finding.Reach), and data-file evidence cannot
// decide alone. Miners are also recognised by their command lines, JSON
// configs, node mining flags, dependency manifests and browser/WASM
// loaders. WithSampleBlind drops the paper sample's own indicators.
//
// The rules, weights and threshold are documented in ../README.md.
package hierarchical
