// Package drupal is the corpus's reconstruction of the malicious Docker Hub
// image pumevnezdiroorg/drupal: a Dockerfile assembled from one fragment per
// layer (a drupal-like PHP web-app image with 7 benign layers, then the
// sample's 3 malicious layers, each present or absent per Case), the build
// context it needs, and the files the harness's loopback HTTP server serves
// to the build (the miner-source repository and the layer-10 payloads).
//
// The miner is the inert stand-in in ./minerd; nothing here contacts a host
// other than the harness's server. Ground truth travels in the Dockerfile as
// "# strata:malicious=L8" (L9, L10) comment lines before each malicious
// instruction.
package drupal
