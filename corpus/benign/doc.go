// Package benign is a corpus of realistic benign container images for
// measuring false positives, in particular of the hierarchical detector's
// miner rules: Debian's monero daemon and wallet, crypto and wallet
// libraries, a Go backup tool, `curl | sh` installers served by the
// harness's loopback server, cron jobs, base64 in scripts, deleted files,
// systemd units, hugepages tuning and a busy development image.
//
// Every image is built with BuildKit FROM the harness's Debian base
// ("debian:bookworm") or FROM the drupal web-app image ("drupal"); Debian
// packages come from the host's apt as .deb files (debs.Fetch) and are
// installed offline with dpkg from the build context. Nothing a build
// downloads comes from anywhere but the loopback server. See README.md for
// the list and what makes each image hard.
package benign
