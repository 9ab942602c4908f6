// Package corpus holds the images strata builds and the ground truth that
// scores detectors on them: the reconstructed drupal sample (drupal/), base
// images (base/), offline Debian packages (debs/), benign controls
// (benign/), a second inert stand-in for tests (xmrigish/), and GroundTruth,
// which maps `# strata:malicious=LN` markers in a Dockerfile to the layers
// BuildKit built from them.
package corpus
