// Package wild is strata's independent evaluation corpus: images of distinct
// subjects shaped like real-world malicious and benign container images that
// nobody tuned the detector on. Malicious subjects are inert look-alikes of
// publicly reported miner images, grouped in families (XMRig-style releases,
// renamed binaries, run-time fetch-and-execute, archived payloads, script
// miners, browser cryptojacking, ...); benign subjects are ordinary service
// images and, on purpose, mining-adjacent software (blockchain nodes,
// wallets, IDS rule sets, miner killers, CPU benchmarks). Every subject
// cites the public report or real-world case it models (README.md).
//
// The subjects are split into dev and test by a seeded, family-stratified
// draw fixed in split.json before any detector change was evaluated on
// test (pre-registration): rules and thresholds are chosen on dev only.
package wild
