// Package baselines holds the signature-only detectors the paper compares
// against, re-implemented as adapters behind detectors.Detector: digest
// signatures (Docker Scout's hash method) in baselines/digest, and
// multi-engine file scanning (VirusTotal's method) beside it. They learn
// their signatures from the first sighting of a sample, as a vendor would,
// so the experiments can measure how layer mutations defeat them.
package baselines
