// Package hierarchical is strata's content-based cryptominer detector. It
// walks an image layer by layer (whiteouts applied, deleted files kept as
// hidden evidence), collects findings in the paper's categories (behavior,
// domain/IP, shell script) plus binary, wallet and cross-layer hierarchy
// evidence, each with the layer, diffID, created_by and path it came from,
// and scores them with the rule table in rules.go. Because the evidence is
// about content and commands rather than digests, it survives layer
// reshaping (dummy layers, squashing) that defeats hash signatures.
//
// The rules, weights and threshold are documented in ../README.md.
package hierarchical
